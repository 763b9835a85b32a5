"""What follows a fix decision: a script for one_off, a draft template, or the template builder.

Why separate from the workspace: it depends on the assistant helper's script service and screens, which may be
absent in a build; every absence degrades to a clear notification instead of an error.
"""

from __future__ import annotations

from typing import Any

from flowpilot_tui.messages import OpenScreen
from flowpilot_tui.safe_text import one_line


def _scripts(services: Any) -> Any:
    try:
        return services.scripts
    except (AttributeError, ImportError):
        return None


async def follow_up(owner: Any, fix_id: int, decision: str) -> str:
    """Run the follow-up service call for `decision`; returns the notification text, posts `OpenScreen` if any."""
    if decision == "dismissed":
        return "Suggestion dismissed"
    scripts = _scripts(owner.services)
    if scripts is None:
        return "Decision recorded; script generation is not available in this build"
    sid = owner.session_id
    if decision == "one_off":
        script = await scripts.one_off(sid, fix_id)
        try:
            from flowpilot_tui.screens.script_viewer import ScriptViewer
        except ImportError:
            return f"One-off script saved ({script.shell}); the script viewer is not available in this build"
        owner.post_message(OpenScreen(ScriptViewer(script)))
        return f"One-off {script.shell} script ready — review it before running it anywhere"
    template = await scripts.save_draft_template(sid, fix_id)
    if decision == "draft_template":
        return f"Draft template saved: {one_line(template.name, 80)}"
    try:
        from flowpilot_tui.screens.template_builder import TemplateBuilder
    except ImportError:
        return (
            f"Draft template saved: {one_line(template.name, 80)} (the template builder is not available in this build)"
        )
    owner.post_message(OpenScreen(TemplateBuilder(owner.services, template)))
    return "Template builder opened"
