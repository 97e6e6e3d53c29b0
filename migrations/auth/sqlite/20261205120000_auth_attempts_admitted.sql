-- When the last attempt within the budget was reserved. An attempt past the budget with no lock
-- stored looks here: recent means the admitted attempts are still being checked; long ago means
-- they never finished (their requests were dropped, or the process stopped), and it locks as the
-- failure that reached the threshold would have, instead of refusing forever.
ALTER TABLE login_attempts ADD COLUMN admitted_at BIGINT;
