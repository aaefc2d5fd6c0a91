"""Sync on a small workspace: idempotency, incremental input, dry runs, policy changes, and faults of the
outside world (a notifier that is down, a tracker that drops the connection after creating)."""

from __future__ import annotations

import gc
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import col, func, select

from reviewbot.analysis.score import ThemeAggregate
from reviewbot.connectors.builtin import BuiltinTracker
from reviewbot.connectors.registry import ConnectorContext, register_notifier, register_tracker
from reviewbot.models import (
    FeedbackItem,
    OutboxMessage,
    PolicyDocument,
    ReviewTicket,
    Theme,
    TrackerComment,
    TrackerIssue,
)
from reviewbot.protocols import Message, TicketDraft, TrackerRef
from reviewbot.store import Store
from reviewbot.store import themes as theme_store
from reviewbot.workflows.sync import run_sync
from tests.workspaces import DELIVERY_TEXTS, POLICY, REFUND_TEXTS, make_workspace, open_workspace, rows, write_csv


def count(store: Store, table: type) -> int:
    with store.session() as session:
        return session.exec(select(func.count()).select_from(table)).one()


@pytest.fixture
def workspace(tmp_path: Path, use_database: str) -> Path:
    return make_workspace(tmp_path / "ws")


def test_first_sync_files_one_ticket_per_issue(workspace: Path) -> None:
    settings, store = open_workspace(workspace)
    report = run_sync(settings, store)
    assert report.errors == []
    assert report.sources["complaints"]["new"] == 16
    with store.session() as session:
        sections = sorted(t.section_id or "" for t in session.exec(select(ReviewTicket)))
        issues = session.exec(select(func.count()).select_from(TrackerIssue)).one()
    assert sections == ["delivery", "refunds"]
    assert issues == 2


def test_a_policy_file_name_that_is_not_utf8_is_reported_and_the_sync_goes_on(workspace: Path) -> None:
    """It crashed every sync with a traceback (the database refused the name as the document's path)."""
    (workspace / "policies" / os.fsdecode(b"caf\xe9.md")).write_text(POLICY.replace("returns", "cafe"))
    settings, store = open_workspace(workspace)
    report = run_sync(settings, store)
    assert len(report.errors) == 1
    assert report.errors[0].startswith(f"policy {workspace}/policies/caf\\xe9.md: the file name holds a byte")
    assert "rename the file" in report.errors[0]
    assert report.policies["documents"] == 1 and report.sources["complaints"]["new"] == 16


