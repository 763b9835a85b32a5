"""Flag destructive commands in a script before the engineer copies it.

Line-based and deliberately broad: a false alarm costs a glance, a miss can cost a customer's data. Full-line
comments are skipped (the offline template repeats each step as a comment), everything else is checked,
case-insensitively, for PowerShell, cmd and bash forms.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Flag:
    line_no: int  # 1-based
    command: str  # the flagged line, stripped
    reason: str


_RULES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(p, re.IGNORECASE), reason)
    for p, reason in (
        (r"\b(?:Remove-Item|rm|ri|del|erase|rd|rmdir)\b[^\n]*\s-Recurse\b", "deletes a folder tree recursively"),
        (r"\bRemove-Item\b[^\n]*\b(?:HKLM|HKCU|HKCR|HKU|Registry)::?", "deletes registry keys"),
        (r"\b(?:Format-Volume|Clear-Disk|Initialize-Disk|Remove-Partition)\b", "erases a disk or volume"),
        (r"^\s*format(?:\.com)?\s+[a-z]:", "formats a drive"),
        (r"\bdiskpart\b", "runs diskpart (can wipe disks)"),
        (r"\brm\s+(?:-[a-z]*r[a-z]*|--recursive)\b", "deletes files recursively (rm -r/-rf)"),
        (r"\b(?:del|erase)\b[^\n]*\s/s\b", "deletes files in all subfolders (del /s)"),
        (r"\b(?:rd|rmdir)\b[^\n]*\s/s\b", "deletes a folder tree (rmdir /s)"),
        (r"\breg(?:\.exe)?\s+delete\b", "deletes registry keys or values"),
        (r"\bRemove-ItemProperty\b", "deletes registry values"),
        (r"\b(?:Stop-Computer|Restart-Computer)\b", "shuts down or restarts the machine"),
        (r"(?<![\w.-])shutdown(?:\.exe)?(?![\w.-])", "shuts down or restarts the machine"),
        (r"^\s*(?:sudo\s+)?(?:reboot|poweroff|halt)\b", "shuts down or restarts the machine"),
        (r"\bmkfs(?:\.\w+)?\b", "creates a filesystem (erases the device)"),
        (r"\bdd\b[^\n]*\bof=/dev/", "writes raw data to a device"),
        (r"\bvssadmin\b[^\n]*\bdelete\b", "deletes volume shadow copies (backups)"),
        (r"\bwbadmin\b[^\n]*\bdelete\b", "deletes backups"),
        (r"\bcipher(?:\.exe)?\s+/w\b", "wipes free disk space"),
        (r"\bbcdedit\b[^\n]*\s/delete\b", "changes boot configuration"),
        (r"\b(?:Clear-EventLog|wevtutil(?:\.exe)?\s+cl)\b", "clears event logs"),
        (
            r"\b(?:Remove-ADUser|Remove-ADComputer|Remove-ADGroup|Remove-Mailbox|Remove-LocalUser)\b",
            "deletes accounts or mailboxes",
        ),
        (r"\bSet-ExecutionPolicy\b[^\n]*\b(?:Unrestricted|Bypass)\b", "lowers the script execution policy"),
    )
)
_COMMENT = re.compile(r"^\s*(?:#(?!!)|rem\s|::|//)", re.IGNORECASE)


def destructive_flags(body: str) -> list[Flag]:
    """One flag per line (the first matching reason), in line order."""
    flags: list[Flag] = []
    for line_no, line in enumerate(body.splitlines(), 1):
        if not line.strip() or _COMMENT.match(line):
            continue
        for pattern, reason in _RULES:
            if pattern.search(line):
                flags.append(Flag(line_no, line.strip()[:200], reason))
                break
    return flags
