"""AppTest: the Similar schools page — the kind of school and DfE's context variables, shown and adjustable with
their defaults; one meaning of "distance" per table; a funnel plot or the reason why not; governors read it."""

from __future__ import annotations

import pytest
from conftest import has_table, open_app, table
from streamlit.testing.v1 import AppTest

from data.db.store import Store
from data.services.families import family
from metrics.families import DEFAULT_WEIGHTS, FAMILY_VARIABLES

LABELS = {"disadvantaged_pct": "Disadvantaged pupils (%)", "eal_pct": "English as an additional language (%)",
          "sen_support_pct": "SEN support (%)", "ehcp_pct": "Education, health and care plans (%)",
          "pupils": "Pupils on roll"}


@pytest.fixture()
def similar(demo_db) -> AppTest:
    return open_app("similar_schools.py", role="leader")


def _urn(at: AppTest) -> int:
    return int(at.selectbox(key="school").value)


# issue 11 point 13
def test_each_context_variable_is_shown_with_its_default(similar: AppTest) -> None:
    at = similar
    for v in FAMILY_VARIABLES:
        box = at.checkbox(key=f"use_{v}")
        assert box.value is (DEFAULT_WEIGHTS[v] > 0)
        assert at.slider(key=f"w_{v}").value == pytest.approx(DEFAULT_WEIGHTS[v] or 1.0)
    for v, label in LABELS.items():
        assert at.checkbox(key=f"use_{v}").label == label
    defaults = " ".join(c.value for c in at.caption)
    assert "By default" in defaults and "pupil stability" in defaults  # what DfE uses and our files do not carry
    fam = table(at, "Similarity score")
    assert "Distance" not in fam.columns and fam["Similarity score"].between(0, 1).all()
    assert fam["Similarity score"].is_monotonic_decreasing
    assert {LABELS[v] for v in LABELS} <= set(fam.columns)


# issue 11 point 13
def test_adjusting_the_variables_changes_the_family(similar: AppTest, demo_db) -> None:
    at = similar
    for v in FAMILY_VARIABLES:
        if v != "disadvantaged_pct" and at.checkbox(key=f"use_{v}").value:
            at = at.checkbox(key=f"use_{v}").uncheck().run()
    assert not at.exception
    at = at.slider(key="family_size").set_value(5).run()
    fam = table(at, "Similarity score")
    urn = _urn(at)
    period = at.selectbox(key="period").value if any(s.key == "period" for s in at.selectbox) else None
    with Store(demo_db) as s:
        want = family(s, urn, weights={"disadvantaged_pct": 1.0}, size=5, period=period)
        # on disadvantage alone: the five schools of the kind closest on it, by hand from the stored z-scores
        kind = s.query("SELECT any_value(kind) FROM school_context WHERE urn = ?", [urn])[0][0]
        table_ = "context_by_year" if period else "school_context"
        z = dict(s.query(f"SELECT urn, z FROM {table_} WHERE variable = 'disadvantaged_pct' AND kind = ? "  # noqa: S608
                         + ("AND period = ? " if period else "")
                         + f"AND phase = (SELECT any_value(phase) FROM {table_} WHERE urn = ?)",
                         [kind, *([period] if period else []), urn]))
    gaps = sorted((abs(v - z[urn]), u) for u, v in z.items() if u != urn)[:5]
    assert fam["URN"].tolist() == want["urn"].tolist() == [u for _, u in gaps]
    assert "Pupils on roll" not in fam.columns and LABELS["disadvantaged_pct"] in fam.columns


# issue 11 point 13
def test_the_kind_of_school_is_said_and_other_kinds_come_only_when_asked(similar: AppTest) -> None:
    at = similar
    assert any("mainstream (non-selective)" in c.value for c in at.caption)
    assert not has_table(at, "Kind of school")
    box = at.checkbox(key="family_all_kinds")
    assert box.value is False and "grammar" in box.label
    at = box.check().run()
    assert not at.exception
    assert has_table(at, "Kind of school")


# issue 11 point 14
def test_funnel_plot_or_the_reason_why_not(similar: AppTest) -> None:
    at = similar
    options = at.selectbox(key="measure").options
    assert options
    for i in range(min(len(options), 4)):
        at = at.selectbox(key="measure").select_index(i).run()
        assert not at.exception
        funnels = [e for e in at.get("plotly_chart") if "Cohort (pupils)" in e.proto.spec]
        reasons = [x.value for x in at.info if "funnel plot" in x.value]
        assert len(funnels) + len(reasons) == 1, (options[i], len(funnels), reasons)


# issue 11 point 13
def test_partner_table_says_kilometres(similar: AppTest) -> None:
    at = similar
    if has_table(at, "How related"):
        partners = table(at, "How related")
        assert "Distance" not in partners.columns and "Distance (km)" in partners.columns
    else:
        assert any("within 30 km" in i.value for i in at.info)


# issue 11 point 12
def test_governors_read_similar_schools(demo_db) -> None:
    at = open_app("similar_schools.py", role="governor")
    assert not at.exception
    assert at.title[0].value == "Similar schools"
    assert has_table(at, "Similarity score")
    assert not at.button  # nothing to change in the store here
