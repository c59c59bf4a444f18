-- Expand: the new column beside the old one, kept in step by a trigger while both exist.
ALTER TABLE orders ADD COLUMN IF NOT EXISTS total numeric(12,2);
CREATE OR REPLACE FUNCTION orders_sync_total() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.total IS NULL AND NEW.total_cents IS NOT NULL THEN NEW.total := NEW.total_cents / 100.0; END IF;
  IF NEW.total_cents IS NULL AND NEW.total IS NOT NULL THEN NEW.total_cents := round(NEW.total * 100); END IF;
  RETURN NEW;
END $$;
DROP TRIGGER IF EXISTS orders_sync_total ON orders;
CREATE TRIGGER orders_sync_total BEFORE INSERT OR UPDATE ON orders FOR EACH ROW EXECUTE FUNCTION orders_sync_total();
-- The old code inserts total_cents only; the new one may insert total only.
ALTER TABLE orders ALTER COLUMN total_cents DROP NOT NULL;
