-- The new column's index, built without locking out writes (outside any transaction).
CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_total_idx ON orders (total);
