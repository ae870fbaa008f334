"""Zoom's JSON as Zoom wrote it: the event's own text out of a frame, pretty-printed or cut
short for a person, without turning it into Python values and writing those back.

Writing Zoom's data back out is what breaks on hostile input: orjson reads 1,024 levels of
nesting but writes only 254 (`TypeError: Recursion limit reached`), and it reads an
integer beyond 64 bits as a float (`12345678901234567890123` comes back as
`1.2345678901234568e+22`).  So what zoomtui prints, exports or copies of a frame is cut
from the frame's own bytes:

- `event_text`: the event object as Zoom sent it: the ``content`` string unescaped once
  (what Zoom sends), or the raw text of a ``content`` object;
- `member_text`: the raw text of any top-level member of a frame (a notice's content);
- `pretty_json`: JSON text re-indented token by token (a copy for a person);
- `preview`: text cut to a length a message can hold.

Everything here works on text with a tokenizer and a depth counter (no recursion), and
`member_text` and `preview` never raise.
"""

from __future__ import annotations

import re

import orjson

#: a JSON string, or one of the characters that give a document its structure
_STRUCTURE = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"|[{}\[\]:,]', re.DOTALL)
#: the same, plus every other run that is neither a string nor white space (numbers, literals)
_TOKENS = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[{}\[\]:,]|[^"{}\[\]:,\s]+', re.DOTALL)
_OPEN, _CLOSE, _COLON, _COMMA, _QUOTE = b"{[", b"}]", ord(":"), ord(","), ord('"')

#: how much of Zoom's text goes into a message (a state reason, a notice)
PREVIEW_CHARS = 240


def _utf8(doc: str | bytes) -> bytes:
    return doc if isinstance(doc, bytes) else doc.encode("utf-8", "surrogatepass")


def member_span(doc: bytes, key: str) -> tuple[int, int] | None:
    """Where the value of the top-level member `key` of the JSON object `doc` is (start,
    end), white space trimmed; the last one when the key repeats, as a parser keeps the
    last.  None when there is no such member (or `doc` is not an object)."""
    depth = 0
    found: tuple[int, int] | None = None
    pending: bytes | None = None  # the last string seen at depth 1 (a key, once ':' follows)
    value_from = -1  # where the value of `key` starts (after its ':'); -1: not in one
    container_from = -1  # where that value's object or array opened
    for m in _STRUCTURE.finditer(doc):
        c = doc[m.start()]
        if c == _QUOTE:
            if depth == 1:
                if value_from >= 0:  # the value of `key` is a string
                    found, value_from = m.span(), -1
                else:
                    pending = m.group()
            continue
        if c in _OPEN:
            if depth == 1 and value_from >= 0:
                container_from, value_from = m.start(), -1
            depth += 1
        elif c in _CLOSE:
            depth -= 1
            if depth == 1 and container_from >= 0:
                found, container_from = (container_from, m.end()), -1
            elif depth == 0 and value_from >= 0:  # a number or a literal, last member
                found, value_from = _trimmed(doc, value_from, m.start()), -1
        elif depth == 1:
            if c == _COLON:
                if pending is not None and _is_key(pending, key):
                    value_from = m.end()
                pending = None
            elif c == _COMMA and value_from >= 0:  # a number or a literal
                found, value_from = _trimmed(doc, value_from, m.start()), -1
    return found


def _is_key(token: bytes, key: str) -> bool:
    if token[1:-1] == key.encode():  # the common case: no escapes
        return True
    if b"\\" not in token:
        return False
    try:
        return bool(orjson.loads(token) == key)
    except orjson.JSONDecodeError:
        return False


def _trimmed(doc: bytes, start: int, end: int) -> tuple[int, int]:
    while start < end and doc[start] in b" \t\r\n":
        start += 1
    while end > start and doc[end - 1] in b" \t\r\n":
        end -= 1
    return start, end


def member_text(doc: str | bytes, key: str) -> str | None:
    """The raw text of the top-level member `key` of a frame (None: none there). Never raises."""
    try:
        data = _utf8(doc)
        span = member_span(data, key)
        if span is None:
            return None
        return data[span[0] : span[1]].decode("utf-8", "replace")
    except Exception:  # hostile input must not break a message: the caller says less
        return None


def event_text(frame: str | bytes) -> bytes:
    """The event object of a ``message`` frame as Zoom sent it, as UTF-8 on one line.

    Zoom sends the event as a JSON string in ``content``: that string, unescaped once, is
    the event's own text.  A ``content`` object (some senders) is cut from the frame as it
    stands.  Line breaks between tokens (pretty-printed content) become spaces, so the text
    is one line; JSON allows no raw line break inside a string.  Raises `ValueError` for a
    frame that holds no event object (never one a `ZoomEvent` came from).
    """
    data = _utf8(frame)
    content = orjson.loads(data).get("content")
    if content.__class__ is str:
        text = content.encode("utf-8", "surrogatepass")
    else:
        span = member_span(data, "content")
        if span is None or not isinstance(content, dict):
            raise ValueError("the frame holds no event object")
        text = data[span[0] : span[1]]
    text = text.strip(b" \t\r\n")
    if not (text.startswith(b"{") and text.endswith(b"}")):
        raise ValueError("the frame holds no event object")
    if b"\n" in text or b"\r" in text:
        text = text.replace(b"\r\n", b" ").replace(b"\n", b" ").replace(b"\r", b" ")
    return text


def with_member(obj_text: bytes, key: str, value_json: bytes) -> bytes:
    """`obj_text` (a JSON object's text) with one more member at its end."""
    body = obj_text.rstrip()[:-1].rstrip()  # without its closing brace
    sep = b"" if body.endswith(b"{") else b","
    return body + sep + orjson.dumps(key) + b":" + value_json + b"}"


def pretty_json(text: str, indent: str = "  ") -> str:
    """JSON text laid out one member per line, indented by depth, its tokens as they were
    (numbers keep every digit; no depth limit).  Anything that is not JSON is laid out
    as far as its tokens go."""
    out: list[str] = []
    put = out.append
    depth = 0
    tokens = _TOKENS.findall(text)
    i, n = 0, len(tokens)
    while i < n:
        t = tokens[i]
        if t == "{" or t == "[":
            if i + 1 < n and tokens[i + 1] == ("}" if t == "{" else "]"):
                put(t + tokens[i + 1])  # an empty one stays on its line
                i += 2
                continue
            depth += 1
            put(t + "\n" + indent * depth)
        elif t == "}" or t == "]":
            depth = max(0, depth - 1)
            put("\n" + indent * depth + t)
        elif t == ",":
            put(",\n" + indent * depth)
        elif t == ":":
            put(": ")
        else:
            put(t)
        i += 1
    return "".join(out)


def preview(text: str, limit: int = PREVIEW_CHARS) -> str:
    """`text` cut to `limit` characters, with an ellipsis when it was longer."""
    return text if len(text) <= limit else text[:limit] + "…"
