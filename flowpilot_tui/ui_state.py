"""Small per-user UI state (chosen theme, unsent chat lines) kept in a JSON file in the data dir (mode 0600).

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
        os.chmod(tmp, 0o600)  # an unsent chat line may hold what the customer told the engineer
        os.replace(tmp, path)
    except OSError:
        return False
    return True


UNSENT_KEY = "unsent_chat"
UNSENT_KEEP = 50  # sessions whose unsent chat line is kept (the newest)
UNSENT_MAX_CHARS = 100_000


def unsent_chat(session_id: str, path: Path | None = None) -> str:
    """The chat line left unsent in `session_id` when the app last closed it ("" when none)."""
    kept = load(path).get(UNSENT_KEY)
    text = kept.get(session_id, "") if isinstance(kept, dict) else ""
    return text if isinstance(text, str) else ""


def keep_unsent_chat(session_id: str, text: str, path: Path | None = None) -> bool:
    """Remember `text` as the session's unsent chat line; an empty text forgets it. False if it cannot be written."""
    kept = load(path).get(UNSENT_KEY)
    kept = dict(kept) if isinstance(kept, dict) else {}
    if not text.strip():
        if session_id not in kept:
            return True
        kept.pop(session_id)
    else:
        kept.pop(session_id, None)
        kept[session_id] = text[:UNSENT_MAX_CHARS]  # newest last
        kept = dict(list(kept.items())[-UNSENT_KEEP:])
    return save({UNSENT_KEY: kept}, path)
