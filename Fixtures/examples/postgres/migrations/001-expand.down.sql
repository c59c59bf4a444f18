-- Back to one column: the trigger, its function and the new column go; total_cents is required again.
DROP TRIGGER IF EXISTS orders_sync_total ON orders;
DROP FUNCTION IF EXISTS orders_sync_total();
ALTER TABLE orders DROP COLUMN IF EXISTS total;
ALTER TABLE orders ALTER COLUMN total_cents SET NOT NULL;
