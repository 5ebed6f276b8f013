-- 0001: the state store, what people write (issue 12 point 8): one schema for SQLite and PostgreSQL, in the
-- dialect both run. `{id}` is an id column the store numbers itself (SQLite INTEGER PRIMARY KEY AUTOINCREMENT,
-- PostgreSQL an identity column); `{group_id}` the same, numbered from 10,000,000 so groups people make never
-- collide with the trusts an import writes into the results file. Columns, names and checks are those of the
-- DuckDB tables they came from (data/db/migrations/0001-0020), which the results file keeps, empty, as the
-- column types the mirror (data/db/mirror.py) casts to.

-- What moves on with every committed write: one row per state table, '*' for any write, '*data' for writes that
-- change what pages show (sign-in bookkeeping does not). Each process's mirror reloads the tables whose row moved.
CREATE TABLE state_generations (
    table_name VARCHAR PRIMARY KEY,
    generation BIGINT NOT NULL
);

CREATE TABLE accounts (
    email VARCHAR PRIMARY KEY CHECK (email = lower(email)),
    display_name VARCHAR,
    role VARCHAR NOT NULL CHECK (role IN ('admin', 'leader', 'governor')),
    group_id INTEGER,
    school_urn INTEGER,
    password_hash VARCHAR,
    failed_attempts INTEGER NOT NULL DEFAULT 0,
    locked_until TIMESTAMP,
    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    last_sign_in TIMESTAMP,
    CHECK ((role = 'admin') = (group_id IS NULL)),
    CHECK (school_urn IS NULL OR role IN ('governor', 'leader')),
    CHECK (failed_attempts >= 0)
);

CREATE TABLE signin_key (secret VARCHAR NOT NULL);

CREATE TABLE signin_failures (
    key VARCHAR NOT NULL,
    at_time TIMESTAMP NOT NULL
);
CREATE INDEX signin_failures_at ON signin_failures (at_time);

CREATE TABLE sign_in_counts (
    who VARCHAR NOT NULL,
    hour TIMESTAMP NOT NULL,
    outcome VARCHAR NOT NULL,
    attempts INTEGER NOT NULL CHECK (attempts > 0),
    PRIMARY KEY (who, hour, outcome)
);

CREATE TABLE signin_generations (
    email VARCHAR PRIMARY KEY,
    generation INTEGER NOT NULL CHECK (generation >= 0)
);

CREATE TABLE audit_log (
    audit_id {id},
    at_time TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    actor VARCHAR NOT NULL,
    action VARCHAR NOT NULL,
    entity VARCHAR NOT NULL,
    entity_id VARCHAR,
    before_json VARCHAR,
    after_json VARCHAR,
    group_id INTEGER
);

