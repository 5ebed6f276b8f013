-- 0011: EES school results (issue 10, points 1 and 11). Each value records which version of DfE's figures it is
-- (provisional, revised or final; NULL when the file does not say), and values for pupil groups (disadvantaged,
-- boys, EAL, prior attainment bands...) get a table of their own: the observations' columns plus the group's
-- stable id (metrics/pupil_groups.py). A Total row is no pupil group: it stays in observations.
ALTER TABLE observations ADD COLUMN version VARCHAR;

CREATE TABLE pupil_group_observations (
    ord INTEGER,                 -- establishments.ord at write time (informational: never re-clustered)
    level VARCHAR NOT NULL CHECK (level IN ('school', 'la', 'region', 'national')),
    urn INTEGER,
    area_code VARCHAR,
    scope VARCHAR,               -- NULL for a group's own value; 'gap' for DfE's published gap (docs/data.md)
    measure VARCHAR NOT NULL,
    period VARCHAR NOT NULL,
    value DOUBLE,
    numerator DOUBLE,
    denominator DOUBLE,
    ci_low DOUBLE,
    ci_high DOUBLE,
    status VARCHAR NOT NULL CHECK (status IN ('ok', 'suppressed', 'not_applicable', 'missing', 'low_coverage')),
    status_code VARCHAR,
    source_kind VARCHAR,
    import_id INTEGER,
    version VARCHAR,
    pupil_group VARCHAR NOT NULL
);
