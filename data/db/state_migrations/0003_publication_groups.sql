-- 0003 (issue 13 point 4): a publication's disadvantage gaps and its schools' pupil-group cells, copied when it is
-- published, as every other value of it is (docs/method.md, "Pupil-group cells"). Independent of 0002. Only ever
-- inserted into: a publication is a fixed copy.

-- One row per published measure that has pupil-group values: the disadvantaged pupils' value pooled over the
-- schools that agreed, England's non-disadvantaged pupils' value, the gap, the gap two years earlier (or one) when
-- comparable, and the sentence parents read, its words fixed at publication.
CREATE TABLE publication_gaps (
    publication_id INTEGER NOT NULL,
    measure VARCHAR NOT NULL,
    label VARCHAR NOT NULL,
    disadvantaged_display VARCHAR,
    disadvantaged_value DOUBLE PRECISION,
    national_display VARCHAR,
    national_value DOUBLE PRECISION,
    gap DOUBLE PRECISION,
    gap_display VARCHAR,
    since VARCHAR,
    gap_before DOUBLE PRECISION,
    direction VARCHAR,
    sentence VARCHAR,
    suppressed BOOLEAN NOT NULL,
    suppressed_reason VARCHAR,
    PRIMARY KEY (publication_id, measure),
    CHECK (NOT suppressed OR (disadvantaged_value IS NULL AND gap IS NULL AND gap_before IS NULL))
);

-- Each school's disadvantaged and not-disadvantaged cells of those measures. A hidden cell keeps no value and no
-- cohort, as publication_school_values.
CREATE TABLE publication_group_values (
    publication_id INTEGER NOT NULL,
    measure VARCHAR NOT NULL,
    urn INTEGER NOT NULL,
    pupil_group VARCHAR NOT NULL,
    display VARCHAR,
    value DOUBLE PRECISION,
    cohort DOUBLE PRECISION,
    suppressed BOOLEAN NOT NULL,
    reason VARCHAR,
    -- a counted cell's keyed fingerprint, as in publication_school_values (blank in the parents' copy)
    fingerprint VARCHAR,
    PRIMARY KEY (publication_id, measure, urn, pupil_group),
    CHECK (NOT suppressed OR (value IS NULL AND cohort IS NULL))
);

-- Their generation counters (the mirror reloads a table when its counter moves). A store made with this
-- migration already present has them from 0001, which counts every table of data/db/state.py.
INSERT INTO state_generations (table_name, generation)
SELECT 'publication_gaps', 0 WHERE NOT EXISTS (SELECT 1 FROM state_generations WHERE table_name = 'publication_gaps');
INSERT INTO state_generations (table_name, generation)
SELECT 'publication_group_values', 0
WHERE NOT EXISTS (SELECT 1 FROM state_generations WHERE table_name = 'publication_group_values');
