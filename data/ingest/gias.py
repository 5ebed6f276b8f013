"""GIAS's membership and link files: trust membership history, all group links, predecessor/successor links.

- ``academiesmatmembership*.csv``: one row per academy and trust it has been in, with Date Joined Group and
  Date Left Group (ISO dates); a school that moved trust appears once per trust, and a closed row is history.
- ``alllinksdata*.csv``: one row per school and group (trusts, federations, sponsors, children's centre groups)
  with a Joined date (dd/mm/yyyy; 01/01/1900 is GIAS's placeholder for "not known").
- ``links_edubasealldata*.csv``: one row per school and linked school (Predecessor, Successor, "... - merged",
  ...), each link listed from both sides; stored once by ``data.ingest.lineage``.

Everything here builds a ``data.ingest.rows.Batch``; the SQL is in ``data.ingest.lineage`` and ``data.db.store``.
"""

from __future__ import annotations

import re
from collections import Counter
from contextlib import suppress
from datetime import date

import pandas as pd

from data.ingest.formats import parse_int, parse_urn
from data.ingest.lineage import write_links, write_reasons
from data.ingest.reading import Problem, RawTable, fatal
from data.ingest.rows import Batch, getter, gias_kind, parse_date, require

# GIAS fills an unknown date with 1 January 1900 (links' Joined date) or 1902 (children's centre groups' Open
# date): no school group is that old, so either means "not known".
PLACEHOLDER_DATES = frozenset({"1900-01-01", "1902-01-01"})
# Reasons GIAS gives when it has none to give
_NO_REASON = frozenset({"", "not applicable", "not recorded"})


def _known_date(text: str) -> str | None:
    """An ISO date, or None for a blank cell or GIAS's placeholder."""
    d = parse_date(text)
    return None if d in PLACEHOLDER_DATES else d


def _is_childrens_centre(*words: str) -> bool:
    return any("children's centre" in w.lower() or "childrens centre" in w.lower() for w in words)


def _reason(text: str) -> str | None:
    return None if text.strip().lower() in _NO_REASON else text.strip()


def _bad_date(table: RawTable, batch: Batch, raw: str, line: int, column: str) -> None:
    batch.problems.append(Problem(table.path.name, f"expected a date, found {raw!r}; the date is taken as not "
                                  "known", line, column))


def reasons_writer(reasons: list[tuple[int, str, str]]):
    """A Batch writer recording (urn, open reason, close reason) in GIAS's words ("Not recorded" is none)."""
    frame = pd.DataFrame([(u, _reason(o), _reason(c)) for u, o, c in reasons],
                         columns=["urn", "open_reason", "close_reason"])
    return lambda cur, _import_id: write_reasons(cur, frame)


# ------------------------------------------------------------------------------ trust membership history


def membership_batch(table: RawTable, period: str | None) -> Batch:
    """academiesmatmembership: each row one stay of an academy in a trust, with its real start and end."""
    batch = Batch()
    urn_i = require(table, "URN")
    uid_i = require(table, "Group UID")
    g = getter(table)
    name = table.path.name
    reasons = []
    seen_groups: set[int] = set()
    for row, line in zip(table.rows, table.lines, strict=True):
        urn, uid = parse_urn(row[urn_i]), parse_int(row[uid_i])
        if urn is None or uid is None:
            batch.problems.append(Problem(name, "a membership needs a URN and a numeric Group UID; row skipped",
                                          line, "URN" if urn is None else "Group UID"))
            continue
        if uid not in seen_groups:
            seen_groups.add(uid)
            batch.groups.append({
                "key": f"uid:{uid}", "gias_uid": uid, "code": g(row, "Group ID") or None,
                "name": g(row, "Group Name"), "kind": gias_kind(g(row, "Group Type")),
                "companies_house": g(row, "Group Companies House Number") or None,
                "status": g(row, "Group Status").lower() or None,
                "open_date": _known_date(g(row, "Group Open Date")),
                "close_date": _known_date(g(row, "Group Closed Date")),
            })
        est = {
            "urn": urn, "name": g(row, "EstablishmentName") or None, "la_code": parse_int(g(row, "LA (code)")),
            "la_name": g(row, "LA (name)") or None, "estab": parse_int(g(row, "EstablishmentNumber")),
            "type_name": g(row, "TypeOfEstablishment (name)") or None,
            "type_group": g(row, "EstablishmentTypeGroup (name)") or None,
            "status": ("open" if g(row, "EstablishmentStatus (name)").lower().startswith("open") else "closed")
            if g(row, "EstablishmentStatus (name)") else None,
            "open_date": _known_date(g(row, "Establishment OpenDate")),
            "close_date": _known_date(g(row, "Establishment CloseDate")),
        }
        batch.establishments.append({k: v for k, v in est.items() if v is not None})
        reasons.append((urn, g(row, "ReasonEstablishmentOpened (name)"), g(row, "ReasonEstablishmentClosed (name)")))
        joined_raw, left_raw = g(row, "Date Joined Group"), g(row, "Date Left Group")
        joined, left = _known_date(joined_raw), _known_date(left_raw)
        if joined_raw and parse_date(joined_raw) is None:
            _bad_date(table, batch, joined_raw, line, "Date Joined Group")
        if left_raw and parse_date(left_raw) is None:
            _bad_date(table, batch, left_raw, line, "Date Left Group")
        if joined and left and left < joined:
            # GIAS keeps rows for a move that never happened (left the day before it joined): no time in the trust
            batch.problems.append(Problem(name, f"Date Left Group {left_raw} is before Date Joined Group "
                                          f"{joined_raw}: no time in the group, so no membership was recorded",
                                          line, "Date Left Group"))
            continue
        batch.memberships.append({"group_key": f"uid:{uid}", "urn": urn, "start_date": joined, "end_date": left})
    # every column describes the school or its group; only the school's own columns may not override GIAS's
    # establishments file, which is the authority on them
    batch.fill_only = frozenset({"name", "la_code", "la_name", "estab", "type_name", "type_group", "status",
                                 "open_date", "close_date"})
    closed = sum(1 for m in batch.memberships if m["end_date"])
    batch.notes.append(f"{len(batch.memberships):,} memberships with their dates ({closed:,} closed: the school "
                       "left the trust)")
    if reasons:
        batch.writers.append(reasons_writer(reasons))
    return batch


