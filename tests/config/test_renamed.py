"""A renamed key's old name (``chaos``, now ``faults``) still applies, with a warning naming the
source and both keys; one source giving both names is an error naming both."""

import re
from pathlib import Path

import pytest

from plexichat.config import ConfigError, DeprecatedKeyWarning, load_settings

OLD_NAME = r"key 'chaos' is deprecated, renamed 'faults'"


def test_a_file_using_the_old_name_applies_with_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "x.yaml"
    path.write_text("chaos: {enabled: true, error_rate: 0.5}\n")
    with pytest.warns(DeprecatedKeyWarning, match=f"^{re.escape(str(path))}: {OLD_NAME}") as caught:
        faults = load_settings(config_file=path, environ={}).faults
    assert (faults.enabled, faults.error_rate) == (True, 0.5)
    assert len(caught) == 1
    assert caught[0].filename == __file__  # pointed at the caller of load_settings


def test_a_variable_using_the_old_name_applies_with_a_warning() -> None:
    environ = {"PLEXICHAT_CHAOS__ERROR_RATE": "0.25"}
    with pytest.deprecated_call(match=f"^PLEXICHAT_CHAOS__ERROR_RATE: {OLD_NAME}"):
        assert load_settings(environ=environ).faults.error_rate == 0.25


def test_a_bad_value_under_the_old_name_is_told_as_written(tmp_path: Path) -> None:
    path = tmp_path / "x.yaml"
    path.write_text("chaos: {error_rate: 2}\n")
    with pytest.warns(DeprecatedKeyWarning), pytest.raises(ConfigError) as caught:
        load_settings(config_file=path, environ={})
    assert str(caught.value).startswith(f"{path}: chaos.error_rate (= faults.error_rate): 2 is")


def test_both_names_in_one_file(tmp_path: Path) -> None:
    path = tmp_path / "x.yaml"
    path.write_text("faults: {enabled: true}\nchaos: {error_rate: 0.5}\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(config_file=path, environ={})
    assert str(caught.value) == (
        f"{path}: 'chaos' and 'faults' both given"
        " (expected 'faults' only: 'chaos' is its deprecated old name)"
    )


def test_both_names_for_one_key_in_the_environment() -> None:
    environ = {"PLEXICHAT_CHAOS__ENABLED": "true", "PLEXICHAT_FAULTS__ENABLED": "false"}
    with pytest.raises(ConfigError) as caught:
        load_settings(environ=environ)
    assert str(caught.value) == (
        "PLEXICHAT_FAULTS__ENABLED: sets the same key as PLEXICHAT_CHAOS__ENABLED"
        " (expected one of them)"
    )
