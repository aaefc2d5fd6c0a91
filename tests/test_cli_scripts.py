"""The CLI as scripts use it: listings piped to a file, usage lines, and --json from the commands that act."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from reviewbot.evidence import sparkline

DOC = "customer-service-policy"
LISTINGS = [
    "tickets list", "themes list", "policy list", f"policy show {DOC}", f"policy versions {DOC}",
    f"policy acks {DOC}", "audit", "quarantine list", "runs", "doctor", "schedule --list",
]  # fmt: skip


@pytest.mark.parametrize("command", LISTINGS)
def test_a_listing_to_a_file_is_one_tab_separated_row_a_line_with_nothing_cut(demo: Path, cli, command: str) -> None:  # type: ignore[no-untyped-def]
    """`reviewbot tickets list > f` wrote the 80-column table: titles and ids cut with "…", lines padded with
    spaces, a title and a header; a file or a pipe now gets what `gh` gives it."""
    piped = cli(command, columns=80, tty=False)
    lines = piped.stdout.splitlines()
    assert lines, command
    assert not any(line.endswith(" ") or line.startswith(" ") for line in lines)  # no padding
    assert "…" not in piped.stdout and not re.search("[│┃━─]", piped.stdout)  # nothing cut, no box
    assert len({line.count("\t") for line in lines}) == 1 and "\t" in lines[0]  # one row a line, same fields
    first = lines[0].split("\t")[0]
    assert first not in ("Review tickets", "Themes", "Audit log", "ref", "id", "when", "section", "version")


def test_piped_tickets_and_themes_are_whole_and_in_the_table_s_column_order(demo: Path, cli) -> None:  # type: ignore[no-untyped-def]
    tickets = json.loads(cli("tickets list --json").stdout)
    rows = [line.split("\t") for line in cli("tickets list", columns=80, tty=False).stdout.splitlines()]
    assert len(rows) == len(tickets)
    for row, ticket in zip(rows, tickets, strict=True):
        assert row[:2] == [ticket["tracker_ref"], ticket["state"]]
        assert row[3:] == [ticket["assignee"] or "-", ticket["section_id"] or "(document)", ticket["title"]]
    themes = json.loads(cli("themes list --json").stdout)
    rows = [line.split("\t") for line in cli("themes list", columns=80, tty=False).stdout.splitlines()]
    assert [(row[0], row[1], row[2]) for row in rows] == [(str(t["id"]), t["label"], str(t["size"])) for t in themes]
    trends = [sparkline(t["weekly"])[-12:] for t in themes]
    assert [row[5] for row in rows] == trends  # twelve weeks of trend, as in a wide terminal (six at 80 columns)


def test_on_a_terminal_the_listing_is_still_a_table(demo: Path, cli) -> None:  # type: ignore[no-untyped-def]
    lines = cli("tickets list", columns=80).stdout.splitlines()
    assert lines[0].strip() == "Review tickets" and lines[1].split()[:2] == ["ref", "state"]
    assert "\t" not in "\n".join(lines)


def test_an_empty_listing_writes_no_row_and_says_so_on_stderr(demo: Path, cli) -> None:  # type: ignore[no-untyped-def]
    piped = cli("mapping corrections", tty=False)
    assert piped.code == 0 and piped.stdout == "" and "No corrections yet" in piped.stderr
    shown = cli("mapping corrections")
    assert "No corrections yet" in shown.stdout
    quiet = cli("-q mapping corrections", tty=False)
    assert quiet.code == 0 and quiet.stdout == quiet.stderr == ""  # -q: nothing on success, for cron


def test_notes_beside_a_piped_listing_go_to_stderr(demo: Path, cli) -> None:  # type: ignore[no-untyped-def]
    acks = cli(f"policy acks {DOC}", tty=False)
    assert "acknowledged" in acks.stderr and all(len(line.split("\t")) == 2 for line in acks.stdout.splitlines())


def test_a_verbose_sync_to_a_cron_mail_titles_its_rows(demo: Path, cli) -> None:  # type: ignore[no-untyped-def]
    lines = cli("-v sync", columns=80, tty=False).stdout.splitlines()
    assert "Open review tickets" in lines and "Themes" in lines
    rows = lines[lines.index("Open review tickets") + 1 :]
    assert rows and all(line.count("\t") == 5 and "…" not in line for line in rows)


def _commands(group, path: tuple[str, ...] = ()):  # type: ignore[no-untyped-def]
    for name, command in group.commands.items():
        if getattr(command, "commands", None):
            yield from _commands(command, (*path, name))
        else:
            yield " ".join((*path, name))


def test_usage_lines_name_arguments_in_capitals(cli) -> None:  # type: ignore[no-untyped-def]
    """Typer wrote `Usage: reviewbot tickets approve [OPTIONS] {ref}`."""
    import typer.main

    from reviewbot.cli import app, register_commands

    register_commands()
    commands = list(_commands(typer.main.get_command(app)))
    assert "tickets approve" in commands and "policy impact" in commands
    for command in commands:
        assert "{" not in _usage(cli, command), command
    assert _usage(cli, "tickets approve").endswith("tickets approve [OPTIONS] REF")
    assert _usage(cli, "policy impact").endswith("policy impact [OPTIONS] DOCUMENT_ID [VERSION]")
    assert _usage(cli, "themes merge").endswith("themes merge [OPTIONS] TARGET SOURCES...")


def _usage(cli, command: str) -> str:  # type: ignore[no-untyped-def]
    """The usage line of a command's help, unwrapped."""
    text = cli(f"{command} --help").stdout
    return " ".join(re.split(r"\n\s*\n", text[text.index("Usage:") :])[0].split())