CREATE TABLE targets (
    owner_kind VARCHAR NOT NULL CHECK (owner_kind IN ('school', 'group')),
    owner_id INTEGER NOT NULL,
    measure VARCHAR NOT NULL,
    period VARCHAR NOT NULL,
    value DOUBLE PRECISION NOT NULL,
    set_by VARCHAR,
    set_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX targets_owner ON targets (owner_kind, owner_id, period);

CREATE TABLE scorecard_measures (
    owner_kind VARCHAR NOT NULL CHECK (owner_kind IN ('school', 'group')),
    owner_id INTEGER NOT NULL,
    measure VARCHAR NOT NULL,
    position INTEGER NOT NULL
);

CREATE TABLE local_measures (
    measure_id VARCHAR PRIMARY KEY,
    owner_group_id INTEGER NOT NULL,
    definition VARCHAR NOT NULL,
    created_by VARCHAR,
    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP
);

-- A local measure's values: in the results file they were rows of `observations` with source_kind 'local'; the
-- mirror shows them there again (the `observations` view), so every read of observations is unchanged.
CREATE TABLE local_values (
    measure VARCHAR NOT NULL,
    urn INTEGER NOT NULL,
    period VARCHAR NOT NULL,
    value DOUBLE PRECISION,
    numerator DOUBLE PRECISION,
    denominator DOUBLE PRECISION,
    status VARCHAR NOT NULL CHECK (status IN ('ok', 'suppressed', 'not_applicable', 'missing', 'low_coverage')),
    PRIMARY KEY (measure, urn, period)
);

CREATE TABLE support_records (
    support_id {id},
    group_id INTEGER NOT NULL,
    giver_urn INTEGER NOT NULL,
    taker_urn INTEGER NOT NULL,
    kind VARCHAR NOT NULL CHECK (kind IN ('peer_review', 'cpd', 'leadership', 'staff', 'curriculum', 'other')),
    measure VARCHAR,
    start_date DATE NOT NULL,
    end_date DATE,
    hours DOUBLE PRECISION NOT NULL,
    notes VARCHAR,
    recorded_by VARCHAR,
    recorded_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    CHECK (giver_urn <> taker_urn),
    CHECK (hours > 0),
    CHECK (end_date IS NULL OR end_date >= start_date)
);

CREATE TABLE publications (
    publication_id {id},
    group_id INTEGER NOT NULL,
    group_name VARCHAR NOT NULL,
    period VARCHAR NOT NULL,
    version INTEGER NOT NULL,
    status VARCHAR NOT NULL CHECK (status IN ('published', 'withdrawn', 'replaced')),
    title VARCHAR,
    created_by VARCHAR,
    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    data_as_of VARCHAR,
    status_changed_by VARCHAR,
    status_changed_at TIMESTAMP,
    left_out_words VARCHAR,
    UNIQUE (group_id, period, version)
);

CREATE TABLE publication_items (
    publication_id INTEGER NOT NULL,
    position INTEGER NOT NULL,
    perspective VARCHAR,
    measure VARCHAR NOT NULL,
    label VARCHAR NOT NULL,
    description VARCHAR,
    unit VARCHAR,
    group_display VARCHAR,
    group_value DOUBLE PRECISION,
    national_display VARCHAR,
    comparison VARCHAR,
    similar_words VARCHAR,
    trend_words VARCHAR,
    commentary VARCHAR,
    suppressed BOOLEAN NOT NULL,
    suppressed_reason VARCHAR,
    definition VARCHAR,
    dfe_version VARCHAR,
    phases VARCHAR,
    PRIMARY KEY (publication_id, measure),
    CHECK (NOT suppressed OR group_value IS NULL)
);

CREATE TABLE publication_school_values (
    publication_id INTEGER NOT NULL,
    measure VARCHAR NOT NULL,
    urn INTEGER NOT NULL,
    school_name VARCHAR,
    display VARCHAR,
    value DOUBLE PRECISION,
    cohort DOUBLE PRECISION,
    suppressed BOOLEAN NOT NULL,
    reason VARCHAR,
    fingerprint VARCHAR,
    la_display VARCHAR,
    applies BOOLEAN DEFAULT TRUE,
    PRIMARY KEY (publication_id, measure, urn),
    CHECK (NOT suppressed OR (value IS NULL AND cohort IS NULL))
);

CREATE TABLE publication_schools (
    publication_id INTEGER NOT NULL,
    urn INTEGER NOT NULL,
    name VARCHAR,
    phase VARCHAR,
    town VARCHAR,
    postcode VARCHAR,
    latitude DOUBLE PRECISION,
    longitude DOUBLE PRECISION,
    website VARCHAR,
    la_name VARCHAR,
    ofsted_url VARCHAR,
    PRIMARY KEY (publication_id, urn)
);

CREATE TABLE publication_consents (
    consent_id {id},
    group_id INTEGER NOT NULL,
    urn INTEGER NOT NULL,
    agreed BOOLEAN NOT NULL,
    recorded_by VARCHAR NOT NULL,
    recorded_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    note VARCHAR
);

CREATE TABLE publication_left_out (
    publication_id INTEGER NOT NULL,
    urn INTEGER NOT NULL,
    name VARCHAR,
    answer VARCHAR NOT NULL CHECK (answer IN ('declined', 'not asked')),
    PRIMARY KEY (publication_id, urn)
);

CREATE TABLE group_invitations (
    invitation_id {id},
    group_id INTEGER NOT NULL,
    urn INTEGER NOT NULL,
    joined DATE NOT NULL,
    invited_by VARCHAR NOT NULL,
    invited_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    answer VARCHAR CHECK (answer IN ('accepted', 'declined', 'withdrawn')),
    answered_by VARCHAR,
    answered_at TIMESTAMP
);

-- The groups people make (partnerships, federations, clusters: in the app, by `groups create`, by the demo) and
-- their memberships. The mirror shows them in `groups` and `memberships` beside the results file's trusts.
CREATE TABLE groups (
    group_id {group_id},
    kind VARCHAR NOT NULL CHECK (kind IN ('trust', 'federation', 'partnership', 'cluster', 'hub', 'sponsor', 'other')),
    name VARCHAR NOT NULL,
    code VARCHAR,
    gias_uid INTEGER,
    parent_id INTEGER,
    companies_house VARCHAR,
    status VARCHAR,
    open_date DATE,
    close_date DATE,
    town VARCHAR,
    postcode VARCHAR,
    head_name VARCHAR,
    source VARCHAR,
    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP
);

CREATE TABLE memberships (
    group_id INTEGER NOT NULL,
    urn INTEGER NOT NULL,
    start_date DATE,
    end_date DATE,
    source VARCHAR,
    ended_with_group BOOLEAN DEFAULT FALSE
);
CREATE INDEX memberships_group ON memberships (group_id, urn);

-- Settings an action makes (the publication key at the first publication); the results file keeps its own (the
-- demo mark). The mirror's `settings` shows both.
CREATE TABLE settings (
    key VARCHAR PRIMARY KEY,
    value VARCHAR NOT NULL
);
