"""charts/svg.py, the static site's inline bar charts (issue 16): geometry computed by hand, people's words escaped,
ids unique and referenced, no inline style anywhere (the site's CSP forbids it), every meaning in words."""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET

import pytest

from charts.palette import WHITE, contrast_ratio
from charts.svg import Bar, Reference, bar_chart, nice_ceiling, scale_of, text_width

NS = "{http://www.w3.org/2000/svg}"


def parsed(svg: str) -> ET.Element:
    root = ET.fromstring(svg)  # well-formed XML, or this raises
    assert root.tag == f"{NS}svg"
    return root


def of_class(root: ET.Element, tag: str, cls: str) -> list[ET.Element]:
    return [e for e in root.iter(f"{NS}{tag}") if cls in (e.get("class") or "").split()]


def f(e: ET.Element, name: str) -> float:
    return float(e.get(name))


def texts(root: ET.Element, cls: str) -> list[str]:
    return ["".join(e.itertext()) for e in of_class(root, "text", cls)]


def test_no_bars_is_an_empty_string():
    assert bar_chart([], title="Attendance", id_prefix="c1") == ""
    assert bar_chart((), title="Attendance", id_prefix="c1", references=[Reference("England", 90, "90%")]) == ""


def test_bar_widths_are_in_proportion_and_a_reference_sits_at_its_value():
    """Bars 50 and 100 on a 0-100 scale: the second twice the first, both from the same left edge; England at 62
    is drawn at 62% of the plot's width from that edge."""
    root = parsed(bar_chart([Bar("Ash", 50, "50%"), Bar("Birch", 100, "100%")], title="Reading", id_prefix="r",
                            references=[Reference("England", 62, "62%")]))
    ash, birch = of_class(root, "rect", "bar")
    assert f(ash, "x") == f(birch, "x")
    assert f(birch, "width") == pytest.approx(2 * f(ash, "width"), abs=0.02)
    plot_left, plot_width = f(birch, "x"), f(birch, "width")  # 100 is the scale's top: the whole plot
    (england,) = of_class(root, "line", "reference")
    assert f(england, "x1") == f(england, "x2") == pytest.approx(plot_left + 0.62 * plot_width, abs=0.02)
    assert england.get("stroke-dasharray")  # dashed
    # the line runs from under its words down past the last bar
    assert f(england, "y2") > f(birch, "y") + f(birch, "height") > f(ash, "y") > f(england, "y1")
    assert texts(root, "reference-label") == ["England: 62%"]
    assert texts(root, "value") == ["50%", "100%"]
    assert texts(root, "label") == ["Ash", "Birch"]
    # each bar's value is written just after its end, on its row
    for bar, value in zip((ash, birch), of_class(root, "text", "value"), strict=True):
        assert f(bar, "x") + f(bar, "width") < f(value, "x") <= f(bar, "x") + f(bar, "width") + 10
        assert f(bar, "y") < f(value, "y") < f(bar, "y") + f(bar, "height") + 8
    width, height = (float(v) for v in root.get("viewBox").split()[2:])
    assert width == 640 and root.get("width") == "100%" and root.get("height") is None
    top_value = of_class(root, "text", "value")[1]
    assert f(top_value, "x") + (3 * 0.556 + 0.889) * 20 <= width  # room for "100%" in Arial's advances at 20


def test_the_scale_runs_to_a_rounded_maximum_covering_values_and_references():
    """Values 35 and 48 with England at 62: the scale is 0-70, so 35 is half the plot and England 62/70 of it."""
    root = parsed(bar_chart([Bar("Ash", 35, "35%"), Bar("Birch", 48, "48%")], title="Maths", id_prefix="m",
                            references=[Reference("England", 62, "62%")]))
    ash, birch = of_class(root, "rect", "bar")
    (england,) = of_class(root, "line", "reference")
    plot_width = 2 * f(ash, "width")
    assert f(birch, "width") == pytest.approx(48 / 70 * plot_width, abs=0.02)
    assert f(england, "x1") == pytest.approx(f(ash, "x") + 62 / 70 * plot_width, abs=0.02)
    assert [nice_ceiling(x) for x in (1, 58, 62, 100, 101, 0.23, 7.1, 1234)] == [1, 60, 70, 100, 120, 0.25, 8, 1500]
    assert scale_of([58, 43]) == (0, 60)
    assert scale_of([]) == (0, 1) and scale_of([0, 0]) == (0, 1)


