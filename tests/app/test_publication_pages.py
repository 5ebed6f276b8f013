"""AppTest of joint publication: a leader previews and publishes, a parent finds and reads it, withdrawal and
tampered addresses show nothing, and only leaders and admins can publish."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import open_app
from streamlit.testing.v1 import AppTest

from data.db.store import Store
from data.demo.build import FLAGSHIP_PARTNERSHIP
from data.services import groups, schools
from data.services.access import Role, Viewer
from data.services.publications import build_publication, find_publications
from data.services.scorecards import scorecard
from ui.published import DOWNLOAD_LABEL, PREVIEW_BANNER, escape

NOT_AVAILABLE = "This page is not available"
COMMENT = "Our schools have worked together on reading this year."


def _plan(db: Path) -> dict:
    """Read before the app holds the file: the year, two measures to publish (the second with at least one school
    value hidden for a small cohort, when the demo has one), their labels, and a member school's name."""
    with Store(db, read_only=True) as s:
        group = groups.find_group(s, FLAGSHIP_PARTNERSHIP)
        period = schools.periods(s)[-1]
        card = scorecard(s, group=FLAGSHIP_PARTNERSHIP, period=period)
        have = [r.measure for r in card.rows if r.value is not None]
        viewer = Viewer(Role.LEADER, group.group_id, "Leader")
        pub, problems = build_publication(s, viewer, group.group_id, period, have, {})
        # the demo ships with its own publication of this year (data.demo.publication): versions follow it
        shipped = [int(m["publication_id"]) for m in find_publications(s, FLAGSHIP_PARTNERSHIP)]
    assert pub is not None, problems
    hidden = [i.measure for i in pub.items if i.suppressed] + [v.measure for v in pub.school_values if v.suppressed]
    first = next(i.measure for i in pub.items if not i.suppressed and i.measure not in hidden)
    second = hidden[0] if hidden else next(i.measure for i in pub.items if i.measure != first)
    labels = {i.measure: i.label for i in pub.items}
    return {"period": period, "group_id": group.group_id, "measures": [first, second], "labels": labels,
            "hidden": bool(hidden), "school": sorted(s.name for s in pub.schools)[0], "shipped": shipped,
            "next": len(shipped) + 1}


def _markdown(at: AppTest) -> str:
    return "\n".join(m.value for m in at.markdown)


def _history(at: AppTest):
    return next(d.value for d in at.dataframe if "Version" in d.value.columns)


def _publish(at: AppTest, measures: list[str], *, comment: str | None = None) -> int:
    at.multiselect(key="publish_measures").set_value(measures).run()
    if comment:
        at.text_area(key=f"publish_note_{measures[0]}").input(comment).run()
    at.button(key="publish_button").click().run()
    assert not at.exception, at.exception
    assert any(s.value.startswith("Published version") for s in at.success), [e.value for e in at.error]
    return int(re.search(r"publication=(\d+)", at.code[0].value).group(1))


def _parent(publication: int | str | None = None) -> AppTest:
    """A parent or visitor, optionally arriving at one publication's address."""
    at = AppTest.from_file(str(Path(__file__).resolve().parents[2] / "app.py"), default_timeout=60)
    at.query_params["viewing_as"] = Role.PUBLIC.label
    if publication is not None:
        at.query_params["publication"] = str(publication)
    at.run()
    assert not at.exception, at.exception
    return at


def test_leader_previews_publishes_and_a_parent_finds_and_reads_it(demo_db):
    plan = _plan(demo_db)
    first, second = plan["measures"]
    at = open_app("publish.py", role="leader")
    assert at.title[0].value == "Publish results"
    assert not at.main.error, [e.value for e in at.main.error]
    assert any(i.value == PREVIEW_BANNER for i in at.info), "the preview says it is a preview"
    assert at.multiselect(key="publish_measures").value, "headline measures are chosen to start with"

    at.multiselect(key="publish_measures").set_value([first, second]).run()
    at.text_area(key=f"publish_note_{first}").input(COMMENT).run()
    text = _markdown(at)
    # people's words are shown as written: the page's Markdown carries them escaped (ui.published.escape)
    assert f"#### {escape(plan['labels'][first])}" in text and f"#### {escape(plan['labels'][second])}" in text
    assert f"> {escape(COMMENT)}" in text, "the commentary is previewed in a quote"
    assert escape(f"{FLAGSHIP_PARTNERSHIP}: results for {plan['period']}") in [h.value for h in at.header]
    assert at.download_button[0].label == DOWNLOAD_LABEL

    at.button(key="publish_button").click().run()
    assert not at.exception
    assert any(s.value.startswith(f"Published version {plan['next']}") for s in at.success)
    pid = int(re.search(r"publication=(\d+)", at.code[0].value).group(1))
    history = _history(at)
    assert history[["Year", "Version"]].values.tolist()[0] == [plan["period"], plan["next"]]
    assert history["Status"].iloc[0].startswith("Published")

    parent = open_app(role="public")
    assert parent.title[0].value == "Results for parents"
    for text in (FLAGSHIP_PARTNERSHIP, plan["school"]):
        parent.text_input(key="find").input(text).run()
        assert not parent.exception
        assert any(FLAGSHIP_PARTNERSHIP in m.value and escape(plan["period"]) in m.value for m in parent.markdown), text
        assert parent.button(key=f"open_{pid}")
    parent.button(key=f"open_{pid}").click().run()
    assert not parent.exception
    assert parent.header[0].value == escape(f"{FLAGSHIP_PARTNERSHIP}: results for {plan['period']}")
    assert not any(i.value == PREVIEW_BANNER for i in parent.info), "parents never see the preview banner"
    text = _markdown(parent)
    assert f"#### {escape(plan['labels'][first])}" in text and f"#### {escape(plan['labels'][second])}" in text
    assert f"> {escape(COMMENT)}" in text
    if plan["hidden"]:
        assert "Not shown" in text, "a value hidden for a small cohort says so"
    assert [e.label for e in parent.expander].count("Each school") == 2
    assert parent.download_button[0].label == DOWNLOAD_LABEL
    assert not parent.main.error

    # withdrawn: the leader's history says so, and the parents' address for it shows nothing
    at.button(key=f"withdraw_{pid}").click().run()
    assert not at.exception
    assert any(s.value.startswith("Withdrawn") for s in at.success)
    assert _history(at)["Status"].iloc[0].startswith("Withdrawn")
    gone = _parent(pid)
    assert gone.info[0].value.startswith(NOT_AVAILABLE)
    assert not gone.header and "####" not in _markdown(gone)
    gone.text_input(key="find").input(FLAGSHIP_PARTNERSHIP).run()
    assert not any(b.key == f"open_{pid}" for b in gone.button), "a withdrawn publication cannot be found"


