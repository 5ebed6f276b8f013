"""DfE's own multi-academy trust measures and trust information files (EES key stage 4 release).

`*_performance_tables_multi_academy_trusts_*.csv`: one row per trust and pupil breakdown (`breakdown_topic` x
`disadvantage_status`), DfE's weighted values (`*_weighted`), `trust_uid` = GIAS Group UID, `version`, symbols.
`*_information_about_multi_academy_trusts_*.csv`: per trust and eligibility line, the `urns` of its schools
(';'-separated), `school_count`, `pupil_count`, `progress8_banding`.

Both go to tables of their own (migration 0012) through ``Batch.writers``: they are the DfE's figures, shown
beside Jointly's roll-up, never mixed into it. Trusts are matched to groups by GIAS UID (then code, then name) and
created when new.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from data.db.store import merge_memberships, registered
from data.ingest.ees_common import (
    NATIONAL_MEASURES,
    TOTAL_WORDS,
    MeasureColumns,
    check_given_period,
    number,
    pupil_group,
    pupil_group_anywhere,
    read_value,
    row_period,
    version_of,
    words,
)
from data.ingest.formats import FileKind, parse_int, parse_urn
from data.ingest.reading import Problem, RawTable, fatal
from metrics.periods import period_bounds

if TYPE_CHECKING:
    from duckdb import DuckDBPyConnection

    from data.ingest.rows import Batch

# The eligibility line whose urns are every mainstream KS4 academy of the trust that year (the other line,
# 'Included in MAT performance tables', lists the ones DfE's measures count: in the trust 3 years or more); a file
# without academy_eligibility is read as this line
ALL_MEMBERS = "All mainstream KS4 academies in MAT"


def _trust_columns(table: RawTable) -> list[tuple[MeasureColumns, int, int | None, int | None]]:
    """(measure, value column, ci_low, ci_high) for each measure the file carries: `<national name>_weighted`."""
    found = []
    for m in NATIONAL_MEASURES:
        value = table.index(*(f"{v}_weighted" for v in m.value))
        if value is None:
            continue
        found.append((m, value, table.index(*m.ci_low) if m.ci_low else None,
                      table.index(*m.ci_high) if m.ci_high else None))
    return found


def _trust_group(table: RawTable, row: tuple[str, ...], uid: int) -> dict:
    """The group a trust row names, keyed by its UID; EES trust_id is the GIAS Group ID (TR00002)."""
    code_i, name_i = table.index("trust_id"), table.index("trust_name")
    code = row[code_i].strip() if code_i is not None else ""
    name = " ".join(row[name_i].split()) if name_i is not None else ""
    return {"key": f"uid:{uid}", "gias_uid": uid, "code": code or None, "kind": "trust",
            "name": name or f"Trust {code or uid}"}


def _uid(table: RawTable, row: tuple[str, ...], line: int, uid_i: int, problems: list[Problem]) -> int | None:
    """The row's trust UID, or None with a located problem (the row is skipped)."""
    uid = parse_int(row[uid_i])
    if uid is None:
        problems.append(Problem(table.path.name, f"expected the trust's GIAS Group UID (digits), found "
                                f"{row[uid_i].strip()!r}; row skipped", line, table.header[uid_i]))
    return uid


def _version(table: RawTable, row: tuple[str, ...], version_i: int | None, unknown: set[str]) -> str | None:
    """The row's version (provisional / revised / final), collecting words that are none of them."""
    if version_i is None:
        return None
    raw = row[version_i].strip()
    v = version_of(raw)
    if v is None and raw:
        unknown.add(raw)
    return v


def _breakdown(table: RawTable, row: tuple[str, ...]) -> tuple[bool, str | None, str]:
    """(is a known breakdown, pupil-group id or None for Total, the words) of a trust row."""
    topic_i, dis_i, bd_i = table.index("breakdown_topic"), table.index("disadvantage_status"), table.index("breakdown")
    topic = row[topic_i].strip() if topic_i is not None else ""
    value = row[dis_i].strip() if dis_i is not None else (row[bd_i].strip() if bd_i is not None else "Total")
    if words(value) in TOTAL_WORDS and words(topic or "total") in TOTAL_WORDS:
        return True, None, "Total"
    # the value sits in disadvantage_status: its topic is disadvantage even where breakdown_topic is blank
    named = topic or ("disadvantage status" if dis_i is not None else "")
    group = pupil_group(named, value) if named else pupil_group_anywhere(value)
    return group is not None, group, f"{topic}: {value}" if topic else value


