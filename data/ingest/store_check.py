"""What the store can show and what it cannot, said after every import (CLI, `info`, the Data page).

Each finding is one sentence in the data manager's words and, when something is missing, what to import.
The checks read whole tables with a handful of grouped queries (no per-school loop), so they stay well under
a second on a national store (bench/bench_store_check.py; docs/benchmarks.md).
"""

from __future__ import annotations

from dataclasses import dataclass

from data.db.store import Store
from metrics.periods import period_bounds, period_start_year
from metrics.registry import load_registry
from metrics.timeline import academic_year_of, period_of

OK = "ok"
WARNING = "warning"
SEVERITY_WORDS = {OK: "Can show", WARNING: "Cannot show yet"}
NAMES_SHOWN = 5  # groups and measures named in one sentence; the rest are counted
GIAS_FILE = "GIAS's establishments file (edubasealldata….csv)"
MEMBERSHIP_HISTORY = "GIAS's trust membership history (academiesmatmembership….csv)"
KIND_PLURAL = {"trust": "trusts", "federation": "federations", "partnership": "partnerships", "cluster": "clusters",
               "hub": "hubs", "sponsor": "sponsors", "other": "other groups"}
# Why a demo store takes no real files (data.ingest.importers.DEMO_REFUSAL), and how to start a real store: a new file,
# made on first use, then the app opened on it
DEMO_WHY = ("This is the demo store: its schools are made up, and made-up schools must never receive real schools' "
            "results, so it takes no DfE, GIAS or Ofsted files")
REAL_STORE = "data/store/real.duckdb"
REAL_STORE_COMMANDS = (f"JOINTLY_DB={REAL_STORE} python -m data import FILE…",
                       f"JOINTLY_DB={REAL_STORE} streamlit run app.py")


@dataclass(frozen=True)
class Finding:
    """One thing the store can or cannot show: its severity, the sentence, and what to do (empty when nothing)."""

    severity: str  # OK or WARNING
    sentence: str
    todo: str = ""

    def text(self) -> str:
        """The finding as one line of plain text (the CLI prints it)."""
        return self.sentence + (f" {self.todo}" if self.todo else "")


def check_store(store: Store) -> list[Finding]:
    """Every finding, warnings first within each subject: results, national comparators, memberships, schools."""
    results = _results_by_year(store)
    if not results:
        return [Finding(WARNING, "The store holds no school results yet, so no scorecard can show a value.",
                        "Import the performance tables (or EES school-level files) for a year.")]
    findings = [Finding(OK, "School results: " + ", ".join(
        f"{_schools_n(n)} in {p}" for p, n in sorted(results.items())) + ".")]
    findings += _national(store)
    findings += _memberships(store, sorted(results))
    findings += _groups_without_results(store)
    findings += _schools(store)
    return findings


def report_lines(findings: list[Finding]) -> list[str]:
    """The findings as the CLI prints them: a heading, then one line each with its severity in words."""
    return ["What the store can show now:"] + [f"  {SEVERITY_WORDS[f.severity]}: {f.text()}" for f in findings]


# ---------------------------------------------------------------------------- the checks


def _judged_ids() -> list[str]:
    """Measures that are results (judged), not context such as pupil numbers."""
    registry = load_registry()
    return [m.id for m in registry.measures if m.polarity != "context"]


def _results_by_year(store: Store) -> dict[str, int]:
    """Schools with at least one result (a judged measure's value), by academic year."""
    rows = store.query(
        "SELECT period, count(DISTINCT urn) FROM observations WHERE level = 'school' AND value IS NOT NULL "
        "AND measure IN (SELECT unnest(?::VARCHAR[])) GROUP BY period", [_judged_ids()])
    return {p: int(n) for p, n in rows}


