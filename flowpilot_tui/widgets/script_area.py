"""A TextArea that highlights PowerShell and bash without tree-sitter.

Why: Textual's syntax highlighting needs the optional tree-sitter packages (not installed here) and has no
PowerShell grammar at all. A small line lexer covers what matters when reviewing a script — comments, strings,
variables, commands/cmdlets, keywords, numbers and `{{Parameter}}` placeholders — for both shells, with no
extra dependency. It feeds TextArea's highlight map (byte offsets per line), so selection, scrolling and
editing stay stock Textual (pinned textual==8.2.8).
"""

from __future__ import annotations

import re

from flowpilot_tui.widgets.ordered_keys import OrderedTextArea

_KEYWORDS = {
    "powershell": "if elseif else foreach for while do until switch function param return try catch finally throw "
    "break continue in begin process end trap exit",
    "bash": "if then elif else fi for while until do done case esac in function return exit set local export "
    "break continue select",
}
_TOKEN = {
    shell: re.compile(
        r"(?P<comment>#.*$)"
        r"|(?P<string>'[^']*'?|\"(?:[^\"\\`]|[\\`].)*\"?)"
        r"|(?P<tag>\{\{\s*\w+\s*\}\})"
        r"|(?P<variable>\$\{?[\w:?]+\}?)"
        r"|(?P<cmdlet>\b[A-Z][a-z]+-[A-Z][A-Za-z]+\b)"
        r"|(?P<flag>(?<![\w-])--?[A-Za-z][\w-]*)"
        r"|(?P<number>\b\d+(?:\.\d+)?\b)"
        r"|(?P<word>\b[A-Za-z_][\w-]*\b)",
        re.MULTILINE,
    )
    for shell in _KEYWORDS
}
_KEYWORD_SETS = {shell: frozenset(words.split()) for shell, words in _KEYWORDS.items()}
_STYLE = {
    "comment": "comment",
    "string": "string",
    "tag": "tag",
    "variable": "type.builtin",
    "cmdlet": "function.call",
    "flag": "keyword.operator",
    "number": "number",
}


def tokenize(line: str, shell: str) -> list[tuple[int, int, str]]:
    """(start, end, highlight name) character spans for one line."""
    shell = shell if shell in _TOKEN else "bash"
    keywords = _KEYWORD_SETS[shell]
    spans: list[tuple[int, int, str]] = []
    first_word = True
    for m in _TOKEN[shell].finditer(line):
        kind = m.lastgroup or ""
        if kind == "word":
            word = m.group()
            if word.lower() in keywords:
                spans.append((m.start(), m.end(), "keyword"))
            elif first_word:
                spans.append((m.start(), m.end(), "function.call"))  # the command at the start of a line
            first_word = False
            continue
        if kind == "comment" and shell == "bash" and m.start() > 0 and not line[m.start() - 1].isspace():
            continue  # `a#b` in bash is not a comment
        spans.append((m.start(), m.end(), _STYLE[kind]))
        if kind != "variable":
            first_word = False
    return spans


class ScriptArea(OrderedTextArea):
    """TextArea with the shell lexer (keys act in the order typed); set `shell` ("powershell" | "bash") to switch."""

    def __init__(self, text: str = "", *, shell: str = "bash", **kwargs: object) -> None:
        self._shell = shell
        super().__init__(text, language=None, **kwargs)  # type: ignore[arg-type]

    @property
    def shell(self) -> str:
        return self._shell

    @shell.setter
    def shell(self, value: str) -> None:
        self._shell = value
        self._build_highlight_map()
        self.refresh()

    def _build_highlight_map(self) -> None:
        self._line_cache.clear()
        highlights = self._highlights
        highlights.clear()
        shell = getattr(self, "_shell", "bash")  # TextArea.__init__ builds the map before our __init__ sets it
        for row, line in enumerate(self.document.lines):
            for start, end, name in tokenize(line, shell):
                highlights[row].append((len(line[:start].encode()), len(line[:end].encode()), name))
