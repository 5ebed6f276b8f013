"""A school's history across URNs: GIAS predecessor/successor links, stored once, and the lineage derived from them.

GIAS gives a school a new URN when it converts to an academy, moves trust, reopens as a fresh start or merges.
``school_links`` keeps each link once (earlier URN first); ``school_lineage`` is derived from it at import: for
each URN, the earlier URNs whose results continue its series. The rule for which links carry a series is in
docs/method.md ("A school's history across URNs"): a merger of several schools carries none unless one
predecessor is clearly the same school (it has the successor's own name).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import pandas as pd

from data.db.store import Store, registered
from metrics.timeline import academic_year_of, period_of

# Links whose successor may be the same school as its predecessor (a split never is; sixth-form links and
# GIAS's "Other", "Closure", "Expansion" name a relation, not a succession).
CARRYING = ("succession", "merger", "amalgamation")
MAX_DEPTH = 12  # longer chains are a loop in the data, not a history

LINK_COLUMNS = ["from_urn", "to_urn", "relation", "directed", "from_type", "to_type", "from_date", "to_date",
                "from_name", "to_name"]


def name_key(name: str | None) -> str:
    """A school name without case, accents, punctuation or spacing (shared with the group matcher)."""
    from data.ingest.importers import name_key as key

    return key(name or "")


def write_links(cur, links: pd.DataFrame, import_id: int) -> dict[str, int]:
    """Store links (LINK_COLUMNS), replacing the stored record of each pair the file names, keeping the rest;
    then rebuild the lineage. Inside the import's transaction. Returns counts for the report."""
    df = links[LINK_COLUMNS].copy()
    for c in ("from_urn", "to_urn"):
        df[c] = df[c].astype("int32")
    df["directed"] = df["directed"].astype(bool)
    for c in ("from_date", "to_date"):
        df[c] = pd.to_datetime(df[c], errors="coerce").dt.date
    for c in ("relation", "from_type", "to_type", "from_name", "to_name"):
        df[c] = df[c].astype("string")
    with registered(cur, "_links_in", df):
        before = cur.execute("SELECT count(*) FROM school_links").fetchall()[0][0]
        # a pair is the same link whichever way round either file listed it
        cur.execute("""
            DELETE FROM school_links l USING _links_in s
            WHERE least(l.from_urn, l.to_urn) = least(s.from_urn, s.to_urn)
              AND greatest(l.from_urn, l.to_urn) = greatest(s.from_urn, s.to_urn)
        """)
        replaced = before - cur.execute("SELECT count(*) FROM school_links").fetchall()[0][0]
        cur.execute("INSERT INTO school_links SELECT from_urn, to_urn, relation, directed, from_type, to_type, "
                    "from_date, to_date, from_name, to_name, $import_id FROM _links_in "
                    "ORDER BY from_urn, to_urn", {"import_id": import_id})
    lineage = rebuild_lineage(cur)
    return {"links_added": len(df) - replaced, "links_replaced": replaced, "lineage_rows": lineage}


def write_reasons(cur, reasons: pd.DataFrame) -> dict[str, int]:
    """Record GIAS's reasons a school opened and closed (columns urn, open_reason, close_reason); a blank
    reason never replaces a known one."""
    df = reasons[["urn", "open_reason", "close_reason"]].drop_duplicates("urn", keep="last").copy()
    df["urn"] = df["urn"].astype("int32")
    for c in ("open_reason", "close_reason"):
        df[c] = df[c].astype("string")
    with registered(cur, "_reasons_in", df):
        cur.execute("""
            CREATE OR REPLACE TEMP TABLE _reasons_new AS
            SELECT s.urn, coalesce(s.open_reason, r.open_reason) AS open_reason,
                   coalesce(s.close_reason, r.close_reason) AS close_reason
            FROM _reasons_in s LEFT JOIN establishment_reasons r USING (urn)
        """)
        cur.execute("DELETE FROM establishment_reasons WHERE urn IN (SELECT urn FROM _reasons_in)")
        cur.execute("INSERT INTO establishment_reasons SELECT urn, open_reason, close_reason FROM _reasons_new")
        cur.execute("DROP TABLE _reasons_new")
    return {}


def _last_period_before(day: date) -> str:
    """The academic year holding the day before `day`: the last year an URN that handed over on `day` ran."""
    return period_of(academic_year_of(day - timedelta(days=1)))


@dataclass(frozen=True)
class _Edge:
    parent: int
    child: int
    since: date | None


def carrying_edges(links: Sequence[tuple]) -> list[_Edge]:
    """The links that carry a series from predecessor to successor (rows of LINK_COLUMNS' first ten fields).

    A link carries when it is directed and a succession, merger or amalgamation; the predecessor has no other
    successor (a school that split is none of its parts); and the successor has no other predecessor, or of
    its several predecessors exactly one has the successor's own name (the others merged into it).
    """
    directed = [r for r in links if r[3] and r[2] in (*CARRYING, "split")]
    successors: dict[int, int] = {}
    for r in directed:
        successors[r[0]] = successors.get(r[0], 0) + 1
    preds: dict[int, list[tuple]] = {}
    for r in directed:
        if r[2] in CARRYING:
            preds.setdefault(r[1], []).append(r)
    edges = []
    for child, rows in preds.items():
        if len(rows) > 1:
            own = name_key(rows[0][9])  # to_name: the successor's name, as the predecessors' rows give it
            same = [r for r in rows if own and name_key(r[8]) == own]
            rows = same if len(same) == 1 else []
        for r in rows:
            if successors.get(r[0]) == 1:
                edges.append(_Edge(int(r[0]), int(child), r[7] or r[6]))
    return edges


