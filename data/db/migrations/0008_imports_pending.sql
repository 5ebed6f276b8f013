-- 0008: an import whose observations are committed but whose derived tables (percentiles, families,
-- expectations) are not rebuilt yet is 'pending', never 'ok' (issue 9 point 8). The rebuild turns it 'ok' in
-- its own transaction; the next read-write open rebuilds when any import is still pending. DuckDB cannot alter a
-- CHECK constraint, so the table is rebuilt with the same columns, rows and sequence.
CREATE TABLE imports_0008 (
    import_id INTEGER PRIMARY KEY DEFAULT nextval('imports_seq'),
    file_name VARCHAR NOT NULL,
    file_sha256 VARCHAR,
    kind VARCHAR,
    period VARCHAR,
    started_at TIMESTAMP,
    finished_at TIMESTAMP,
    rows_read INTEGER,
    observations INTEGER,
    benchmarks INTEGER,
    establishments INTEGER,
    groups INTEGER,
    memberships INTEGER,
    problems INTEGER,
    outcome VARCHAR NOT NULL CHECK (outcome IN ('ok', 'failed', 'pending')),
    message VARCHAR,
    actor VARCHAR
);
INSERT INTO imports_0008 SELECT * FROM imports;
DROP TABLE imports;
ALTER TABLE imports_0008 RENAME TO imports;
