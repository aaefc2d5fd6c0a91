"""The README's review walk on the demo workspace, through the CLI: triage, edit, two sign-offs, publish,
the ticket closing, thank-yous and acknowledgement requests in the console notifier's output."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
import time_machine

EDIT = (
    "WhatsApp Business, monitored during phone opening hours.",
    "WhatsApp Business, monitored seven days a week from 8am to 8pm; every direct message gets a reply within 4 hours.",
)


@pytest.fixture
def demo(tmp_path: Path, use_database: str, cli, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    with time_machine.travel(datetime(2026, 11, 23, 12, 0, tzinfo=UTC), tick=False):
        folder = tmp_path / "demo"
        assert cli(f"init --demo {folder}").code == 0
        monkeypatch.chdir(folder)
        assert cli("sync").code == 0
        yield folder


def test_readme_review_walk(demo: Path, cli) -> None:  # type: ignore[no-untyped-def]
    history = json.loads(cli("policy impact customer-service-policy 2 --json").stdout)
    verdicts = {t["tickets"][0]: t["verdict"] for t in history["versions"][0]["themes"]}
    assert verdicts["RB-1"] == "improved" and verdicts["RB-2"] == "no change"  # the README relies on both

    ticket = json.loads(cli("tickets show RB-5 --json").stdout)
    assert ticket["section_id"] == "communication-channels"  # the README relies on it
    assert ticket["state"] == "open"

    result = cli("tickets triage RB-5 --assign nina.kowalski --as dana.ellis")
    assert result.code == 0 and "RB-5 is triaged and assigned to nina.kowalski" in result.stdout

    policy = demo / "policies" / "customer-service-policy.md"
    policy.write_text(policy.read_text(encoding="utf-8").replace(*EDIT), encoding="utf-8")
    diff = cli("policy diff customer-service-policy")
    assert "CHANGED communication-channels" in diff.stdout
    assert "every direct message gets a reply within 4 hours" in diff.stdout

    synced = cli("sync")
    assert synced.code == 0 and "[signoff_request] -> nina.kowalski Sign-off requested" in synced.stderr
    pending = json.loads(cli("signoffs pending --json").stdout)
    assert sorted(p["approver"] for p in pending) == ["marta.silva", "nina.kowalski"]

    refused = cli("tickets approve RB-5 --as sam.okafor")
    assert refused.code == 1 and "sam.okafor is not an approver" in refused.stderr
    assert "1 of 2 approvals" in cli("tickets approve RB-5 --as nina.kowalski").stdout
    approved = cli('tickets approve RB-5 --as marta.silva --comment "Weekend staffing agreed"')
    assert "RB-5 is approved" in approved.stdout

    published = cli("policy publish customer-service-policy --as dana.ellis")
    assert published.code == 0 and "Published customer-service-policy version 3" in published.stdout
    assert "[announcement] Published: Northwind Home Customer Service Policy version 3" in published.stderr
    assert "[thank_you] -> tom.b Thank you" in published.stderr
    assert "[ack_request] -> keiko.t Please read and acknowledge" in published.stderr
    assert (demo / "publish" / "customer-service-policy-v3.html").exists()

    shown = json.loads(cli("tickets show RB-5 --json").stdout)
    assert shown["state"] == "closed" and shown["resolved_version"] == 3
    assert [s["approver"] for s in shown["sign_offs"]] == ["nina.kowalski", "marta.silva"]

    assert cli("policy ack customer-service-policy --as priya.n").code == 0
    acks = json.loads(cli("policy acks customer-service-policy --json").stdout)
    assert list(acks["acknowledged"]) == ["priya.n"] and len(acks["pending"]) == 7

    trail = json.loads(cli("audit --ticket RB-5 --json").stdout)
    assert [e["action"] for e in reversed(trail)] == [
        "transition", "assign", "transition", "request_sign_off", "sign_off", "sign_off", "transition",
        "transition", "transition",
    ]  # fmt: skip
    versions = json.loads(cli("policy versions customer-service-policy --json").stdout)
    assert [v["version"] for v in versions["versions"]] == [1, 2, 3] and versions["has_draft"] is False
    assert versions["versions"][1]["published_at"].startswith("2026-10-12")  # the demo's history


def test_publish_needs_a_reason_to_force_and_a_name(demo: Path, cli, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("REVIEWBOT_USER", raising=False)
    result = cli("policy publish customer-service-policy --force")
    assert result.code == 2 and "--force needs a --reason" in result.stderr
    result = cli("policy publish customer-service-policy")
    assert result.code == 2 and "say who you are" in result.stderr
    result = cli("policy publish customer-service-policy --as dana.ellis")
    assert result.code == 1 and "nothing to publish" in result.stderr


def test_periodic_review_of_an_overdue_section(demo: Path, cli) -> None:  # type: ignore[no-untyped-def]
    tickets = json.loads(cli("tickets list --json").stdout)
    periodic = [t for t in tickets if t["kind"] == "periodic"]
    assert [t["section_id"] for t in periodic] == ["code-of-conduct"]  # last reviewed 2025-09-15, yearly


def test_a_backdated_publish_must_fall_between_the_last_version_and_now(demo: Path, cli) -> None:  # type: ignore[no-untyped-def]
    policy = demo / "policies" / "customer-service-policy.md"
    policy.write_text(policy.read_text(encoding="utf-8").replace(*EDIT), encoding="utf-8")

    early = cli("policy publish customer-service-policy --as dana.ellis --force --reason history --at 2026-10-01")
    future = cli("policy publish customer-service-policy --as dana.ellis --force --reason history --at 2027-01-01")
    bad = cli("policy publish customer-service-policy --as dana.ellis --at 12/10/2026")

    assert early.code == 1 and "version 2 was published on 2026-10-12" in early.stderr
    assert future.code == 1 and "is in the future" in future.stderr
    assert bad.code == 2 and "--at" in bad.stderr
    recorded = cli("policy publish customer-service-policy --as dana.ellis --force --reason history --at 2026-11-01")
    assert recorded.code == 0 and "version 3" in recorded.stdout
    versions = json.loads(cli("policy versions customer-service-policy --json").stdout)["versions"]
    assert versions[-1]["published_at"].startswith("2026-11-01")
    trail = json.loads(cli("audit --document customer-service-policy --json").stdout)
    assert "recorded as published on 2026-11-01" in trail[0]["detail"]
