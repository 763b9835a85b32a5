"""Scripts and script templates from fix decisions. The app shows scripts; it never runs them.

- `one_off`: a script for a fix (PowerShell for Windows targets, bash otherwise); Claude writes it when
  configured, the deterministic template does offline or when Claude fails (the view says why).
- `save_draft_template`: the same as a parameterised draft template; `save_template`: the builder's save.
Every write bumps the state_version of the session the script or template came from.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from flowpilot_tui.services import audit
from flowpilot_tui.services.access import bump_state_version, load_session
from flowpilot_tui.services.errors import Conflict, InvalidInput, NotFound
from flowpilot_tui.services.identity import Actor
from flowpilot_tui.services.llm_client import ClientFactory, is_configured, make_client
from flowpilot_tui.services.models import Script, ScriptTemplate, SessionFact, SessionSuggestedFix
from flowpilot_tui.services.script_render import choose_shell, render_script, template_parts
from flowpilot_tui.services.script_safety import Flag, destructive_flags
from flowpilot_tui.services.script_writer import ScriptDraft, write_with_claude
from flowpilot_tui.services.sessions import Clock, clean_text, utcnow
from flowpilot_tui.services.store import Store

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from flowpilot_tui.config import LlmSettings

__all__ = ["Flag", "ScriptService", "ScriptView", "TemplateParameter", "TemplateView", "destructive_flags"]

SHELLS = ("powershell", "bash")
MAX_BODY = 100_000
_PARAM_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
_USED = re.compile(r"\{\{\s*([^{}\s]+)\s*\}\}")


@dataclass(frozen=True)
class ScriptView:
    id: int
    session_id: str
    fix_id: int | None
    title: str
    shell: str
    body: str
    generator: str  # claude | offline
    created_at: datetime
    fallback_reason: str | None = None

    @property
    def flags(self) -> list[Flag]:
        return destructive_flags(self.body)


@dataclass(frozen=True)
class TemplateParameter:
    name: str
    description: str = ""
    default: str = ""


@dataclass(frozen=True)
class TemplateView:
    id: int
    name: str
    shell: str
    parameters: tuple[TemplateParameter, ...]
    body: str
    status: str  # draft | built
    session_id: str | None
    fix_id: int | None
    created_at: datetime
    updated_at: datetime
    fallback_reason: str | None = field(default=None, compare=False)

    @property
    def flags(self) -> list[Flag]:
        return destructive_flags(self.body)

    @classmethod
    def of(cls, row: ScriptTemplate, fallback_reason: str | None = None) -> TemplateView:
        params = tuple(
            TemplateParameter(str(p.get("name", "")), str(p.get("description", "")), str(p.get("default", "")))
            for p in row.parameters or []
            if isinstance(p, dict)
        )
        return cls(
            row.id,
            row.name,
            row.shell,
            params,
            row.body,
            row.status,
            row.session_id,
            row.fix_id,
            row.created_at,
            row.updated_at,
            fallback_reason,
        )


def check_parameters(parameters: Sequence[TemplateParameter | dict[str, Any]], body: str) -> list[dict[str, str]]:
    """Identifier names, no duplicates, and every `{{Name}}` used in the body declared."""
    out: list[dict[str, str]] = []
    seen: set[str] = set()
    for p in parameters:
        d = p if isinstance(p, dict) else {"name": p.name, "description": p.description, "default": p.default}
        name = str(d.get("name") or "").strip()
        if not _PARAM_NAME.match(name):
            raise InvalidInput(f"Parameter name {name!r} must start with a letter and use only letters, digits and _")
        if name.lower() in seen:
            raise InvalidInput(f"Parameter {name} is declared twice")
        seen.add(name.lower())
        out.append(
            {
                "name": name,
                "description": str(d.get("description") or "").strip(),
                "default": str(d.get("default") or ""),
            }
        )
    declared = {p["name"] for p in out}
    missing = sorted({m for m in _USED.findall(body) if m not in declared})
    if missing:
        raise InvalidInput(
            "The body uses " + ", ".join("{{" + m + "}}" for m in missing) + " but declares no such parameter"
        )
    return out


class ScriptService:
    def __init__(
        self,
        store: Store,
        actor: Actor,
        llm_settings: LlmSettings,
        clock: Clock = utcnow,
        client_factory: ClientFactory | None = None,
    ) -> None:
        self.store = store
        self.actor = actor
        self.llm = llm_settings
        self.clock = clock
        self.client_factory = client_factory
        self._client: Any = None

    async def aclose(self) -> None:
        if self._client is not None:
            client, self._client = self._client, None
            await client.close()

    # ---- generation -------------------------------------------------------------------------------------------

    async def _fix_and_env(self, session_id: str, fix_id: int) -> tuple[SessionSuggestedFix, list[str]]:
        async with self.store.read() as db:
            row = await load_session(db, self.actor, session_id)
            fix = await db.scalar(
                select(SessionSuggestedFix).where(
                    SessionSuggestedFix.id == int(fix_id), SessionSuggestedFix.session_id == row.id
                )
            )
            if fix is None:
                raise NotFound(f"Fix {fix_id} not found in session {session_id}")
            env = (
                await db.scalars(
                    select(SessionFact.text)
                    .where(SessionFact.session_id == row.id, SessionFact.kind == "environment")
                    .order_by(SessionFact.id)
                )
            ).all()
            return fix, list(env)

    async def _draft(
        self, fix: SessionSuggestedFix, env: list[str], shell: str, template: bool
    ) -> tuple[ScriptDraft, ScriptDraft]:
        """(the draft to use, the offline draft to fall back on)."""
        steps = [str(s) for s in fix.steps or []]
        if template:
            params, body = template_parts(shell, fix.title, fix.rationale, steps)
        else:
            params, body = [], render_script(shell, fix.title, fix.rationale, steps)
        offline = ScriptDraft(body, params, "offline")
        if not is_configured(self.llm, self.client_factory):
            return offline, offline
        if self._client is None:
            self._client = (self.client_factory or make_client)(self.llm)
        draft = await write_with_claude(
            self._client,
            self.llm.model,
            shell,
            fix.title,
            fix.rationale,
            steps,
            env,
            template=template,
            fallback=offline,
        )
        return draft, offline

    async def one_off(self, session_id: str, fix_id: int) -> ScriptView:
        self.actor.require_writer()
        fix, env = await self._fix_and_env(session_id, fix_id)
        shell = choose_shell(fix.target_shell, env)
        draft, _ = await self._draft(fix, env, shell, template=False)
        now = self.clock()
        async with self.store.write() as db:
            row = await load_session(db, self.actor, session_id)
            script = Script(
                session_id=row.id,
                fix_id=fix.id,
                shell=shell,
                body=draft.body,
                generator=draft.generator,
                created_at=now,
            )
            db.add(script)
            await db.flush()
            await bump_state_version(
                db, self.actor, row.id, now, audit.SCRIPT_CREATED, {"script_id": script.id, "fix_id": fix.id}
            )
            return ScriptView(
                script.id, row.id, fix.id, fix.title, shell, draft.body, draft.generator, now, draft.fallback_reason
            )

    async def list_scripts(self, session_id: str, *, script_id: int | None = None) -> list[ScriptView]:
        """A session's scripts, oldest first (only `script_id` when given)."""
        async with self.store.read() as db:
            row = await load_session(db, self.actor, session_id)
            query = (
                select(Script, SessionSuggestedFix.title)
                .outerjoin(SessionSuggestedFix, SessionSuggestedFix.id == Script.fix_id)
                .where(Script.session_id == row.id)
            )
            if script_id is not None:
                query = query.where(Script.id == int(script_id))
            rows = (await db.execute(query.order_by(Script.id))).all()
        return [
            ScriptView(s.id, s.session_id, s.fix_id, title or "", s.shell, s.body, s.generator, s.created_at)
            for s, title in rows
        ]

    async def get_script(self, session_id: str, script_id: int) -> ScriptView:
        found = await self.list_scripts(session_id, script_id=script_id)
        if not found:
            raise NotFound(f"Script {script_id} not found in session {session_id}")
        return found[0]

    # ---- templates ----------------------------------------------------------------------------------------------

    async def _unique_name(self, db: AsyncSession, name: str, exclude_id: int | None = None) -> str:
        base, n, candidate = name[:190], 1, name[:190]
        while await self._name_taken(db, candidate, exclude_id):
            n += 1
            candidate = f"{base} ({n})"
        return candidate

    async def _name_taken(self, db: AsyncSession, name: str, exclude_id: int | None) -> bool:
        query = (
            select(func.count())
            .select_from(ScriptTemplate)
            .where(ScriptTemplate.account_id == self.actor.account_id, func.lower(ScriptTemplate.name) == name.lower())
        )
        if exclude_id is not None:
            query = query.where(ScriptTemplate.id != exclude_id)
        return bool(await db.scalar(query))

    async def save_draft_template(self, session_id: str, fix_id: int) -> TemplateView:
        self.actor.require_writer()
        fix, env = await self._fix_and_env(session_id, fix_id)
        shell = choose_shell(fix.target_shell, env)
        draft, offline = await self._draft(fix, env, shell, template=True)
        try:
            params = check_parameters(draft.parameters, draft.body)
        except InvalidInput as exc:  # only a model's template can be inconsistent
            draft = replace(offline, fallback_reason=f"Claude's template was inconsistent: {exc.message}")
            params = check_parameters(draft.parameters, draft.body)
        now = self.clock()
        async with self.store.write() as db:
            row = await load_session(db, self.actor, session_id)
            tpl = ScriptTemplate(
                account_id=self.actor.account_id,
                session_id=row.id,
                fix_id=fix.id,
                name=await self._unique_name(db, fix.title),
                shell=shell,
                parameters=params,
                body=draft.body,
                status="draft",
                created_at=now,
                updated_at=now,
            )
            db.add(tpl)
            await db.flush()
            await bump_state_version(
                db, self.actor, row.id, now, audit.TEMPLATE_DRAFTED, {"template_id": tpl.id, "fix_id": fix.id}
            )
            return TemplateView.of(tpl, draft.fallback_reason)

    async def save_template(
        self,
        template_id: int | None,
        name: str,
        shell: str,
        parameters: Sequence[TemplateParameter | dict[str, Any]],
        body: str,
    ) -> TemplateView:
        """Create (template_id None) or update a template as built; InvalidInput/Conflict say what to fix."""
        self.actor.require_writer()
        name = clean_text(name, "Template name", limit=200)
        if shell not in SHELLS:
            raise InvalidInput("Shell must be 'powershell' or 'bash'")
        if not body.strip():
            raise InvalidInput("Template body must not be empty")
        if len(body) > MAX_BODY:
            raise InvalidInput(f"Template body is too long ({len(body):,} characters; the limit is {MAX_BODY:,})")
        params = check_parameters(parameters, body)
        now = self.clock()
        async with self.store.write() as db:
            if await self._name_taken(db, name, template_id):
                raise Conflict(f"A template named {name!r} already exists")
            if template_id is None:
                tpl = ScriptTemplate(
                    account_id=self.actor.account_id,
                    name=name,
                    shell=shell,
                    parameters=params,
                    body=body,
                    status="built",
                    created_at=now,
                    updated_at=now,
                )
                db.add(tpl)
            else:
                tpl = await self._load_template(db, template_id)
                tpl.name, tpl.shell, tpl.parameters, tpl.body = name, shell, params, body
                tpl.status, tpl.updated_at = "built", now
            await db.flush()
            if tpl.session_id is not None:
                await load_session(db, self.actor, tpl.session_id)
                await bump_state_version(
                    db, self.actor, tpl.session_id, now, audit.TEMPLATE_BUILT, {"template_id": tpl.id}
                )
            return TemplateView.of(tpl)

    async def _load_template(self, db: AsyncSession, template_id: int) -> ScriptTemplate:
        tpl = await db.scalar(
            select(ScriptTemplate).where(
                ScriptTemplate.id == int(template_id), ScriptTemplate.account_id == self.actor.account_id
            )
        )
        if tpl is None:
            raise NotFound(f"Template {template_id} not found")
        return tpl

    async def get_template(self, template_id: int) -> TemplateView:
        async with self.store.read() as db:
            return TemplateView.of(await self._load_template(db, template_id))

    async def list_templates(self) -> list[TemplateView]:
        async with self.store.read() as db:
            rows = (
                await db.scalars(
                    select(ScriptTemplate)
                    .where(ScriptTemplate.account_id == self.actor.account_id)
                    .order_by(func.lower(ScriptTemplate.name))
                )
            ).all()
        return [TemplateView.of(r) for r in rows]