def test_a_sync_collects_garbage_less_often_and_restores_the_setting(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the scheduler's long-lived process must get its collector settings back after each sync
    import reviewbot.workflows.sync

    settings, store = open_workspace(workspace)
    before = gc.get_threshold()
    during: list[tuple[int, int, int]] = []
    update_themes = reviewbot.workflows.sync.update_themes
    monkeypatch.setattr(
        reviewbot.workflows.sync, "update_themes", lambda *a: during.append(gc.get_threshold()) or update_themes(*a)
    )
    run_sync(settings, store)
    assert during[0][0] > before[0]
    assert gc.get_threshold() == before


def test_appended_rows_are_read_once(workspace: Path) -> None:
    settings, store = open_workspace(workspace)
    run_sync(settings, store)
    export = workspace / "inbox" / "complaints" / "export-1.csv"
    more = rows(["My refund is late too, three weeks and counting, no refund yet"], "R-late", day=20)
    write_csv(export, more, header=False, mode="a")
    report = run_sync(settings, store)
    assert report.sources["complaints"] == {"new": 1, "updated": 0, "unchanged": 0, "quarantined": 0}
    assert report.themes["items_placed"] == 1
    assert report.tickets["updated"] == 1  # the refunds ticket now cites 9 items
    again = run_sync(settings, store)
    assert again.sources["complaints"]["new"] == 0 and again.tickets["updated"] == 0
    assert count(store, FeedbackItem) == 17


def comments(store: Store, ticket: ReviewTicket) -> list[str]:
    with store.session() as session:
        query = select(TrackerComment.body).where(TrackerComment.issue_key == ticket.tracker_ref)
        return list(session.exec(query.order_by(col(TrackerComment.id))))


def refunds_ticket(store: Store) -> ReviewTicket:
    with store.session() as session:
        return session.exec(select(ReviewTicket).where(ReviewTicket.section_id == "refunds")).one()


LATE_REFUNDS = [
    "My refund is four weeks late, the refund never arrived",
    "Refund still missing after a month, the refund was promised",
    "No refund yet, returned the desk weeks ago and no refund",
    "Refund not received, three weeks and the refund is still late",
]


def test_small_growth_refreshes_the_ticket_without_a_comment_until_it_adds_up(tmp_path: Path) -> None:
    workspace = make_workspace(tmp_path / "ws", extra_toml="comment_growth = 0.5")
    settings, store = open_workspace(workspace)
    run_sync(settings, store)
    inbox = workspace / "inbox" / "complaints"
    write_csv(inbox / "late-1.csv", rows(LATE_REFUNDS[:1], "L1", day=20))
    report = run_sync(settings, store)
    assert report.tickets["updated"] == 0 and report.tickets["refreshed"] >= 1
    ticket = refunds_ticket(store)
    assert ticket.evidence["counts"]["total"] == 9  # the ticket itself shows the new item...
    assert comments(store, ticket) == []  # ...but 8 -> 9 is less than half again: nobody is pinged
    write_csv(inbox / "late-2.csv", rows(LATE_REFUNDS[1:], "L2", day=21))
    report = run_sync(settings, store)
    assert report.tickets["updated"] == 1
    [note] = comments(store, refunds_ticket(store))
    assert note.startswith("+4 items (now 12)")  # counted from what the tracker was last told, not the last sync


def test_redropped_file_adds_nothing(workspace: Path) -> None:
    settings, store = open_workspace(workspace)
    run_sync(settings, store)
    inbox = workspace / "inbox" / "complaints"
    shutil.copy(inbox / "export-1.csv", inbox / "export-1 (copy).csv")
    report = run_sync(settings, store)
    assert report.sources["complaints"] == {"new": 0, "updated": 0, "unchanged": 16, "quarantined": 0}
    assert report.tickets == {"created": 0, "updated": 0, "refreshed": 0, "unchanged": 2, "reopened": 0, "eligible": 2}
    assert count(store, FeedbackItem) == 16


def test_a_changed_row_updates_its_item_once(workspace: Path) -> None:
    settings, store = open_workspace(workspace)
    run_sync(settings, store)
    changed = rows(REFUND_TEXTS, "R")
    changed[0]["text"] = "Still waiting for my refund after FOUR weeks, you said 5 business days"
    write_csv(workspace / "inbox" / "complaints" / "export-2.csv", changed)
    report = run_sync(settings, store)
    assert report.sources["complaints"] == {"new": 0, "updated": 1, "unchanged": 7, "quarantined": 0}
    with store.session() as session:
        item = session.exec(select(FeedbackItem).where(FeedbackItem.external_id == "R-0")).one()
    assert "FOUR weeks" in item.text and item.theme_id is not None
    assert run_sync(settings, store).sources["complaints"]["updated"] == 0


def test_an_edited_row_that_moves_theme_leaves_its_old_theme(workspace: Path) -> None:
    settings, store = open_workspace(workspace)
    run_sync(settings, store)
    changed = rows(REFUND_TEXTS, "R")
    changed[0]["text"] = "Sorry, wrong form: the courier lost my parcel and the lost parcel claim goes nowhere"
    write_csv(workspace / "inbox" / "complaints" / "export-2.csv", changed)
    assert run_sync(settings, store).sources["complaints"]["updated"] == 1
    with store.session() as session:
        sizes = {t.id: t.size for t in session.exec(select(Theme))}
        held = dict(session.exec(select(FeedbackItem.theme_id, func.count()).group_by(FeedbackItem.theme_id)).all())
    assert sorted(sizes.values()) == [7, 9]
    assert sizes == held  # the refunds theme counts one item fewer, though it gained none


def test_dry_run_reports_but_stores_and_sends_nothing(workspace: Path) -> None:
    settings, store = open_workspace(workspace)
    report = run_sync(settings, store, dry_run=True)
    assert report.dry_run and report.sources["complaints"]["new"] == 16
    assert report.tickets["created"] == 2
    assert report.delivery == {}
    for table in (FeedbackItem, Theme, ReviewTicket, TrackerIssue, OutboxMessage):
        assert count(store, table) == 0
    assert run_sync(settings, store).sources["complaints"]["new"] == 16


def test_policy_edit_is_a_draft_and_tickets_cite_the_published_text(workspace: Path) -> None:
    settings, store = open_workspace(workspace)
    run_sync(settings, store)
    edited = POLICY.replace("within 5 business days", "within 10 business days")
    (workspace / "policies" / "returns.md").write_text(edited, encoding="utf-8")
    report = run_sync(settings, store)
    assert report.policies["new_revisions"] == ["returns-policy revision 2 (draft)"]
    assert report.tickets["updated"] == 0
    with store.session() as session:
        refunds = session.exec(select(ReviewTicket).where(ReviewTicket.section_id == "refunds")).one()
    assert refunds.evidence["section"]["version"] == 1
    assert "within 5 business days" in refunds.evidence["section"]["text"]
    assert run_sync(settings, store).policies["new_revisions"] == []


def test_a_policy_link_to_a_file_outside_the_policies_folder_is_refused(workspace: Path) -> None:
    """A link in policies/ (a pull request to a policies repository can add one) was followed wherever it pointed, so
    a file the policy writers cannot read (a secret, another workspace's .env) became a policy cited in tickets."""
    secret = workspace.parent / "secret.md"
    secret.write_text(POLICY.replace("returns", "secret"), encoding="utf-8")
    (workspace / "policies" / "leak.md").symlink_to(secret)
    settings, store = open_workspace(workspace)
    report = run_sync(settings, store)
    assert len(report.errors) == 1
    assert "leak.md" in report.errors[0] and "outside" in report.errors[0]
    assert "secret" not in report.errors[0].split("leak.md", 1)[1].split("outside", 1)[0]
    with store.session() as session:
        paths = sorted(d.path for d in session.exec(select(PolicyDocument)))
    assert not any("leak" in p or "secret" in p for p in paths)
    assert report.sources["complaints"]["new"] == 16


def test_a_second_file_with_a_documents_id_is_an_error_not_a_new_revision_each_sync(workspace: Path) -> None:
    """A copy of a policy (or of the template) whose `id:` was not changed: the two files each recorded a revision
    of the other at every sync, silently. The document keeps its file; the copy is an error until it has its id."""
    policies = workspace / "policies"
    # "a-copy.md" sorts before "returns.md": the file the document already has wins, not the first by name
    settings, store = open_workspace(workspace)
    run_sync(settings, store)
    (policies / "a-copy.md").write_text(POLICY.replace("Returns Policy", "Returns Policy (copy)"), encoding="utf-8")
    for _ in range(2):
        report = run_sync(settings, store)
        assert report.policies["new_revisions"] == []
        assert len(report.errors) == 1 and "a-copy.md" in report.errors[0]
        assert "'returns-policy' is the id of policies/returns.md too" in report.errors[0]
    with store.session() as session:
        document = session.get(PolicyDocument, "returns-policy")
        assert document is not None and (document.path, document.current_revision) == ("policies/returns.md", 1)


def test_a_bad_redaction_pattern_names_its_line_in_reviewbot_toml(tmp_path: Path, use_database: str) -> None:
    from reviewbot.errors import ConfigError

    folder = make_workspace(tmp_path / "ws", extra_toml='[enrich]\nredact_patterns = { ORDER = "NW-(\\\\d{6}" }\n')
    settings, store = open_workspace(folder)
    with pytest.raises(ConfigError) as caught:
        run_sync(settings, store)
    store.dispose()
    toml = (folder / "reviewbot.toml").read_text(encoding="utf-8").splitlines()
    assert caught.value.line is not None and "redact_patterns" in toml[caught.value.line - 1]
    assert caught.value.file == str(folder / "reviewbot.toml") and "doubled" in (caught.value.hint or "")


def test_broken_policy_is_reported_and_the_last_good_version_kept(workspace: Path) -> None:
    settings, store = open_workspace(workspace)
    run_sync(settings, store)
    (workspace / "policies" / "returns.md").write_text("---\nowner: [unclosed\n---\n## A\nx\n", encoding="utf-8")
    report = run_sync(settings, store)
    assert report.status == "partial"
    assert any("returns.md:2" in e and "not valid YAML" in e for e in report.errors)
    assert report.tickets["unchanged"] == 2


def test_repository_files_beside_the_policies_are_not_reported_each_sync(workspace: Path) -> None:
    """A LICENSE.md (or any Markdown without front matter or headings) in a policies repository made every sync
    report "policy has no sections"; a policy that is broken is still an error with its file and line."""
    policies = workspace / "policies"
    (policies / "LICENSE.md").write_text("# MIT License\n\nCopyright (c) 2026 Example\n", encoding="utf-8")
    (policies / "CHANGELOG.md").write_text("# Changelog\n\n## 1.1\n- refunds in 5 days\n", encoding="utf-8")
    (policies / "notes.md").write_text("Ask legal before the next review.\n", encoding="utf-8")
    (policies / "CODE_OF_CONDUCT.md").write_text("# Contributor Covenant\n\n## Our Pledge\nx\n", encoding="utf-8")
    (policies / "title-only.md").write_text("---\nowner: head-of-cx\n---\n# Escalation\n\nSoon.\n", encoding="utf-8")
    toml = workspace / "reviewbot.toml"
    toml.write_text('policies_exclude = ["code_of_*.md"]\n' + toml.read_text(encoding="utf-8"), encoding="utf-8")
    settings, store = open_workspace(workspace)
    report = run_sync(settings, store)
    assert len(report.errors) == 1, report.errors
    assert "title-only.md:4" in report.errors[0] and "no sections" in report.errors[0]
    assert report.policies["not_policies"] == ["notes.md"]
    with store.session() as session:
        assert [d.path for d in session.exec(select(PolicyDocument))] == ["policies/returns.md"]


def test_a_policies_folder_of_non_policies_says_so(tmp_path: Path, use_database: str) -> None:
    workspace = make_workspace(tmp_path / "ws", policy="Draft: write the refunds policy here.\n")
    settings, store = open_workspace(workspace)
    report = run_sync(settings, store)
    assert any("no policy documents" in e and "returns.md" in e for e in report.errors), report.errors


def test_a_policy_without_front_matter_is_stored_and_ticketed(tmp_path: Path, use_database: str) -> None:
    # front matter is optional: a plain Markdown policy (no owner, no approvers) must not stop the sync
    plain = POLICY.split("---\n", 2)[2]
    workspace = make_workspace(tmp_path / "ws", policy=plain)
    settings, store = open_workspace(workspace)
    report = run_sync(settings, store)
    assert report.status == "ok", report.errors
    with store.session() as session:
        assert {d.title for d in session.exec(select(PolicyDocument))} == {"Returns Policy"}
    assert count(store, ReviewTicket) == 2


class FlakyNotifier:
    """Fails while `down` is set, records what it sent otherwise."""

    name = "flaky"
    down = True
    sent: list[Message] = []

    def send(self, message: Message) -> None:
        if FlakyNotifier.down:
            raise ConnectionError("notifier unreachable")
        FlakyNotifier.sent.append(message)


register_notifier("flaky")(lambda options, context: FlakyNotifier())


def test_notifier_outage_fails_only_that_step_and_is_retried_once(tmp_path: Path, use_database: str) -> None:
    folder = make_workspace(tmp_path / "ws", extra_toml='\n[notifier]\ntype = "flaky"\n')
    settings, store = open_workspace(folder)
    FlakyNotifier.down, FlakyNotifier.sent = True, []
    report = run_sync(settings, store)
    assert report.status == "partial"
    assert report.delivery == {"sent": 2, "failed": 1, "waiting": 0}  # the tracker got its tickets, the digest waits
    assert any("notifier unreachable" in e for e in report.errors)
    assert count(store, TrackerIssue) == 2
    FlakyNotifier.down = False
    second = run_sync(settings, store)
    assert second.errors == [] and second.delivery == {"sent": 1, "failed": 0, "waiting": 0}
    assert [m.kind for m in FlakyNotifier.sent] == ["digest"]
    assert "2 new" in FlakyNotifier.sent[0].title
    run_sync(settings, store)
    assert len(FlakyNotifier.sent) == 1


class DroppingTracker(BuiltinTracker):
    """Creates the issue, then loses the connection before answering (the create did happen)."""

    name = "dropping"
    drops = 1

    def create(self, draft: TicketDraft) -> TrackerRef:
        ref = super().create(draft)
        if DroppingTracker.drops > 0:
            DroppingTracker.drops -= 1
            raise ConnectionError("connection dropped after write")
        return ref


def _dropping(options: dict[str, Any], context: ConnectorContext) -> DroppingTracker:
    assert context.store is not None
    return DroppingTracker(context.store)


register_tracker("dropping")(_dropping)


def test_create_that_succeeded_but_was_not_acknowledged_is_not_repeated(tmp_path: Path, use_database: str) -> None:
    folder = make_workspace(tmp_path / "ws", extra_toml='\n[tracker]\ntype = "dropping"\n')
    settings, store = open_workspace(folder)
    DroppingTracker.drops = 1
    first = run_sync(settings, store)
    assert first.status == "partial" and first.delivery["failed"] >= 1
    second = run_sync(settings, store)
    assert second.errors == []
    assert count(store, TrackerIssue) == 2  # found by fingerprint and adopted, not created again
    with store.session() as session:
        refs = sorted(r for r in session.exec(select(ReviewTicket.tracker_ref)))
    assert refs == ["RB-1", "RB-2"]


def test_two_issues_stay_two_themes_when_more_of_each_arrive(workspace: Path) -> None:
    settings, store = open_workspace(workspace)
    run_sync(settings, store)
    with store.session() as session:
        before = {i.external_id: i.theme_id for i in session.exec(select(FeedbackItem))}
    later = rows([t + " (again)" for t in REFUND_TEXTS[:3]], "R2", day=20) + rows(
        [t + " (again)" for t in DELIVERY_TEXTS[:3]], "D2", day=20
    )
    write_csv(workspace / "inbox" / "complaints" / "export-2.csv", later)
    report = run_sync(settings, store)
    assert report.themes["new_themes"] == 0 and report.themes["items_placed"] == 6
    with store.session() as session:
        after = {i.external_id: i.theme_id for i in session.exec(select(FeedbackItem))}
    assert all(after[k] == v for k, v in before.items())  # old items keep their theme
    assert after["R2-0"] == after["R-0"] and after["D2-0"] == after["D-0"]


def test_a_theme_without_new_items_still_counts_the_weeks_that_passed(workspace: Path) -> None:
    # only refund complaints arrive weeks later: the delivery theme's statistics are not recomputed from its
    # members, yet its weekly trend must run to the new latest week (quiet weeks count as zero)
    settings, store = open_workspace(workspace)
    run_sync(settings, store)
    later = [{**r, "created_at": "2026-11-02 10:00"} for r in rows([t + " (again)" for t in REFUND_TEXTS], "R3")]
    write_csv(workspace / "inbox" / "complaints" / "export-3.csv", later)
    run_sync(settings, store)
    with store.session() as session:
        themes = {t.label: t for t in session.exec(select(Theme))}
        latest = session.exec(select(func.max(FeedbackItem.week))).one()
    refunds = next(t for label, t in themes.items() if "refund" in label)
    delivery = next(t for label, t in themes.items() if "parcel" in label or "courier" in label)
    assert refunds.size == 16 and delivery.size == 8
    assert max(refunds.weekly) == max(delivery.weekly) == latest == "2026-11-02"
    assert delivery.weekly[latest] == 0 and sum(delivery.weekly.values()) == 8


def test_pasted_and_templated_complaints_count_once_as_evidence(tmp_path: Path, use_database: str) -> None:
    # eight rows, but only three distinct complaints: not yet a theme (min_size 4), let alone a ticket (min_items 5)
    folder = make_workspace(tmp_path / "ws")
    (folder / "inbox" / "complaints" / "export-1.csv").unlink()
    template = "Order #{n} - refund for the returned sofa not received, 5 business days passed"
    texts = [template.format(n=1000 + i) for i in range(4)]  # a templated form: only the order number differs
    texts += ["Refund for my returned sofa not received, 5 business days passed!"] * 3  # pasted again and again
    texts += ["still no refund for the sofa I returned, way past 5 business days"]
    write_csv(folder / "inbox" / "complaints" / "sofa.csv", rows(texts, "S"))
    settings, store = open_workspace(folder)

    run_sync(settings, store)

    assert count(store, Theme) == 0 and count(store, ReviewTicket) == 0  # three voices are below min_size 4

    more = [
        "Returned sofa, refund not received after 5 business days",
        "5 business days for a refund? sofa refund late",
    ]
    write_csv(folder / "inbox" / "complaints" / "more.csv", rows(more, "M"))
    run_sync(settings, store)
    with store.session() as session:
        ticket = session.exec(select(ReviewTicket)).one()
    assert ticket.section_id == "refunds" and ticket.evidence["reason"].startswith("10 items (5 distinct)")
    with store.session() as session:
        assert session.exec(select(Theme.size, Theme.unique_size)).one() == (10, 5)


def test_a_large_import_is_enriched_in_worker_processes_with_the_same_result(
    tmp_path: Path, use_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import reviewbot.connectors.files
    import reviewbot.workflows.enrich_pool as enrich_pool

    submitted: list[int] = []

    class CountingExecutor(enrich_pool.ProcessPoolExecutor):
        def submit(self, fn, /, *args, **kwargs):  # type: ignore[no-untyped-def]
            submitted.append(len(args[1]))
            return super().submit(fn, *args, **kwargs)

    monkeypatch.setattr(reviewbot.connectors.files, "BATCH_SIZE", 40)
    monkeypatch.setattr(enrich_pool, "PARALLEL_AFTER", {"forkserver": 80, "spawn": 80})
    monkeypatch.setattr(enrich_pool, "ProcessPoolExecutor", CountingExecutor)
    texts = [f"{t} (order {i})" for i in range(20) for t in REFUND_TEXTS + DELIVERY_TEXTS]  # 320 rows, 8 batches

    folder = make_workspace(tmp_path / "ws")
    (folder / "inbox" / "complaints" / "export-1.csv").unlink()
    settings, store = open_workspace(folder)

    def stored(prefix: str, workers: int) -> list[tuple[float, bool, str]]:
        """Import the texts under ids prefix-N with this many workers; their scores in text order."""
        write_csv(folder / "inbox" / "complaints" / f"{prefix}.csv", rows(texts, prefix))
        report = run_sync(
            settings.model_copy(update={"enrich": settings.enrich.model_copy(update={"workers": workers})}), store
        )
        assert report.errors == [] and report.sources["complaints"]["new"] == len(texts)
        with store.session() as session:
            items = {i.external_id: i for i in session.exec(select(FeedbackItem))}
        return [
            (i.polarity, i.is_negative, i.content_hash) for i in (items[f"{prefix}-{n}"] for n in range(len(texts)))
        ]

    in_process = stored("A", workers=1)
    assert submitted == []
    in_workers = stored("B", workers=2)
    assert sum(submitted) == len(texts) - 80  # the first 80 rows in-process, the rest in the workers
    assert in_workers == in_process


def test_workers_start_after_the_first_thousand_records_of_a_sync_despite_its_lease_heartbeat(
    tmp_path: Path, use_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Under the sync lock a heartbeat thread runs, so the sync must not fork itself: its workers come from a fork
    server, as soon as from a fork (they used to be spawned, and only after 5,000 records)."""
    import multiprocessing

    import reviewbot.connectors.files
    import reviewbot.workflows.enrich_pool as enrich_pool

    if "forkserver" not in multiprocessing.get_all_start_methods():
        pytest.skip("no fork server on this platform: workers are spawned after 5,000 records")
    started: list[str] = []
    submitted: list[int] = []

    class RecordingExecutor(enrich_pool.ProcessPoolExecutor):
        def __init__(self, workers, context, *args):  # type: ignore[no-untyped-def]
            started.append(context.get_start_method())
            super().__init__(workers, context, *args)

        def submit(self, fn, /, *args, **kwargs):  # type: ignore[no-untyped-def]
            submitted.append(len(args[1]))
            return super().submit(fn, *args, **kwargs)

    monkeypatch.setattr(reviewbot.connectors.files, "BATCH_SIZE", 250)
    monkeypatch.setattr(enrich_pool, "ProcessPoolExecutor", RecordingExecutor)
    folder = make_workspace(tmp_path / "ws", extra_toml="[enrich]\nworkers = 2\n")
    texts = [f"{t} (order {i})" for i in range(125) for t in REFUND_TEXTS + DELIVERY_TEXTS]  # 2,000 rows
    write_csv(folder / "inbox" / "complaints" / "export-2.csv", rows(texts, "W"))
    settings, store = open_workspace(folder)
    report = run_sync(settings, store)
    assert report.errors == [] and report.sources["complaints"]["new"] == len(texts) + 16
    assert started == ["forkserver"]
    assert sum(submitted) == 1_000  # 1,016 records in-process (16, then four batches of 250), the rest in workers


def test_theme_tallies_carry_new_members_and_match_a_full_recount(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings, store = open_workspace(workspace)
    run_sync(settings, store)
    later = [t + " (again)" for t in REFUND_TEXTS[:3]] + [REFUND_TEXTS[0]] * 2  # two pasted repeats: not distinct
    later += [REFUND_TEXTS[3] + " (twice)"] * 2  # a new text, pasted twice in this export: one distinct
    later += [t + " (still)" for t in DELIVERY_TEXTS[:2]]
    write_csv(workspace / "inbox" / "complaints" / "export-2.csv", rows(later, "L", day=20))
    recounted: list[object] = []
    full_recount = theme_store.aggregates
    monkeypatch.setattr(theme_store, "aggregates", lambda s, ids=None: recounted.append(ids) or full_recount(s, ids))

    placed = run_sync(settings, store).themes["items_placed"]

    assert placed >= 7 and recounted == [[]]  # both themes only gained members: nothing was recounted from the history
    with store.session() as session:
        themes = list(session.exec(select(Theme)))
        truth = full_recount(session)
    assert sum(t.size for t in themes) == 16 + placed  # 8 refund and 8 delivery complaints before
    for theme in themes:
        carried = ThemeAggregate.from_tally(theme.tally or {})
        expected = truth[theme.id or 0]
        assert carried.polarity_sum == pytest.approx(expected.polarity_sum)
        carried.polarity_sum = expected.polarity_sum
        assert carried == expected
        assert (theme.size, theme.unique_size) == (expected.size, expected.unique)


WARM_THEN_WAIT = """
import sys, time
from multiprocessing import forkserver
from reviewbot.settings import load_settings
from reviewbot.store import Store
from reviewbot.workflows.collect import make_enricher
from reviewbot.workflows.enrich_pool import _warm_up

# the fork server imports the scoring code for a second or two on a slow machine: make that certain here (a module
# on PYTHONPATH, as the fork server reads no other path)
preload = forkserver.set_forkserver_preload
forkserver.set_forkserver_preload = lambda modules: preload([*modules, "slow_to_import"])
settings = load_settings(__import__("pathlib").Path(sys.argv[1]))
_warm_up("forkserver", make_enricher(settings, Store(settings.db_url)))
print("warm", flush=True)
try:
    time.sleep(30)
except KeyboardInterrupt:
    print("interrupted", file=sys.stderr)
    time.sleep(1)  # long enough for the fork server's traceback to be written
    sys.exit(130)
"""


@pytest.mark.skipif("forkserver" not in __import__("multiprocessing").get_all_start_methods(), reason="no fork server")
def test_ctrl_c_while_the_fork_server_imports_prints_no_traceback(workspace: Path) -> None:
    """Ctrl-C reaches the whole process group; the fork server, still importing the scoring code, printed its
    KeyboardInterrupt traceback under the sync's own "interrupted"."""
    import os
    import signal
    import subprocess
    import sys
    import time

    (workspace / "slow").mkdir()
    (workspace / "slow" / "slow_to_import.py").write_text("import time\ntime.sleep(5)\n")
    victim = subprocess.Popen(
        [sys.executable, "-c", WARM_THEN_WAIT, str(workspace)],
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(workspace / "slow"), *sys.path])},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # as a terminal's foreground job
    )
    assert victim.stdout is not None and victim.stdout.readline() == "warm\n"
    time.sleep(1.5)  # the server is started and importing
    os.killpg(victim.pid, signal.SIGINT)
    _, stderr = victim.communicate(timeout=60)
    assert victim.returncode == 130
    assert stderr.strip() == "interrupted"
