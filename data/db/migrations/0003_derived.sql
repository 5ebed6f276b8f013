-- 0003: whole-table results computed at import (never in a page request), and governors' choices.

-- One row per school, measure and period: where the school stands nationally and among similar schools.
CREATE TABLE school_stats (
    ord INTEGER,                 -- establishments.ord, so a group's rows sit together
    urn INTEGER NOT NULL,
    measure VARCHAR NOT NULL,
    period VARCHAR NOT NULL,
    phase VARCHAR,               -- the phase the school is compared within
    percentile DOUBLE,           -- 0-100: share of same-phase schools with a lower value (ties count half)
    n_compared INTEGER,          -- schools in that comparison
    se DOUBLE,                   -- standard error of the school's value (published CI, Wilson or normal)
    expected DOUBLE,             -- what schools with this intake typically achieve (national regression)
    residual DOUBLE,             -- value - expected
    family_median DOUBLE,
    family_rank INTEGER,         -- 1 = best in the family (the school and its neighbours with values)
    family_size INTEGER          -- neighbours with a value, plus the school
);

-- National distribution cut points, to place any value (e.g. a group's) on the national percentile scale.
CREATE TABLE national_quantiles (
    measure VARCHAR NOT NULL,
    period VARCHAR NOT NULL,
    phase VARCHAR NOT NULL,
    n INTEGER NOT NULL,
    quantiles DOUBLE[] NOT NULL  -- 101 values: the 0th, 1st, ... 100th percentiles
);

-- Each school's default family: its nearest same-phase schools on standardised context.
CREATE TABLE families (
    urn INTEGER NOT NULL,
    rank INTEGER NOT NULL,       -- 1 = most similar
    neighbour INTEGER NOT NULL,
    distance DOUBLE NOT NULL
);

-- The context each family was built from, raw and standardised (shown to users; used for custom families).
CREATE TABLE school_context (
    urn INTEGER NOT NULL,
    phase VARCHAR NOT NULL,
    period VARCHAR,              -- the latest period with context for this school
    variable VARCHAR NOT NULL,
    value DOUBLE,
    z DOUBLE
);

-- The national regressions behind `expected` (for docs and the "how was this worked out" panel).
CREATE TABLE regressions (
    measure VARCHAR NOT NULL,
    period VARCHAR NOT NULL,
    phase VARCHAR NOT NULL,
    n INTEGER NOT NULL,
    r2 DOUBLE,
    residual_sd DOUBLE,
    variables VARCHAR[] NOT NULL,
    coefficients DOUBLE[] NOT NULL  -- intercept first, then one per variable (per standard deviation)
);

-- Which measures a school's or group's scorecard shows, in which order.
CREATE TABLE scorecard_measures (
    owner_kind VARCHAR NOT NULL CHECK (owner_kind IN ('school', 'group')),
    owner_id INTEGER NOT NULL,
    measure VARCHAR NOT NULL,
    position INTEGER NOT NULL
);

-- Targets set by governors: per owner, measure and period.
CREATE TABLE targets (
    owner_kind VARCHAR NOT NULL CHECK (owner_kind IN ('school', 'group')),
    owner_id INTEGER NOT NULL,
    measure VARCHAR NOT NULL,
    period VARCHAR NOT NULL,
    value DOUBLE NOT NULL,
    set_by VARCHAR,
    set_at TIMESTAMP DEFAULT current_timestamp
);