# ------------------------------------------------------------------------------ all group links


def links_batch(table: RawTable, period: str | None) -> Batch:
    """alllinksdata (and older links extracts): each row a school's current link to a group, with its Joined
    date; children's centre groups are not schools' groups and are skipped with a note."""
    from data.ingest.importers import _group_from_gias

    batch = Batch()
    urn_i = require(table, "URN")
    uid_i = require(table, "Group UID")
    g = getter(table)
    name = table.path.name
    centres, placeholder, first_centre = 0, 0, None
    other_types: Counter[str] = Counter()
    for row, line in zip(table.rows, table.lines, strict=True):
        urn, uid = parse_urn(row[urn_i]), parse_int(row[uid_i])
        if urn is None or uid is None:
            batch.problems.append(Problem(name, "a link needs a URN and a numeric Group UID; row skipped",
                                          line, "URN" if urn is None else "Group UID"))
            continue
        group_type = g(row, "Group Type")
        if _is_childrens_centre(group_type, g(row, "TypeOfEstablishment (name)")):
            centres += 1
            first_centre = first_centre or line
            continue
        grp = _group_from_gias(g, row, uid)
        for d in ("open_date", "close_date"):
            if grp.get(d) in PLACEHOLDER_DATES:
                grp[d] = None
        if grp["kind"] == "other":
            other_types[group_type or "(blank)"] += 1
        batch.groups.append(grp)
        batch.establishments.append({"urn": urn, "name": g(row, "EstablishmentName") or None,
                                     "la_code": parse_int(g(row, "LA (code)")), "la_name": g(row, "LA (name)") or None})
        raw = g(row, "Joined date")
        joined = parse_date(raw)
        if joined in PLACEHOLDER_DATES:
            placeholder += 1
            joined = None
        elif raw and joined is None:
            _bad_date(table, batch, raw, line, "Joined date")
        batch.memberships.append({"group_key": f"uid:{uid}", "urn": urn, "start_date": joined, "end_date": None})
    batch.fill_only = frozenset({"name", "la_code", "la_name"})
    if centres and not batch.memberships:
        raise fatal(table.path, f"all {centres:,} usable rows link children's centres to children's centre groups, "
                    "and Jointly holds schools' groups only (the first is on this line): nothing was imported",
                    first_centre)
    if centres:
        batch.notes.append(f"{centres:,} rows link children's centres to children's centre groups: Jointly holds "
                           "schools' groups only, so they were skipped")
    if placeholder:
        batch.notes.append(f"{placeholder:,} memberships have Joined date 01/01/1900, GIAS's placeholder for a date "
                           "it does not know: they are stored with no start date")
    if other_types:
        shown = ", ".join(f"{t} ({n:,})" for t, n in sorted(other_types.items()))
        batch.notes.append(f"group types Jointly has no kind for were stored as 'other': {shown}")
    return batch


# ------------------------------------------------------------------------------ predecessor/successor links

# Relations in order of precedence: when the two sides of a link use different words, the more specific wins
_RELATION_WORDS = (("split", "split"), ("merge", "merger"), ("amalgamat", "amalgamation"),
                   ("sixth form", "sixth_form"))
_PRECEDENCE = ("split", "merger", "amalgamation", "sixth_form", "succession", "other")


