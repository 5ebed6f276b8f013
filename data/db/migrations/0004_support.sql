-- 0004: support records, the giver/taker ledger: who gave what support to whom, when, on which measure.
CREATE SEQUENCE support_seq START 1;
CREATE TABLE support_records (
    support_id INTEGER PRIMARY KEY DEFAULT nextval('support_seq'),
    group_id INTEGER NOT NULL,   -- the group it was recorded in (whose leaders may see and edit it)
    giver_urn INTEGER NOT NULL,
    taker_urn INTEGER NOT NULL,
    kind VARCHAR NOT NULL CHECK (kind IN ('peer_review', 'cpd', 'leadership', 'staff', 'curriculum', 'other')),
    measure VARCHAR,             -- the measure the support aimed at, when there was one
    start_date DATE NOT NULL,
    end_date DATE,               -- NULL: a single day (or end not known): the record counts in the year it began
    hours DOUBLE NOT NULL,
    notes VARCHAR,
    recorded_by VARCHAR,
    recorded_at TIMESTAMP DEFAULT current_timestamp,
    CHECK (giver_urn <> taker_urn),
    CHECK (hours > 0),
    CHECK (end_date IS NULL OR end_date >= start_date)
);
