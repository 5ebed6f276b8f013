"""Publications: a group's leaders choose results for parents, preview them, publish a fixed copy, withdraw it.

A publication is an immutable snapshot: every value parents see is COPIED into the publication tables when it
is published, never read from observations afterwards. Publishing again for the same group and year makes a
new version and marks the previous one 'replaced'; withdrawing marks it 'withdrawn'. Both stay in the
history. Suppression (metrics.suppression, docs/method.md) is applied while building, so a hidden value is
never stored anywhere in a publication.

Who may publish: an admin any group, a leader their own group (and the groups within it). Governors may not.
The public reads (`find_publications`, `published`) take no viewer and only ever return current,
published versions.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
from collections.abc import Callable, Mapping, Sequence

from data.db.errors import StoreError
from data.db.store import Store
from data.services import schools as schools_svc
from data.services.access import Role, Viewer, can_see_group
from data.services.consent import NOT_ASKED, latest_answers
from data.services.governance import group_registry
from data.services.la_average import la_values
from data.services.pupil_groups import national_group_values, school_group_rows
from data.services.scorecards import scorecard, window
from metrics.formula import evaluate, stored_formula
from metrics.gaps import DISADVANTAGED, OTHERS, Gap, change_since, format_gap, gap_of, gap_sentence, points, pool
from metrics.numbers import finite
from metrics.periods import PeriodError, parse_period
from metrics.publication import (
    GROUP_WORDS,
    SUPPRESSED,
    LeftOutSchool,
    Publication,
    PublishedGap,
    PublishedGroupValue,
    PublishedItem,
    PublishedSchool,
    PublishedSchoolValue,
    applies_to,
    combined_version,
    definition_words,
    left_out_sentence,
    ofsted_url,
    plain_words,
    website_url,
)
from metrics.registry import Measure, Rollup
from metrics.scorecard import Scorecard, ScorecardRow, comparable_run, formula_inputs
from metrics.suppression import Cell, GroupSuppressed, Seen, Suppressed, suppress, suppress_groups
from metrics.timeline import definition_at

MAX_COMMENTARY = 600  # characters per measure
MAX_SEARCH = 100  # characters of search text used
REFUSED_ROLE = ("Only a group's leaders (or a data manager) can publish results for parents; governors and "
                "trustees can read them but not publish them.")
REFUSED_GROUP = "You can publish results only for your own group (and the groups within it)."
UNKNOWN_COHORT = "hidden because the number of pupils is not known for every school"
DFE_SUPPRESSED = "not published by the Department for Education because too few pupils were included"
NO_RESULT = "No result"
KEY_SETTING = "publication_key"  # the store's key for cell fingerprints (see `fingerprint`)
NOT_COUNTED = "-"  # the fingerprint of a school whose value does not count in the total (none, or no pupils)
NONE_AGREED = ("None of the {kind}'s schools has agreed to publish its results jointly yet: record the schools' "
               "answers first.")
NO_RESULT_WHY = {
    "not_applicable": "does not apply this year",
    "low_coverage": "too few pupils were covered",
    "missing": "no data for this year",
}


# ------------------------------------------------------------------------------------------ who may publish


def publish_refusal(store: Store, viewer: Viewer, group_id: int) -> str | None:
    """Why this viewer may not publish for this group, in words; None when they may."""
    if not store.query("SELECT count(*) FROM groups WHERE group_id = ?", [int(group_id)])[0][0]:
        return f"There is no group with id {group_id}."
    if viewer.role not in (Role.ADMIN, Role.LEADER):
        return REFUSED_ROLE
    if not can_see_group(store, viewer, int(group_id)):
        return REFUSED_GROUP
    return None


def can_publish(store: Store, viewer: Viewer, group_id: int) -> bool:
    return publish_refusal(store, viewer, group_id) is None


def _check(store: Store, viewer: Viewer, group_id: int, period: str, measures: Sequence[str],
           commentary: Mapping[str, str]) -> tuple[str, list[str]]:
    """(the period in canonical form, every problem in words)."""
    refused = publish_refusal(store, viewer, group_id)
    if refused:
        return period, [refused]
    problems: list[str] = []
    try:
        period = parse_period(period)
    except PeriodError as exc:
        problems.append(str(exc))
    known = group_registry(store, int(group_id))
    if not measures:
        problems.append("Choose at least one measure to publish.")
    seen: set[str] = set()
    for mid in measures:
        if mid in seen:
            problems.append(f"{known[mid].label if mid in known else mid} is chosen more than once: choose each "
                            "measure once.")
        elif mid not in known:
            problems.append(f"There is no measure {mid!r} for this group: choose national measures or the group's "
                            "own local ones.")
        seen.add(mid)
    for mid, text in (commentary or {}).items():
        label = known[mid].label if mid in known else mid
        if not isinstance(text, str):
            problems.append(f"The commentary on {label} must be text.")
        elif mid not in seen:
            if text.strip():
                problems.append(f"There is commentary on {label}, which is not chosen: choose it or remove the "
                                "commentary.")
        elif len(text) > MAX_COMMENTARY:
            problems.append(f"The commentary on {label} is {len(text)} characters long: keep it to "
                            f"{MAX_COMMENTARY} or fewer.")
    return period, problems


# ------------------------------------------------------------------------------------------ building


def _text(x: object) -> str | None:
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else str(x)


def _bounds(m: Measure) -> tuple[float | None, float | None]:
    """Lowest and highest numerator per pupil (see metrics.suppression): a percentage is 0..100% of pupils;
    a signed score (e.g. Progress 8) has no bound; other values are not negative."""
    if m.unit == "%":
        return (0.0, 100.0 / m.scale)
    if m.format.startswith("+"):
        return (None, None)
    return (0.0, None)


class _Cells:
    """Members' (numerator, denominator) per measure and period, the way the group total pools them."""

    def __init__(self, store: Store, members: Sequence[int], periods: Sequence[str], ids: Sequence[str]) -> None:
        obs = schools_svc.school_observations(store, members, periods, [*ids, "pupils"])
        self.rows: dict[tuple[int, str, str], dict] = {}
        for r in obs.to_dict("records"):
            self.rows[(int(r["urn"]), str(r["measure"]), str(r["period"]))] = r
        est = schools_svc.establishments(store, members)
        self.on_roll = {int(u): finite(p) for u, p in zip(est["urn"], est["pupils"], strict=True)}
        self.members = [int(u) for u in members]

    def weight(self, urn: int, period: str) -> float | None:
        r = self.rows.get((urn, "pupils", period))
        w = finite(r["value"]) if r else None
        return w if w is not None else self.on_roll.get(urn)

    def observation(self, urn: int, measure: str, period: str) -> dict | None:
        return self.rows.get((urn, measure, period))

    def cell(self, m: Measure, urn: int, period: str) -> tuple[Cell, float | None, float | None, str]:
        """(the cell, the school's value, its cohort, its status) of a measure with stored values."""
        r = self.observation(urn, m.id, period)
        if r is not None:
            value, status = finite(r["value"]), str(r["status"] or "missing")
            num, den = finite(r["numerator"]), finite(r["denominator"])
        else:
            value, status = None, "missing"
            num = den = None
        if value is None or status != "ok":
            return Cell(str(urn), None, den), None, den, status
        cohort = den
        if m.rollup is Rollup.SUM:
            num, den = value, self.weight(urn, period)
        elif num is None or den is None or den <= 0:
            w = den if den is not None and den > 0 else self.weight(urn, period)
            num, den = (value * w / m.scale, w) if w else (value, None)
        return Cell(str(urn), num, den), value, cohort, status


