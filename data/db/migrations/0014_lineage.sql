-- A school's history across URNs (issue 10, points 4 and 10).

-- GIAS predecessor/successor links (links_edubasealldata*.csv). GIAS lists each link from both sides (the old
-- school's row says "Successor", the new school's row "Predecessor"); Jointly stores it once, earlier URN first
-- where either side says which is earlier, with each side's own words and date kept as the file gave them.
CREATE TABLE school_links (
    from_urn INTEGER NOT NULL,   -- the predecessor (directed links); the lower URN when GIAS gives no direction
    to_urn INTEGER NOT NULL,     -- the successor
    relation VARCHAR NOT NULL CHECK (relation IN ('succession', 'merger', 'amalgamation', 'split', 'sixth_form',
                                                  'other')),
    directed BOOLEAN NOT NULL,   -- false: the link's words do not say which school came first
    from_type VARCHAR,           -- LinkType on from_urn's own row (e.g. 'Successor'); NULL when GIAS listed one side
    to_type VARCHAR,             -- LinkType on to_urn's own row (e.g. 'Predecessor')
    from_date DATE,              -- LinkEstablishedDate on from_urn's row (often the predecessor's last day)
    to_date DATE,                -- LinkEstablishedDate on to_urn's row (often the successor's first day)
    from_name VARCHAR,           -- LinkName naming from_urn (on to_urn's row)
    to_name VARCHAR,             -- LinkName naming to_urn (on from_urn's row)
    import_id INTEGER
);

-- Derived at import from school_links: the earlier URNs whose results continue each school's series. Pages read
-- it by URN; never recomputed in a request.
CREATE TABLE school_lineage (
    urn INTEGER NOT NULL,             -- the later URN
    ancestor_urn INTEGER NOT NULL,    -- an earlier URN of the same school
    depth INTEGER NOT NULL,           -- 1: the direct predecessor; 2: its predecessor; ...
    since DATE,                       -- the day the next URN in the line took over (NULL: GIAS gives no date)
    until_period VARCHAR              -- the last academic year whose results the ancestor stands for (NULL: any)
);

-- Why a school opened or closed, in GIAS's words (ReasonEstablishmentOpened / Closed): "Academy Converter",
-- "Fresh Start", ... The lineage note says "became an academy" only when GIAS says so.
CREATE TABLE establishment_reasons (
    urn INTEGER NOT NULL,
    open_reason VARCHAR,
    close_reason VARCHAR
);
