-- Looks harmless, fails in production: two customers already share an e-mail address.
ALTER TABLE customers ADD COLUMN loyalty_tier TEXT NOT NULL DEFAULT 'standard';
CREATE UNIQUE INDEX ux_customers_email ON customers (email);