Built = tuple[Cell, float | None, float | None, str]  # (cell, value, cohort, status), as _Cells.cell gives


def fingerprint(key: str, cell: Cell) -> str:
    """A keyed fingerprint of a counted cell (school, numerator, denominator): equal exactly when the school's
    result is unchanged, and not reversible without the store's key (a small cohort has few possible values,
    so a plain hash could be tried value by value). The measure is left out on purpose: a formula such as
    `mentoring * 1` has its input's very cells, and they must compare equal."""
    text = f"{cell.key}|{float(cell.numerator):.9g}|{float(cell.denominator):.9g}"  # type: ignore[arg-type]
    return hmac.new(key.encode(), text.encode(), hashlib.sha256).hexdigest()[:32]


class _Groups:
    """The agreed members' disadvantaged and not-disadvantaged rows of the chosen measures, every year of the
    window (pupil_group_observations), as cells the way the school totals are pooled."""

    def __init__(self, store: Store, members: Sequence[int], periods: Sequence[str], ids: Sequence[str]) -> None:
        df = school_group_rows(store, members, periods, ids, [DISADVANTAGED, OTHERS])
        self.rows: dict[tuple[str, str], list[dict]] = {}
        for r in df.to_dict("records"):
            self.rows.setdefault((str(r["measure"]), str(r["period"])), []).append(r)
        self.members = [int(u) for u in members]
        self.national = national_group_values(store, periods, ids)

    def has(self, mid: str, period: str) -> bool:
        return bool(self.rows.get((mid, period)))

    def of(self, mid: str, period: str, group: str) -> dict[int, dict]:
        return {int(r["urn"]): r for r in self.rows.get((mid, period), []) if r["pupil_group"] == group}

    def cells(self, m: Measure, period: str) -> tuple[dict[str, Cell], dict[str, Cell]]:
        """(disadvantaged, not disadvantaged) cells by str(urn): numerator / cohort as stored (a rate: pupils;
        a score: score x cohort / scale), the numerator made from the value where the file gave none."""
        out: list[dict[str, Cell]] = []
        for group in (DISADVANTAGED, OTHERS):
            rows = self.of(m.id, period, group)
            cells: dict[str, Cell] = {}
            for u in self.members:
                r = rows.get(u)
                if r is None:
                    continue
                value, num, den = finite(r["value"]), finite(r["numerator"]), finite(r["denominator"])
                if value is None or str(r["status"] or "missing") != "ok":
                    cells[str(u)] = Cell(str(u), None, den)
                    continue
                if num is None and den is not None:
                    num = value * den / m.scale
                cells[str(u)] = Cell(str(u), num if den is not None else value, den)
            out.append(cells)
        return out[0], out[1]


