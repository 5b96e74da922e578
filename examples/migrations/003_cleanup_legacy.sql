-- Destructive and backward-incompatible changes bundled into one "cleanup".
DROP TABLE legacy_coupons;
ALTER TABLE products DROP COLUMN legacy_sku;
ALTER TABLE orders RENAME COLUMN total TO total_cents;
DELETE FROM order_items;
