"""What the Impact page and the board report show of an event study (issue 15): the chart has words for every mark
(years in words, the starting and dip years named, a hidden year's reason), the CSV's numbers are the result's, and
the board PDF carries the pooled effect per measure with its interval, what it rests on and the sentence."""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

from charts.impact import impact_figure, year_words
from data.outputs.reports import board_pdf, impact_table, latin1
from metrics.impact import GroupImpact, estimate_impact, event_frame, impact_json
from metrics.registry import load_registry

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_impact import world  # noqa: E402 (the synthetic England of the method's tests)
from test_reports import CARD, REGISTRY  # noqa: E402

KS2 = load_registry().get("ks2_rwm_expected")


def _impact(effect: float = 2.0, seed: int = 7) -> GroupImpact:
    panel, joins, cands, first = world(seed, effect=effect)
    result = estimate_impact(panel, joins, cands, first, measure=KS2.id)
    schools = tuple((u, f"School {u}", g) for u, g in sorted(joins.items()))
    return GroupImpact(5, "Oak Trust", "trust", KS2, result, schools, "schools that joined Oak Trust")


def test_years_in_words() -> None:
    assert [year_words(k) for k in (-3, -1, 0, 1, 4)] == ["3 years before", "1 year before", "year joined",
                                                            "1 year after", "4 years after"]


def test_the_csv_holds_every_point_and_the_pooled_effect() -> None:
    imp = _impact()
    frame = event_frame(imp)
    assert list(frame["relative_year"]) == [-3, -2, -1, 0, 1, 2, 3, 4, "after (+1 to +3)"]
    after = frame.iloc[-1]
    assert after["estimate"] == imp.result.after.estimate and after["low"] == imp.result.after.low
    assert after["schools"] == imp.result.after.schools
    hidden = frame[~frame["shown"]]
    assert hidden["estimate"].isna().all() and hidden["note"].str.startswith("not shown").all()
    assert impact_json(imp)["pooled_effect"]["estimate"] == imp.result.after.estimate


def test_the_chart_marks_have_words() -> None:
    imp = _impact()
    fig = impact_figure(event_frame(imp), measure_label=KS2.label, unit=imp.unit, description=imp.words)
    d = fig.to_dict()
    assert d["layout"]["meta"]["description"] == imp.words
    ticks = d["layout"]["xaxis"]["ticktext"]
    assert ticks[:4] == ["3 years before", "2 years before<br>(measured from)", "1 year before<br>(dip year)",
                         "year joined"]
    assert "joined" in {a["text"] for a in d["layout"]["annotations"]}
    names = [t["name"] for t in d["data"]]
    assert names[:2] == ["before joining (a check: should be near 0)", "after joining"]
    after = next(t for t in d["data"] if t["name"] == "after joining")
    shown = [p for p in imp.result.points if p.shown and p.k >= 0]
    assert list(after["x"]) == [p.k for p in shown]
    assert all("interval" in h and "schools" in h for h in after["hovertext"])
    assert [round(e + h, 9) for e, h in zip(after["y"], after["error_y"]["array"], strict=True)] == \
        [round(p.high, 9) for p in shown]


def test_nothing_shown_is_said_in_words() -> None:
    frame = pd.DataFrame({"relative_year": [-2, 0, "after (+1 to +3)"], "shown": [True, False, False],
                          "estimate": [0.0, None, None], "low": [0.0, None, None], "high": [0.0, None, None],
                          "schools": [3, 3, 3], "note": ["", "not shown: 3 schools", "not shown"]})
    fig = impact_figure(frame, measure_label="Attainment 8", unit="points", description="too few")
    assert fig.to_dict()["layout"]["annotations"][0]["text"] == "Too few schools for any year to be shown"


def test_the_board_report_says_whether_joining_made_a_difference() -> None:
    helps, none = _impact(2.0), _impact(0.0, seed=11)
    pdf = board_pdf(CARD, REGISTRY, compress=False, impacts=[helps, none]).decode("latin-1")
    assert "Has joining made a difference?" in pdf and "What this can and cannot show" in pdf
    rows = impact_table([helps, none])
    a = helps.result.after
    assert rows[0][:3] == [KS2.label, f"{a.estimate:+.2f} percentage points", f"{a.low:+.2f} to {a.high:+.2f}"]
    assert rows[0][3] == f"{a.schools} ({round(a.pupils):,} pupils)" and rows[0][4] == "fair comparison"
    for words in (helps.words, none.words):
        start = latin1(words)[:60].replace("(", "\\(").replace(")", "\\)")
        assert start in pdf.replace("\n", " ")
    assert "(better)" in helps.words
    assert "Has joining made a difference?" not in board_pdf(CARD, REGISTRY, compress=False).decode("latin-1")
