-- 0005: publications, fixed copies of a group's chosen results for parents. Values are COPIES: nothing a
-- publication shows is read from observations after publishing. The content tables are only ever inserted
-- into; a publication's status is the one thing that changes (published -> replaced or withdrawn).
CREATE SEQUENCE publication_seq START 1;
CREATE TABLE publications (
    publication_id INTEGER PRIMARY KEY DEFAULT nextval('publication_seq'),
    group_id INTEGER NOT NULL,
    group_name VARCHAR NOT NULL,   -- as it was when published
    period VARCHAR NOT NULL,
    version INTEGER NOT NULL,      -- 1, 2, ... per (group, period)
    status VARCHAR NOT NULL CHECK (status IN ('published', 'withdrawn', 'replaced')),
    title VARCHAR,
    created_by VARCHAR,
    created_at TIMESTAMP DEFAULT current_timestamp,
    data_as_of VARCHAR,            -- when the data were last imported, ISO date
    status_changed_by VARCHAR,
    status_changed_at TIMESTAMP,
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
    group_value DOUBLE,
    national_display VARCHAR,
    comparison VARCHAR,            -- vs schools nationally, in words
    similar_words VARCHAR,
    trend_words VARCHAR,
    commentary VARCHAR,
    suppressed BOOLEAN NOT NULL,
    suppressed_reason VARCHAR,
    PRIMARY KEY (publication_id, measure),
    CHECK (NOT suppressed OR group_value IS NULL)
);

CREATE TABLE publication_school_values (
    publication_id INTEGER NOT NULL,
    measure VARCHAR NOT NULL,
    urn INTEGER NOT NULL,
    school_name VARCHAR,
    display VARCHAR,
    value DOUBLE,                  -- NULL when suppressed: a hidden value is never stored
    cohort DOUBLE,
    suppressed BOOLEAN NOT NULL,
    reason VARCHAR,
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
    latitude DOUBLE,
    longitude DOUBLE,
    PRIMARY KEY (publication_id, urn)
);
