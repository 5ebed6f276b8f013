"""The store's own reads and writes: groups, membership ranges, nesting, local measures, clustering."""

from __future__ import annotations

import pandas as pd
import pytest

from data.db.errors import StoreError
from data.db.store import Store
from data.services import groups, local_measures, schools


@pytest.fixture()
def st(tmp_path) -> Store:
    s = Store(tmp_path / "s.duckdb")
    yield s
    s.close()


def test_membership_ranges_merge_when_adjacent_and_filter_by_period(st):
    g = groups.create_group(st, "partnership", "Riverside Partnership")
    assert groups.add_memberships(st, g, [1, 2, 3], "2020-09-01", "2021-08-31") == 3
    assert groups.add_memberships(st, g, [1, 2], "2021-09-01", "2022-08-31") == 2
    assert groups.add_memberships(st, g, [1, 2], "2021-09-01", "2022-08-31") == 0  # idempotent
    rows = st.query("SELECT urn, start_date::VARCHAR, end_date::VARCHAR FROM memberships ORDER BY urn")
    assert rows == [(1, "2020-09-01", "2022-08-31"), (2, "2020-09-01", "2022-08-31"), (3, "2020-09-01", "2021-08-31")]
    assert groups.group_members(st, g, "2020/21") == [1, 2, 3]
    assert groups.group_members(st, g, "2021/22") == [1, 2]
    assert groups.group_members(st, g, "2022/23") == []


def test_a_gap_year_keeps_two_ranges(st):
    g = groups.create_group(st, "trust", "Gap Trust")
    groups.add_memberships(st, g, [7], "2018-09-01", "2019-08-31")
    groups.add_memberships(st, g, [7], "2020-09-01", None)
    assert st.query("SELECT count(*) FROM memberships")[0][0] == 2
    assert groups.group_members(st, g, "2019/20") == []
    assert groups.group_members(st, g, "2025/26") == [7]


def test_nested_groups_include_subgroup_members(st):
    trust = groups.create_group(st, "trust", "Big Trust")
    cluster = groups.create_group(st, "cluster", "North cluster", parent_id=trust)
    groups.add_memberships(st, trust, [1, 2])
    groups.add_memberships(st, cluster, [3])
    assert groups.group_members(st, trust, "2018/19") == [1, 2, 3]
    assert groups.group_members(st, trust, "2018/19", include_subgroups=False) == [1, 2]
    assert groups.group_members(st, cluster, "2018/19") == [3]


def test_find_group_by_id_code_or_exact_name(st):
    g = groups.create_group(st, "federation", "Two Villages Federation", code="FED01")
    assert groups.find_group(st, str(g)).name == "Two Villages Federation"
    assert groups.find_group(st, "two villages federation").group_id == g
    assert groups.find_group(st, "fed01").group_id == g
    assert groups.find_group(st, "Two Villages") is None


def test_bad_group_and_membership_inputs_are_refused(st):
    with pytest.raises(StoreError, match="kind 'club'"):
        groups.create_group(st, "club", "X")
    with pytest.raises(StoreError, match="needs a name"):
        groups.create_group(st, "trust", "  ")
    g = groups.create_group(st, "trust", "T")
    with pytest.raises(StoreError, match="cannot end"):
        groups.add_memberships(st, g, [1], "2021-09-01", "2020-08-31")
    with pytest.raises(StoreError, match="no group with id 999"):
        groups.add_memberships(st, 999, [1])
    assert st.query("SELECT count(*) FROM memberships")[0][0] == 0


def test_local_measure_values_replace_and_are_audited(st):
    g = groups.create_group(st, "partnership", "P")
    definition = {"id": "cpd_hours_per_teacher", "label": "CPD hours per teacher", "perspective": "staff_leadership",
                  "unit": "hours", "polarity": "higher_better", "phases": ["primary"], "rollup": "weighted_mean",
                  "description": "Hours of training per teacher."}
    local_measures.write_local_measure(st, g, definition, actor="governor@example")
    local_measures.write_local_values(st, "cpd_hours_per_teacher", pd.DataFrame(
        {"urn": [1, 2], "period": ["2018/19"] * 2, "value": [10.0, 12.0], "numerator": [100, 240],
         "denominator": [10, 20]}))
    local_measures.write_local_values(st, "cpd_hours_per_teacher", pd.DataFrame(
        {"urn": [1], "period": ["2018/19"], "value": [11.0]}))
    got = schools.school_observations(st, [1, 2], ["2018/19"], ["cpd_hours_per_teacher"]).sort_values("urn")
    assert got["value"].tolist() == [11.0, 12.0]
    assert got["source_kind"].tolist() == ["local", "local"]
    assert [m["id"] for m in local_measures.local_measures(st, g)] == ["cpd_hours_per_teacher"]
    actions = st.query("SELECT actor, action, entity FROM audit_log ORDER BY audit_id")
    assert ("governor@example", "define", "local_measure") in actions
    with pytest.raises(StoreError, match="define it first"):
        local_measures.write_local_values(st, "nope", pd.DataFrame({"urn": [1], "period": ["2018/19"], "value": [1.0]}))
    other = groups.create_group(st, "trust", "Other")
    with pytest.raises(StoreError, match="belongs to another group"):
        local_measures.write_local_measure(st, other, definition)


