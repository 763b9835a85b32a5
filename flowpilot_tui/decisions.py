"""What follows a fix decision, as data: a one-off script, a draft template (maybe for the builder), or nothing.

Why data and not screens: the decision runs in a worker; the workspace that receives the `FollowUp` picks the modal
(script viewer, template builder). No Textual here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from flowpilot_tui.safe_text import one_line

if TYPE_CHECKING:
    from flowpilot_tui.services.scripts import ScriptService, ScriptView, TemplateView


@dataclass(frozen=True)
class FollowUp:
    """The notification text and what to open next (at most one of `script` / `template`)."""

    message: str
    script: ScriptView | None = None
    template: TemplateView | None = None  # set only for build_template: open the builder on it


async def follow_up(scripts: ScriptService, session_id: str, fix_id: int, decision: str) -> FollowUp:
    """Run the service call that follows a recorded `decision`."""
    if decision == "dismissed":
        return FollowUp("Suggestion dismissed")
    if decision == "one_off":
        script = await scripts.one_off(session_id, fix_id)
        return FollowUp(f"One-off {script.shell} script ready — review it before running it anywhere", script=script)
    template = await scripts.save_draft_template(session_id, fix_id)
    if decision == "draft_template":
        return FollowUp(f"Draft template saved: {one_line(template.name, 80)}")
    return FollowUp("Template builder opened", template=template)
