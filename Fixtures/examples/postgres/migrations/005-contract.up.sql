-- Contract: the old column goes. No way back (its values would have to be rebuilt): a point of
-- no return, never run in a rehearsal.
DROP TRIGGER IF EXISTS orders_sync_total ON orders;
DROP FUNCTION IF EXISTS orders_sync_total();
ALTER TABLE orders DROP COLUMN total_cents;