def _show(cli, ref: str) -> dict:  # type: ignore[no-untyped-def,type-arg]
    return json.loads(cli(f"tickets show {ref} --json").stdout)


def test_ticket_actions_print_the_ticket_as_show_gives_it(demo: Path, cli) -> None:  # type: ignore[no-untyped-def]
    triaged = cli("tickets triage RB-5 --assign nina.kowalski --json")
    assert triaged.code == 0 and json.loads(triaged.stdout) == _show(cli, "RB-5")
    assert json.loads(triaged.stdout)["state"] == "triaged"
    assigned = json.loads(cli("tickets assign RB-5 marta.silva --json").stdout)
    assert assigned["assignee"] == "marta.silva"
    moved = json.loads(cli("tickets move RB-7 --section refunds-and-returns --reason x --json").stdout)
    assert (moved["tracker_ref"], moved["section_id"]) == ("RB-7", "refunds-and-returns")
    assert moved == _show(cli, "RB-7")
    dismissed = json.loads(cli("tickets dismiss RB-4 --reason dup --json").stdout)
    assert (dismissed["state"], dismissed["state_reason"]) == ("dismissed", "dup")
    reopened = json.loads(cli("tickets reopen RB-2 --reason 'no change' --json").stdout)
    assert reopened["state"] != "closed" and reopened == _show(cli, "RB-2")


def test_a_sign_off_prints_the_ticket_with_its_sign_offs(demo: Path, cli) -> None:  # type: ignore[no-untyped-def]
    cli("tickets triage RB-5 --assign nina.kowalski")
    policy = Path("policies/customer-service-policy.md")
    policy.write_text(policy.read_text().replace("monitored during phone opening hours", "monitored 8am to 8pm"))
    assert cli("sync").code == 0
    signed = cli("tickets approve RB-5 --as nina.kowalski --json")
    assert signed.code == 0
    ticket = json.loads(signed.stdout)
    assert [s["approver"] for s in ticket["sign_offs"]] == ["nina.kowalski"] and ticket["pending"] == ["marta.silva"]
    changes = json.loads(cli("tickets request-changes RB-5 -m 'not yet' --as marta.silva --json").stdout)
    assert changes["state"] == "changes_requested"


def test_a_failed_action_prints_no_json_and_exits_non_zero(demo: Path, cli) -> None:  # type: ignore[no-untyped-def]
    failed = cli("tickets approve RB-99 --json")
    assert failed.code != 0 and failed.stdout == "" and failed.stderr.startswith("error: no ticket 'RB-99'")
    refused = cli("tickets dismiss RB-5 --reason x --as nobody.here --json")
    assert refused.code != 0 and refused.stdout == "" and "error:" in refused.stderr


def test_curating_themes_prints_the_themes_it_left(demo: Path, cli) -> None:  # type: ignore[no-untyped-def]
    listed = {t["id"]: t for t in json.loads(cli("themes list --json").stdout)}
    renamed = json.loads(cli(["themes", "rename", "5", "Social [media] ignored", "--json"]).stdout)
    assert renamed == [listed[5] | {"label": "Social [media] ignored", **_changed(renamed[0], listed[5])}]
    merged = json.loads(cli("themes merge 5 24 --json").stdout)
    assert [t["id"] for t in merged] == [5] and merged[0]["size"] == listed[5]["size"] + listed[24]["size"]
    parts = json.loads(cli("themes split 15 --json").stdout)
    after = {t["id"]: t for t in json.loads(cli("themes list --json").stdout)}
    assert parts[0]["id"] == 15 and len(parts) >= 2 and all(t == after[t["id"]] for t in parts)
    assert sum(t["size"] for t in parts) == listed[15]["size"]


