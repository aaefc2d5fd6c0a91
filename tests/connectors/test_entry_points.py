"""Connectors are found by entry point: one shipped as its own installed distribution is picked up by the name
reviewbot.toml gives it, without any change to reviewbot; errors name the connector and the installed ones."""

from __future__ import annotations

import ast
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from reviewbot.connectors.registry import GROUP, Connector, ConnectorContext, installed, make_source
from reviewbot.errors import ConfigError
from reviewbot.settings import load_settings
from reviewbot.workflows.doctor import run_checks
from tests.workspaces import make_workspace, run_collect, stored_items

ROOT = Path(__file__).resolve().parents[2]

ACME_MODULE = '''
from datetime import UTC, datetime

from reviewbot.connectors.registry import Connector
from reviewbot.protocols import Batch, RawRecord


class AcmeSource:
    """Feedback from the (made-up) Acme survey tool: two answers, then nothing new."""

    def __init__(self, name, kind, greeting, repeat=False):
        self.name, self.kind, self.greeting, self.repeat = name, kind, greeting, repeat

    def fetch(self, cursor):
        if cursor.get("done"):
            return
        when = datetime(2026, 3, 2, tzinfo=UTC)
        records = [
            RawRecord(f"acme-{i}", f"{self.greeting}: the refund took {i} weeks", when, self.kind, f"acme:{i}")
            for i in (1, 2)
        ]
        if self.repeat:  # acme-1 changed while it was being read: read again, later in the same batch
            records.append(RawRecord("acme-1", f"{self.greeting}: the refund came", when, self.kind, "acme:1"))
        yield Batch(records=records, cursor={"done": True})


def make_acme_source(config, context):
    options = config.options
    return AcmeSource(config.name, config.kind, options.get("greeting", "hello"), options.get("repeat", False))


connector = Connector(source=make_acme_source)
'''


def install_dist(site: Path, dist: str, module: str, source: str, entry: str) -> None:
    """Write an installed distribution the way pip leaves one: a module and its *.dist-info with an entry point."""
    (site / f"{module}.py").write_text(source, encoding="utf-8")
    info = site / f"{dist.replace('-', '_')}-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 1.0\n", encoding="utf-8")
    (info / "entry_points.txt").write_text(f"[{GROUP}]\n{entry}\n", encoding="utf-8")


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A site-packages folder on sys.path holding the acme-reviewbot distribution (gone again after the test)."""
    folder = tmp_path / "site"
    folder.mkdir()
    install_dist(folder, "acme-reviewbot", "acme_reviewbot", ACME_MODULE, "acme = acme_reviewbot:connector")
    monkeypatch.syspath_prepend(str(folder))
    yield folder
    for module in ("acme_reviewbot", "acme_broken"):
        sys.modules.pop(module, None)


ACME_TOML = """
[[sources]]
name = "survey"
type = "{type}"
kind = "survey"
greeting = "Hi"
"""


def test_a_connector_from_another_distribution_feeds_the_sync(site: Path, tmp_path: Path) -> None:
    folder = make_workspace(tmp_path / "ws", extra_toml=ACME_TOML.format(type="acme"))
    report = run_collect(folder)
    texts = sorted(item.text for item in stored_items(folder, "survey"))
    assert texts == ["Hi: the refund took 1 weeks", "Hi: the refund took 2 weeks"], report
    run_collect(folder)  # its cursor is kept like any built-in source's
    assert len(stored_items(folder, "survey")) == 2


def test_a_record_read_twice_in_one_batch_is_stored_once_as_its_later_copy_and_the_sync_says_so(
    site: Path, tmp_path: Path, cli
) -> None:  # type: ignore[no-untyped-def]
    folder = make_workspace(tmp_path / "ws", extra_toml=ACME_TOML.format(type="acme") + "repeat = true\n")
    result = cli(f"-w {folder} sync")
    assert result.code == 0, result.stderr
    assert "survey: 1 record came twice in one read (changed meanwhile); the later copy is kept" in result.stdout
    texts = sorted(item.text for item in stored_items(folder, "survey"))
    assert texts == ["Hi: the refund came", "Hi: the refund took 2 weeks"]


def test_doctor_checks_the_installed_connector(site: Path, tmp_path: Path) -> None:
    folder = make_workspace(tmp_path / "ws", extra_toml=ACME_TOML.format(type="acme"))
    checks = {c.name: c for c in run_checks(load_settings(folder))}
    assert checks["source survey"].ok and "acme (survey)" in checks["source survey"].detail


def test_an_unknown_type_names_the_installed_connectors_including_plugins(site: Path, tmp_path: Path) -> None:
    folder = make_workspace(tmp_path / "ws", extra_toml=ACME_TOML.format(type="acmee"))
    settings = load_settings(folder)
    with pytest.raises(ConfigError) as caught:
        make_source(settings.sources[1], ConnectorContext(settings=settings))
    assert "unknown connector type 'acmee'" in caught.value.message
    assert "reviewbot.toml" in str(caught.value)  # points at the line to fix
    assert "installed sources: acme, files, slack, zendesk" in caught.value.hint
    doctor = {c.name: c for c in run_checks(settings)}["source survey"]
    assert not doctor.ok and "acmee" in doctor.detail and "acme, files" in (doctor.hint or "")


def test_a_connector_that_fails_to_import_is_named_with_its_distribution(site: Path, tmp_path: Path) -> None:
    broken = "import acme_sdk_that_is_not_installed\n"
    install_dist(site, "acme-broken", "acme_broken", broken, "broken = acme_broken:connector")
    folder = make_workspace(tmp_path / "ws", extra_toml=ACME_TOML.format(type="broken"))
    settings = load_settings(folder)
    with pytest.raises(ConfigError) as caught:
        make_source(settings.sources[1], ConnectorContext(settings=settings))
    message = caught.value.message
    assert "connector 'broken' (acme-broken 1.0: acme_broken:connector) could not be loaded" in message
    assert "acme_sdk_that_is_not_installed" in message
    # the broken plug-in does not hide the others
    assert make_source(settings.sources[0], ConnectorContext(settings=settings)).name == "complaints"


def test_a_connector_used_in_the_wrong_role_says_which_role_it_lacks(tmp_path: Path) -> None:
    folder = make_workspace(tmp_path / "ws", extra_toml=ACME_TOML.format(type="jira"))
    settings = load_settings(folder)
    with pytest.raises(ConfigError) as caught:
        make_source(settings.sources[1], ConnectorContext(settings=settings))
    assert "connector 'jira'" in caught.value.message and "is not a source" in caught.value.message
    assert "files" in caught.value.hint


def test_every_built_in_connector_is_declared_and_loads() -> None:
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]["entry-points"][GROUP]
    found = installed()
    assert set(declared) == {"builtin", "console", "files", "jira", "slack", "zendesk"}
    for name in declared:
        assert isinstance(found[name].load(), Connector), name  # reinstall (pip install -e .) if this fails


def test_the_registry_imports_no_connector() -> None:
    tree = ast.parse((ROOT / "connectors" / "registry.py").read_text("utf-8"))
    imported = [n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
    imported += [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
    assert not [m for m in imported if m and m.startswith("reviewbot.connectors")]
