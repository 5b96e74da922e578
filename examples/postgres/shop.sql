-- The example shop database for PostgreSQL (same data as examples/sqlite/shop.sql).
CREATE TABLE customers (
    id          bigint PRIMARY KEY,
    email       text NOT NULL,
    full_name   text NOT NULL,
    phone       text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    deleted_at  timestamptz
);

CREATE TABLE products (
    id          bigint PRIMARY KEY,
    sku         text NOT NULL UNIQUE,
    name        text NOT NULL,
    price_cents integer NOT NULL CHECK (price_cents >= 0),
    legacy_sku  text
);

CREATE TABLE orders (
    id           bigint PRIMARY KEY,
    customer_id  bigint NOT NULL,
    status       text NOT NULL DEFAULT 'new' CHECK (status IN ('new', 'paid', 'shipped', 'cancelled')),
    total        integer NOT NULL,
    placed_at    timestamptz NOT NULL
);
CREATE INDEX idx_orders_customer ON orders (customer_id);

CREATE TABLE order_items (
    order_id    bigint NOT NULL REFERENCES orders (id),
    product_id  bigint NOT NULL REFERENCES products (id),
    quantity    integer NOT NULL CHECK (quantity > 0),
    PRIMARY KEY (order_id, product_id)
);

CREATE TABLE legacy_coupons (
    code        text PRIMARY KEY,
    percent_off integer
);

CREATE VIEW paid_orders AS SELECT * FROM orders WHERE status = 'paid';

INSERT INTO customers (id, email, full_name, phone, created_at) VALUES
    (1, 'ada@example.com',    'Ada Lovelace',     '+44 20 7946 0001', '2025-01-03 10:00:00+00'),
    (2, 'alan@example.com',   'Alan Turing',      NULL,               '2025-01-04 11:30:00+00'),
    (3, 'grace@example.com',  'Grace Hopper',     '+1 212 555 0143',  '2025-02-11 09:15:00+00'),
    (4, 'ada@example.com',    'Ada King',         '+44 20 7946 0002', '2025-03-01 16:45:00+00'),
    (5, 'edsger@example.com', 'Edsger Dijkstra',  NULL,               '2025-03-09 08:05:00+00'),
    (6, 'barbara@example.com','Barbara Liskov',   '+1 617 555 0199',  '2025-04-20 14:20:00+00'),
    (7, 'grace@example.com',  'Grace B. Hopper',  '+1 212 555 0144',  '2025-05-02 12:00:00+00');

INSERT INTO products (id, sku, name, price_cents, legacy_sku) VALUES
    (1, 'KB-01', 'Mechanical keyboard', 12900, 'OLD-KB'),
    (2, 'MS-01', 'Wireless mouse',       3900, NULL),
    (3, 'MN-27', '27" monitor',         28900, 'OLD-MN');

INSERT INTO orders (id, customer_id, status, total, placed_at) VALUES
    (1, 1, 'paid',      16800, '2025-05-01 10:00:00+00'),
    (2, 3, 'shipped',   28900, '2025-05-02 11:00:00+00'),
    (3, 42, 'paid',      3900, '2025-05-03 12:00:00+00'),
    (4, 6, 'new',       12900, '2025-05-04 13:00:00+00'),
    (5, 99, 'cancelled', 3900, '2025-05-05 14:00:00+00');

INSERT INTO order_items (order_id, product_id, quantity) VALUES
    (1, 1, 1), (1, 2, 1), (2, 3, 1), (3, 2, 1), (4, 1, 1), (5, 2, 1);

INSERT INTO legacy_coupons (code, percent_off) VALUES ('WELCOME10', 10), ('SPRING15', 15);

ANALYZE;
