-- Backfill: every existing order gets its total (the long one: one UPDATE over the whole table).
UPDATE orders SET total = total_cents / 100.0 WHERE total IS NULL;
