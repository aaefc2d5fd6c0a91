"""The README's review walk on the demo workspace, through the CLI: triage, edit, two sign-offs, publish,
the ticket closing, thank-yous and acknowledgement requests in the console notifier's output."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
import time_machine

EDIT = (
    "first reply from an agent within 60 seconds, for at least 90% of chats.",
    "first reply from an agent within 3 minutes, for at least 90% of chats; "
    "customers waiting longer are offered a call back.",
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
    ticket = json.loads(cli("tickets show RB-1 --json").stdout)
    assert ticket["section_id"] == "service-standards-and-response-time-benchmarks"  # the README relies on it
    assert ticket["state"] == "open"

    result = cli("tickets triage RB-1 --assign marta.silva --as dana.ellis")
    assert result.code == 0 and "RB-1 is triaged and assigned to marta.silva" in result.stdout

    policy = demo / "policies" / "customer-service-policy.md"
    policy.write_text(policy.read_text(encoding="utf-8").replace(*EDIT), encoding="utf-8")
    diff = cli("policy diff customer-service-policy")
    assert "CHANGED service-standards-and-response-time-benchmarks" in diff.stdout
    assert "+- **Live chat:** first reply from an agent within 3 minutes" in diff.stdout

    synced = cli("sync")
    assert synced.code == 0 and "[signoff_request] -> marta.silva Sign-off requested" in synced.stderr
    pending = json.loads(cli("signoffs pending --json").stdout)
    assert sorted(p["approver"] for p in pending) == ["dana.ellis", "marta.silva"]

    refused = cli("tickets approve RB-1 --as sam.okafor")
    assert refused.code == 1 and "sam.okafor is not an approver" in refused.stderr
    assert "1 of 2 approvals" in cli("tickets approve RB-1 --as marta.silva").stdout
    approved = cli('tickets approve RB-1 --as dana.ellis --comment "OK with the new target"')
    assert "RB-1 is approved" in approved.stdout

    published = cli("policy publish customer-service-policy --as dana.ellis")
    assert published.code == 0 and "Published customer-service-policy version 2" in published.stdout
    assert "[announcement] Published: Northwind Home Customer Service Policy version 2" in published.stderr
    assert "[thank_you] -> priya.n Thank you" in published.stderr
    assert "[ack_request] -> keiko.t Please read and acknowledge" in published.stderr
    assert (demo / "publish" / "customer-service-policy-v2.html").exists()

    shown = json.loads(cli("tickets show RB-1 --json").stdout)
    assert shown["state"] == "closed" and shown["resolved_version"] == 2
    assert [s["approver"] for s in shown["sign_offs"]] == ["marta.silva", "dana.ellis"]

    assert cli("policy ack customer-service-policy --as priya.n").code == 0
    acks = json.loads(cli("policy acks customer-service-policy --json").stdout)
    assert list(acks["acknowledged"]) == ["priya.n"] and len(acks["pending"]) == 7

    trail = json.loads(cli("audit --ticket RB-1 --json").stdout)
    assert [e["action"] for e in reversed(trail)] == [
        "transition", "assign", "transition", "request_sign_off", "sign_off", "sign_off", "transition",
        "transition", "transition",
    ]  # fmt: skip
    versions = json.loads(cli("policy versions customer-service-policy --json").stdout)
    assert [v["version"] for v in versions["versions"]] == [1, 2] and versions["has_draft"] is False


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
