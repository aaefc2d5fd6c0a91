"""People curate themes (rename, merge, split) and later syncs keep what they decided."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import select

from reviewbot.models import FeedbackItem, ReviewTicket, Theme
from reviewbot.store import Store
from reviewbot.workflows.curate import merge, rename, split
from reviewbot.workflows.review import RefusedError
from reviewbot.workflows.sync import run_sync
from tests.workspaces import DELIVERY_TEXTS, REFUND_TEXTS, make_workspace, open_workspace, rows, write_csv

OWNER = "head-of-cx"  # the policy's owner: no role has that name, so it names a person


@pytest.fixture
def ws(tmp_path: Path, use_database: str) -> Path:
    folder = make_workspace(tmp_path / "ws")
    settings, store = open_workspace(folder)
    run_sync(settings, store)
    return folder


def theme_of(store: Store, external_id: str) -> Theme:
    with store.session() as session:
        item = session.exec(select(FeedbackItem).where(FeedbackItem.external_id == external_id)).one()
        theme = session.get(Theme, item.theme_id)
        assert theme is not None
        return theme


def more(folder: Path, name: str, day: int) -> None:
    fresh = rows([t + " once again" for t in REFUND_TEXTS[:3]], f"R-{name}", day) + rows(
        [t + " once again" for t in DELIVERY_TEXTS[:3]], f"D-{name}", day
    )
    write_csv(folder / "inbox" / "complaints" / f"{name}.csv", fresh)


def test_a_renamed_theme_keeps_its_name_through_syncs(ws: Path) -> None:
    settings, store = open_workspace(ws)
    refunds = theme_of(store, "R-0")
    assert rename(settings, store, refunds.id or 0, "Refunds slower than promised", OWNER) == (
        f"theme {refunds.id} is now 'Refunds slower than promised'"
    )
    more(ws, "later", 20)
    report = run_sync(settings, store)
    assert report.themes["items_placed"] == 6
    assert theme_of(store, "R-0").label == "Refunds slower than promised"
    with pytest.raises(RefusedError, match="needs a name"):
        rename(settings, store, refunds.id or 0, "  ", OWNER)


def test_merged_themes_become_one_and_stay_one(ws: Path) -> None:
    settings, store = open_workspace(ws)
    refunds, delivery = theme_of(store, "R-0"), theme_of(store, "D-0")
    message = merge(settings, store, refunds.id or 0, [delivery.id or 0], OWNER)
    assert message == f"merged 1 theme(s) into theme {refunds.id} (16 items)"
    assert theme_of(store, "D-3").id == refunds.id
    with store.session() as session:
        old = session.get(Theme, delivery.id)
        tickets = {t.theme_id: t for t in session.exec(select(ReviewTicket))}
    assert old is not None and old.status == "merged" and old.merged_into == refunds.id
    assert tickets[delivery.id].state == "dismissed" and "merged into theme" in (
        tickets[delivery.id].state_reason or ""
    )
    more(ws, "later", 20)
    report = run_sync(settings, store)
    assert report.themes["new_themes"] == 0
    assert theme_of(store, "D-later-0").id == refunds.id  # the merged theme takes nothing new


def test_a_split_theme_stays_split_and_each_part_attracts_its_own(ws: Path) -> None:
    settings, store = open_workspace(ws)
    refunds, delivery = theme_of(store, "R-0"), theme_of(store, "D-0")
    merge(settings, store, refunds.id or 0, [delivery.id or 0], OWNER)  # one theme holding two issues
    message = split(settings, store, refunds.id or 0, OWNER, parts=2)
    parts = {theme_of(store, f"R-{i}").id for i in range(8)} | {theme_of(store, f"D-{i}").id for i in range(8)}
    assert len(parts) == 2 and refunds.id in parts and message.startswith(f"theme {refunds.id} split into")
    refund_part, delivery_part = theme_of(store, "R-0").id, theme_of(store, "D-0").id
    assert refund_part != delivery_part
    assert sum(theme_of(store, f"R-{i}").id == refund_part for i in range(8)) >= 7
    more(ws, "later", 20)
    report = run_sync(settings, store)
    assert report.themes["new_themes"] == 0
    assert theme_of(store, "R-later-1").id == refund_part and theme_of(store, "D-later-1").id == delivery_part


def test_curation_is_audited_and_refuses_nonsense(ws: Path, cli, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    import json

    monkeypatch.chdir(ws)
    _, store = open_workspace(ws)
    refunds = theme_of(store, "R-0")
    # the CLI acts as the OS user's person (tests/workspaces.py maps it to "tester"); nobody named "dana" here
    assert cli(f'themes rename {refunds.id} "Refund delays"').code == 0
    assert cli("themes merge 999 1").code == 1
    assert cli(f"themes merge {refunds.id} {refunds.id}").code == 1
    assert cli(f"themes split {refunds.id} --as dana").code == 1  # acting for someone unknown is refused
    trail = json.loads(cli("audit --json").stdout)
    assert trail[0]["action"] == "theme_rename" and "Refund delays" in trail[0]["detail"]
    assert trail[0]["actor"] == "tester"


@pytest.mark.parametrize("parts", [1, 0, -3, 100_000])
def test_a_split_into_an_impossible_number_of_parts_is_refused(ws: Path, parts: int) -> None:
    settings, store = open_workspace(ws)
    refunds = theme_of(store, "R-0")
    with pytest.raises(RefusedError, match=f"theme {refunds.id} has 8 items: split it into 2 parts at most"):
        split(settings, store, refunds.id or 0, OWNER, parts=parts)
    assert theme_of(store, "R-7").id == refunds.id  # nothing moved


def test_only_admins_and_the_policies_owners_and_approvers_curate(ws: Path) -> None:
    settings, store = open_workspace(ws)
    refunds, delivery = theme_of(store, "R-0"), theme_of(store, "D-0")
    who = "admins and the owners and approvers of a policy document or section may: head-of-cx, tester"
    for attempt in (
        lambda: rename(settings, store, refunds.id or 0, "Mine now", "priya"),
        lambda: merge(settings, store, refunds.id or 0, [delivery.id or 0], "priya"),
        lambda: split(settings, store, refunds.id or 0, "priya", parts=2),
    ):
        with pytest.raises(RefusedError, match="^priya may not (rename|merge|split) theme") as refused:
            attempt()
        assert refused.value.hint == who
    assert theme_of(store, "R-0").label == refunds.label and theme_of(store, "D-0").id == delivery.id
    assert rename(settings, store, refunds.id or 0, "Refund delays", "tester").endswith("'Refund delays'")  # admin
