-- 0015: context of its own year (issue 10 point 9). Families, expectations and family medians for year Y use the
-- context of year Y, or of the nearest earlier year the school has one (source_period says which), never the
-- latest year's for all. `school_context` and `families` (0003) stay the store's latest year, as pages read them.

-- Each school's context for each year it has results in: raw and standardised within phase and year.
CREATE TABLE context_by_year (
    urn INTEGER NOT NULL,
    phase VARCHAR NOT NULL,
    period VARCHAR NOT NULL,         -- the year this context is for
    variable VARCHAR NOT NULL,
    value DOUBLE,
    z DOUBLE,
    source_period VARCHAR NOT NULL   -- the year the value is from: `period`, or the nearest earlier year with one
);

-- Each school's default family in each year: its nearest same-phase schools on that year's context.
CREATE TABLE family_by_year (
    urn INTEGER NOT NULL,
    period VARCHAR NOT NULL,
    rank INTEGER NOT NULL,           -- 1 = most similar
    neighbour INTEGER NOT NULL,
    distance DOUBLE NOT NULL
);