def _periods(table: RawTable, period: str | None, time_i: int) -> list[str]:
    """Each row's academic year, checked against the period given (refused when it is none of them)."""
    found: dict[str, tuple[int, str]] = {}
    out = []
    for row, line in zip(table.rows, table.lines, strict=True):
        p = row_period(table, row, line, time_i)
        found.setdefault(p, (line, row[time_i].strip()))
        out.append(p)
    check_given_period(table, period, found, time_i)
    return out


def _require(table: RawTable, name: str, why: str) -> int:
    """The position of a key column; without it the file is refused, saying why the column is needed."""
    i = table.index(name)
    if i is None:
        raise fatal(table.path, f"the key column {name} is missing: {why}", 1, name)
    return i


# ------------------------------------------------------------------------------------------------ trust results


def trust_results_batch(table: RawTable, period: str | None) -> Batch:
    """DfE's published trust measures: one value per trust, measure, period and pupil group, with its version."""
    from data.ingest.rows import Batch

    batch = Batch()
    time_i = _require(table, "time_period", "every EES row names its academic year")
    uid_i = _require(table, "trust_uid", "the trust's GIAS Group UID says which trust each row describes")
    located = _trust_columns(table)
    if not located:
        raise fatal(table.path, "none of DfE's weighted trust measures (such as attainment8_average_weighted, "
                    "engmath_95_percent_weighted) are in the header", 1)
    pupils_i = table.index("pupil_count")
    version_i = table.index("version")
    periods = _periods(table, period, time_i)
    unknown_versions: set[str] = set()
    skipped: dict[str, int] = {}
    records: list[dict] = []
    seen: dict[tuple[int, str, str | None], int] = {}
    for row, line, p in zip(table.rows, table.lines, periods, strict=True):
        uid = _uid(table, row, line, uid_i, batch.problems)
        if uid is None:
            continue
        known, group, shown = _breakdown(table, row)
        if not known:
            skipped[shown] = skipped.get(shown, 0) + 1
            continue
        key = (uid, p, group)
        if key in seen:
            raise fatal(table.path, f"trust {uid} has two rows for {p} and {group or 'all pupils'} (lines "
                        f"{seen[key]} and {line}): the file is inconsistent, so nothing was imported", line)
        seen[key] = line
        batch.periods.add(p)
        batch.groups.append(_trust_group(table, row, uid))
        version = _version(table, row, version_i, unknown_versions)
        code = batch.groups[-1]["code"]
        cohort = number(table, row, pupils_i, line, batch.problems)
        for m, value_i, lo_i, hi_i in located:
            batch.cells_checked += 1
            v = read_value(table, row, value_i, line, batch.problems)
            lo = number(table, row, lo_i, line, batch.problems)
            hi = number(table, row, hi_i, line, batch.problems)
            batch.measures.add(m.measure)
            records.append({"gias_uid": uid, "trust_code": code, "period": p, "measure": m.measure,
                            "pupil_group": group, "version": version, "value": v.value, "cohort": cohort,
                            "ci_low": lo, "ci_high": hi, "status": v.status, "status_code": v.code,
                            "source_column": table.header[value_i]})
    if unknown_versions:
        batch.notes.append(f"version {', '.join(sorted(unknown_versions))} is not provisional, revised or final: "
                           "those values were stored without a version")
    for shown, n in sorted(skipped.items()):
        batch.notes.append(f"{n:,} rows of breakdown {shown!r} are not a pupil group Jointly knows: not stored")
    if records:
        batch.writers.append(lambda cur, import_id: _write_published(cur, records, import_id, batch.notes))
    return batch


_PUBLISHED_COLUMNS = ["gias_uid", "trust_code", "period", "measure", "pupil_group", "version", "value", "cohort",
                      "ci_low", "ci_high", "status", "status_code", "source_column"]


