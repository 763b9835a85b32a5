"""Persistent preview cache in the `preview_cache` table.

Keyed by (session, kind, state_version, generator key). Every fact/fix/decision/script write bumps
state_version, so a stale entry can never be served; old versions are evicted so the table stays bounded.
Only secret-free data is stored: the markdown is built from redacted text and the redacted originals are not
persisted (they are recomputed from the session when needed).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from flowpilot_tui.services.generation.types import FlaggedItem, GeneratedPreview, PreviewKind, Usage
from flowpilot_tui.services.models import PreviewCache

KEEP_STATE_VERSIONS = 3


async def load(
    db: AsyncSession,
    session_id: str,
    kind: PreviewKind,
    state_version: int,
    generator_key: str,
) -> GeneratedPreview | None:
    row = await db.scalar(
        select(PreviewCache).where(
            PreviewCache.session_id == session_id,
            PreviewCache.kind == kind,
            PreviewCache.state_version == state_version,
            PreviewCache.generator_key == generator_key,
        )
    )
    if row is None:
        return None
    p = row.payload or {}
    return GeneratedPreview(
        kind=kind,
        markdown=row.markdown,
        generator="claude" if row.generator == "claude" else "offline",
        model=row.model,
        template_version=p.get("template_version", ""),
        usage=Usage(**p.get("usage", {})),
        redaction_count=int(p.get("redaction_count", 0)),
        flagged_items=[FlaggedItem(**f) for f in p.get("flagged_items", [])],
        fallback_reason=p.get("fallback_reason"),
        facts_left_out=int(p.get("facts_left_out", 0)),
        request_id=p.get("request_id"),
        from_cache=True,
        state_version=row.state_version,
        created_at=row.created_at,
    )


async def store(
    db: AsyncSession,
    session_id: str,
    generator_key: str,
    preview: GeneratedPreview,
    now: datetime,
    *,
    keep: int = KEEP_STATE_VERSIONS,
) -> None:
    """Insert or replace the entry for this key, then evict all but the newest `keep` state_versions."""
    await db.execute(
        delete(PreviewCache).where(
            PreviewCache.session_id == session_id,
            PreviewCache.kind == preview.kind,
            PreviewCache.state_version == preview.state_version,
            PreviewCache.generator_key == generator_key,
        )
    )
    db.add(
        PreviewCache(
            session_id=session_id,
            kind=preview.kind,
            state_version=preview.state_version,
            generator_key=generator_key,
            generator=preview.generator,
            model=preview.model,
            markdown=preview.markdown,
            created_at=now,
            payload={
                "template_version": preview.template_version,
                "usage": preview.usage.model_dump(),
                "redaction_count": preview.redaction_count,
                "flagged_items": [f.model_dump() for f in preview.flagged_items],
                "fallback_reason": preview.fallback_reason,
                "facts_left_out": preview.facts_left_out,
                "request_id": preview.request_id,
            },
        )
    )
    await db.flush()
    newest = (
        select(PreviewCache.state_version)
        .where(PreviewCache.session_id == session_id)
        .distinct()
        .order_by(PreviewCache.state_version.desc())
        .limit(keep)
    )
    await db.execute(
        delete(PreviewCache).where(
            PreviewCache.session_id == session_id,
            PreviewCache.state_version.not_in(newest),
        )
    )
