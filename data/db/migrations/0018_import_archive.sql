-- 0018: undoing an import (issue 11 point 4). At import, the rows an import replaces are kept, keyed by the import
-- that replaced them (`archived_by`), and the rows it added are listed by key; undoing it removes what it added and
-- puts back what it replaced (data/undo.py). Observations are kept as they were, whole; they name what they added
-- through their own import_id. Every other table an import writes gets an archive of its own columns plus
-- `archived_by` and `row_key` (a digest of the row's columns, named in import_key_columns); a column a later
-- migration adds to a table is added to its archive at the next import (data/undo.py, _sync_archive).
CREATE TABLE import_archive_observations AS SELECT NULL::INTEGER AS archived_by, * FROM observations LIMIT 0;

CREATE TABLE import_archive_establishments AS
    SELECT NULL::INTEGER AS archived_by, NULL::VARCHAR AS row_key, * FROM establishments LIMIT 0;
CREATE TABLE import_archive_groups AS
    SELECT NULL::INTEGER AS archived_by, NULL::VARCHAR AS row_key, * FROM groups LIMIT 0;
CREATE TABLE import_archive_memberships AS
    SELECT NULL::INTEGER AS archived_by, NULL::VARCHAR AS row_key, * FROM memberships LIMIT 0;
CREATE TABLE import_archive_pupil_group_observations AS
    SELECT NULL::INTEGER AS archived_by, NULL::VARCHAR AS row_key, * FROM pupil_group_observations LIMIT 0;
CREATE TABLE import_archive_trust_published AS
    SELECT NULL::INTEGER AS archived_by, NULL::VARCHAR AS row_key, * FROM trust_published LIMIT 0;
CREATE TABLE import_archive_trust_published_info AS
    SELECT NULL::INTEGER AS archived_by, NULL::VARCHAR AS row_key, * FROM trust_published_info LIMIT 0;
CREATE TABLE import_archive_trust_published_members AS
    SELECT NULL::INTEGER AS archived_by, NULL::VARCHAR AS row_key, * FROM trust_published_members LIMIT 0;
CREATE TABLE import_archive_inspections AS
    SELECT NULL::INTEGER AS archived_by, NULL::VARCHAR AS row_key, * FROM inspections LIMIT 0;
CREATE TABLE import_archive_inspection_grades AS
    SELECT NULL::INTEGER AS archived_by, NULL::VARCHAR AS row_key, * FROM inspection_grades LIMIT 0;
CREATE TABLE import_archive_school_links AS
    SELECT NULL::INTEGER AS archived_by, NULL::VARCHAR AS row_key, * FROM school_links LIMIT 0;
CREATE TABLE import_archive_school_lineage AS
    SELECT NULL::INTEGER AS archived_by, NULL::VARCHAR AS row_key, * FROM school_lineage LIMIT 0;
CREATE TABLE import_archive_establishment_reasons AS
    SELECT NULL::INTEGER AS archived_by, NULL::VARCHAR AS row_key, * FROM establishment_reasons LIMIT 0;

-- The rows each import added (by key) to a table other than observations.
CREATE TABLE import_added (
    import_id INTEGER NOT NULL,
    table_name VARCHAR NOT NULL,
    row_key VARCHAR NOT NULL
);

-- The columns each import's row keys were computed over, per table (a JSON list), so a key is recomputed the same
-- way at undo even after a migration added a column.
CREATE TABLE import_key_columns (
    import_id INTEGER NOT NULL,
    table_name VARCHAR NOT NULL,
    columns VARCHAR NOT NULL
);

-- Imports that were undone: when, by whom, and the backup kept before.
CREATE TABLE imports_undone (
    import_id INTEGER PRIMARY KEY,
    undone_at TIMESTAMP NOT NULL DEFAULT current_timestamp,
    undone_by VARCHAR NOT NULL,
    backup VARCHAR
);
