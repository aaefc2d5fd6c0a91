"""Settings come from reviewbot.toml, overridden by .env and REVIEWBOT_* variables; mistakes say where."""

from __future__ import annotations

from pathlib import Path

import pytest

from reviewbot.errors import ConfigError
from reviewbot.settings import find_workspace, load_settings

BASE = """policies_dir = "policies"

[[sources]]
name = "complaints"
kind = "complaint"
path = "inbox/complaints"
columns = { id = "id", text = "text", created_at = "at" }

[tickets]
min_items = 4
"""


def workspace(tmp_path: Path, toml: str = BASE) -> Path:
    (tmp_path / "reviewbot.toml").write_text(toml, encoding="utf-8")
    return tmp_path


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REVIEWBOT_DATABASE_URL", raising=False)


def test_file_values_and_defaults(tmp_path: Path) -> None:
    settings = load_settings(workspace(tmp_path))
    assert settings.tickets.min_items == 4
    assert settings.tickets.max_quotes == 5
    assert settings.sources[0].options["columns"]["text"] == "text"
    assert settings.tracker.type == "builtin" and settings.notifier.type == "console"
    assert settings.db_url == f"sqlite:///{tmp_path.resolve() / 'reviewbot.db'}"


def test_environment_overrides_the_file_and_dotenv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = workspace(tmp_path)
    (folder / ".env").write_text("REVIEWBOT_TICKETS__MIN_ITEMS=6\nREVIEWBOT_JIRA_TOKEN=from-dotenv\n")
    assert load_settings(folder).tickets.min_items == 6
    monkeypatch.setenv("REVIEWBOT_TICKETS__MIN_ITEMS", "9")
    monkeypatch.setenv("REVIEWBOT_DATABASE_URL", "sqlite:///data/x.db")
    settings = load_settings(folder)
    assert settings.tickets.min_items == 9
    assert settings.db_url == f"sqlite:///{(folder / 'data' / 'x.db').resolve()}"  # relative to the workspace
    assert settings.secret("REVIEWBOT_JIRA_TOKEN") == "from-dotenv"
    monkeypatch.setenv("REVIEWBOT_JIRA_TOKEN", "from-env")
    assert settings.secret("REVIEWBOT_JIRA_TOKEN") == "from-env"


IDENTITY = (
    BASE
    + """
[identity]
admins = ["dana"]

[identity.people]
"dana" = { os_user = "dana" }
"""
)


@pytest.mark.parametrize("toml", [BASE, IDENTITY], ids=["no identity table", "an identity table"])
@pytest.mark.parametrize("where", ["environment", ".env"])
def test_no_variable_changes_who_is_who(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, toml: str, where: str) -> None:
    # whoever can set a variable for a command (or write .env) must not make themselves an admin, nor add a login
    # or a token to a person of the file: who is who comes from reviewbot.toml alone
    folder = workspace(tmp_path, toml)
    expected = load_settings(folder).identity
    attempts = {
        "REVIEWBOT_IDENTITY__ADMINS": '["eve"]',
        "REVIEWBOT_IDENTITY__PEOPLE": '{"eve": {"os_user": "eve"}, "dana": {"token_sha256": "' + "0" * 64 + '"}}',
    }
    if where == "environment":
        for name, value in attempts.items():
            monkeypatch.setenv(name, value)
    else:
        (folder / ".env").write_text("".join(f"{n}='{v}'\n" for n, v in attempts.items()), encoding="utf-8")
    identity = load_settings(folder).identity
    assert identity == expected
    assert "eve" not in identity.admins and identity.person_of_login("eve") is None
    assert identity.person_of_token("") is None and all(p.token_sha256 is None for p in identity.people.values())


def test_a_file_nested_too_deeply_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="nested"):
        load_settings(workspace(tmp_path, BASE + "x = " + "[" * 100_000 + "]" * 100_000 + "\n"))


def test_syntax_error_gives_the_line(tmp_path: Path) -> None:
    folder = workspace(tmp_path, BASE.replace('kind = "complaint"', "kind = complaint"))
    with pytest.raises(ConfigError) as caught:
        load_settings(folder)
    assert caught.value.line == 5 and "not valid TOML" in caught.value.message


def test_wrong_value_gives_line_and_field(tmp_path: Path) -> None:
    folder = workspace(tmp_path, BASE.replace("min_items = 4", "min_items = 0"))
    with pytest.raises(ConfigError) as caught:
        load_settings(folder)
    assert (caught.value.line, caught.value.field) == (10, "tickets.min_items")
    assert "REVIEWBOT_" not in str(caught.value)  # no variable is set: the file is the one place to look


