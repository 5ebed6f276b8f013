-- 0013: Ofsted inspections and their grades by area (issue 10 point 3). One row per inspection of a school
-- (report card or the older 1-4 framework, graded or ungraded), one row per area it graded. Grades are kept as
-- Ofsted's words on their own scale (metrics/inspections.py); the rank orders grades within one scale only and
-- is never compared across frameworks. An inspection is known by its natural key (urn, framework, graded,
-- start_date), which its grades carry too: data/ofsted.py merges by it inside the import's transaction.
CREATE TABLE inspections (
    urn INTEGER NOT NULL,              -- the school as the file names it now (its URN column)
    framework VARCHAR NOT NULL CHECK (framework IN ('report_card', 'oeif')),
    graded BOOLEAN NOT NULL,           -- false: an ungraded inspection, whose outcome is in words
    start_date DATE NOT NULL,
    inspection_number VARCHAR,         -- Ofsted's own (10426105, ITS425578); NULL in lists that do not give it
    inspection_type VARCHAR,           -- as written: S5 Inspection, Academy First Section 5, ...
    publication_date DATE,
    category_of_concern VARCHAR,       -- Ofsted's code as written (SM, SWK, RSI); NULL when none
    urn_at_time INTEGER,               -- the URN inspected when it is not today's (a predecessor school)
    outcome VARCHAR,                   -- ungraded inspections: 'School remains Good', as written
    source_kind VARCHAR,
    import_id INTEGER
);

CREATE TABLE inspection_grades (
    urn INTEGER NOT NULL,              -- the inspection's key, as in inspections
    framework VARCHAR NOT NULL,
    graded BOOLEAN NOT NULL,
    start_date DATE NOT NULL,
    area VARCHAR NOT NULL,             -- metrics.inspections.AREAS id (safeguarding, achievement, oeif_overall…)
    status VARCHAR NOT NULL CHECK (status IN ('graded', 'not_applicable', 'not_graded')),
    grade VARCHAR,                     -- Ofsted's words (Strong standard, Good, Met); NULL unless graded
    grade_code VARCHAR,                -- the cell as written (2, 9, Not applicable, Strong standard)
    grade_rank INTEGER,                -- 1 = the top of this area's own scale; for ordering only
    grade_date DATE,                   -- the file's "- date of grade", else the inspection's start date
    import_id INTEGER
);
