-- 0017 (issue 11, points 2 and 16): consent to joint publication, a school's head as a leader with a school, and
-- the fields the parents' page shows beside each published value.

-- A school's head is a leader account with a school. DuckDB cannot drop a CHECK, so the accounts table is rebuilt
-- with the relaxed rule (a governor or a leader may have a school), keeping every row and column as it was.
CREATE TABLE accounts_0017 (
    email VARCHAR PRIMARY KEY CHECK (email = lower(email)),
    display_name VARCHAR,
    role VARCHAR NOT NULL CHECK (role IN ('admin', 'leader', 'governor')),
    group_id INTEGER,
    school_urn INTEGER,            -- a governor of one school, or a leader who is that school's head
    password_hash VARCHAR,
    failed_attempts INTEGER NOT NULL DEFAULT 0,
    locked_until TIMESTAMP,
    created_at TIMESTAMP DEFAULT current_timestamp,
    last_sign_in TIMESTAMP,
    CHECK ((role = 'admin') = (group_id IS NULL)),
    CHECK (school_urn IS NULL OR role IN ('governor', 'leader')),
    CHECK (failed_attempts >= 0)
);
INSERT INTO accounts_0017 (email, display_name, role, group_id, school_urn, password_hash, failed_attempts,
                           locked_until, created_at, last_sign_in)
SELECT email, display_name, role, group_id, school_urn, password_hash, failed_attempts, locked_until, created_at,
       last_sign_in
FROM accounts;
DROP TABLE accounts;
ALTER TABLE accounts_0017 RENAME TO accounts;

-- Each school's answer to "may your results go into the group's joint publication?", one row per answer: only
-- ever inserted into, so the history of who agreed or withdrew, and when, is kept; the latest row per
-- (group, school) is the school's answer now (data/consent.py). A school with no row has not been asked.
CREATE SEQUENCE publication_consent_seq START 1;
CREATE TABLE publication_consents (
    consent_id INTEGER PRIMARY KEY DEFAULT nextval('publication_consent_seq'),  -- orders answers recorded at once
    group_id INTEGER NOT NULL,
    urn INTEGER NOT NULL,
    agreed BOOLEAN NOT NULL,
    recorded_by VARCHAR NOT NULL,
    recorded_at TIMESTAMP NOT NULL DEFAULT current_timestamp,
    note VARCHAR
);

-- Schools a publication left out (no agreement at the time of publishing), and why, and the sentence the page
-- shows about them ("" when every member agreed).
CREATE TABLE publication_left_out (
    publication_id INTEGER NOT NULL,
    urn INTEGER NOT NULL,
    name VARCHAR,
    answer VARCHAR NOT NULL CHECK (answer IN ('declined', 'not asked')),
    PRIMARY KEY (publication_id, urn)
);
ALTER TABLE publications ADD COLUMN left_out_words VARCHAR;

-- What parents read beside each value (point 16). Versions published before this migration have none of them.
ALTER TABLE publication_items ADD COLUMN definition VARCHAR;   -- one plain definition of the measure that year
ALTER TABLE publication_items ADD COLUMN dfe_version VARCHAR;  -- provisional / revised / final, as DfE said
ALTER TABLE publication_items ADD COLUMN phases VARCHAR;       -- the phases the measure is for, comma-separated
ALTER TABLE publication_school_values ADD COLUMN la_display VARCHAR;  -- the school's local authority's average
ALTER TABLE publication_school_values ADD COLUMN applies BOOLEAN DEFAULT true;  -- false: not for its phase
ALTER TABLE publication_schools ADD COLUMN website VARCHAR;
ALTER TABLE publication_schools ADD COLUMN la_name VARCHAR;
ALTER TABLE publication_schools ADD COLUMN ofsted_url VARCHAR;
