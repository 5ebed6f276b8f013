"""schools.member_rows for a school the store has not yet given a clustering position (`ord` NULL: written after the
last recluster, or by hand): it read `s.true` and raised a DuckDB error (found by issue 11's LA-average tests)."""

from __future__ import annotations

from data.db.store import Store
from data.services import schools


def test_a_school_without_an_ord_is_read_like_any_other(store: Store) -> None:
    with store.results_transaction() as cur:
        cur.execute("INSERT INTO establishments (urn, name, phase) VALUES (100001, 'Ash Academy', 'secondary')")
        cur.execute("INSERT INTO observations (level, urn, measure, period, value, numerator, denominator, status) "
                    "VALUES ('school', 100001, 'attainment8', '2018/19', 47.5, 4750, 100, 'ok')")
    assert store.query("SELECT ord FROM establishments") == [(None,)]
    rows = schools.member_rows(store, [100001], ["2018/19"], ["attainment8"], lineage=False)
    assert rows[["urn", "m", "p", "value", "denominator"]].to_dict("records") == [
        {"urn": 100001, "m": 0, "p": 0, "value": 47.5, "denominator": 100.0}]
    assert schools.member_rows(store, [], ["2018/19"], ["attainment8"], lineage=False).empty
