-- 0006: accounts, who may sign in and what they may see. A password is stored only as its argon2id hash;
-- an account without one signs in through single sign-on only. Times are UTC.
CREATE TABLE accounts (
    email VARCHAR PRIMARY KEY CHECK (email = lower(email)),
    display_name VARCHAR,
    role VARCHAR NOT NULL CHECK (role IN ('admin', 'leader', 'governor')),
    group_id INTEGER,              -- the group a leader or governor belongs to; NULL for an admin (sees all)
    school_urn INTEGER,            -- a governor of one school within the group
    password_hash VARCHAR,         -- NULL: single sign-on only
    failed_attempts INTEGER NOT NULL DEFAULT 0,
    locked_until TIMESTAMP,
    created_at TIMESTAMP DEFAULT current_timestamp,
    last_sign_in TIMESTAMP,
    -- an admin sees every group; a leader or governor exactly one
    CHECK ((role = 'admin') = (group_id IS NULL)),
    CHECK (school_urn IS NULL OR role = 'governor'),
    CHECK (failed_attempts >= 0)
);
