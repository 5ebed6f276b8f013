"""The load benchmark's protocol client (bench/load_client.py) against a real server: what it sends is what the app
takes from a browser. A smoke test of the client, not a timing: bench/bench_load.py does the measuring."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from urllib.parse import parse_qs

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "tests" / "e2e"))

from bench_load import drive, summary  # noqa: E402
from load_client import AppSession  # noqa: E402
from serving import running_server  # noqa: E402

from data.db.state import copy_store  # noqa: E402


@pytest.fixture(scope="module")
def app_url(demo_master: Path, tmp_path_factory) -> str:
    db = tmp_path_factory.mktemp("bench_load") / "demo.duckdb"
    copy_store(demo_master, db)
    with running_server("serve.py", {"JOINTLY_DB": str(db)}) as (url, _):
        yield url


def test_a_tab_drives_the_overview_and_the_school_card(app_url):  # issue 12 done
    """A year chosen on the overview is written to the address by the server, carried to the school card and back
    (the app keeps a chosen year across pages): the server took the client's widget states as a browser's."""

    async def tab() -> None:
        s = AppSession(app_url, timeout=120)
        try:
            opened = await s.open("viewing_as=Leader")
            assert opened.outcome == "ok", opened
            assert "school_scorecard" in s.pages and s.widget("viewing_group") is not None
            period = s.widget("period")
            other = next(o for o in period.options if o != period.value)
            assert (await s.change("period", other)).outcome == "ok"
            assert parse_qs(s.query)["period"] == [other]  # the run wrote the chosen year into the address
            assert (await s.go("school_scorecard")).outcome == "ok"
            school = s.widget("school")
            assert school is not None, "the school card drew no school selector"
            assert s.widget("period").value == other  # the year came along
            pick = next(o for o in school.options if o != school.value)
            assert (await s.change("school", pick)).outcome == "ok"
            assert parse_qs(s.query)["school"] == [pick]
            assert (await s.go("")).outcome == "ok"
            assert s.widget("school") is None and s.widget("period").value == other
        finally:
            await s.close()

    asyncio.run(tab())


def test_two_tabs_at_once_without_errors(app_url):  # issue 12 done
    """Two tabs at once for 15 s: both open, act, and see no error (how many reruns fit depends on the machine)."""
    log, ramp = asyncio.run(drive(app_url, 2, tls=None, ramp=1, seconds=15, think=0.5, timeout=120, seed=3))
    point = summary(log, (0, ramp + 15), 2, 1)
    assert point["errors_whole_run"] == {}, point["error_examples"]
    assert point["opened"] == 2 and point["reruns"] >= 1 and point["p50"] is not None
