"""What `pip install .` puts into site-packages: one top-level package, `reviewbot`, holding everything."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SOURCES = {"reviewbot": "reviewbot", "connectors": "reviewbot/connectors", "workflows": "reviewbot/workflows"}


@pytest.fixture(scope="module")
def wheel_names(tmp_path_factory: pytest.TempPathFactory) -> set[str]:
    """The file names inside a wheel built from a copy of this checkout."""
    tree = tmp_path_factory.mktemp("src") / "reviewbot"
    local = shutil.ignore_patterns(".git", ".venv", "__pycache__", "*.egg-info", "build", "dist", ".pytest_cache")

    def ignore(folder: str, names: list[str]) -> set[str]:
        """Leave out what a checkout has beside its files (and the README's demo workspace, at the top only)."""
        return set(local(folder, names)) | ({"demo"} & set(names) if Path(folder) == ROOT else set())

    shutil.copytree(ROOT, tree, ignore=ignore)
    out = tree.parent / "dist"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(tree), "--no-deps", "--no-build-isolation", "-q", "-w", str(out)],
        check=True,
        capture_output=True,
    )
    (wheel,) = out.glob("reviewbot-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        return set(archive.namelist())


@pytest.mark.slow
def test_the_wheel_installs_only_the_reviewbot_package(wheel_names: set[str]) -> None:
    top = {name.split("/")[0] for name in wheel_names if not name.split("/")[0].endswith(".dist-info")}
    assert top == {"reviewbot"}  # no `workflows` or `connectors` to clash with PyPI packages of those names


@pytest.mark.slow
def test_every_module_and_bundled_file_is_in_the_wheel(wheel_names: set[str]) -> None:
    for folder, installed in SOURCES.items():
        for path in (ROOT / folder).rglob("*"):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
                assert f"{installed}/{path.relative_to(ROOT / folder).as_posix()}" in wheel_names
    for path in (ROOT / "config").rglob("*"):
        if path.is_file():
            assert f"reviewbot/_bundled_config/{path.relative_to(ROOT / 'config').as_posix()}" in wheel_names