def test_negative_values_grow_left_from_a_zero_line():
    """Progress 8 of -0.5 and +0.25: the scale is -0.5 to 0.25, zero at two thirds of the plot; the negative bar
    ends at zero and is twice the positive one, which starts there; its words stand before its left end."""
    root = parsed(bar_chart([Bar("Ash", -0.5, "-0.50"), Bar("Birch", 0.25, "+0.25")], title="Progress 8",
                            id_prefix="p8", references=[Reference("England", 0.0, "0.00")]))
    ash, birch = of_class(root, "rect", "bar")
    (zero,) = of_class(root, "line", "zero")
    (england,) = of_class(root, "line", "reference")
    plot_left = f(ash, "x")
    plot_width = f(ash, "width") + f(birch, "width")  # together they span the whole scale
    assert f(zero, "x1") == pytest.approx(plot_left + 2 / 3 * plot_width, abs=0.02)
    assert f(ash, "x") + f(ash, "width") == pytest.approx(f(zero, "x1"), abs=0.02)
    assert f(birch, "x") == pytest.approx(f(zero, "x1"), abs=0.02)
    assert f(ash, "width") == pytest.approx(2 * f(birch, "width"), abs=0.02)
    assert f(england, "x1") == pytest.approx(f(zero, "x1"), abs=0.02)
    ash_value, birch_value = of_class(root, "text", "value")
    assert ash_value.get("text-anchor") == "end" and 0 < f(ash_value, "x") < plot_left
    assert f(birch_value, "x") > f(birch, "x") + f(birch, "width")


def test_a_school_with_no_value_is_a_row_of_words_and_no_bar():
    words = "Not shown: fewer than 6 pupils"
    root = parsed(bar_chart([Bar("Ash", 40, "40%", note="24 pupils"), Bar("Birch", None, words),
                             Bar("Cedar", math.nan, "No value")], title="Writing", id_prefix="w"))
    assert len(of_class(root, "rect", "bar")) == 1
    assert texts(root, "not-shown") == [words, "No value"]
    assert texts(root, "label") == ["Ash", "Birch", "Cedar"]
    assert texts(root, "note") == ["24 pupils"]
    desc = root.find(f"{NS}desc").text
    assert desc == f"Ash: 40% (24 pupils). Birch: {words}. Cedar: No value."
    # rows go down the page in order: each label below the previous row
    ys = [f(e, "y") for e in of_class(root, "text", "label")]
    assert ys == sorted(ys) and len(set(ys)) == 3


def test_a_hostile_label_is_text_not_markup():
    hostile = """<script>alert("x")</script> & 'Sons' <b onload="x">\x01"""
    svg = bar_chart([Bar(hostile, 10, "10% <i>", note="&amp;")], title=f"T {hostile}", id_prefix="h",
                    references=[Reference(hostile, 5, "5 & 6")])
    assert "<script" not in svg and "<b " not in svg and "<i>" not in svg and "\x01" not in svg
    root = parsed(svg)
    assert {e.tag.removeprefix(NS) for e in root.iter()} <= {"svg", "title", "desc", "rect", "line", "text", "g"}
    clean = hostile.replace("\x01", "")
    assert texts(root, "label") == [clean]  # one line: escaping never splits a name, and it reads as written
    assert texts(root, "value") == ["10% <i>"]
    assert texts(root, "note") == ["&amp;"]
    assert texts(root, "reference-label") == [f"{clean}: 5 & 6"]
    assert root.find(f"{NS}title").text == f"T {clean}"
    assert clean in root.find(f"{NS}desc").text


def test_a_long_name_wraps_over_lines_inside_the_width():
    name = "The Very Long Named Community Primary School and Nursery of the Holy Trinity and Saint Michael"
    root = parsed(bar_chart([Bar(name, 3, "3")], title="T", id_prefix="long", width=400))
    lines = texts(root, "label")
    assert len(lines) >= 2 and " ".join(lines) == name
    assert all(text_width(line, 20) <= 400 for line in lines)
    nospace = "M" * 80  # a name with no spaces is cut where it must be
    cut = texts(parsed(bar_chart([Bar(nospace, 3, "3")], title="T", id_prefix="m", width=400)), "label")
    assert "".join(cut) == nospace and len(cut) >= 3 and all(text_width(line, 20) <= 400 for line in cut)


def test_ids_come_from_the_prefix_are_unique_on_a_page_and_are_referenced():
    page = "<div>" + "".join(bar_chart([Bar("Ash", 1, "1")], title=f"Chart {i}", id_prefix=f"measure-{i}")
                             for i in range(3)) + "</div>"
    root = ET.fromstring(page)
    ids = [e.get("id") for e in root.iter() if e.get("id")]
    assert len(ids) == len(set(ids)) == 6
    for svg in root.iter(f"{NS}svg"):
        assert svg.get("role") == "img"
        title_id, desc_id = svg.get("aria-labelledby").split()
        assert svg.find(f"{NS}title").get("id") == title_id
        assert svg.find(f"{NS}desc").get("id") == desc_id
        assert title_id.endswith("-title") and desc_id.endswith("-desc")
    for bad in ("", "1st", "a b", 'x"onload="y', "a<b"):
        with pytest.raises(ValueError, match="id_prefix"):
            bar_chart([Bar("Ash", 1, "1")], title="T", id_prefix=bad)