def test_recluster_keeps_every_observation_and_groups_members_together(st):
    with st.results_transaction() as cur:
        cur.execute("INSERT INTO establishments (urn, name, la_code) SELECT i, 'S' || i, i % 7 FROM range(1, 301) t(i)")
        cur.execute("""INSERT INTO observations (level, urn, measure, period, value, status)
                       SELECT 'school', i, 'pupils', '2018/19', i, 'ok' FROM range(1, 301) t(i)""")
    members = list(range(5, 300, 10))  # scattered URNs
    g = groups.create_group(st, "trust", "Scattered Trust")
    groups.add_memberships(st, g, members)
    before = st.query("SELECT urn, value FROM observations ORDER BY urn")
    st.recluster()
    assert st.query("SELECT urn, value FROM observations ORDER BY urn") == before
    ords = sorted(r[0] for r in st.query("SELECT ord FROM establishments WHERE urn IN (SELECT unnest(?))", [members]))
    assert ords == list(range(ords[0], ords[0] + len(members)))  # contiguous
    assert st.query("SELECT count(*) FROM observations WHERE ord IS NULL")[0][0] == 0
    got = schools.school_observations(st, members, ["2018/19"])
    assert sorted(got["urn"]) == members


def test_settings_and_demo_flag(st):
    assert not st.is_demo()
    st.set_setting("demo", "true")
    assert st.is_demo()


def test_recluster_keeps_school_stats_readable_by_group(st):
    """Stats carry the clustering key too: after a recluster, range reads must still find every row."""
    with st.results_transaction() as cur:
        cur.execute("INSERT INTO establishments (urn, name, la_code, phase) SELECT i, 'S' || i, 1, 'primary' "
                    "FROM range(1, 201) t(i)")
        cur.execute("""INSERT INTO observations (level, urn, measure, period, value, status)
                       SELECT 'school', i, 'ks2_rwm_expected', '2018/19', i % 97, 'ok' FROM range(1, 201) t(i)""")
    from data.ingest.derived import refresh_derived

    refresh_derived(st)
    members = list(range(3, 200, 7))
    g = groups.create_group(st, "trust", "Late Trust")
    groups.add_memberships(st, g, members)
    st.recluster()  # members move together after the stats were computed
    got = schools.school_stats(st, members, ["2018/19"], ["ks2_rwm_expected"])
    assert sorted(got["urn"]) == members


@pytest.mark.parametrize("sql", [
    "SELECT * FROM read_csv('/etc/passwd')",  # reading files
    "COPY (SELECT 1) TO '{tmp}/leak.csv'",  # writing files
    "INSTALL httpfs",  # fetching extensions
    "SET enable_external_access = true",  # undoing the lock
    "ATTACH '{tmp}/other.duckdb' AS other",  # opening other databases
])
def test_the_connection_is_locked_down(st, tmp_path, sql):
    with pytest.raises(StoreError):  # the driver's refusal, in words (issue 12 point 6)
        st.query(sql.format(tmp=tmp_path))
    assert not (tmp_path / "leak.csv").exists()


def test_a_second_store_on_the_same_file_opens_and_is_locked_too(st):
    with Store(st.path) as again:
        assert again.query("SELECT count(*) FROM establishments")[0][0] == 0
        with pytest.raises(StoreError):
            again.query("SELECT * FROM read_csv('/etc/passwd')")


def test_remembered_values_last_until_the_next_data_write(store: Store) -> None:
    from data.services.access import Role, Viewer, visible_group_ids
    from data.services.accounts import add_user, sign_in

    a = groups.create_group(store, "trust", "Oak Trust")
    calls: list[int] = []
    compute = lambda: calls.append(1) or len(calls)  # noqa: E731
    assert store.remembered("k", compute) == 1 and store.remembered("k", compute) == 1  # computed once
    leader = Viewer(Role.LEADER, a, "leader")
    assert visible_group_ids(store, leader) == [a]
    child = groups.create_group(store, "cluster", "Oak North", parent_id=a)  # a write: the group tree is read again
    assert visible_group_ids(store, leader) == [a, child]
    assert store.remembered("k", compute) == 2
    # a sign-in writes only the store's own records: caches of what pages show stay warm
    add_user(store, "cli", email="head@example.org", role="leader", group=a, password="correct horse battery")
    generation = store.generation
    assert sign_in(store, "head@example.org", "wrong password")[0] is None
    assert sign_in(store, "head@example.org", "correct horse battery")[0] is not None
    assert store.generation == generation
