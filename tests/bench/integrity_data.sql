-- PostgreSQL data for the integrity benchmark: a 100,000-row parent and a 1,000,000-row
-- child with planted problems: orphans (1 in 500), negative amounts (1 in 1,000) under a
-- NOT VALID check, duplicated external references (1 in 2,000), NULL categories (1 in 10).
DROP TABLE IF EXISTS child;
DROP TABLE IF EXISTS parent;
CREATE TABLE parent (
    id    bigint PRIMARY KEY,
    code  text NOT NULL,
    email text
);
INSERT INTO parent SELECT g, 'P' || g, 'user' || g || '@example.com' FROM generate_series(1, 100000) g;
CREATE TABLE child (
    id           bigint PRIMARY KEY,
    parent_id    bigint NOT NULL,
    amount       numeric(12, 2) NOT NULL,
    external_ref text,
    category     text,
    created_at   timestamptz NOT NULL DEFAULT now()
);
INSERT INTO child (id, parent_id, amount, external_ref, category)
SELECT g,
       CASE WHEN g % 500 = 0 THEN 100000 + g ELSE 1 + (g % 100000) END,
       CASE WHEN g % 1000 = 0 THEN -1 ELSE (g % 997) + 0.5 END,
       CASE WHEN g % 2000 = 0 THEN 'REF-' || (g - 1) ELSE 'REF-' || g END,
       CASE WHEN g % 10 = 0 THEN NULL ELSE 'cat' || (g % 7) END
FROM generate_series(1, 1000000) g;
ALTER TABLE child ADD CONSTRAINT child_parent_fk FOREIGN KEY (parent_id) REFERENCES parent (id) NOT VALID;
ALTER TABLE child ADD CONSTRAINT child_amount_check CHECK (amount >= 0) NOT VALID;
VACUUM ANALYZE parent;
VACUUM ANALYZE child;