def test_no_style_anywhere():
    svg = bar_chart([Bar("Ash", -3, "-3"), Bar("Birch", None, "Not shown"), Bar("Cedar", 7, "7", note="n")],
                    title="T", id_prefix="s", references=[Reference("England", 2, "2"), Reference("Us", 4, "4")],
                    lower_is_better=True)
    root = parsed(svg)
    assert all(e.tag != f"{NS}style" and "style" not in e.attrib for e in root.iter())
    assert re.search(r"\sstyle\s*=", svg) is None and "<style" not in svg


def test_colours_meet_contrast_and_words_carry_every_meaning():
    root = parsed(bar_chart([Bar("Ash", 60, "60%"), Bar("Birch", None, "Not shown"), Bar("Cedar", -5, "-5%")],
                            title="Absence", id_prefix="a", lower_is_better=True,
                            references=[Reference("England", 20, "20%"), Reference("The partnership", 30, "30%")]))
    for e in root.iter(f"{NS}text"):  # (a value inside its bar is checked against the bar's colour below)
        assert contrast_ratio(e.get("fill"), WHITE) >= 4.5, e.get("class")
    for e in of_class(root, "rect", "bar"):
        assert contrast_ratio(e.get("fill"), WHITE) >= 3
    lines = of_class(root, "line", "reference")
    for e in lines:
        assert contrast_ratio(e.get("stroke"), WHITE) >= 3
    assert len({e.get("stroke-dasharray") for e in lines}) == 2  # told apart by more than colour, and by words
    assert texts(root, "reference-label") == ["England: 20%", "The partnership: 30%"]
    assert texts(root, "polarity") == ["Lower values are better."]
    assert root.find(f"{NS}desc").text == ("Ash: 60%. Birch: Not shown. Cedar: -5%. England: 20%. "
                                           "The partnership: 30%. Lower values are better.")
    # the references' words each have a line of their own, so close values never overlap
    ys = [f(e, "y") for e in of_class(root, "text", "reference-label")]
    assert ys[1] - ys[0] >= 17


def test_a_value_with_no_room_at_its_end_goes_inside_its_bar_past_the_zero_line_or_under_it():
    """A third of the width at most is kept each side for words. At 360 across (120 kept each side, a plot of 120,
    zero at 180), "-1.00 (below)" (152 units by the builder's estimate) has no room before its bar's end, so it
    starts just past the zero line, where this row is empty. At 300 (a plot of 198 from 2), "100% (all)" (113) has
    no room after its bar but fits inside its end, in white. A value with room nowhere on its row goes on a line
    of its own under the bar."""
    assert 112 < text_width("-1.00 (below)", 20) <= 172 and 92 < text_width("100% (all)", 20) <= 198 - 16
    root = parsed(bar_chart([Bar("Ash", -1, "-1.00 (below)"), Bar("Birch", 1, "+1.00 (above)")], title="P8",
                            id_prefix="p", width=360))
    (zero,) = of_class(root, "line", "zero")
    assert f(zero, "x1") == pytest.approx(180)
    ash_value = of_class(root, "text", "value")[0]
    assert ash_value.get("text-anchor") == "start" and f(ash_value, "x") == pytest.approx(180 + 8)

    root = parsed(bar_chart([Bar("Ash", 100, "100% (all)")], title="All", id_prefix="a", width=300))
    (bar,) = of_class(root, "rect", "bar")
    (value,) = of_class(root, "text", "value")
    assert (f(bar, "x"), f(bar, "width")) == pytest.approx((2, 198))
    assert "inside" in value.get("class").split() and value.get("fill") == WHITE
    assert value.get("text-anchor") == "end" and f(value, "x") == pytest.approx(200 - 8)
    assert contrast_ratio(WHITE, bar.get("fill")) >= 4.5

    long = "-1.00 (well below the average of every school)"
    root = parsed(bar_chart([Bar("Ash", -1, long), Bar("Birch", 1, "+1")], title="P8", id_prefix="q", width=300))
    ash, birch = of_class(root, "rect", "bar")
    ash_value = of_class(root, "text", "value")[0]
    assert " ".join(texts(root, "value")[:-1]) == long and f(ash_value, "x") == 1
    assert f(ash, "y") + f(ash, "height") < f(ash_value, "y") < f(birch, "y")
