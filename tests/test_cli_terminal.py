"""The CLI in an 80-column terminal and in cron: what people see, and what a cron mail would contain."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

import pytest

from reviewbot.settings import load_settings, normalise_db_url
from tests.workspaces import make_workspace


def test_tickets_show_shows_the_state(demo: Path, cli) -> None:  # type: ignore[no-untyped-def]
    shown = cli("tickets show RB-5", columns=80)
    assert shown.stdout.splitlines()[0].startswith("RB-5 [open] fingerprint ")
    assert "Priority: high" in shown.stdout
    closed = cli("tickets show RB-1", columns=80).stdout.splitlines()[0]
    assert closed.startswith("RB-1 [closed (published in version 2)]")


def test_reasons_and_names_with_brackets_are_shown_as_written(demo: Path, cli) -> None:  # type: ignore[no-untyped-def]
    reason = "[bold]dup[/bold] of [RB-3]"
    assert cli(["tickets", "dismiss", "RB-5", "--reason", reason]).code == 0
    first = cli("tickets show RB-5", columns=80).stdout.splitlines()[0]
    assert first.startswith(f"RB-5 [dismissed ({reason})] fingerprint")
    assert reason in cli("audit --ticket RB-5").stdout


def test_tickets_list_is_one_line_per_ticket_at_80_columns(demo: Path, cli) -> None:  # type: ignore[no-untyped-def]
    tickets = json.loads(cli("tickets list --json").stdout)
    listed = cli("tickets list", columns=80)
    lines = listed.stdout.splitlines()
    assert all(len(line) <= 80 for line in lines)
    assert lines[1].split() == ["ref", "state", "prio", "assignee", "section", "title"]
    body = lines[2:]
    assert len(body) == len(tickets)  # one line each: nothing folds
    for line, ticket in zip(body, tickets, strict=True):
        ref, state, prio, assignee = line.split()[:4]
        assert (ref, state) == (ticket["tracker_ref"], ticket["state"])  # ids and states whole, in the JSON's order
        assert prio in ("high", "medium", "low")
        assert assignee == (ticket["assignee"] or "-") or assignee.endswith("…")
    gap = next(line for line in body if "Coverage gap" in line)
    assert gap.endswith("…")  # a long title ends in an ellipsis instead of wrapping
    # a long section id keeps its end, where a subsection's id differs from its siblings' (refunds-and-returns/...)
    shown = {(t["section_id"], line.split()[4]) for line, t in zip(body, tickets, strict=True) if t["section_id"]}
    assert all(cell == section or cell[-5:] == section[-5:] for section, cell in shown)
    assert len({cell for _, cell in shown}) == len({section for section, _ in shown})  # no two sections look alike
    assert "lee.chen" in listed.stdout  # the demo's history assigned RB-2


def test_themes_list_is_one_line_per_theme_at_80_columns(demo: Path, cli) -> None:  # type: ignore[no-untyped-def]
    themes = json.loads(cli("themes list --json").stdout)
    lines = cli("themes list", columns=80).stdout.splitlines()
    assert all(len(line) <= 80 for line in lines)
    assert lines[1].split() == ["id", "label", "items", "neg", "NPS", "trend", "section", "tickets"]
    body = lines[2:]
    assert len(body) == len(themes)  # one line each: no label or section folds into a second line
    for line, theme in zip(body, themes, strict=True):
        assert line.split()[0] == str(theme["id"])
        assert theme["label"][:20] in line  # the label keeps most of the room
        assert f" {theme['size']} " in line
    wide = cli("themes list", columns=160).stdout
    assert all(theme["label"] in wide for theme in themes)  # in a wide terminal labels are whole


def test_tickets_list_help_tells_the_real_order(cli) -> None:  # type: ignore[no-untyped-def]
    text = " ".join(cli("tickets list --help").stdout.split())
    assert "highest impact (priority) first, then newest" in text and "newest first." not in text


def test_quiet_sync_prints_nothing_and_errors_still_reach_stderr(demo: Path, cli) -> None:  # type: ignore[no-untyped-def]
    quiet = cli("-q sync")
    assert quiet.code == 0 and quiet.stdout == "" and quiet.stderr == ""
    (demo / "inbox" / "complaints" / "report.xlsx").write_bytes(b"PK\x03\x04\x00\x00binary")
    failed = cli("-q sync")
    assert failed.code == 1 and failed.stdout == "" and "report.xlsx" in failed.stderr
    assert cli("-q tickets show RB-99").stderr.startswith("error: no ticket 'RB-99'")


def test_the_global_options_work_after_the_command_too(demo: Path, cli, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    quiet = cli("sync -q")  # as a cron line is usually written
    assert quiet.code == 0 and quiet.stdout == "" and quiet.stderr == ""
    assert "complaints: 0 new" in cli("sync -v").stdout  # the per-source counts only -v prints
    monkeypatch.chdir(tmp_path)  # outside the workspace: -w after the command finds it
    assert cli(f"tickets show RB-5 -w {demo}").stdout.startswith("RB-5 [open]")
    # a word after an option that takes a value is that value, even when it looks like a global flag
    assert cli(["tickets", "dismiss", "RB-5", "--reason", "-q", "-w", str(demo)]).code == 0
    assert cli(f"tickets show RB-5 -w {demo}").stdout.startswith("RB-5 [dismissed (-q)]")
    assert cli("sync -x").code == 2  # anything else is still the command's to refuse


def test_a_sync_that_changes_something_says_what_in_a_few_lines(demo: Path, cli) -> None:  # type: ignore[no-untyped-def]
    rows = "".join(
        f"C-9{i:04d},2026-11-20 10:00,CUST-1,email,Complaint,Price match refused again case {i}\n" for i in range(3)
    )
    (demo / "inbox" / "complaints" / "new.csv").write_text(
        "complaint_id,received_at,customer_id,channel,category,description\n" + rows, encoding="utf-8"
    )
    result = cli("sync", columns=80)
    assert result.code == 0
    assert "Feedback: 3 new, 0 updated, 0 quarantined (complaints: 3 new)" in result.stdout
    assert len(result.stdout.splitlines()) < 25 and "Themes" not in result.stdout.splitlines()[1:2]
    assert cli("sync").stdout.rstrip().endswith("nothing new.")


def test_a_sync_that_reads_an_edit_of_an_untriaged_tickets_section_says_to_triage_it(demo: Path, cli) -> None:  # type: ignore[no-untyped-def]
    policy = demo / "policies" / "customer-service-policy.md"
    text = policy.read_text(encoding="utf-8")
    old = "WhatsApp Business, monitored during phone opening hours."
    assert old in text
    policy.write_text(text.replace(old, "WhatsApp Business, monitored seven days a week."), encoding="utf-8")
    said = cli("sync", columns=80).stdout
    assert "Review: RB-5" in said and "`reviewbot tickets triage RB-5` starts its review" in said
    assert cli("sync").stdout.rstrip().endswith("nothing new.")  # said once, by the sync that read the edit
    assert cli(["tickets", "triage", "RB-5"]).code == 0
    policy.write_text(text.replace(old, "WhatsApp Business, monitored every day."), encoding="utf-8")
    assert "Review: RB-5" not in cli("sync").stdout  # triaged: the edit started its review instead


class Lines(logging.Handler):
    """Collects what the log would print, like the CLI's handler (no level of its own)."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def test_the_scheduler_logs_one_line_per_run_at_the_default_level(monkeypatch: pytest.MonkeyPatch) -> None:
    from reviewbot.workflows.schedule import logged

    root, handler = logging.getLogger(), Lines()
    monkeypatch.setattr(root, "handlers", [handler])
    monkeypatch.setattr(root, "level", logging.WARNING)  # the default: no -v
    logged("sync", lambda: "ok: 0 new items, 0 new tickets, 0 errors")()

    def boom() -> str:
        raise RuntimeError("database gone")

    logged("digest", boom)()
    assert len(handler.lines) == 2
    assert handler.lines[0].startswith("sync done in ") and handler.lines[0].endswith("0 errors")
    assert handler.lines[1].startswith("digest failed after") and "database gone" in handler.lines[1]