def _national(store: Store) -> list[Finding]:
    """National comparators per year: the measures with school values and a national value, and those without."""
    registry = load_registry()
    rows = store.query("""
        WITH s AS (SELECT DISTINCT measure, period FROM observations
                   WHERE level = 'school' AND value IS NOT NULL AND measure IN (SELECT unnest(?::VARCHAR[]))),
             n AS (SELECT DISTINCT measure, period FROM observations WHERE level = 'national' AND value IS NOT NULL)
        SELECT s.period, s.measure, n.measure IS NOT NULL FROM s LEFT JOIN n USING (measure, period)
        ORDER BY s.period, s.measure
    """, [[m.id for m in registry.measures]])
    by_year: dict[str, tuple[list[str], list[str]]] = {}
    for period, measure, has in rows:
        by_year.setdefault(period, ([], []))[0 if has else 1].append(registry.get(measure).label)
    present = {p: len(h) for p, (h, _) in by_year.items() if h}
    findings = []
    if present:
        findings.append(Finding(OK, "National averages to compare with: " + ", ".join(
            f"{n:,} measure{'s' if n != 1 else ''} in {p}" for p, n in sorted(present.items())) + "."))
    for period, (_, missing) in sorted(by_year.items()):
        if missing:
            findings.append(Finding(
                WARNING, f"No national average for {_named(missing)} in {period}: these values show without a "
                "national comparison.",
                f"Import the national file for {period} (the England download, with its national rows)."))
    return findings


def _memberships(store: Store, result_years: list[str]) -> list[Finding]:
    """Kinds of group whose dated memberships miss years that have results (a scorecard of that year is empty)."""
    years = sorted({*result_years})
    bounds = [period_bounds(p) for p in years]
    rows = store.query("""
        WITH y AS (SELECT unnest(?::VARCHAR[]) AS period, unnest(?::DATE[]) AS y_start, unnest(?::DATE[]) AS y_end)
        SELECT g.kind, y.period, count(m.urn) FILTER (
                   WHERE coalesce(m.start_date, DATE '0001-01-01') <= y.y_end
                     AND coalesce(m.end_date, DATE '9999-12-31') >= y.y_start)
        FROM memberships m JOIN groups g USING (group_id) CROSS JOIN y
        GROUP BY g.kind, y.period
    """, [years, [b[0] for b in bounds], [b[1] for b in bounds]])
    missing: dict[str, list[str]] = {}
    for kind, period, n in rows:
        if not n:
            missing.setdefault(kind, []).append(period)
    findings = []
    for kind, gaps in sorted(missing.items()):
        covered = _membership_years(store, kind)
        plural = KIND_PLURAL.get(kind, f"{kind} groups")
        gaps = sorted(gaps)
        if set(gaps) == set(years):
            said = f"The {plural}' memberships are for {covered} but the results are for {_years(gaps)}"
        else:
            said = (f"The {plural}' memberships are for {covered} and not for {_years(gaps)}, which "
                    f"{'has' if len(gaps) == 1 else 'have'} results")
        todo = (f"Import a membership file for {_years(gaps)} or {MEMBERSHIP_HISTORY}." if kind == "trust"
                else f"Add the {plural}' members for {_years(gaps)} (with the date each joined).")
        findings.append(Finding(WARNING, f"{said}: a {kind} scorecard of {_years(gaps)} has no schools.", todo))
    return findings


def _membership_years(store: Store, kind: str) -> str:
    """The academic years a kind's memberships cover, in words ('2022/23', 'from 2011/12')."""
    first, last, open_ended = store.query("""
        SELECT min(m.start_date), max(m.end_date), bool_or(m.end_date IS NULL)
        FROM memberships m JOIN groups g USING (group_id) WHERE g.kind = ?
    """, [kind])[0]
    if first is None and last is None:
        return "no year"
    start = _year_of(first) if first is not None else None
    if open_ended or last is None:
        return f"{start} onwards" if start else "every year"
    end = _year_of(last)
    return end if start in (None, end) else f"{start} to {end}"


def _year_of(day) -> str:
    """The academic year (1 September to 31 August) a date falls in, as 2018/19."""
    return period_of(academic_year_of(day))


