"""Host-wide settings (/etc/flowpilot/config.toml, overridable with FLOWPILOT_SYSTEM_CONFIG): below the user's file
and the environment; `config check` names every file it read."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from flowpilot_tui.config import load_settings
from flowpilot_tui.errors import ConfigError


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_system_file_is_below_user_file_and_environment(isolated_env, monkeypatch) -> None:
    system = _write(Path(os.environ["FLOWPILOT_SYSTEM_CONFIG"]), 'theme = "ansi-dark"\n[ui]\nhistory_window = 300\n')
    user = _write(Path(os.environ["FLOWPILOT_CONFIG"]), "[ui]\ncursor_blink = false\n")
    s = load_settings()
    assert s.theme == "ansi-dark" and s.ui.history_window == 300 and s.ui.cursor_blink is False  # merged per key
    assert s.config_files == [system, user]
    _write(user, 'theme = "ansi-light"\n')
    monkeypatch.setenv("FLOWPILOT_UI__HISTORY_WINDOW", "400")
    s = load_settings()
    assert s.theme == "ansi-light" and s.ui.history_window == 400


def test_bad_key_in_system_file_names_the_system_file(isolated_env) -> None:
    system = _write(Path(os.environ["FLOWPILOT_SYSTEM_CONFIG"]), "[ui]\nhistory_window = 1\n")
    with pytest.raises(ConfigError) as err:
        load_settings()
    assert str(err.value).startswith(f"{system}: ui.history_window")
    _write(system, '[llm]\napi_key = "sk-ant-secret"\n')
    with pytest.raises(ConfigError) as err:
        load_settings()
    assert "keep the key out of the file" in str(err.value) and "sk-ant-secret" not in str(err.value)


def test_config_check_names_every_file_it_read(isolated_env, db_url) -> None:
    system = _write(Path(os.environ["FLOWPILOT_SYSTEM_CONFIG"]), f'db_url = "{db_url}"\n')
    user = _write(Path(os.environ["FLOWPILOT_CONFIG"]), 'theme = "ansi-dark"\n')
    cli = [str(Path(sys.executable).parent / "flowpilot")]
    subprocess.run([*cli, "init", "--account", "Acme"], check=True, capture_output=True, env=os.environ)
    out = subprocess.run([*cli, "config", "check", "--json"], capture_output=True, text=True, env=os.environ)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["config_files"] == [str(system), str(user)]
    text = subprocess.run([*cli, "config", "check"], capture_output=True, text=True, env=os.environ).stdout
    assert str(system) in text and str(user) in text
