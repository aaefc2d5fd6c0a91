"""The CLI as scripts use it: listings piped to a file, usage lines, and --json from the commands that act."""

from __future__ import annotations

import re


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
