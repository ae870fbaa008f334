"""Text from Zoom (or a token endpoint, or a server's close reason), made safe for a
terminal: every control character shown as a visible symbol, never sent raw.

Anyone in a meeting chooses their own display name, so a name or a topic may hold
``\\x1b]0;PWN\\x07`` (sets the window title), ``\\x1b[2J`` (clears the screen), a colour, a
bell, or U+202E (turns the rest of the line right to left).  Written raw, they act on the
terminal of whoever runs zoomtui.  Every human-facing output goes through here: the TUI,
`tail`'s lines on stdout, every note on stderr, `doctor` and `status`.

- C0 controls and DEL become their Unicode control pictures (ESC: ␛, newline: ␊);
- C1 controls (U+0080 to U+009F: one byte CSI, OSC ... in some terminals) and the
  characters that reorder or break lines (bidi embeddings, overrides and isolates, the
  marks, the line and paragraph separators) become ``<U+202E>``.

Machine-readable output (`tail --json`, `export`) stays the bytes Zoom sent: JSON escapes
every control character anyway.
"""

from __future__ import annotations

_PICTURES: dict[int, str] = {c: chr(0x2400 + c) for c in range(32)} | {0x7F: "\u2421"}
_NAMED: dict[int, str] = {
    c: f"<U+{c:04X}>"
    for c in (
        *range(0x80, 0xA0),  # C1 controls
        0x061C,  # Arabic letter mark
        0x200E,  # left-to-right mark
        0x200F,  # right-to-left mark
        *range(0x202A, 0x202F),  # embeddings, pops and overrides (U+202E: RLO)
        *range(0x2066, 0x206A),  # isolates
        0x2028,  # line separator
        0x2029,  # paragraph separator
    )
}
_VISIBLE = str.maketrans(_PICTURES | _NAMED)
_VISIBLE_KEEP_NEWLINES = str.maketrans(_PICTURES | _NAMED | {0x0A: "\n"})


def visible_text(value: str) -> str:
    """`value` with every control character shown as a symbol: one terminal line."""
    return value.translate(_VISIBLE)


def visible_lines(text: str) -> str:
    """The same, except that a line break stays one: for a message of several lines (ours)
    that holds someone else's text.  No escape sequence, bell or bidi control gets out."""
    return text.translate(_VISIBLE_KEEP_NEWLINES)
