"""`reviewbot doctor` on policy files: each mistake once, by line, in a table read at 80 columns."""

from __future__ import annotations

from pathlib import Path

from reviewbot.workflows.doctor import run_checks
from tests.workspaces import make_workspace, open_workspace

BROKEN = "---\nsign_off: many\nreview_interval_days: -3\n---\n# Title\n## One\ntext\n"


def test_a_broken_policy_is_reported_by_line_without_its_path_or_a_repeated_hint(tmp_path: Path) -> None:
    """The result column held the whole error (the file's full path, then "hint: ...") beside the hint column."""
    folder = make_workspace(tmp_path / "ws")
    (folder / "policies" / "broken.md").write_text(BROKEN, encoding="utf-8")
    settings, store = open_workspace(folder)
    store.dispose()
    check = next(c for c in run_checks(settings) if c.name == "policy broken.md")
    assert not check.ok
    first, second = check.detail.split("\n")
    assert first == "line 2: sign_off must be `all` or a positive whole number, not 'many'"
    assert second.startswith("line 3: review_interval_days must be a positive whole number, not -3 (e.g.")
    assert "hint" not in check.detail and str(folder) not in check.detail
    assert check.hint is not None and check.hint.startswith("use `sign_off: all`")


def test_a_file_that_is_not_a_policy_is_listed_once_as_skipped(tmp_path: Path) -> None:
    folder = make_workspace(tmp_path / "ws")
    (folder / "policies" / "notes.md").write_text("Ask legal before the next review.\n", encoding="utf-8")
    (folder / "policies" / "LICENSE.md").write_text("# MIT License\n\nCopyright\n", encoding="utf-8")
    settings, store = open_workspace(folder)
    store.dispose()
    checks = {c.name: c for c in run_checks(settings)}
    assert checks["policy notes.md"].ok and "not a policy" in checks["policy notes.md"].detail
    assert "policy LICENSE.md" not in checks and checks["policy returns.md"].ok
    (folder / "policies" / "returns.md").unlink()
    checks = {c.name: c for c in run_checks(settings)}
    assert not checks["policies"].ok and "no policy documents" in checks["policies"].detail


def test_a_second_file_with_a_documents_id_is_reported(tmp_path: Path) -> None:
    folder = make_workspace(tmp_path / "ws")
    policy = (folder / "policies" / "returns.md").read_text(encoding="utf-8")
    (folder / "policies" / "returns-copy.md").write_text(policy, encoding="utf-8")  # `id: returns-policy` unchanged
    settings, store = open_workspace(folder)
    store.dispose()
    checks = {c.name: c for c in run_checks(settings)}
    second = checks["policy returns.md"]  # the sync keeps the file the document has and refuses the other
    assert not second.ok and "`id:`" in str(second.hint)
    assert second.detail == "returns-policy: returns-copy.md has this id too; a sync reads one of them"


def test_a_source_with_one_file_says_one_file(tmp_path: Path) -> None:
    folder = make_workspace(tmp_path / "ws")  # one export in inbox/complaints
    settings, store = open_workspace(folder)
    store.dispose()
    checks = {c.name: c for c in run_checks(settings)}
    assert checks["source complaints"].detail.endswith(": 1 file")