class _Year:
    """This year's cells and suppression of every measure a publication needs, a formula's from its inputs
    (memoised). `history`: the versions of each measure a visitor may have seen, oldest first."""

    def __init__(self, cells: _Cells, registry: Mapping[str, Measure], period: str,
                 history: Mapping[str, Sequence[tuple[int, Seen]]], key: str | None,
                 groups: _Groups | None = None,
                 group_history: Mapping[str, tuple[list[Seen], set[tuple[str, str]]]] | None = None) -> None:
        self.cells, self.registry, self.period, self.history, self.key = cells, registry, period, history, key
        self.groups = groups
        self.group_history = group_history or {}
        self._built: dict[str, dict[int, Built]] = {}
        self._suppressed: dict[tuple[str, bool], Suppressed] = {}
        # measures with pupil-group cells: their suppression, by (measure, whether the group total is published)
        self.grouped: dict[tuple[str, bool], GroupSuppressed] = {}

    def built(self, mid: str) -> dict[int, Built]:
        if mid not in self._built:
            m = self.registry[mid]
            self._built[mid] = (self._formula(m) if m.formula else
                                {u: self.cells.cell(m, u, self.period) for u in self.cells.members})
        return self._built[mid]

    def _formula(self, m: Measure) -> dict[int, Built]:
        """A formula's cells: its value from the inputs' values (as the scorecard computes it), and the smallest
        denominator (and cohort) of the inputs it used, so it is suppressed as its smallest input would be; no
        denominator when any input used has none (then its cohort is unknown: hidden)."""
        f = stored_formula(m.formula)
        inputs = {n: self.built(n) for n in f.names if n in self.registry}
        out: dict[int, Built] = {}
        for u in self.cells.members:
            value = evaluate(f, {n: b[u][1] for n, b in inputs.items()})
            if value is None:
                out[u] = (Cell(str(u), None, None), None, None, "missing")
                continue
            used = [b[u] for b in inputs.values() if b[u][1] is not None]
            dens = [c.denominator for c, *_ in used]
            den = None if not dens or any(d is None for d in dens) else min(dens)  # type: ignore[type-var]
            cohorts = [c for _, _, c, _ in used if c is not None]
            num = value if m.rollup is Rollup.SUM or den is None else value * den / m.scale
            out[u] = (Cell(str(u), num, den), value, min(cohorts) if cohorts else None, "ok")
        return out

    def fingerprints(self, mid: str, key: str | None = None) -> dict[str, str]:
        key = key if key is not None else self.key
        if key is None:
            return {}
        return {c.key: fingerprint(key, c) for c, *_ in self.built(mid).values() if c.contributes}

    def group_fingerprints(self, mid: str, key: str | None = None) -> tuple[dict[str, str], dict[str, str]]:
        """The counted D and N cells' fingerprints by str(urn) (the group in the text, so a school whose only
        pupils are disadvantaged does not give its D cell the fingerprint of its total)."""
        key = key if key is not None else self.key
        if key is None or self.groups is None:
            return {}, {}
        out = []
        for group, cells in zip((DISADVANTAGED, OTHERS), self.groups.cells(self.registry[mid], self.period),
                                strict=True):
            out.append({k: fingerprint(key, Cell(f"{k}|{group}", c.numerator, c.denominator))
                        for k, c in cells.items() if c.contributes})
        return out[0], out[1]

    def earlier(self, mid: str) -> list[Seen]:
        """The versions a visitor may have seen of this measure and, for a formula, of every input it rests on
        (`mentoring * 1` is mentoring again): oldest first."""
        m = self.registry[mid]
        ids = [mid, *(formula_inputs([m], self.registry) if m.formula else [])]
        seen = sorted((v for i in dict.fromkeys(ids) for v in self.history.get(i, ())), key=lambda v: v[0])
        return [s for _, s in seen]

    def suppressed(self, mid: str, total: bool) -> Suppressed:
        if (mid, total) in self._suppressed:
            return self._suppressed[(mid, total)]
        m = self.registry[mid]
        inherited: dict[str, str] = {}
        inputs_total: str | None = None
        if m.formula:
            # A formula over a hidden input cell would show it again: hide it (the input as if its total were
            # shown, the worst case); and its total rests on the inputs' totals, so it is hidden when any is.
            for n in stored_formula(m.formula).names:
                if n in self.registry:
                    s_n = self.suppressed(n, True)
                    for k, why in s_n.hidden.items():
                        inherited.setdefault(k, why)
                    inputs_total = inputs_total or s_n.total_hidden
        cells = [b[0] for b in self.built(mid).values()]
        if self.groups is not None and not m.formula and self.groups.has(mid, self.period):
            # the school totals and their pupil-group cells together (docs/method.md, "Pupil-group cells"): a
            # hidden group cell may hide its school's total too
            dis, oth = self.groups.cells(m, self.period)
            seen, carried = self.group_history.get(mid, ([], set()))
            g = suppress_groups(cells, dis, oth, m.min_cohort, total_published=total, bounds=_bounds(m),
                                inherited=inherited, earlier=self.earlier(mid), fingerprints=self.fingerprints(mid),
                                dis_earlier=seen, dis_fingerprints=self.group_fingerprints(mid)[0],
                                carried=carried)
            self.grouped[(mid, total)] = g
            s = g.totals
        else:
            s = suppress(cells, m.min_cohort, total_published=total, bounds=_bounds(m), inherited=inherited,
                         earlier=self.earlier(mid), fingerprints=self.fingerprints(mid))
        if total and s.total_hidden is None and any(c.has_value and c.denominator is None for c in cells):
            s = Suppressed(s.hidden, UNKNOWN_COHORT)  # the total would weigh such a school in unknown ways
        elif total and s.total_hidden is None and inputs_total:
            s = Suppressed(s.hidden, inputs_total)
        self._suppressed[(mid, total)] = s
        return s


def _history(store: Store, group_id: int, period: str, key: str | None) -> dict[str, list[tuple[int, Seen]]]:
    """Every version ever published for the group and year (published, replaced or withdrawn: a visitor may have
    kept any), per measure: which schools were hidden and shown, whether the total was, and the fingerprints."""
    rows = store.query(
        "SELECT p.version, v.measure, v.urn, v.suppressed, v.value IS NOT NULL, v.fingerprint, "
        "coalesce(i.group_value IS NOT NULL, false) "
        "FROM publications p JOIN publication_school_values v USING (publication_id) "
        "LEFT JOIN publication_items i ON i.publication_id = v.publication_id AND i.measure = v.measure "
        "WHERE p.group_id = ? AND p.period = ? ORDER BY p.version, v.measure, v.urn", [int(group_id), period])
    by: dict[tuple[int, str], list[tuple]] = {}
    for r in rows:
        by.setdefault((int(r[0]), str(r[1])), []).append(r)
    out: dict[str, list[tuple[int, Seen]]] = {}
    for (version, measure), rs in by.items():
        # NULL: published before fingerprints were kept (or without the key): nothing can be compared with it
        legacy = key is None or any(r[5] is None for r in rs)
        out.setdefault(measure, []).append((version, Seen(
            hidden=frozenset(str(r[2]) for r in rs if r[3]),
            shown=frozenset(str(r[2]) for r in rs if not r[3] and r[4]),
            total_shown=bool(rs[0][6]),
            cells=None if legacy else {str(r[2]): str(r[5]) for r in rs if r[5] != NOT_COUNTED})))
    return out


