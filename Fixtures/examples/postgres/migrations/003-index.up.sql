-- The new column's index, built without locking out writes (outside any transaction). A build
-- that was cancelled leaves an invalid index of the same name, which IF NOT EXISTS would keep.
SELECT format('DROP INDEX CONCURRENTLY IF EXISTS %I', c.relname)
  FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
 WHERE c.relname = 'orders_total_idx' AND NOT i.indisvalid
\gexec
CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_total_idx ON orders (total);