def test_the_quiet_flag_silences_the_scheduler_line(
    tmp_path: Path, use_database: str, cli, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    folder = make_workspace(tmp_path / "ws")
    monkeypatch.chdir(folder)
    assert cli("-q schedule --list").stdout == ""
    assert logging.getLogger("reviewbot.schedule").getEffectiveLevel() == logging.ERROR
    assert "sync" in cli("schedule --list").stdout
    assert logging.getLogger("reviewbot.schedule").getEffectiveLevel() == logging.INFO


@pytest.mark.parametrize("url", ["postgres://u:p@db:5432/rb", "postgresql://u:p@db:5432/rb"])
def test_postgres_urls_mean_psycopg(url: str) -> None:
    assert normalise_db_url(url) == "postgresql+psycopg://u:p@db:5432/rb"
    assert normalise_db_url("sqlite:///x.db") == "sqlite:///x.db"


def test_a_postgres_url_without_the_driver_says_how_to_install_it(
    tmp_path: Path, cli, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    folder = make_workspace(tmp_path / "ws")
    monkeypatch.setenv("REVIEWBOT_DATABASE_URL", "postgres://reviewbot@127.0.0.1:1/reviewbot")
    assert load_settings(folder).db_url.startswith("postgresql+psycopg://")
    monkeypatch.setitem(sys.modules, "psycopg", None)  # as if `pip install reviewbot` left the extra out
    result = cli(f"-w {folder} status")
    assert result.code == 2 and 'pip install "reviewbot[postgres]"' in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.splitlines()) <= 3


def test_plain_init_leaves_a_template_policy_that_parses(tmp_path: Path, cli, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    from reviewbot.policy.parse import parse_policy

    monkeypatch.delenv("REVIEWBOT_DATABASE_URL", raising=False)
    assert cli(f"init {tmp_path / 'ws'}").code == 0
    template = tmp_path / "ws" / "policies" / "policy-template.md.example"
    policy = parse_policy(template.read_text(encoding="utf-8"), str(template))
    assert policy.id == "customer-service-policy" and len(policy.sections) == 3
    assert not list((tmp_path / "ws" / "policies").glob("*.md"))  # not read until copied to a .md name
    assert "reviewbot-test (OS user reviewbot-test), admin" in cli(f"-w {tmp_path / 'ws'} whoami").stdout


ESCAPES = "\x1b[2J\x1b]0;pwned\x07\x9b31m\r"  # clear the screen, retitle the window, 8-bit CSI, carriage return
BIDI = "\u202e\u2066"  # right-to-left override, left-to-right isolate: text shown in another order than stored


def test_control_characters_in_names_never_reach_the_terminal(demo: Path, cli) -> None:  # type: ignore[no-untyped-def]
    # a theme name (like a customer's text) is someone else's input: printed raw, escape sequences would clear the
    # screen, retitle the window or overwrite a line of whoever reads it
    theme_id = json.loads(cli("themes list --json").stdout)[0]["id"]
    assert cli(["themes", "rename", str(theme_id), f"Refunds{BIDI}{ESCAPES} late", "--as", "dana.ellis"]).code == 0
    for command in ("themes list", f"themes show {theme_id}", "audit", "tickets list"):
        shown = cli(command).stdout
        assert not any(c in shown for c in "\x1b\x07\x9b\r" + BIDI), command
    assert "Refunds[2J]0;pwned31m late" in cli(f"themes show {theme_id}").stdout  # the rest is shown as written
    listed = json.loads(cli("themes list --json").stdout)  # JSON keeps what was stored, escaped as JSON does
    assert any(theme["label"].startswith(f"Refunds{BIDI}\x1b[2J\x1b]0;pwned\x07") for theme in listed)


def test_an_export_to_a_terminal_shows_no_control_characters_and_one_to_a_pipe_keeps_them(
    demo: Path, cli, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    theme_id = json.loads(cli("themes list --json").stdout)[0]["id"]
    assert cli(["themes", "rename", str(theme_id), f"Refunds{BIDI}{ESCAPES} late", "--as", "dana.ellis"]).code == 0
    piped = cli("export themes --format jsonl").stdout
    assert "\\u001b[2J" in piped  # JSON escapes it: a pipe gets the data as stored
    csv_piped = cli("export themes").stdout
    assert "\x1b[2J" in csv_piped  # CSV cannot escape it: a file or a pipe gets it as stored
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True, raising=False)
    shown = cli("export themes").stdout
    assert "Refunds[2J]0;pwned31m late" in shown and not any(c in shown for c in "\x1b\x07\x9b" + BIDI)


def test_the_console_keeps_its_own_styles_and_drops_injected_ones() -> None:
    import io

    from rich.text import Text

    from reviewbot.cli.app import SafeConsole

    screen = io.StringIO()
    SafeConsole(file=screen, force_terminal=True, width=80).print(Text(f"bold{ESCAPES}text", style="bold"))
    assert "\x1b[1m" in screen.getvalue()  # Rich's own style
    assert "\x1b[2J" not in screen.getvalue() and "\x07" not in screen.getvalue() and "\x9b" not in screen.getvalue()
    assert "bold[2J]0;pwned31mtext" in screen.getvalue()


def test_the_console_notifier_writes_no_control_characters(tmp_path: Path) -> None:
    import io

    from reviewbot.connectors.console import ConsoleNotifier
    from reviewbot.protocols import Message

    stream = io.StringIO()
    path = tmp_path / "notifications.log"
    for notifier in (ConsoleNotifier(stream=stream), ConsoleNotifier(path=path)):
        notifier.send(Message(kind="digest", title=f"New{ESCAPES}", body=f"quote: {ESCAPES}\ttab\nnext"))
    for written in (stream.getvalue(), path.read_text(encoding="utf-8")):
        assert not any(c in written for c in "\x1b\x07\x9b\r") and "quote: [2J]0;pwned31m\ttab\nnext" in written


def test_policy_impact_reads_at_80_columns(demo: Path, cli) -> None:  # type: ignore[no-untyped-def]
    """Nine columns folded every word at 80 columns ("verdic t", "(20/17 2)"); each theme is a short block there."""
    [version] = json.loads(cli("policy impact customer-service-policy --json").stdout)["versions"]
    lines = cli("policy impact customer-service-policy", columns=80).stdout.splitlines()
    assert lines and all(len(line) <= 80 for line in lines)
    for theme in version["themes"]:
        share = theme["share"]
        heading = f"{theme['theme_id']} {theme['label']} ({', '.join(theme['tickets'])}): {theme['verdict']}"
        assert heading in lines
        figures = f"({share['before_count']}/{share['before_total']}) -> "
        assert any(line.startswith("  share of feedback: ") and figures in line for line in lines)
    said = " ".join(" ".join(lines).split())
    assert '"no change" means no difference beyond chance, not proof that nothing changed' in said


def test_signoffs_pending_is_one_line_per_sign_off_at_80_columns(demo: Path, cli) -> None:  # type: ignore[no-untyped-def]
    """Each title wrapped into four lines of a boxed table at 80 columns; now a line each, as `tickets list`."""
    cli("tickets triage RB-5")
    policy = demo / "policies" / "customer-service-policy.md"
    policy.write_text(policy.read_text(encoding="utf-8").replace("during phone opening hours.", "24/7."))
    assert cli("sync").code == 0
    pending = json.loads(cli("signoffs pending --json").stdout)
    lines = cli("signoffs pending", columns=80).stdout.splitlines()
    assert len(pending) == 2 and all(len(line) <= 80 for line in lines)
    assert lines[1].split() == ["ticket", "approver", "waiting", "reminders", "title"]
    body = lines[2:]
    assert len(body) == len(pending)
    for line, row in zip(body, pending, strict=True):
        assert line.split()[:2] == [row["ticket"], row["approver"]] and line.endswith("…")