def _write_published(cur: DuckDBPyConnection, records: list[dict], import_id: int, notes: list[str]) -> dict[str, int]:
    """Replace the trust's published values for the same trust, period, measure and pupil group."""
    df = pd.DataFrame.from_records(records, columns=_PUBLISHED_COLUMNS)
    df["gias_uid"] = df["gias_uid"].astype("int32")
    for c in ("value", "cohort", "ci_low", "ci_high"):
        df[c] = df[c].astype("float64")
    for c in ("trust_code", "pupil_group", "version", "status_code", "source_column"):
        df[c] = df[c].astype("string")
    with registered(cur, "_tp_in", df):
        cur.execute("""
            DELETE FROM trust_published t USING _tp_in s
            WHERE t.gias_uid = s.gias_uid AND t.period = s.period AND t.measure = s.measure
              AND t.pupil_group IS NOT DISTINCT FROM s.pupil_group
        """)
        cur.execute(f"INSERT INTO trust_published ({', '.join(_PUBLISHED_COLUMNS)}, import_id) "  # noqa: S608
                    f"SELECT {', '.join(_PUBLISHED_COLUMNS)}, ? FROM _tp_in", [import_id])
    notes.append(f"{len(df):,} published values of {df['gias_uid'].nunique():,} trusts stored: DfE's own figures, "
                 "shown beside Jointly's roll-up on the group pages")
    return {"trust_values": len(df)}


# ------------------------------------------------------------------------------------------------ trust information


def trust_info_batch(table: RawTable, period: str | None) -> Batch:
    """DfE's trust information: counts per eligibility line, and the member URNs DfE listed for the year."""
    from data.ingest.rows import Batch

    batch = Batch()
    time_i = _require(table, "time_period", "every EES row names its academic year")
    uid_i = _require(table, "trust_uid", "the trust's GIAS Group UID says which trust each row describes")
    urns_i = _require(table, "urns", "the list of the trust's schools is what this file is for")
    elig_i = table.index("academy_eligibility")
    version_i = table.index("version")
    periods = _periods(table, period, time_i)
    unknown_versions: set[str] = set()
    info: list[dict] = []
    members: list[dict] = []
    seen: dict[tuple[int, str, str], int] = {}
    for row, line, p in zip(table.rows, table.lines, periods, strict=True):
        uid = _uid(table, row, line, uid_i, batch.problems)
        if uid is None:
            continue
        eligibility = " ".join(row[elig_i].split()) if elig_i is not None and row[elig_i].strip() else ALL_MEMBERS
        key = (uid, p, eligibility)
        if key in seen:
            raise fatal(table.path, f"trust {uid} has two '{eligibility}' rows for {p} (lines {seen[key]} and "
                        f"{line}): the file is inconsistent, so nothing was imported", line)
        seen[key] = line
        batch.periods.add(p)
        batch.groups.append(_trust_group(table, row, uid))
        urns = []
        for part in row[urns_i].split(";"):
            if not part.strip():
                continue
            urn = parse_urn(part)
            if urn is None:
                batch.problems.append(Problem(table.path.name, f"expected a URN in the ';'-separated list, found "
                                              f"{part.strip()!r}; that entry skipped", line, table.header[urns_i]))
                continue
            urns.append(urn)
        batch.cells_checked += 1
        for urn in dict.fromkeys(urns):
            members.append({"gias_uid": uid, "period": p, "eligibility": eligibility, "urn": urn})

        def count(name: str, row: tuple[str, ...] = row, line: int = line) -> float | None:
            return number(table, row, table.index(name), line, batch.problems)

        banding_i = table.index("progress8_banding")
        info.append({
            "gias_uid": uid, "trust_code": batch.groups[-1]["code"], "period": p, "eligibility": eligibility,
            "version": _version(table, row, version_i, unknown_versions),
            "pupil_count": count("pupil_count"), "school_count": count("school_count"),
            "disadvantaged_pct": count("disadvantaged_pupil_percent"), "eal_pct": count("eal_pupil_percent"),
            "sen_pct": count("sen_pupil_percent"),
            "progress8_banding": row[banding_i].strip() or None if banding_i is not None else None,
        })
        school_count = info[-1]["school_count"]
        if school_count is not None and int(school_count) != len(urns):
            batch.notes.append(f"line {line}: school_count says {int(school_count)} but the urns list has "
                               f"{len(urns)} schools; the list was kept as written")
    if unknown_versions:
        batch.notes.append(f"version {', '.join(sorted(unknown_versions))} is not provisional, revised or final: "
                           "those rows were stored without a version")
    if info:
        batch.writers.append(lambda cur, import_id: _write_info(cur, info, members, import_id, batch.notes))
    return batch


