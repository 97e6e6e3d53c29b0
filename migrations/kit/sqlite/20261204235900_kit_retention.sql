-- What the retention sweep filters on (tessera_kit::retention): published outbox rows by when
-- they were published, handled inbox ids by when they were handled.
CREATE INDEX outbox_published ON outbox (published_at) WHERE published_at IS NOT NULL;
CREATE INDEX inbox_handled ON inbox (handled_at);
