"""Typed settings: defaults < TOML file < `FLOWPILOT_*` environment variables.

Every problem becomes one `ConfigError` line naming the file (or variable), the key and what is wrong; secret
values are never echoed back.
"""

from __future__ import annotations

import getpass
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from flowpilot_tui import locations
from flowpilot_tui.errors import ConfigError

DEFAULT_MODEL = "claude-sonnet-5-5"


def _os_login() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no passwd entry in some containers
        return os.environ.get("USER", "engineer")


class LlmSettings(BaseModel):
    """Which generator/assistant backs the app. `offline` needs no key and no network."""

    model_config = ConfigDict(extra="forbid")
    provider: Literal["offline", "anthropic"] = "offline"
    model: str = DEFAULT_MODEL
    api_key: SecretStr | None = None
    base_url: str | None = None
    timeout_s: float = Field(default=60.0, gt=0)
    max_retries: int = Field(default=2, ge=0, le=10)


class ConnectWiseConnection(BaseModel):
    """A named ConnectWise connection. The private key itself lives in the env var named by `private_key_env`."""

    model_config = ConfigDict(extra="forbid")
    provider: Literal["connectwise"] = "connectwise"
    api_url: str | None = None
    site: str | None = None
    company_id: str = Field(min_length=1)
    public_key: str = Field(min_length=1)
    private_key_env: str = Field(min_length=1, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    client_id: str = Field(min_length=1)
    timeout_s: float = Field(default=30.0, gt=0)
    # ticket queue and time entries (issue 14): the ConnectWise member you are, per connection or per user login
    member_identifier: str | None = Field(default=None, min_length=1, max_length=100)
    members: dict[str, str] = Field(default_factory=dict)  # FlowPilot user login -> member identifier
    time_work_type: str | None = Field(default=None, min_length=1)
    time_billable: Literal["Billable", "DoNotBill", "NoCharge"] | None = None

    def member_for(self, login: str) -> str | None:
        """The ConnectWise member identifier of `login`: its per-user entry, else the connection's default."""
        return self.members.get(login) or self.member_identifier

    @model_validator(mode="after")
    def _one_location(self) -> ConnectWiseConnection:
        if bool(self.api_url) == bool(self.site):
            raise ValueError("set exactly one of api_url or site")
        return self

    def private_key(self, env: Mapping[str, str] | None = None) -> str:
        source: Mapping[str, str] = os.environ if env is None else env
        value = source.get(self.private_key_env, "")
        if not value:
            raise ConfigError(f"connection private key: environment variable {self.private_key_env} is not set")
        return value


class UiSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    cursor_blink: bool = True
    animations: Literal["none", "basic", "full"] = "basic"
    history_window: int = Field(default=200, ge=20, le=5000)
    # a preview edit is saved as the draft this long after the last key (and always on leaving, quitting, hang-up)
    autosave_s: float = Field(default=0.5, ge=0.05, le=3600)
    idle_gc_s: float = Field(default=0.5, ge=0, le=60)  # full garbage collections wait for this pause (heap.py)


class WritebackSettings(BaseModel):
    """How a post to the PSA verifies and recovers (issues 15 and 16)."""

    model_config = ConfigDict(extra="forbid")
    # pause before the second read of the ticket status (workflow rules can move it right after the change); 0 = off
    recheck_delay_s: float = Field(default=2.0, ge=0, le=60)
    # a posting lease whose holder has not refreshed it for this long (another host, a hung process) is taken over
    takeover_after_s: float = Field(default=30.0, ge=1, le=3600)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FLOWPILOT_", env_nested_delimiter="__", extra="forbid")

    db_url: str = Field(default_factory=locations.default_db_url)
    user: str = Field(default_factory=_os_login, min_length=1)
    theme: str = "textual-dark"
    keymap: dict[str, str] = Field(default_factory=dict)
    llm: LlmSettings = Field(default_factory=LlmSettings)
    connections: dict[str, ConnectWiseConnection] = Field(default_factory=dict)
    ui: UiSettings = Field(default_factory=UiSettings)
    writeback: WritebackSettings = Field(default_factory=WritebackSettings)
    config_path: Path | None = Field(default=None, exclude=True)
    config_files: list[Path] = Field(default_factory=list, exclude=True)  # every settings file read, lowest first

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # env beats the file (passed as init kwargs); no dotenv or secrets dir.
        return (env_settings, init_settings)


def _read_toml(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc.__class__.__name__}") from None


def _describe(error: Mapping[str, Any]) -> tuple[str, str]:
    key = ".".join(str(p) for p in error.get("loc", ()))
    msg = error.get("msg", "invalid value")
    if error.get("type") == "extra_forbidden":
        msg = "unknown setting"
    return key or "(root)", msg


def _env_source(key: str, env: Any) -> str | None:
    """The environment variable that set `key` (e.g. `ui.history_window`), most specific first, or None when the
    value came from the file. Names match case-insensitively, as pydantic-settings reads them."""
    names = {n.upper(): n for n in env if n.upper().startswith("FLOWPILOT_")}
    parts = [p.upper() for p in key.split(".")]
    for i in range(len(parts), 0, -1):
        candidate = "FLOWPILOT_" + "__".join(parts[:i])
        if candidate in names:
            return f"environment variable {names[candidate]}"
    return None


SYSTEM_CONFIG = Path("/etc/flowpilot/config.toml")


def system_config_file(env: Any) -> Path:
    """The host-wide settings file (shared db_url, connections, LLM settings on a team SSH host)."""
    return Path(env.get("FLOWPILOT_SYSTEM_CONFIG") or SYSTEM_CONFIG)


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        out[key] = _merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def load_settings(path: Path | None = None) -> Settings:
    """Load and validate settings: defaults < system file < the user's file < `os.environ`; one-line `ConfigError`
    on any problem, naming the file or variable it came from."""
    env = os.environ
    path = path or locations.config_file(env)
    system = system_config_file(env)
    system_data = _read_toml(system) if system != path else {}
    if isinstance(system_data.get("llm"), dict) and "api_key" in system_data["llm"]:
        raise ConfigError(f"{system}: llm.api_key: keep the key out of the file; set ANTHROPIC_API_KEY instead")
    user_data = _read_toml(path)
    data = _merge(system_data, user_data)
    read = [p for p in (system, path) if p.exists() and (p != system or system != path)]
    llm = data.get("llm")
    if isinstance(llm, dict) and "api_key" in llm:
        raise ConfigError(f"{path}: llm.api_key: keep the key out of the file; set ANTHROPIC_API_KEY instead")
    if env.get("ANTHROPIC_API_KEY") and (llm is None or isinstance(llm, dict)):
        data["llm"] = {**(llm or {}), "api_key": env["ANTHROPIC_API_KEY"]}
    try:
        settings = Settings(**data)
    except ValidationError as exc:
        key, msg = _describe(exc.errors()[0])
        top = key.split(".", 1)[0]
        where = _env_source(key, env) or str(system if top in system_data and top not in user_data else path)
        raise ConfigError(f"{where}: {key}: {msg}") from None
    settings.config_path = path
    settings.config_files = read
    if settings.llm.provider == "anthropic" and settings.llm.api_key is None:
        raise ConfigError(f"{path}: llm.provider: 'anthropic' needs ANTHROPIC_API_KEY in the environment")
    if not settings.db_url.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
        where = _env_source("db_url", env) or str(path)
        raise ConfigError(
            f"{where}: db_url: only sqlite+aiosqlite:///PATH (embedded) or "
            "postgresql+asyncpg://USER@HOST/DB (team) URLs are supported"
        )
    return settings