def _group_history(store: Store, group_id: int, period: str, key: str | None) \
        -> dict[str, tuple[list[Seen], set[tuple[str, str]]]]:
    """Every earlier version's pupil-group cells for the group and year, per measure: the D cells and the pooled
    value as `Seen` (rules 5-7 apply to them as to a total), and every (urn, group) cell any version hid."""
    rows = store.query(
        "SELECT p.version, v.measure, v.urn, v.pupil_group, v.suppressed, v.value IS NOT NULL, v.fingerprint, "
        "coalesce(NOT g.suppressed, false) "
        "FROM publications p JOIN publication_group_values v USING (publication_id) "
        "LEFT JOIN publication_gaps g ON g.publication_id = v.publication_id AND g.measure = v.measure "
        "WHERE p.group_id = ? AND p.period = ? ORDER BY p.version, v.measure, v.urn", [int(group_id), period])
    by: dict[tuple[int, str], list[tuple]] = {}
    carried: dict[str, set[tuple[str, str]]] = {}
    for r in rows:
        by.setdefault((int(r[0]), str(r[1])), []).append(r)
        if r[4]:
            carried.setdefault(str(r[1]), set()).add((str(r[2]), str(r[3])))
    out: dict[str, tuple[list[Seen], set[tuple[str, str]]]] = {}
    for (_version, measure), rs in by.items():
        d = [r for r in rs if r[3] == DISADVANTAGED]
        legacy = key is None or any(r[6] is None for r in d if not r[4] and r[5])
        seen = Seen(hidden=frozenset(str(r[2]) for r in d if r[4]),
                    shown=frozenset(str(r[2]) for r in d if not r[4] and r[5]),
                    total_shown=bool(rs[0][7]),
                    cells=None if legacy else {str(r[2]): str(r[6]) for r in d if r[6] not in (None, NOT_COUNTED)})
        out.setdefault(measure, ([], carried.get(measure, set())))[0].append(seen)
    return out


def _suppress(m: Measure, cells: Sequence[Cell], total: bool) -> Suppressed:
    """One year's suppression of a measure on its own (the trend words' earlier year)."""
    s = suppress(cells, m.min_cohort, total_published=total, bounds=_bounds(m))
    if total and s.total_hidden is None and any(c.has_value and c.denominator is None for c in cells):
        return Suppressed(s.hidden, UNKNOWN_COHORT)  # the total would weigh such a school in unknown ways
    return s


def _before(row: ScorecardRow, m: Measure, cells: _Cells,
            history_of: Callable[[str], Mapping[str, Sequence[tuple[int, Seen]]]],
            key: str | None) -> tuple[str, float] | None:
    """The earlier point the trend words compare with (two results back when there are, else the last one),
    only when that year's group value is itself publishable and says nothing new beside that year's own
    publications (`history_of(year)`): the trend shows that year's total with every school hidden, one more
    version of that year, so a correction made since cannot be read off the difference."""
    # like with like: only the unbroken run of comparable years ending this year (no gap, no new definition)
    earlier = list(comparable_run(m, row.trend)[:-1])
    if not earlier or m.formula:
        return None
    point = earlier[-2] if len(earlier) >= 2 else earlier[-1]
    past = [cells.cell(m, u, point.period)[0] for u in cells.members]
    if _suppress(m, past, True).total_hidden is not None:
        return None
    seen = [s for _, s in history_of(point.period).get(m.id, ())]
    if seen:
        prints = {c.key: fingerprint(key, c) for c in past if c.contributes} if key else {}
        every = {c.key: "shown only in the total" for c in past if c.has_value}
        if suppress(past, m.min_cohort, bounds=_bounds(m), inherited=every, earlier=seen,
                    fingerprints=prints).total_hidden is not None:
            return None
    return point.period, float(point.value)  # type: ignore[arg-type]


def _data_as_of(store: Store) -> str | None:
    rows = store.query("SELECT max(finished_at) FROM imports WHERE outcome = 'ok'")
    return None if not rows or rows[0][0] is None else str(rows[0][0])[:10]


def _next_version(store: Store, group_id: int, period: str) -> int:
    return int(store.query("SELECT coalesce(max(version), 0) + 1 FROM publications WHERE group_id = ? AND period = ?",
                           [int(group_id), period])[0][0])


def _agreed_card(store: Store, group_id: int, period: str, measures: Sequence[str], agreed: Sequence[int]) -> Scorecard:
    """The group's scorecard pooling only the schools that agreed to joint publication (this year and in every
    earlier year of its trend), all schools' kinds pooled as a publication pools them."""
    return scorecard(store, group=str(int(group_id)), period=period, measures=list(measures), include_special=True,
                     only=list(agreed))


def _versions(store: Store, urns: Sequence[int], period: str, measures: Sequence[str]) -> dict[str, str | None]:
    """DfE's version of each measure's values that year among these schools (the least settled of them)."""
    rows = store.query(
        "SELECT measure, list(DISTINCT version) FROM observations WHERE level = 'school' AND period = ? "
        "AND urn IN (SELECT unnest(?::INTEGER[])) AND list_contains(?::VARCHAR[], measure) "
        "AND version IS NOT NULL AND status = 'ok' GROUP BY measure", [period, list(urns), list(measures)])
    return {str(m): combined_version(list(v)) for m, v in rows}