def test_publishing_again_replaces_the_earlier_version(demo_db):
    plan = _plan(demo_db)
    at = open_app("publish.py", role="leader")
    old = _publish(at, plan["measures"][:1])
    new = _publish(at, plan["measures"], comment=COMMENT)
    assert new != old
    history = _history(at).sort_values("Version")
    assert history["Version"].tolist() == list(range(1, plan["next"] + 2))
    assert history["Status"].iloc[-2].startswith("Replaced") and history["Status"].iloc[-1].startswith("Published")
    assert _parent(old).info[0].value.startswith(NOT_AVAILABLE)
    current = _parent(new)
    assert current.header[0].value.startswith(FLAGSHIP_PARTNERSHIP)
    assert f"version {plan['next'] + 1}" in _markdown(current)


@pytest.mark.parametrize("tampered", ["999999", "abc", "-1", "1 OR 1=1", ""])
def test_a_tampered_address_shows_a_sentence_and_no_data(demo_db, tampered):
    at = _parent(tampered)
    assert at.info[0].value.startswith(NOT_AVAILABLE)
    assert not at.header and not at.download_button and not at.expander
    assert not at.main.error


def test_an_unpublished_preview_is_never_public(demo_db):
    """A leader's preview writes nothing: the parents' page finds only what was published before (the demo's own)."""
    plan = _plan(demo_db)
    at = open_app("publish.py", role="leader")
    at.multiselect(key="publish_measures").set_value(plan["measures"]).run()
    parent = _parent()
    parent.text_input(key="find").input(FLAGSHIP_PARTNERSHIP).run()
    assert sorted(b.key for b in parent.button if b.key and b.key.startswith("open_")) == [
        f"open_{pid}" for pid in sorted(plan["shipped"])]
    for pid in (max(plan["shipped"], default=0) + k for k in (1, 2, 3)):
        assert _parent(pid).info[0].value.startswith(NOT_AVAILABLE)


def test_admins_can_publish_for_any_group(demo_db):
    plan = _plan(demo_db)
    at = open_app("publish.py", role="admin")
    at.selectbox(key="group").select(FLAGSHIP_PARTNERSHIP).run()
    pid = _publish(at, plan["measures"])
    assert _parent(pid).header[0].value.startswith(FLAGSHIP_PARTNERSHIP)


def test_governors_cannot_open_publish_but_can_read_results(demo_db):
    at = open_app(role="governor")
    with pytest.raises(ValueError):
        at.switch_page("pages/publish.py").run()
    at.switch_page("pages/published_results.py").run()
    assert at.title[0].value == "Results for parents" and not at.exception


def test_the_public_sees_no_group(demo_db):
    from data.services.access import visible_group_ids

    with Store(demo_db, read_only=True) as s:
        assert visible_group_ids(s, Viewer(Role.PUBLIC, None, "Parent or visitor")) == []
        group = groups.find_group(s, FLAGSHIP_PARTNERSHIP)
        assert visible_group_ids(s, Viewer(Role.PUBLIC, group.group_id, "Parent")) == []


def test_the_public_navigation_has_only_results_for_parents(demo_db):
    at = _parent()
    assert at.title[0].value == "Results for parents"
    # a hidden home page and the visible one: both are the parents' page (so /published_results links work)
    pages = list(at._registered_pages.values())
    assert {info.get("page_name") for info in pages} == {"Results for parents"}
    assert {info.get("script_path", "").rsplit("/", 1)[-1] for info in pages} == {"published_results.py"}
    for hidden in ("group_overview.py", "publish.py", "reports.py", "data_import.py"):
        with pytest.raises(ValueError):
            at.switch_page(f"pages/{hidden}").run()


def test_the_about_paragraph_reads_right_in_preview_and_when_published():
    from metrics.publication import Publication
    from ui.published import _about

    base = dict(publication_id=None, group_id=1, group_name="Test Partnership", period="2024/25", version=2,
                status="preview", created_at=None, data_as_of="2026-11-26", schools=(), items=(), school_values=())
    preview = _about(Publication(**base), preview=True)
    assert "They will be published by the partnership's leaders when they press Publish." in preview
    assert "This will be version 2: it replaces the earlier version." in preview
    done = _about(Publication(**{**base, "publication_id": 5, "status": "published",
                                 "created_at": "2026-11-26 10:00:00"}), preview=False)
    assert "They were published by the partnership's leaders on 26 November 2026" in done
    assert "This is version 2: it replaces an earlier version." in done
