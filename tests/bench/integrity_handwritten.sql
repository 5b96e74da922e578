-- What a DBA would run by hand for the same checks dbconsultant runs (one query each).
\pset footer off
\echo parent_pk_null
SELECT count(*) FROM parent WHERE id IS NULL;
\echo parent_pk_duplicates
SELECT coalesce(sum(n), 0) FROM (SELECT count(*) AS n FROM parent WHERE id IS NOT NULL GROUP BY id HAVING count(*) > 1) d;
\echo parent_code_null
SELECT count(*) FROM parent WHERE code IS NULL;
\echo child_pk_null
SELECT count(*) FROM child WHERE id IS NULL;
\echo child_pk_duplicates
SELECT coalesce(sum(n), 0) FROM (SELECT count(*) AS n FROM child WHERE id IS NOT NULL GROUP BY id HAVING count(*) > 1) d;
\echo child_parent_id_null
SELECT count(*) FROM child WHERE parent_id IS NULL;
\echo child_amount_null
SELECT count(*) FROM child WHERE amount IS NULL;
\echo child_created_at_null
SELECT count(*) FROM child WHERE created_at IS NULL;
\echo child_amount_check
SELECT count(*) FROM child WHERE NOT (amount >= 0);
\echo child_orphans
SELECT count(*) FROM child c WHERE c.parent_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM parent p WHERE p.id = c.parent_id);
\echo child_external_ref_duplicates
SELECT coalesce(sum(n), 0) FROM (SELECT count(*) AS n FROM child WHERE external_ref IS NOT NULL GROUP BY external_ref HAVING count(*) > 1) d;
\echo child_category_nulls
SELECT count(*) FROM child WHERE category IS NULL;
