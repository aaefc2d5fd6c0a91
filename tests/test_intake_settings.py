"""The settings added for intake and redaction: durations as people write them, phone regions checked."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from reviewbot.errors import ConfigError
from reviewbot.settings import load_settings


def workspace(tmp_path: Path, toml: str) -> Path:
    (tmp_path / "reviewbot.toml").write_text(toml, encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize(
    ("written", "expected"),
    [('"2 days"', timedelta(days=2)), ('"36 hours"', timedelta(hours=36)), ('"1 week"', timedelta(weeks=1))],
)
def test_future_tolerance_is_read_as_people_write_it(tmp_path: Path, written: str, expected: timedelta) -> None:
    settings = load_settings(workspace(tmp_path, f"[intake]\nfuture_tolerance = {written}\n"))
    assert settings.intake.future_tolerance == expected


def test_a_duration_that_is_no_duration_names_the_setting_and_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(workspace(tmp_path, '[intake]\nfuture_tolerance = "soon"\n'))
    assert "reviewbot.toml:2" in str(caught.value) and "intake.future_tolerance" in str(caught.value)


def test_phone_region_is_a_known_country_code(tmp_path: Path) -> None:
    assert load_settings(workspace(tmp_path, '[enrich]\nphone_region = "de"\n')).enrich.phone_region == "DE"
    with pytest.raises(ConfigError) as caught:
        load_settings(workspace(tmp_path, '[enrich]\nphone_region = "XX"\n'))
    assert "unknown phone region 'XX'" in str(caught.value) and "enrich.phone_region" in str(caught.value)
