-- 0001: the foundation schema. Each migration runs once, in one transaction.

CREATE TABLE establishments (
    urn INTEGER PRIMARY KEY,
    name VARCHAR,
    la_code INTEGER,
    la_name VARCHAR,
    estab INTEGER,
    phase VARCHAR,               -- metrics.registry.Phase value
    type_name VARCHAR,
    type_group VARCHAR,
    state_funded BOOLEAN,
    status VARCHAR,              -- open / closed
    open_date DATE,
    close_date DATE,
    street VARCHAR,
    town VARCHAR,
    postcode VARCHAR,
    telephone VARCHAR,
    website VARCHAR,
    head_name VARCHAR,
    head_start_date DATE,
    region VARCHAR,
    urban_rural VARCHAR,
    age_low INTEGER,
    age_high INTEGER,
    gender VARCHAR,
    religious_character VARCHAR,
    pupils INTEGER,
    capacity INTEGER,
    easting DOUBLE,
    northing DOUBLE,
    latitude DOUBLE,
    longitude DOUBLE,
    ofsted_rating VARCHAR,
    ofsted_date DATE,
    ord INTEGER,                 -- clustering position: a group's members sit together
    updated_at TIMESTAMP DEFAULT current_timestamp
);

CREATE SEQUENCE groups_seq START 1;
CREATE TABLE groups (
    group_id INTEGER PRIMARY KEY DEFAULT nextval('groups_seq'),
    kind VARCHAR NOT NULL CHECK (kind IN ('trust', 'federation', 'partnership', 'cluster', 'hub', 'sponsor', 'other')),
    name VARCHAR NOT NULL,
    code VARCHAR,                -- GIAS Group ID such as TR00261
    gias_uid INTEGER,
    parent_id INTEGER,           -- nesting: a trust's clusters point at the trust
    companies_house VARCHAR,
    status VARCHAR,
    open_date DATE,
    close_date DATE,
    town VARCHAR,
    postcode VARCHAR,
    head_name VARCHAR,
    source VARCHAR,
    created_at TIMESTAMP DEFAULT current_timestamp
);

CREATE TABLE memberships (
    group_id INTEGER NOT NULL,
    urn INTEGER NOT NULL,
    start_date DATE,             -- NULL: since before our records
    end_date DATE,               -- NULL: still a member
    source VARCHAR
);

-- One row per (school or area, measure, period). Rows are kept sorted by `ord` so that DuckDB's
-- zone maps skip the row groups that hold no member of the group being read.
CREATE TABLE observations (
    ord INTEGER,                 -- establishments.ord at write time; NULL for benchmarks
    level VARCHAR NOT NULL CHECK (level IN ('school', 'la', 'region', 'national')),
    urn INTEGER,                 -- schools only
    area_code VARCHAR,           -- la: LA code; region: e.g. london; national: E92000001
    scope VARCHAR,               -- benchmarks: all, state_funded, primary, secondary, special…
    measure VARCHAR NOT NULL,
    period VARCHAR NOT NULL,     -- academic year, 2018/19
    value DOUBLE,
    numerator DOUBLE,
    denominator DOUBLE,
    ci_low DOUBLE,
    ci_high DOUBLE,
    status VARCHAR NOT NULL CHECK (status IN ('ok', 'suppressed', 'not_applicable', 'missing', 'low_coverage')),
    status_code VARCHAR,         -- the file's own code, verbatim (SUPP!, NE, LOWCOV, z…)
    source_kind VARCHAR,
    import_id INTEGER
);

CREATE SEQUENCE imports_seq START 1;
CREATE TABLE imports (
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
    outcome VARCHAR NOT NULL CHECK (outcome IN ('ok', 'failed')),
    message VARCHAR,
    actor VARCHAR
);

CREATE SEQUENCE audit_seq START 1;
CREATE TABLE audit_log (
    audit_id INTEGER PRIMARY KEY DEFAULT nextval('audit_seq'),
    at_time TIMESTAMP DEFAULT current_timestamp,
    actor VARCHAR NOT NULL,
    action VARCHAR NOT NULL,
    entity VARCHAR NOT NULL,
    entity_id VARCHAR,
    before_json VARCHAR,
    after_json VARCHAR
);

-- Measures a group defines for itself; `definition` holds the registry fields as JSON.
CREATE TABLE local_measures (
    measure_id VARCHAR PRIMARY KEY,
    owner_group_id INTEGER NOT NULL,
    definition VARCHAR NOT NULL,
    created_by VARCHAR,
    created_at TIMESTAMP DEFAULT current_timestamp
);
