-- 0002: a local measure's values by pupil group (issue 13 point 5). The same columns as local_values plus the
-- pupil group's stable id (metrics/pupil_groups.py); a whole school's value stays in local_values. The mirror
-- (data/db/mirror.py) shows these rows in `pupil_group_observations` (level 'school', scope NULL, source_kind
-- 'local'), beside the results file's pupil-group values, as it shows local_values in `observations`.
CREATE TABLE local_pupil_group_values (
    measure VARCHAR NOT NULL,
    urn INTEGER NOT NULL,
    period VARCHAR NOT NULL,
    pupil_group VARCHAR NOT NULL CHECK (pupil_group <> ''),
    value DOUBLE PRECISION,
    numerator DOUBLE PRECISION,
    denominator DOUBLE PRECISION,
    status VARCHAR NOT NULL CHECK (status IN ('ok', 'suppressed', 'not_applicable', 'missing', 'low_coverage')),
    PRIMARY KEY (measure, urn, period, pupil_group)
);

-- its generation row, which every write moves (a store made before this migration has none yet; a new store's
-- first migration made it with every other table's)
INSERT INTO state_generations (table_name, generation) VALUES ('local_pupil_group_values', 0)
ON CONFLICT (table_name) DO NOTHING;
