"""`policy list` and `policy show` say who holds authority (the published version's owners and approvers) and what
the policy file changes about them before it is published."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

APPROVERS = (
    "    approvers: [digital-channels-lead, contact-centre-manager]\n",
    "    approvers: [digital-channels-lead, compliance-lead]\n",
)
OWNER = ("\nowner: head-of-customer-experience\n", "\nowner: compliance-lead\n")


@pytest.fixture
def edited(demo: Path) -> Path:
    """The demo with its file naming a new document owner and new approvers for section 7, unpublished."""
    policy = demo / "policies" / "customer-service-policy.md"
    text = policy.read_text(encoding="utf-8")
    assert APPROVERS[0] in text and text.count(OWNER[0]) == 1
    policy.write_text(text.replace(*APPROVERS).replace(*OWNER), encoding="utf-8")
    return demo


def test_list_shows_the_published_owner_and_the_pending_change(edited: Path, cli) -> None:  # type: ignore[no-untyped-def]
    assert cli("sync").code == 0
    [listed] = json.loads(cli("policy list --json").stdout)
    assert listed["owner"] == "head-of-customer-experience"  # the file's (compliance-lead) cannot publish yet
    assert listed["approvers"] == ["head-of-customer-experience", "compliance-lead"]
    assert {"section": None, "field": "owner", "from": "head-of-customer-experience", "to": "compliance-lead"} in (
        listed["pending_publish"]
    )
    text = cli("policy list", columns=80).stdout
    assert "owner: head-of-customer-experience\n" in text
    assert "pending publish" in text and "owner: head-of-customer-experience -> compliance-lead" in text
    # section 1 names no owner of its own: it follows the document's; section 7 names its approvers
    assert "2 section(s) too: `reviewbot policy show customer-service-policy`" in text


def test_show_lists_who_signs_now_and_who_will(edited: Path, cli) -> None:  # type: ignore[no-untyped-def]
    # no sync: show reads the file itself, as diff does
    shown = json.loads(cli("policy show customer-service-policy --json").stdout)
    assert shown["document"]["owner"] == "head-of-customer-experience"
    channels = next(s for s in shown["sections"] if s["section_id"] == "communication-channels")
    assert channels["approvers"] == ["digital-channels-lead", "contact-centre-manager"]
    assert {
        "section": "communication-channels",
        "field": "approvers",
        "from": ["digital-channels-lead", "contact-centre-manager"],
        "to": ["digital-channels-lead", "compliance-lead"],
    } in shown["document"]["pending_publish"]
    text = cli("policy show customer-service-policy", columns=80).stdout
    assert "Pending publish" in text
    assert "  communication-channels\n    approvers: digital-channels-lead, contact-centre-manager -> " in text
    one = cli("policy show customer-service-policy communication-channels").stdout
    assert "approvers: digital-channels-lead, contact-centre-manager -> digital-channels-lead, compliance-lead" in one
    assert "mission-and-scope" not in one  # only the section asked for
    draft = cli("policy show customer-service-policy --draft").stdout
    assert "Not in force until published" in draft


def test_nothing_pending_once_published(edited: Path, cli) -> None:  # type: ignore[no-untyped-def]
    assert cli("sync").code == 0
    published = cli("policy publish customer-service-policy --as dana.ellis --force --reason test")
    assert published.code == 0, published.stderr
    [listed] = json.loads(cli("policy list --json").stdout)
    assert listed["owner"] == "compliance-lead" and listed["pending_publish"] == []
    assert "pending publish" not in cli("policy list").stdout.lower()
    assert "Pending publish" not in cli("policy show customer-service-policy").stdout