def _groups_without_results(store: Store) -> list[Finding]:
    """Groups none of whose members (at any time) has a result: their scorecards are empty in every year."""
    rows = store.query("""
        WITH r AS (SELECT DISTINCT urn FROM observations WHERE level = 'school' AND value IS NOT NULL
                   AND measure IN (SELECT unnest(?::VARCHAR[])))
        SELECT g.kind, g.name FROM groups g
        WHERE NOT EXISTS (SELECT 1 FROM memberships m JOIN r USING (urn) WHERE m.group_id = g.group_id)
          AND NOT EXISTS (SELECT 1 FROM groups c JOIN memberships m ON m.group_id = c.group_id JOIN r USING (urn)
                          WHERE c.parent_id = g.group_id)
        ORDER BY g.kind, g.name
    """, [_judged_ids()])
    if not rows:
        return []
    total = store.query("SELECT count(*) FROM groups")[0][0]
    names = [name for _, name in rows]
    one = len(rows) == 1
    return [Finding(WARNING, f"{len(rows):,} of the {total:,} groups {'has' if one else 'have'} no school with "
                    f"results, so {'its scorecard is' if one else 'their scorecards are'} empty: {_named(names)}.",
                    "Import the results of their schools (performance tables or EES school-level files), or "
                    "check their members.")]


def _schools(store: Store) -> list[Finding]:
    """Schools with results that the store knows too little about: not at all, no GIAS details, no phase."""
    unknown, no_details, no_phase = store.query("""
        WITH r AS (SELECT DISTINCT urn FROM observations WHERE level = 'school' AND value IS NOT NULL
                   AND measure IN (SELECT unnest(?::VARCHAR[])))
        SELECT count(*) FILTER (WHERE e.urn IS NULL),
               count(*) FILTER (WHERE e.urn IS NOT NULL AND e.postcode IS NULL AND e.latitude IS NULL),
               count(*) FILTER (WHERE e.urn IS NOT NULL AND (e.phase IS NULL OR e.phase = ''))
        FROM r LEFT JOIN establishments e USING (urn)
    """, [_judged_ids()])[0]
    findings = []
    if unknown:
        findings.append(Finding(WARNING, f"Results name {_schools_n(unknown)} the store has no record of (no name, "
                                "phase or local authority): they appear in no group or family.",
                                f"Import {GIAS_FILE}."))
    if no_details:
        findings.append(Finding(WARNING, f"{_schools_n(no_details, capital=True)} with results "
                                f"{'has' if no_details == 1 else 'have'} no details from Get Information about "
                                "Schools (address, map location): they are missing from maps and distances.",
                                f"Import {GIAS_FILE}."))
    if no_phase:
        one = no_phase == 1
        findings.append(Finding(WARNING, f"{_schools_n(no_phase, capital=True)} with results "
                                f"{'has' if one else 'have'} no phase, so {'it is' if one else 'they are'} compared "
                                "with no similar schools and given no level.",
                                f"Import {GIAS_FILE}."))
    if not findings:
        findings.append(Finding(OK, "Every school with results has its phase and its details from Get Information "
                                "about Schools."))
    return findings


# ---------------------------------------------------------------------------- words


def _schools_n(n: int, *, capital: bool = False) -> str:
    word = f"{n:,} school{'s' if n != 1 else ''}"
    return word[0].upper() + word[1:] if capital else word


def _named(names: list[str]) -> str:
    """Up to NAMES_SHOWN names, then how many more."""
    shown = ", ".join(names[:NAMES_SHOWN])
    more = len(names) - NAMES_SHOWN
    return shown + (f" and {more:,} more" if more > 0 else "")


def _years(periods: list[str]) -> str:
    """Academic years in words: '2018/19', '2017/18 and 2018/19', '2016/17, 2017/18 and 2018/19'; a long
    unbroken run as '2014/15 to 2018/19'."""
    ps = sorted(periods)
    starts = [period_start_year(p) for p in ps]
    if len(ps) > 3 and starts == list(range(starts[0], starts[0] + len(ps))):
        return f"{ps[0]} to {ps[-1]}"
    return ps[0] if len(ps) == 1 else ", ".join(ps[:-1]) + " and " + ps[-1]