def _build(store: Store, group_id: int, period: str, measures: Sequence[str],
           commentary: Mapping[str, str]) -> tuple[Publication, _Year]:
    """The publication as it would be published now, and the year's cells (to fingerprint when publishing).
    Only the member schools that agreed to joint publication are in it, and only they are pooled."""
    # every agreeing member pooled, special schools too: suppression protects a hidden value from the total of the
    # very schools listed, so the total must be of all of them (a mainstream-only total would let one be recovered)
    sc = scorecard(store, group=str(int(group_id)), period=period, measures=list(measures), include_special=True)
    everyone = [int(u) for u, _ in sc.members]
    answers = latest_answers(store, int(group_id), everyone)
    agreed = [u for u in everyone if answers[u].agreed]
    kind = sc.subject.group_kind
    if not agreed:
        raise StoreError(NONE_AGREED.format(kind=kind or "group"))
    left_out = tuple(LeftOutSchool(u, answers[u].name, NOT_ASKED if answers[u].answer == NOT_ASKED else "declined")
                     for u in everyone if not answers[u].agreed)
    if left_out:
        sc = _agreed_card(store, int(group_id), period, measures, agreed)
    registry = {m.id: m for m in group_registry(store, int(group_id)).values()}
    names = {int(u): str(n) for u, n in sc.members if int(u) in set(agreed)}
    members = [u for u in everyone if u in names]
    chosen = [registry[m] for m in measures]
    stored = [m.id for m in chosen if not m.formula] + [
        n for n in formula_inputs(chosen, registry) if n in registry and not registry[n].formula]
    periods = window(store, period)
    cells = _Cells(store, members, periods, list(dict.fromkeys(stored)))
    groups = _Groups(store, members, periods, [m.id for m in chosen if not m.formula])
    key = store.setting(KEY_SETTING)
    year = _Year(cells, registry, period, _history(store, group_id, period, key), key, groups,
                 _group_history(store, group_id, period, key))
    histories: dict[str, dict[str, list[tuple[int, Seen]]]] = {}

    def history_of(when: str) -> dict[str, list[tuple[int, Seen]]]:
        if when not in histories:
            histories[when] = _history(store, group_id, when, key)
        return histories[when]

    est = schools_svc.establishments(store, members)
    phase_of = {int(r["urn"]): _text(r["phase"]) for r in est.to_dict("records")}
    # each school's own LA's figure, in the national comparator's scope (data.services.la_average, engineer D's)
    la_avg = la_values(store, members, period, [registry[i] for i in measures])
    versions = _versions(store, members, period, stored)
    items: list[PublishedItem] = []
    values: list[PublishedSchoolValue] = []
    for position, row in enumerate(sc.rows, start=1):
        m = registry[row.measure]
        la_display = {u: m.format_value(la_avg[(u, m.id)]) for u in members if (u, m.id) in la_avg}
        built = year.built(m.id)
        s = year.suppressed(m.id, row.value is not None)
        shown_values: list[float] = []
        for u in members:
            cell, value, cohort, status = built[u]
            if cell.key in s.hidden:
                pv = PublishedSchoolValue(m.id, u, names[u], SUPPRESSED, None, None, True, s.hidden[cell.key],
                                          la_display.get(u))
            elif value is None:
                dfe = status == "suppressed"
                why = DFE_SUPPRESSED if dfe else NO_RESULT_WHY.get(status, NO_RESULT_WHY["missing"])
                pv = PublishedSchoolValue(m.id, u, names[u], SUPPRESSED if dfe else NO_RESULT, None, None, dfe, why,
                                          la_display.get(u), dfe or applies_to(phase_of.get(u), m, False))
            else:
                shown_values.append(value)
                keep = cohort if cohort is not None and cohort >= m.min_cohort else None
                pv = PublishedSchoolValue(m.id, u, names[u], m.format_value(value), float(value), keep, False, None,
                                          la_display.get(u))
            values.append(pv)
        hidden_total = s.total_hidden is not None or row.value is None and row.status == "suppressed"
        before = _before(row, m, cells, history_of, key)
        comparison, similar, trend = plain_words(row, m, shown_values, before)
        if hidden_total:
            comparison = trend = ""
        items.append(PublishedItem(
            position=position, perspective=m.perspective.value, measure=m.id, label=m.label,
            description=m.description, unit=m.unit,
            group_display=SUPPRESSED if hidden_total else row.display,
            group_value=None if hidden_total or row.value is None else float(row.value),
            national_display=None if row.national is None else m.format_value(row.national),
            comparison=comparison, similar_words=similar, trend_words=trend,
            commentary=(commentary or {}).get(m.id, "").strip(), suppressed=hidden_total,
            suppressed_reason=(s.total_hidden or DFE_SUPPRESSED) if hidden_total else None,
            definition=definition_words(m, getattr(definition_at(m.definitions, period), "label", None)),
            dfe_version=_version_of(m, versions, registry), phases=tuple(p.value for p in m.phases),
        ))
    gaps: list[PublishedGap] = []
    group_values: list[PublishedGroupValue] = []
    for row in sc.rows:
        m = registry[row.measure]
        if (m.id, row.value is not None) in year.grouped:
            gap, cells_out = _published_gap(m, year.grouped[(m.id, row.value is not None)], groups, periods,
                                            period, members, names,
                                            f"the {GROUP_WORDS.get(kind or '', 'group')}")
            gaps.append(gap)
            group_values += sorted(cells_out, key=lambda v: (v.urn, v.pupil_group != DISADVANTAGED))
    schools = tuple(
        PublishedSchool(int(r["urn"]), names.get(int(r["urn"]), str(r["name"])), _text(r["phase"]), _text(r["town"]),
                        _text(r["postcode"]), finite(r["latitude"]), finite(r["longitude"]),
                        website_url(_text(r["website"])), _text(r["la_name"]), ofsted_url(int(r["urn"])))
        for r in est.to_dict("records"))
    return Publication(
        publication_id=None, group_id=int(group_id), group_name=sc.subject.name, period=period,
        version=_next_version(store, group_id, period), status="preview", created_at=None,
        data_as_of=_data_as_of(store), schools=schools, items=tuple(items), school_values=tuple(values),
        title=f"{sc.subject.name}: results for {period}", left_out=left_out,
        left_out_words=left_out_sentence(kind, len(everyone), left_out), gaps=tuple(gaps),
        group_values=tuple(group_values),
    ), year


GAP_HIDDEN = "The result of the {subject}'s disadvantaged pupils in {label} is not shown: {why}."
NO_GAP = "There is no national figure for other pupils in {label} in {period} to compare with."


