"""The year a value belongs to (metrics/value_years.py): hand-worked examples from docs/method.md."""

from __future__ import annotations

import pytest

from metrics.value_years import described_period, tables_year, value_year_sentence


@pytest.mark.parametrize(("kind", "tables", "described"), [
    ("pupdest", "2018/19", "2016/17"),  # pupdestprovisional_meta.csv: COHORT completed KS4 in 2016/17
    ("pupdest", "2017/18", "2015/16"),  # the same file's COHORT_18 columns: 2015/16 leavers, in the 2018 tables
    ("pupdest", "2000/01", "1998/99"),  # the century's two digits roll over
    ("pupdest", "2021/22", "2019/20"),  # the first tables after the pandemic: leavers of 2019/20
    ("ks4", "2018/19", "2018/19"),  # results belong to the year of their tables
    ("abs", "2018/19", "2018/19"),
])
def test_described_period(kind: str, tables: str, described: str) -> None:
    assert described_period(kind, tables) == described
    assert tables_year(kind, described) == tables


def test_sentence_names_both_years() -> None:
    assert value_year_sentence("pupdest", "2016/17") == ("destinations of pupils who finished key stage 4 in "
                                                         "2016/17, published in the 2018/19 tables")
    assert value_year_sentence("ks4", "2018/19") is None
