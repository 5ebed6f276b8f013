-- 0022 (issue 13 point 4): a publication's disadvantage gaps and its schools' pupil-group cells, copied when it is
-- published, as every other value of it is (docs/method.md, "Pupil-group cells"). Only ever
-- inserted into: a publication is a fixed copy.

-- One row per published measure that has pupil-group values: the disadvantaged pupils' value pooled over the
-- schools that agreed, England's non-disadvantaged pupils' value, the gap, the gap two years earlier (or one) when
-- comparable, and the sentence parents read, its words fixed at publication.
CREATE TABLE publication_gaps (
    publication_id INTEGER NOT NULL,
    measure VARCHAR NOT NULL,
    label VARCHAR NOT NULL,
    disadvantaged_display VARCHAR,
    disadvantaged_value DOUBLE,
    national_display VARCHAR,
    national_value DOUBLE,
    gap DOUBLE,
    gap_display VARCHAR,
    since VARCHAR,
    gap_before DOUBLE,
    direction VARCHAR,
    sentence VARCHAR,
    suppressed BOOLEAN NOT NULL,
    suppressed_reason VARCHAR,
    PRIMARY KEY (publication_id, measure),
    CHECK (NOT suppressed OR (disadvantaged_value IS NULL AND gap IS NULL AND gap_before IS NULL))
);

-- Each school's disadvantaged and not-disadvantaged cells of those measures. A hidden cell keeps no value and no
-- cohort, as publication_school_values. The state store holds them (state migration 0003); these tables give the mirror its column types.
CREATE TABLE publication_group_values (
    publication_id INTEGER NOT NULL,
    measure VARCHAR NOT NULL,
    urn INTEGER NOT NULL,
    pupil_group VARCHAR NOT NULL,
    display VARCHAR,
    value DOUBLE,
    cohort DOUBLE,
    suppressed BOOLEAN NOT NULL,
    reason VARCHAR,
    -- a counted cell's keyed fingerprint, as in publication_school_values (blank in the parents' copy)
    fingerprint VARCHAR,
    PRIMARY KEY (publication_id, measure, urn, pupil_group),
    CHECK (NOT suppressed OR (value IS NULL AND cohort IS NULL))
);
