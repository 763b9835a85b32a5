"""FlowPilot TUI: troubleshoot helpdesk tickets with an assistant, then resolve or escalate with verified PSA writeback.

Kept import-free on purpose: `flowpilot --help` and `--version` must not pull in Textual, SQLAlchemy or anthropic.
"""

__version__ = "0.1.0"