def _published_gap(m: Measure, g: GroupSuppressed, groups: _Groups, periods: Sequence[str], period: str,
                   members: Sequence[int], names: Mapping[int, str], subject: str) \
        -> tuple[PublishedGap, list[PublishedGroupValue]]:
    """One measure's published gap and its schools' pupil-group cells, under the suppression `g` (the same that
    decided the school totals). The disadvantaged pupils are pooled over the agreed schools only (`members`), this
    year and in the year compared with; that year's pooled value is used only when it is itself publishable (as
    the total's trend words: every school of that year hidden, its pooled value one more equation)."""
    cells_out: list[PublishedGroupValue] = []
    for u in members:
        for group in (DISADVANTAGED, OTHERS):
            r = groups.of(m.id, period, group).get(u)
            if r is None:
                continue
            value, cohort, status = finite(r["value"]), finite(r["denominator"]), str(r["status"] or "missing")
            if g.is_hidden(str(u), group):
                cells_out.append(PublishedGroupValue(m.id, u, group, SUPPRESSED, None, None, True,
                                                     g.hidden[(str(u), group)]))
            elif value is None or status != "ok":
                dfe = status == "suppressed"
                cells_out.append(PublishedGroupValue(
                    m.id, u, group, SUPPRESSED if dfe else NO_RESULT, None, None, dfe,
                    DFE_SUPPRESSED if dfe else NO_RESULT_WHY.get(status, NO_RESULT_WHY["missing"])))
            else:
                cells_out.append(PublishedGroupValue(m.id, u, group, m.format_value(value), float(value), cohort,
                                                     False, None))
    trend: list[Gap] = []
    usable: dict[str, bool] = {}
    for p in periods:
        dis = pool(m, DISADVANTAGED, p, groups.of(m.id, p, DISADVANTAGED).values())
        oth = pool(m, OTHERS, p, groups.of(m.id, p, OTHERS).values())
        trend.append(gap_of(m, p, dis, oth, groups.national.get((m.id, p, OTHERS)),
                            groups.national.get((m.id, p, DISADVANTAGED))))
        if p != period:
            past = groups.cells(m, p)[0]
            every = {k: "shown only in the total" for k, c in past.items() if c.has_value}
            usable[p] = suppress(list(past.values()), m.min_cohort, bounds=_bounds(m),
                                 inherited=every).total_hidden is None
    now = trend[-1]
    national = now.national_others
    nat_display = None if national is None else m.format_value(national)
    if g.pooled_hidden is not None or now.disadvantaged.value is None:
        why = g.pooled_hidden or "no result for disadvantaged pupils"
        return PublishedGap(m.id, m.label, SUPPRESSED, None, nat_display, national, None, SUPPRESSED, None, None,
                            None, GAP_HIDDEN.format(subject=subject.removeprefix("the "), label=m.label, why=why),
                            True, why), cells_out
    earlier = change_since(m, trend, 2)
    if earlier.since is None or not usable.get(earlier.since, False):
        earlier = change_since(m, trend, 1)
    if earlier.since is not None and not usable.get(earlier.since, False):
        earlier = change_since(m, [], 1)
    sentence = (gap_sentence(m, subject, now, earlier) if national is not None
                else NO_GAP.format(label=m.label, period=period))
    return PublishedGap(
        m.id, m.label, m.format_value(now.disadvantaged.value), float(now.disadvantaged.value), nat_display,
        national, now.gap, f"{format_gap(m, now.gap)} {points(m)}" if now.gap is not None else NO_RESULT,
        earlier.since if earlier.before is not None else None,
        earlier.before if earlier.since is not None else None, earlier.direction, sentence, False, None), cells_out


def _version_of(m: Measure, versions: Mapping[str, str | None], registry: Mapping[str, Measure]) -> str | None:
    """DfE's version of a measure's values; a local formula's is the least settled of its inputs'."""
    if not m.formula:
        return versions.get(m.id)
    return combined_version([versions.get(n) for n in formula_inputs([m], registry)])


def build_publication(store: Store, viewer: Viewer, group_id: int, period: str, measures: list[str],
                      commentary: dict[str, str]) -> tuple[Publication | None, list[str]]:
    """The preview: exactly what parents would see if this were published now (publication_id None, status
    'preview'), and every problem in words (then the publication is None)."""
    pub, _year, problems = _checked_build(store, viewer, group_id, period, measures, commentary)
    return pub, problems


def _checked_build(store: Store, viewer: Viewer, group_id: int, period: str, measures: list[str],
                   commentary: dict[str, str]) -> tuple[Publication | None, _Year | None, list[str]]:
    period, problems = _check(store, viewer, group_id, period, measures, commentary)
    if problems:
        return None, None, problems
    try:
        pub, year = _build(store, int(group_id), period, measures, commentary)
    except StoreError as exc:
        return None, None, [exc.title]
    return pub, year, []


# ------------------------------------------------------------------------------------------ writes


