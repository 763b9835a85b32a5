"""Small per-user UI state (chosen theme, ...) kept in a JSON file in the data dir.

Why not the config file: the config is the user's hand-edited TOML; the app must never rewrite it. A broken or
unwritable state file only costs the remembered preference, never the start-up.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from flowpilot_tui import locations

FILE_NAME = "ui_state.json"


def state_path() -> Path:
    return locations.data_dir() / FILE_NAME


def load(path: Path | None = None) -> dict[str, Any]:
    path = path or state_path()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def save(updates: dict[str, Any], path: Path | None = None) -> bool:
    """Merge `updates` into the file atomically; False (not an exception) if it cannot be written."""
    path = path or state_path()
    data = {**load(path), **updates}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=2, sort_keys=True), encoding="utf-8")
        os.replace(tmp, path)
    except OSError:
        return False
    return True