def rebuild_lineage(cur) -> int:
    """Recompute school_lineage from school_links (at import, inside its transaction). Returns its row count."""
    links = cur.execute("SELECT " + ", ".join(LINK_COLUMNS) + " FROM school_links").fetchall()  # noqa: S608
    parent = {e.child: e for e in carrying_edges(links)}
    out = []
    for urn in parent:
        seen = {urn}
        at, depth = urn, 0
        while at in parent and depth < MAX_DEPTH:
            e = parent[at]
            if e.parent in seen:
                break  # a loop in the links: stop where the history repeats
            depth += 1
            seen.add(e.parent)
            out.append((urn, e.parent, depth, e.since, _last_period_before(e.since) if e.since else None))
            at = e.parent
    cur.execute("DELETE FROM school_lineage")
    if out:
        df = pd.DataFrame(out, columns=["urn", "ancestor_urn", "depth", "since", "until_period"])
        df["urn"] = df["urn"].astype("int32")
        df["ancestor_urn"] = df["ancestor_urn"].astype("int32")
        df["depth"] = df["depth"].astype("int32")
        df["since"] = pd.to_datetime(df["since"]).dt.date
        df["until_period"] = df["until_period"].astype("string")
        with registered(cur, "_lineage_in", df):
            cur.execute("INSERT INTO school_lineage SELECT urn, ancestor_urn, depth, since, until_period "
                        "FROM _lineage_in ORDER BY urn, depth")
    return len(out)


# ------------------------------------------------------------------------------ reads


def _on(d: date | None) -> str:
    """' on 1 Sep 2018', or nothing when GIAS gives no date."""
    return f" on {d.day} {d.strftime('%b %Y')}" if d else ""


def _named(urn: int, name: str | None) -> str:
    return f"{name} (URN {urn})" if name else f"URN {urn}"


def lineage_note(store: Store, urn: int) -> str | None:
    """The sentence a school's card shows about its earlier URNs, or None when GIAS links it to none.

    Words come from the link (its type and date) and, where known, GIAS's reason the school opened."""
    def any_links() -> bool:
        return bool(store.query("SELECT count(*) FROM (SELECT 1 FROM school_links LIMIT 1)")[0][0])

    if not store.remembered(("school_links_any",), any_links):
        return None  # no links file imported yet: nothing to say, and no reads per card
    line = store.query(
        "SELECT l.ancestor_urn, l.depth, l.since, l.until_period, e.name FROM school_lineage l "
        "LEFT JOIN establishments e ON e.urn = l.ancestor_urn WHERE l.urn = ? ORDER BY l.depth", [urn])
    if line:
        opened = store.query(
            "SELECT e.open_date, r.open_reason FROM establishments e LEFT JOIN establishment_reasons r USING (urn) "
            "WHERE e.urn = ?", [urn])
        open_date, reason = opened[0] if opened else (None, None)
        since = line[0][2] or open_date
        why = (reason or "").lower()
        if "academy" in why:
            verb = "became an academy"
        elif "fresh start" in why:
            verb = "reopened as a fresh start"
        else:
            verb = f"took over from URN {line[0][0]}"
        parts = [f"URN {a}" + (f" (to {until})" if until and len(line) > 1 else "") for a, _d, _s, until, _n in line]
        earlier = parts[0] if len(parts) == 1 else ", then ".join(parts)
        note = f"This school {verb}{_on(since)}; earlier results are of {earlier}."
        others = [r for r in store.query(
            "SELECT from_urn, coalesce(from_name, e.name) FROM school_links LEFT JOIN establishments e "
            "ON e.urn = from_urn WHERE to_urn = ? AND directed AND from_urn <> ? "
            "AND relation IN ('succession', 'merger', 'amalgamation') ORDER BY from_urn", [urn, line[0][0]])]
        if others:  # the predecessor with the school's own name carries it; the others merged into it
            names = ", ".join(_named(u, n) for u, n in others)
            note += f" {names} also merged into it: {'their' if len(others) > 1 else 'its'} results are not shown."
        return note
    preds = store.query(
        "SELECT from_urn, coalesce(from_name, e.name), relation, coalesce(to_date, from_date) FROM school_links "
        "LEFT JOIN establishments e ON e.urn = from_urn WHERE to_urn = ? AND directed "
        "AND relation IN ('succession', 'merger', 'amalgamation', 'split') ORDER BY from_urn", [urn])
    if not preds:
        return None
    when = max((p[3] for p in preds if p[3] is not None), default=None)
    if len(preds) > 1:
        names = [_named(u, n) for u, n, _r, _d in preds]
        listed = ", ".join(names[:-1]) + " and " + names[-1]
        return (f"This school was formed from the merger of {listed}{_on(when)}; their earlier results are not "
                "shown as this school's (no one of them is clearly the same school).")
    u, n, relation, _d = preds[0]
    if relation == "split":
        return (f"This school was formed when {_named(u, n)} split{_on(when)}; its earlier results are not shown "
                "as this school's.")
    return (f"GIAS links this school to {_named(u, n)}{_on(when)}, which had other successors too; its earlier "
            "results are not shown as this school's.")


def lineage_of(store: Store, urns: Sequence[int]) -> pd.DataFrame:
    """Each school's earlier URNs that stand for it (urn, ancestor_urn, depth, until_period), nearest first."""
    return store.query_df(
        "SELECT urn, ancestor_urn, depth, until_period FROM school_lineage "
        "WHERE urn IN (SELECT unnest(?::INTEGER[])) ORDER BY urn, depth", [[int(u) for u in urns]])