def publish(store: Store, viewer: Viewer, group_id: int, period: str, measures: list[str],
            commentary: dict[str, str]) -> tuple[Publication | None, list[str]]:
    """Publish a fixed copy (what `build_publication` previews), in one audited transaction. The previous
    published version for the group and year becomes 'replaced'. Returns (the publication, []) or (None,
    problems) with nothing written."""
    pub, year, problems = _checked_build(store, viewer, group_id, period, measures, commentary)
    if pub is None or year is None:
        return None, problems
    actor = viewer.actor
    with store.transaction() as cur:
        # The fingerprints' key is made with the first publication (random, kept in the state store's settings
        # only; the parents' copy never has it). Not audited: it is no one's choice and says nothing. The state
        # store lets one writer in at a time, so the version read below is still the next one when it is written.
        cur.execute("INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING",
                    [KEY_SETTING, secrets.token_hex(32)])
        key = str(cur.execute("SELECT value FROM settings WHERE key = ?", [KEY_SETTING]).fetchone()[0])
        prints = {i.measure: year.fingerprints(i.measure, key) for i in pub.items}
        group_prints = {g.measure: dict(zip((DISADVANTAGED, OTHERS), year.group_fingerprints(g.measure, key),
                                            strict=True)) for g in pub.gaps}
        version = int(cur.execute(
            "SELECT coalesce(max(version), 0) + 1 FROM publications WHERE group_id = ? AND period = ?",
            [pub.group_id, pub.period]).fetchone()[0])
        before = [int(r[0]) for r in cur.execute(
            "SELECT publication_id FROM publications WHERE group_id = ? AND period = ? AND status = 'published' "
            "ORDER BY publication_id", [pub.group_id, pub.period]).fetchall()]
        if before:
            marks = ", ".join("?" * len(before))  # one placeholder per id, counted here
            cur.execute("UPDATE publications SET status = 'replaced', status_changed_by = ?, "  # noqa: S608
                        f"status_changed_at = CURRENT_TIMESTAMP WHERE publication_id IN ({marks})", [actor, *before])
        pid = cur.execute(
            "INSERT INTO publications (group_id, group_name, period, version, status, title, created_by, data_as_of, "
            "left_out_words) VALUES (?, ?, ?, ?, 'published', ?, ?, ?, ?) RETURNING publication_id",
            [pub.group_id, pub.group_name, pub.period, version, pub.title, actor, pub.data_as_of,
             pub.left_out_words]).fetchone()[0]
        if pub.items:
            cur.executemany(
                "INSERT INTO publication_items (publication_id, position, perspective, measure, label, description, "
                "unit, group_display, group_value, national_display, comparison, similar_words, trend_words, "
                "commentary, suppressed, suppressed_reason, definition, dfe_version, phases) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [[pid, i.position, i.perspective, i.measure, i.label, i.description, i.unit, i.group_display,
                  i.group_value, i.national_display, i.comparison, i.similar_words, i.trend_words, i.commentary,
                  i.suppressed, i.suppressed_reason, i.definition, i.dfe_version, ",".join(i.phases)]
                 for i in pub.items])
        if pub.school_values:
            cur.executemany(
                "INSERT INTO publication_school_values (publication_id, measure, urn, school_name, display, value, "
                "cohort, suppressed, reason, fingerprint, la_display, applies) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [[pid, v.measure, v.urn, v.school_name, v.display, v.value, v.cohort, v.suppressed, v.reason,
                  prints[v.measure].get(str(v.urn), NOT_COUNTED), v.la_display, v.applies]
                 for v in pub.school_values])
        if pub.schools:
            cur.executemany(
                "INSERT INTO publication_schools (publication_id, urn, name, phase, town, postcode, latitude, "
                "longitude, website, la_name, ofsted_url) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [[pid, s.urn, s.name, s.phase, s.town, s.postcode, s.latitude, s.longitude, s.website, s.la_name,
                  s.ofsted_url] for s in pub.schools])
        if pub.gaps:
            cur.executemany(
                "INSERT INTO publication_gaps (publication_id, measure, label, disadvantaged_display, "
                "disadvantaged_value, national_display, national_value, gap, gap_display, since, gap_before, "
                "direction, sentence, suppressed, suppressed_reason) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [[pid, g.measure, g.label, g.disadvantaged_display, g.disadvantaged_value, g.national_display,
                  g.national_value, g.gap, g.gap_display, g.since, g.gap_before, g.direction, g.sentence,
                  g.suppressed, g.suppressed_reason] for g in pub.gaps])
        if pub.group_values:
            cur.executemany(
                "INSERT INTO publication_group_values (publication_id, measure, urn, pupil_group, display, value, "
                "cohort, suppressed, reason, fingerprint) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [[pid, v.measure, v.urn, v.pupil_group, v.display, v.value, v.cohort, v.suppressed, v.reason,
                  group_prints.get(v.measure, {}).get(v.pupil_group, {}).get(str(v.urn), NOT_COUNTED)]
                 for v in pub.group_values])
        if pub.left_out:
            cur.executemany("INSERT INTO publication_left_out (publication_id, urn, name, answer) VALUES (?, ?, ?, ?)",
                            [[pid, x.urn, x.name, x.answer] for x in pub.left_out])
        store.audit(cur, actor, "publish", "publication", pid, {"replaced": before} if before else None,
                    {"group_id": pub.group_id, "period": pub.period, "version": version,
                     "measures": [i.measure for i in pub.items],
                     "suppressed": sum(v.suppressed for v in pub.school_values),
                     **({"left_out": [x.urn for x in pub.left_out]} if pub.left_out else {})},
                    group_id=pub.group_id)
    return _load(store, int(pid)), []


def withdraw(store: Store, viewer: Viewer, publication_id: int) -> list[str]:
    """Withdraw a published version: parents no longer see it; it stays in the history. Problems in words."""
    rows = store.query("SELECT group_id, status, version, period FROM publications WHERE publication_id = ?",
                       [int(publication_id)])
    if not rows:
        return [f"There is no publication with id {publication_id}."]
    group_id, status, version, period = rows[0]
    refused = publish_refusal(store, viewer, group_id)
    if refused:
        return [refused]
    if status != "published":
        return [f"Version {version} for {period} is already {status}: only the published version can be withdrawn."]
    actor = viewer.actor
    with store.transaction() as cur:
        # as the state store holds it now: another process may have withdrawn or replaced it since this rerun
        now = cur.execute("SELECT status FROM publications WHERE publication_id = ?", [int(publication_id)]).fetchone()
        if now is None or now[0] != "published":
            return [f"Version {version} for {period} is already {now[0] if now else 'gone'}: only the published "
                    "version can be withdrawn."]
        cur.execute("UPDATE publications SET status = 'withdrawn', status_changed_by = ?, "
                    "status_changed_at = CURRENT_TIMESTAMP WHERE publication_id = ?", [actor, int(publication_id)])
        store.audit(cur, actor, "withdraw", "publication", int(publication_id), {"status": status},
                    {"status": "withdrawn"}, group_id=group_id)
    return []


# ------------------------------------------------------------------------------------------ reads


HISTORY_COLUMNS = ("publication_id", "group_id", "group_name", "period", "version", "status", "title", "created_by",
                   "created_at", "data_as_of", "status_changed_by", "status_changed_at")


def publication_history(store: Store, viewer: Viewer, group_id: int) -> list[dict]:
    """Every version ever published for the group (newest year, then newest version first) with its status:
    for the group's leaders and admins ([] for anyone else)."""
    if not can_publish(store, viewer, group_id):
        return []
    rows = store.query(
        f"SELECT {', '.join(HISTORY_COLUMNS)}, "  # noqa: S608 (fixed column names)
        "(SELECT count(*) FROM publication_items i WHERE i.publication_id = p.publication_id) AS measures "
        "FROM publications p WHERE group_id = ? ORDER BY period DESC, version DESC", [int(group_id)])
    return [dict(zip((*HISTORY_COLUMNS, "measures"), r, strict=True)) for r in rows]


