-- The application switches to the new column.
UPDATE app_settings SET value = 'total' WHERE key = 'orders_amount_column';