def test_a_wrong_variable_is_named_instead_of_the_file_line_it_overrides(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The file's line holds a good value (min_items = 4): pointing there sent the admin to the wrong place."""
    monkeypatch.setenv("REVIEWBOT_TICKETS__MIN_ITEMS", "abc")
    with pytest.raises(ConfigError) as caught:
        load_settings(workspace(tmp_path))
    assert caught.value.line is None and caught.value.file is None
    assert "set by the environment variable REVIEWBOT_TICKETS__MIN_ITEMS" in caught.value.message
    assert (caught.value.hint or "").startswith("fix or unset REVIEWBOT_TICKETS__MIN_ITEMS")


def test_an_unknown_setting_from_a_dotenv_line_names_that_variable(tmp_path: Path) -> None:
    folder = workspace(tmp_path)
    (folder / ".env").write_text("REVIEWBOT_TICKETS__MIN_ITMES=3\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_settings(folder)
    assert caught.value.line is None
    # not "the environment variable": someone told so looks for it in `env` and does not find it
    assert caught.value.message == f"unknown setting 'min_itmes' (set by REVIEWBOT_TICKETS__MIN_ITMES in {folder}/.env)"
    assert "rename or unset REVIEWBOT_TICKETS__MIN_ITMES" in (caught.value.hint or "")
    assert "min_items" in (caught.value.hint or "")


@pytest.mark.parametrize(
    ("variable", "value", "field"),
    [
        ("REVIEWBOT_TICKETS__MAX_QUOTES", "100000000000000000000", "tickets.max_quotes"),  # overflowed SQLite
        ("REVIEWBOT_IMPACT__BEFORE_DAYS", "999999999", "impact.before_days"),  # overflowed the date
        ("REVIEWBOT_REVIEW__SIGNOFF_SLA_DAYS", "1e400", "review.signoff_sla_days"),  # read as infinity
        ("REVIEWBOT_TICKETS__MIN_GROWTH", "nan", "tickets.min_growth"),
        ("REVIEWBOT_INTAKE__FUTURE_TOLERANCE", "999999999 days", "intake.future_tolerance"),
    ],
)
def test_an_absurd_number_is_a_config_error_not_a_crash_later(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, variable: str, value: str, field: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError) as caught:
        load_settings(workspace(tmp_path))
    assert caught.value.field == field
    assert variable in (caught.value.hint or "")


@pytest.mark.parametrize("value", ["banana", "2 fortnights", "1e400"])
def test_a_duration_that_is_no_duration_says_how_to_write_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    # pydantic's own words were "invalid character in hour"
    monkeypatch.setenv("REVIEWBOT_INTAKE__FUTURE_TOLERANCE", value)
    with pytest.raises(ConfigError) as caught:
        load_settings(workspace(tmp_path))
    assert f'{value!r} is not a duration: write e.g. "2 days"' in caught.value.message


@pytest.mark.parametrize(("value", "days"), [("2 days", 2), ("1 week", 7), ("P3D", 3), ("36:00:00", 1.5)])
def test_a_duration_may_be_written_in_words_or_iso_8601(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, value: str, days: float
) -> None:
    monkeypatch.setenv("REVIEWBOT_INTAKE__FUTURE_TOLERANCE", value)
    assert load_settings(workspace(tmp_path)).intake.future_tolerance.total_seconds() == days * 86400


def test_wrong_source_kind_points_into_the_right_source(tmp_path: Path) -> None:
    second = BASE + '\n[[sources]]\nname = "notes"\nkind = "note"\npath = "x"\n'
    with pytest.raises(ConfigError) as caught:
        load_settings(workspace(tmp_path, second))
    assert caught.value.field == "sources[1].kind" and caught.value.line == 14
    assert "complaint" in caught.value.message and "agent_note" in caught.value.message


def test_unknown_top_level_setting_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(workspace(tmp_path, "ticket_limit = 3\n" + BASE))
    assert "ticket_limit" in caught.value.message and caught.value.line == 1
    assert "tickets" in (caught.value.hint or "")


def test_unknown_key_inside_a_table_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(workspace(tmp_path, BASE.replace("min_items = 4", "min_itmes = 4")))
    assert caught.value.field == "tickets.min_itmes" and caught.value.line == 10
    assert caught.value.message == "unknown setting 'min_itmes'" and "min_items" in (caught.value.hint or "")


def test_source_names_must_be_unique(tmp_path: Path) -> None:
    toml = BASE + '\n[[sources]]\nname = "complaints"\nkind = "survey"\npath = "y"\n'
    with pytest.raises(ConfigError) as caught:
        load_settings(workspace(tmp_path, toml))
    assert "repeated: complaints" in caught.value.message


def test_workspace_is_found_from_a_subfolder(tmp_path: Path) -> None:
    folder = workspace(tmp_path)
    deep = folder / "inbox" / "complaints"
    deep.mkdir(parents=True)
    assert find_workspace(start=deep) == folder.resolve()
    with pytest.raises(ConfigError, match="reviewbot init"):
        find_workspace(explicit=folder / "inbox")


LOOKALIKE = "d\u0430na.ellis"  # with a Cyrillic small a: shows as dana.ellis


@pytest.mark.parametrize(
    ("extra", "field", "line"),
    [
        (f'[roles]\nhead-of-cx = ["dana.ellis", "{LOOKALIKE}"]\n', "roles.head-of-cx[1]", 13),
        (f'[identity]\nadmins = ["{LOOKALIKE}"]\n', "identity.admins[0]", 13),
        (f'[slack]\npeople = {{ "{LOOKALIKE}" = "U0123ABCD" }}\n', f"slack.people.{LOOKALIKE}", 13),
        (f'[identity.people]\n"{LOOKALIKE}" = {{ os_user = "mallory" }}\n', f"identity.people.{LOOKALIKE}", 13),
    ],
    ids=["a role's person", "an admin", "a Slack person", "an identity"],
)
def test_a_look_alike_person_id_is_refused_with_the_character_named(
    tmp_path: Path, extra: str, field: str, line: int
) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(workspace(tmp_path, BASE + "\n" + extra))
    error = caught.value
    assert error.field == field and error.line == line and error.file == str(tmp_path / "reviewbot.toml")
    assert error.message == (
        f"person id {LOOKALIKE!r} is not plain ASCII: it holds '\u0430' (CYRILLIC SMALL LETTER A, U+0430), "
        "which can pass for another letter"
    )
    assert "retype it with ASCII letters" in (error.hint or "")


def test_two_ids_that_differ_only_in_case_or_width_are_refused(tmp_path: Path) -> None:
    extra = '[roles]\nhead-of-cx = ["dana.ellis"]\nfinance = ["Dana.Ellis"]\n'
    with pytest.raises(ConfigError) as caught:
        load_settings(workspace(tmp_path, BASE + "\n" + extra))
    error = caught.value
    assert (error.field, error.line) == ("roles.finance[0]", 14)
    assert error.message == "person id 'Dana.Ellis' reads the same as 'dana.ellis' (roles.head-of-cx[0])"
    assert "one spelling" in (error.hint or "")


def test_the_same_person_named_in_several_places_is_fine(tmp_path: Path) -> None:
    extra = (
        '[roles]\nhead-of-cx = ["dana.ellis"]\nagents = ["priya.n", "dana.ellis"]\n'
        '[identity]\nadmins = ["head-of-cx"]\n[identity.people]\n"dana.ellis" = { os_user = "dellis" }\n'
        '[slack]\npeople = { "dana.ellis" = "U012ABCDEF" }\n'
    )
    settings = load_settings(workspace(tmp_path, BASE + "\n" + extra))
    assert settings.is_admin("dana.ellis")


def test_a_config_file_saved_with_a_byte_order_mark_is_read(tmp_path: Path) -> None:
    """Windows Notepad saves UTF-8 so; it was refused as "not valid TOML: Invalid statement (at line 1, column 1)"."""
    folder = workspace(tmp_path)
    (folder / "reviewbot.toml").write_bytes(b"\xef\xbb\xbf" + BASE.encode())
    assert load_settings(folder).tickets.min_items == 4


@pytest.mark.parametrize(
    ("content", "line", "message"),
    [
        # python-dotenv skipped the line with a log warning nobody saw: the token was silently missing
        (b'# secrets\nREVIEWBOT_JIRA_TOKEN="ATATT-unclosed\n', 2, "cannot read this line as NAME=value"),
        (b"REVIEWBOT_TICKETS__MIN_ITEMS=5\nthis is not an assignment\n", 2, "cannot read this line as NAME=value"),
        (b"A=1\nB=\xff\xfe\n", 2, "not valid UTF-8"),  # was a UnicodeDecodeError traceback
    ],
)
def test_a_dotenv_line_that_cannot_be_read_is_a_config_error_at_its_line(
    tmp_path: Path, content: bytes, line: int, message: str
) -> None:
    folder = workspace(tmp_path)
    (folder / ".env").write_bytes(content)
    with pytest.raises(ConfigError) as caught:
        load_settings(folder)
    assert (caught.value.file, caught.value.line) == (str(folder / ".env"), line)
    assert caught.value.message.startswith(message)
    assert "ATATT" not in str(caught.value)  # the line may hold a token: it is not shown


def test_a_dotenv_with_comments_quotes_and_export_is_read(tmp_path: Path) -> None:
    folder = workspace(tmp_path)
    (folder / ".env").write_text('# a comment\n\nexport REVIEWBOT_TICKETS__MIN_ITEMS="6"\nOTHER_TOOL=x\n')
    assert load_settings(folder).tickets.min_items == 6