def publication_version(store: Store, viewer: Viewer, publication_id: int) -> Publication | None:
    """Any version (published, replaced or withdrawn), for the group's leaders and admins: to look back."""
    rows = store.query("SELECT group_id FROM publications WHERE publication_id = ?", [int(publication_id)])
    if not rows or not can_publish(store, viewer, rows[0][0]):
        return None
    return _load(store, int(publication_id))


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def find_publications(store: Store, text: str) -> list[dict]:
    """PUBLIC. Current published versions whose group name, or a member school's name, town or postcode,
    contains the text (case-insensitive; a postcode ignoring spaces). Empty text: all of them.

    Each: publication_id, group_id, group_name, period, version, title, created_at, data_as_of, schools (count),
    towns (list), matched_schools (names of the member schools that matched, [] when the group name did)."""
    words = " ".join(str(text or "").split())[:MAX_SEARCH].lower()
    pattern = f"%{_escape_like(words)}%"
    compact = f"%{_escape_like(words.replace(' ', ''))}%"
    rows = store.query(
        r"""
        WITH cur AS (SELECT * FROM publications WHERE status = 'published'),
        schools AS (
            SELECT s.*, ($words = '' OR lower(s.name) LIKE $pattern ESCAPE '\'
                        OR lower(s.town) LIKE $pattern ESCAPE '\'
                        OR replace(lower(s.postcode), ' ', '') LIKE $compact ESCAPE '\') AS hit
            FROM publication_schools s JOIN cur USING (publication_id)
        )
        SELECT p.publication_id, p.group_id, p.group_name, p.period, p.version, p.title, p.created_at, p.data_as_of,
               count(s.urn) AS schools,
               list_sort(list_distinct(list(s.town) FILTER (WHERE s.town IS NOT NULL))) AS towns,
               list_sort(list(s.name) FILTER (WHERE s.hit AND $words <> '')) AS matched_schools,
               bool_or(s.hit) AS school_hit
        FROM cur p LEFT JOIN schools s USING (publication_id)
        GROUP BY ALL
        HAVING $words = '' OR lower(p.group_name) LIKE $pattern ESCAPE '\' OR coalesce(bool_or(s.hit), false)
        ORDER BY p.group_name, p.period DESC
        """,
        {"words": words, "pattern": pattern, "compact": compact},
    )
    cols = ("publication_id", "group_id", "group_name", "period", "version", "title", "created_at", "data_as_of",
            "schools", "towns", "matched_schools")
    return [dict(zip(cols, r[:-1], strict=True)) for r in rows]


def published(store: Store, publication_id: int) -> Publication | None:
    """PUBLIC. The publication parents may read: None unless it exists and is the current published version."""
    try:
        pid = int(publication_id)
    except (TypeError, ValueError):
        return None
    rows = store.query("SELECT status FROM publications WHERE publication_id = ?", [pid])
    if not rows or rows[0][0] != "published":
        return None
    return _load(store, pid)


def _load(store: Store, pid: int) -> Publication:
    head = store.query("SELECT group_id, group_name, period, version, status, created_at, data_as_of, title, "
                       "left_out_words FROM publications WHERE publication_id = ?", [pid])[0]
    items = tuple(
        PublishedItem(int(r[0]), r[1], r[2], r[3], r[4], r[5], r[6], finite(r[7]), r[8], r[9] or "", r[10] or "",
                      r[11] or "", r[12] or "", bool(r[13]), r[14], r[15] or "", r[16],
                      tuple(p for p in (r[17] or "").split(",") if p))
        for r in store.query(
            "SELECT position, perspective, measure, label, description, unit, group_display, group_value, "
            "national_display, comparison, similar_words, trend_words, commentary, suppressed, suppressed_reason, "
            "definition, dfe_version, phases FROM publication_items WHERE publication_id = ? ORDER BY position",
            [pid]))
    order = {i.measure: i.position for i in items}
    values = sorted(
        (PublishedSchoolValue(r[0], int(r[1]), r[2], r[3], finite(r[4]), finite(r[5]), bool(r[6]), r[7], r[8],
                              r[9] is not False)
         for r in store.query(
             "SELECT measure, urn, school_name, display, value, cohort, suppressed, reason, la_display, applies "
             "FROM publication_school_values WHERE publication_id = ?", [pid])),
        key=lambda v: (order.get(v.measure, 0), v.urn))
    schools = tuple(
        PublishedSchool(int(r[0]), r[1], r[2], r[3], r[4], finite(r[5]), finite(r[6]), r[7], r[8], r[9])
        for r in store.query("SELECT urn, name, phase, town, postcode, latitude, longitude, website, la_name, "
                             "ofsted_url FROM publication_schools WHERE publication_id = ? ORDER BY urn", [pid]))
    left_out = tuple(LeftOutSchool(int(r[0]), r[1] or f"School {r[0]}", r[2]) for r in store.query(
        "SELECT urn, name, answer FROM publication_left_out WHERE publication_id = ? ORDER BY urn", [pid]))
    gaps = tuple(
        PublishedGap(r[0], r[1], r[2] or "", finite(r[3]), r[4], finite(r[5]), finite(r[6]), r[7] or "", r[8],
                     finite(r[9]), r[10], r[11] or "", bool(r[12]), r[13])
        for r in store.query(
            "SELECT measure, label, disadvantaged_display, disadvantaged_value, national_display, national_value, gap, "
            "gap_display, since, gap_before, direction, sentence, suppressed, suppressed_reason "
            "FROM publication_gaps WHERE publication_id = ?", [pid]))
    gaps = tuple(sorted(gaps, key=lambda g: order.get(g.measure, 0)))
    group_values = tuple(sorted(
        (PublishedGroupValue(r[0], int(r[1]), r[2], r[3] or "", finite(r[4]), finite(r[5]), bool(r[6]), r[7])
         for r in store.query("SELECT measure, urn, pupil_group, display, value, cohort, suppressed, reason "
                              "FROM publication_group_values WHERE publication_id = ?", [pid])),
        key=lambda v: (order.get(v.measure, 0), v.urn, v.pupil_group != DISADVANTAGED)))
    created = head[5]
    return Publication(
        publication_id=pid, group_id=int(head[0]), group_name=head[1], period=head[2], version=int(head[3]),
        status=head[4], created_at=None if created is None else created.isoformat(sep=" ", timespec="seconds"),
        data_as_of=head[6], schools=schools, items=items, school_values=tuple(values), title=head[7] or "",
        left_out=left_out, left_out_words=head[8] or "", gaps=gaps, group_values=group_values,
    )