def relation_of(link_type: str) -> str:
    """The kind of link a GIAS LinkType names: 'Predecessor - merged' -> merger, 'Successor' -> succession."""
    t = link_type.strip().lower()
    for word, relation in _RELATION_WORDS:
        if word in t:
            return relation
    return "succession" if t in ("predecessor", "successor") else "other"


def direction_of(link_type: str) -> int:
    """+1 when the row's LinkURN came after the row's URN (its successor), -1 before (predecessor), 0 unknown."""
    t = link_type.strip().lower()
    return 1 if t.startswith("successor") else -1 if t.startswith("predecessor") else 0


_DMY = re.compile(r"^(\d{2})-(\d{2})-(\d{4})$")  # LinkEstablishedDate: 01-09-2014


def _link_date(table: RawTable, batch: Batch, raw: str, line: int) -> date | None:
    """LinkEstablishedDate as a date; parsed by hand (strptime costs 2.4 s over the national file's 23,939)."""
    if not raw:
        return None
    m = _DMY.match(raw)
    if m:
        with suppress(ValueError):  # 31-02-2020 is no date: reported below
            return date(int(m.group(3)), int(m.group(2)), int(m.group(1)))
    iso = parse_date(raw)
    if iso is None:
        _bad_date(table, batch, raw, line, "LinkEstablishedDate")
        return None
    return date.fromisoformat(iso)


def predecessors_batch(table: RawTable, period: str | None) -> Batch:
    """links_edubasealldata: each link once, earlier URN first, with both sides' words and dates kept."""
    batch = Batch()
    urn_i = require(table, "URN")
    link_i = require(table, "LinkURN")
    type_i = require(table, "LinkType")
    g = getter(table)
    name = table.path.name
    sides: dict[tuple[int, int], tuple[str, date | None, str, int]] = {}  # (urn, link) -> (type, date, name, line)
    for row, line in zip(table.rows, table.lines, strict=True):
        urn, link = parse_urn(row[urn_i]), parse_urn(row[link_i])
        if urn is None or link is None:
            col = "URN" if urn is None else "LinkURN"
            raw = row[urn_i] if urn is None else row[link_i]
            batch.problems.append(Problem(name, f"expected a URN, found {raw!r}; row skipped", line, col))
            continue
        if urn == link:
            batch.problems.append(Problem(name, f"URN {urn} is linked to itself; row skipped", line, "LinkURN"))
            continue
        if (urn, link) in sides:
            batch.problems.append(Problem(name, f"the link from URN {urn} to {link} is listed again (first on line "
                                          f"{sides[(urn, link)][3]}); the first was kept", line, "LinkURN"))
            continue
        sides[(urn, link)] = (row[type_i].strip(), _link_date(table, batch, g(row, "LinkEstablishedDate"), line),
                              g(row, "LinkName"), line)
    records, conflicts = [], 0
    for a, b in {(min(u, v), max(u, v)) for u, v in sides}:
        on_a, on_b = sides.get((a, b)), sides.get((b, a))
        votes = {d for d in ((direction_of(on_a[0]) if on_a else 0), (-direction_of(on_b[0]) if on_b else 0)) if d}
        # +1: a came before b. Two sides that disagree (both 'Predecessor') leave the order unknown
        directed = len(votes) == 1
        conflicts += len(votes) > 1
        first, second = (b, a) if votes == {-1} else (a, b)
        on_first, on_second = sides.get((first, second)), sides.get((second, first))
        relations = {relation_of(s[0]) for s in (on_first, on_second) if s}
        relation = next(r for r in _PRECEDENCE if r in relations)
        records.append({
            "from_urn": first, "to_urn": second, "relation": relation, "directed": directed,
            "from_type": on_first[0] if on_first else None, "to_type": on_second[0] if on_second else None,
            "from_date": on_first[1] if on_first else None, "to_date": on_second[1] if on_second else None,
            # each row's LinkName names the *other* school
            "from_name": on_second[2] or None if on_second else None,
            "to_name": on_first[2] or None if on_first else None,
        })
    if not records:
        first = f" (first: {batch.problems[0]})" if batch.problems else ""
        raise fatal(table.path, f"none of the {len(table.rows):,} links could be used{first}: nothing was imported")
    frame = pd.DataFrame(records).sort_values(["from_urn", "to_urn"]).reset_index(drop=True)
    both = sum(1 for a, b in sides if (b, a) in sides) // 2
    batch.notes.append(f"{len(frame):,} links between schools ({both:,} listed from both sides, stored once; "
                       f"{int(frame['directed'].sum()):,} say which school came first)")
    if conflicts:
        batch.notes.append(f"{conflicts:,} links are listed from both sides with words that disagree on which school "
                           "came first: stored without a direction, so no results are carried across them")
    batch.writers.append(lambda cur, import_id: write_links(cur, frame, import_id))
    return batch
