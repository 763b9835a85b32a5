"""Where FlowPilot keeps its files (platformdirs, so XDG_* variables redirect them in tests)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

APP_NAME = "flowpilot"


def config_dir() -> Path:
    from platformdirs import user_config_path

    return user_config_path(APP_NAME)


def data_dir() -> Path:
    from platformdirs import user_data_path

    return user_data_path(APP_NAME)


def config_file(env: Mapping[str, str] | None = None) -> Path:
    """The TOML settings file: `FLOWPILOT_CONFIG` wins over the platform default."""
    env = os.environ if env is None else env
    override = env.get("FLOWPILOT_CONFIG")
    return Path(override).expanduser() if override else config_dir() / "config.toml"


def default_db_url() -> str:
    return f"sqlite+aiosqlite:///{data_dir() / 'flowpilot.db'}"