def _changed(new: dict, old: dict) -> dict:  # type: ignore[type-arg]
    """The fields a rename may touch besides the label (when it was named, by whom)."""
    return {k: v for k, v in new.items() if k != "label" and v != old.get(k)}


def test_clearing_the_quarantine_and_acknowledging_print_what_they_did(demo: Path, cli) -> None:  # type: ignore[no-untyped-def]
    quarantined = [r for r in json.loads(cli("quarantine list --json").stdout) if r["source"] == "surveys"]
    cleared = json.loads(cli("quarantine clear surveys --json").stdout)
    assert cleared == {"source": "surveys", "file": None, "cleared": len(quarantined)}
    acked = json.loads(cli(f"policy ack {DOC} --as priya.n --json").stdout)
    assert {k: acked[k] for k in ("document_id", "version", "person")} == {
        "document_id": DOC,
        "version": 2,
        "person": "priya.n",
    }
    assert acked["acknowledged_at"] == json.loads(cli(f"policy acks {DOC} --json").stdout)["acknowledged"]["priya.n"]


def test_json_listings_give_the_table_s_columns_first(demo: Path, cli) -> None:  # type: ignore[no-untyped-def]
    """policy, audit, quarantine, runs and mapping gave their keys in the order SQLAlchemy loaded them."""
    cli("tickets move RB-7 --section refunds-and-returns --reason x")
    first = {
        "audit": ["at", "actor", "action", "ticket_id", "document_id", "detail"],
        "quarantine list": ["source", "file", "line", "reason", "raw"],
        "runs": ["id", "started_at", "finished_at", "status", "counts", "errors"],
        "mapping corrections": ["created_at", "actor", "theme_id", "was_section", "section_id", "reason"],
        "policy list": ["id", "title", "published_version", "has_draft", "sections", "owner", "path"],
    }
    for command, keys in first.items():
        rows = json.loads(cli(f"{command} --json").stdout)
        assert rows and all(list(row)[: len(keys)] == keys for row in rows), command
    versions = json.loads(cli(f"policy versions {DOC} --json").stdout)["versions"]
    assert list(versions[0])[:3] == ["version", "published_at", "published_by"]
    shown = json.loads(cli(f"policy show {DOC} --json").stdout)
    assert list(shown["document"])[:4] == ["id", "title", "published_version", "has_draft"]
    assert list(shown["sections"][0])[:3] == ["section_id", "heading", "owner"]


def test_a_piped_ticket_is_its_markdown_whole_unpadded_and_as_people_wrote_it(demo: Path, cli) -> None:  # type: ignore[no-untyped-def]
    """`tickets show RB-5 > f` wrote Rich's 80-column rendering: every line padded with spaces to 80, and quotes
    and the section's text wrapped or cut; a file gets the Markdown, with the customers' words unescaped."""
    shown = json.loads(cli("tickets show RB-5 --json").stdout)
    piped = cli("tickets show RB-5", columns=80, tty=False).stdout
    lines = piped.splitlines()
    assert not any(line.endswith(" ") for line in lines if not line.endswith("**  "))  # but a Markdown line break
    assert f"# {shown['title']}" in lines  # the title on one line, not centred over two
    for quote in shown["evidence"]["quotes"]:
        assert f"> {quote['text'].splitlines()[0]}" in lines  # whole, and no "8am\-6pm"


def test_piped_prose_is_not_wrapped_at_80_columns(demo: Path, cli) -> None:  # type: ignore[no-untyped-def]
    # a cron mail or a log: each line whole, so `grep` finds a message and a path is not cut in two
    lines = cli("-v sync", columns=80, tty=False).stdout.splitlines()
    tickets = next(line for line in lines if line.startswith("Tickets: "))
    assert "periodic reviews due" in tickets and len(tickets) > 80


def test_a_piped_section_is_its_markdown_as_the_policy_file_has_it(demo: Path, cli) -> None:  # type: ignore[no-untyped-def]
    section = json.loads(cli(f"policy show {DOC} communication-channels --json").stdout)["sections"][0]
    piped = cli(f"policy show {DOC} communication-channels", columns=80, tty=False).stdout
    assert section["body"].strip() in piped  # "- **Social media messaging:** ..." whole, not "• Social ... Wha"


def test_log_lines_to_a_file_are_whole_with_an_iso_time(demo: Path, cli) -> None:  # type: ignore[no-untyped-def]
    """`reviewbot schedule 2>> log` (or journald, `docker compose logs`) got Rich's terminal lines: "[12/07/26
    23:26:27] INFO ..." padded with spaces to 80 columns and long messages folded onto a second line."""
    lines = [line for line in cli("-v sync", columns=80, tty=False).stderr.splitlines() if " INFO " in line]
    assert lines and all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d{4} INFO \S.*\S", line) for line in lines)
