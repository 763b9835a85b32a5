"""Settings: defaults, file, env precedence, and one-line errors that name the file and key, never secrets."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from flowpilot_tui.config import load_settings
from flowpilot_tui.services.errors import ConfigError


def write(path_env: str, text: str) -> Path:
    path = Path(os.environ[path_env])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_defaults_need_no_file_no_key_no_psa(isolated_env) -> None:
    s = load_settings()
    assert s.llm.provider == "offline" and s.connections == {}
    assert s.db_url.startswith("sqlite+aiosqlite:///") and str(isolated_env / "data") in s.db_url
    assert s.user == "alice"


def test_file_and_env_precedence(monkeypatch) -> None:
    write(
        "FLOWPILOT_CONFIG",
        'user = "bob"\ntheme = "ansi-dark"\n[llm]\nmodel = "claude-haiku-5-5"\n'
        '[connections.acme]\nsite = "na.myconnectwise.net"\ncompany_id = "acme"\npublic_key = "pub"\n'
        'private_key_env = "ACME_CW_PRIVATE"\nclient_id = "0000-guid"\n[keymap]\n"app.help" = "f2"\n',
    )
    monkeypatch.setenv("FLOWPILOT_USER", "carol")
    monkeypatch.setenv("ACME_CW_PRIVATE", "s3cret-private")
    s = load_settings()
    assert s.user == "carol"  # env beats file
    assert s.theme == "ansi-dark" and s.llm.model == "claude-haiku-5-5" and s.keymap == {"app.help": "f2"}
    assert s.connections["acme"].private_key() == "s3cret-private"


def test_malformed_toml_names_the_file() -> None:
    path = write("FLOWPILOT_CONFIG", "user = \n")
    with pytest.raises(ConfigError) as err:
        load_settings()
    assert str(path) in str(err.value) and "not valid TOML" in str(err.value)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize(
    ("text", "key", "what"),
    [
        ('[llm]\nprovider = "gpt"\n', "llm.provider", "'offline' or 'anthropic'"),
        ("colour = 3\n", "colour", "unknown setting"),
        ('[ui]\nhistory_window = "lots"\n', "ui.history_window", "integer"),
        (
            '[connections.x]\ncompany_id = "a"\npublic_key = "p"\nprivate_key_env = "K"\nclient_id = "c"\n',
            "connections.x",
            "exactly one of api_url or site",
        ),
        ('db_url = "postgresql://x/y"\n', "db_url", "only sqlite"),
    ],
)
def test_invalid_values_give_one_line_with_key(text: str, key: str, what: str) -> None:
    path = write("FLOWPILOT_CONFIG", text)
    with pytest.raises(ConfigError) as err:
        load_settings()
    message = str(err.value)
    assert message.startswith(str(path)) and key in message and what in message and "\n" not in message


def test_anthropic_provider_without_key_is_inconsistent() -> None:
    write("FLOWPILOT_CONFIG", '[llm]\nprovider = "anthropic"\n')
    with pytest.raises(ConfigError, match="ANTHROPIC_API_KEY"):
        load_settings()


def test_key_in_file_is_refused_without_echoing_it() -> None:
    write("FLOWPILOT_CONFIG", '[llm]\napi_key = "sk-ant-supersecret-123"\n')
    with pytest.raises(ConfigError) as err:
        load_settings()
    assert "supersecret" not in str(err.value)


def test_bad_env_value_names_the_variable(monkeypatch) -> None:
    monkeypatch.setenv("FLOWPILOT_LLM__PROVIDER", "nope")
    with pytest.raises(ConfigError, match="environment variable FLOWPILOT_LLM"):
        load_settings()


def test_missing_private_key_env_names_variable_not_value(monkeypatch) -> None:
    write(
        "FLOWPILOT_CONFIG",
        '[connections.acme]\napi_url = "http://127.0.0.1:1/v4_6_release/apis/3.0"\ncompany_id = "acme"\n'
        'public_key = "pub"\nprivate_key_env = "ACME_CW_PRIVATE"\nclient_id = "guid"\n',
    )
    with pytest.raises(ConfigError, match="ACME_CW_PRIVATE is not set"):
        load_settings().connections["acme"].private_key()


def test_cli_reports_config_error_in_one_line_exit_2() -> None:
    write("FLOWPILOT_CONFIG", "[llm\n")
    result = subprocess.run([sys.executable, "-m", "flowpilot_tui", "config", "check"], capture_output=True, text=True)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert "not valid TOML" in result.stderr
