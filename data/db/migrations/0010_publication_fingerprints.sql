-- 0010: each published school value keeps a keyed fingerprint of its cell (numerator, denominator), so that a
-- later version can tell whether a hidden school's result changed since an earlier version a visitor may have
-- kept (docs/method.md, "Publication and suppression": versions must not be differenced). The fingerprint is an
-- HMAC with the store's own key (settings 'publication_key'): it cannot be turned back into the value without
-- that key, and the parents-only copy (python -m data export-public) leaves it blank. NULL for a school without a
-- counted value, and for versions published before this migration.
ALTER TABLE publication_school_values ADD COLUMN fingerprint VARCHAR;
