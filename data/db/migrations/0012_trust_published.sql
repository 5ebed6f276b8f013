-- 0012: DfE's own multi-academy trust measures and trust information (EES key stage 4 release, issue 10 point 2).
-- Keyed by the trust's GIAS Group UID (EES `trust_uid`), which is groups.gias_uid: the figures stay the DfE's,
-- beside (never mixed into) Jointly's own roll-up of the member schools.

-- The trust's published value of one measure, for one period and pupil group (NULL: all pupils, the Total row).
CREATE TABLE trust_published (
    gias_uid INTEGER NOT NULL,
    trust_code VARCHAR,          -- EES trust_id, the GIAS Group ID (TR00002)
    period VARCHAR NOT NULL,     -- academic year, 2024/25
    measure VARCHAR NOT NULL,    -- registry id (attainment8, basics_95, ...)
    pupil_group VARCHAR,         -- metrics.pupil_groups id; NULL for the Total row
    version VARCHAR,             -- provisional / revised / final as the file says; NULL when it does not
    value DOUBLE,
    cohort DOUBLE,               -- pupil_count: pupils at the end of KS4 in the schools DfE counted
    ci_low DOUBLE,
    ci_high DOUBLE,
    status VARCHAR NOT NULL CHECK (status IN ('ok', 'suppressed', 'not_applicable', 'missing', 'low_coverage')),
    status_code VARCHAR,         -- the file's own symbol, verbatim (z, c, x, low, u)
    source_column VARCHAR,       -- the column the value came from (attainment8_average_weighted)
    import_id INTEGER
);

-- What the trust information file says about a trust in a year, one row per eligibility line:
-- 'Included in MAT performance tables' (the schools DfE's measures count) and
-- 'All mainstream KS4 academies in MAT'.
CREATE TABLE trust_published_info (
    gias_uid INTEGER NOT NULL,
    trust_code VARCHAR,
    period VARCHAR NOT NULL,
    eligibility VARCHAR NOT NULL,
    version VARCHAR,
    pupil_count INTEGER,
    school_count INTEGER,
    disadvantaged_pct DOUBLE,
    eal_pct DOUBLE,
    sen_pct DOUBLE,
    progress8_banding VARCHAR,   -- DfE's words, or its symbol (z) when there is no banding
    import_id INTEGER
);

-- The trust's member schools that year as DfE listed them (`urns`, ';'-separated), per eligibility line.
CREATE TABLE trust_published_members (
    gias_uid INTEGER NOT NULL,
    period VARCHAR NOT NULL,
    eligibility VARCHAR NOT NULL,
    urn INTEGER NOT NULL,
    import_id INTEGER
);
