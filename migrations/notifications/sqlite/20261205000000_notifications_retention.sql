-- The delivery log's retention sweep filters on when a delivery was made.
CREATE INDEX deliveries_created ON deliveries (created_at);