_INFO_COLUMNS = ["gias_uid", "trust_code", "period", "eligibility", "version", "pupil_count", "school_count",
                 "disadvantaged_pct", "eal_pct", "sen_pct", "progress8_banding"]


def _write_info(cur: DuckDBPyConnection, info: list[dict], members: list[dict], import_id: int,
                notes: list[str]) -> dict[str, int]:
    """Replace the trusts' information and member lists for these periods; add the lists as memberships."""
    df = pd.DataFrame.from_records(info, columns=_INFO_COLUMNS)
    df["gias_uid"] = df["gias_uid"].astype("int32")
    for c in ("pupil_count", "school_count"):
        df[c] = pd.to_numeric(df[c]).astype("Int32")
    for c in ("disadvantaged_pct", "eal_pct", "sen_pct"):
        df[c] = df[c].astype("float64")
    for c in ("trust_code", "version", "progress8_banding"):
        df[c] = df[c].astype("string")
    mem = pd.DataFrame.from_records(members, columns=["gias_uid", "period", "eligibility", "urn"])
    mem["gias_uid"] = mem["gias_uid"].astype("int32")
    mem["urn"] = mem["urn"].astype("int32")
    with registered(cur, "_ti_in", df), registered(cur, "_tm_in", mem):
        # a trust's year is replaced whole: a school DfE no longer lists for it is no longer listed
        cur.execute("DELETE FROM trust_published_info t USING (SELECT DISTINCT gias_uid, period FROM _ti_in) s "
                    "WHERE t.gias_uid = s.gias_uid AND t.period = s.period")
        cur.execute("DELETE FROM trust_published_members t USING (SELECT DISTINCT gias_uid, period FROM _ti_in) s "
                    "WHERE t.gias_uid = s.gias_uid AND t.period = s.period")
        cur.execute(f"INSERT INTO trust_published_info ({', '.join(_INFO_COLUMNS)}, import_id) "  # noqa: S608
                    f"SELECT {', '.join(_INFO_COLUMNS)}, ? FROM _ti_in", [import_id])
        cur.execute("INSERT INTO trust_published_members (gias_uid, period, eligibility, urn, import_id) "
                    "SELECT gias_uid, period, eligibility, urn, ? FROM _tm_in", [import_id])
        # The year's membership evidence, only where no other source says anything about the school in the trust:
        # a GIAS join date, or GIAS's open-ended current trust, is never narrowed or widened by a year's bounds
        pairs = cur.execute("""
            SELECT DISTINCT g.group_id, m.urn, m.period FROM _tm_in m
            JOIN groups g ON g.gias_uid = m.gias_uid
            WHERE EXISTS (SELECT 1 FROM establishments e WHERE e.urn = m.urn)
              AND NOT EXISTS (SELECT 1 FROM memberships x WHERE x.group_id = g.group_id AND x.urn = m.urn
                              AND x.source IS DISTINCT FROM $kind)
            ORDER BY 1, 2, 3
        """, {"kind": FileKind.EES_TRUST_INFO}).fetchall()
        unknown = cur.execute("SELECT count(DISTINCT urn) FROM _tm_in m "
                              "WHERE NOT EXISTS (SELECT 1 FROM establishments e WHERE e.urn = m.urn)").fetchall()[0][0]
    changed = 0
    if pairs:
        rows = pd.DataFrame([{"group_id": gid, "urn": urn, "start_date": period_bounds(p)[0],
                              "end_date": period_bounds(p)[1]} for gid, urn, p in pairs])
        changed = merge_memberships(cur, rows, source=FileKind.EES_TRUST_INFO)
    notes.append(f"{len(df):,} trust lines and {mem['urn'].nunique():,} listed schools stored; {changed:,} "
                 "memberships added for the year")
    if unknown:
        notes.append(f"{unknown:,} listed schools are not in the store yet: DfE's list is kept, but they were not "
                     "added as members (import the GIAS establishments file, then this file again)")
    return {"trust_rows": len(df), "trust_members": len(mem), "memberships_changed": changed}
