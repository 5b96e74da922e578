-- Safe: a plain index on a column the order dashboard filters by.
CREATE INDEX idx_orders_status ON orders (status);
