"""Resolution notes and escalation packages from a session: offline template by default, Claude when configured.

Kept import-light: import the submodules you need (`generation.service`, `generation.offline`, ...).
"""
