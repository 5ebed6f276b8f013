"""The school card says whether each value is DfE's provisional, revised or final figure (issue 10 point 11)."""

from __future__ import annotations

from conftest import open_app

from data.db.store import Store
from data.demo.build import FLAGSHIP_PARTNERSHIP
from data.services import groups, schools
from metrics.registry import load_registry
from metrics.text import markdown_text

WORDS = {"provisional": "Provisional", "revised": "Revised", "final": "Final", None: "–"}


def test_school_card_shows_each_values_version(demo_db):
    with Store(demo_db, read_only=True) as s:  # read first: the app then holds the store
        period = schools.periods(s)[-1]
        members = groups.group_members(s, groups.find_group(s, FLAGSHIP_PARTNERSHIP).group_id, period)
        # a member with KS4 results whose file said their version
        urn = next(u for u in sorted(members) if s.query(
            "SELECT count(*) FROM observations WHERE urn = ? AND period = ? AND measure = 'attainment8' "
            "AND version IS NOT NULL", [u, period])[0][0])
        versions = s.query("SELECT measure, version FROM observations WHERE level = 'school' AND urn = ? "
                           "AND period = ?", [urn, period])
    at = open_app("school_scorecard.py", role="governor")
    assert at.selectbox(key="period").value == period
    school = at.selectbox(key="school")
    school.select(next(o for o in school.options if o.endswith(f"({urn})"))).run()
    assert not at.exception
    reg = load_registry()
    by_label = {reg.get(m).label: WORDS[v] for m, v in versions if m in reg}
    shown = {label: v for d in at.dataframe if "Version" in d.value.columns
             for label, v in zip(d.value["Measure"], d.value["Version"], strict=True)}
    assert reg.get("attainment8").label in shown and set(shown.values()) <= set(WORDS.values())
    assert {k: v for k, v in shown.items() if k in by_label} == {k: by_label[k] for k in shown if k in by_label}
    assert shown[reg.get("attainment8").label] in ("Provisional", "Revised", "Final")
    # in the card's words too (Markdown-escaped, as every sentence from the data is)
    word = markdown_text(f"These are DfE's {next(v for k, v in versions if k == 'attainment8')} figures.")
    assert any(word in m.value for m in at.markdown if m.value.startswith("- "))
