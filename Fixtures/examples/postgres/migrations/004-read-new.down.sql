UPDATE app_settings SET value = 'total_cents' WHERE key = 'orders_amount_column';
