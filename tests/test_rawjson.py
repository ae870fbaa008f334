"""`zoomtui.zoom.rawjson`: Zoom's JSON cut from a frame's own text, laid out for a person,
and previews, without parsing it into values and writing those back."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.test_protocol import json_values
from zoomtui.zoom.rawjson import (
    event_text,
    member_span,
    member_text,
    pretty_json,
    preview,
    with_member,
)

_SPACES = st.sampled_from(["", " ", "\n", " \t\r\n "])


@settings(max_examples=300, deadline=None)
@given(
    content=json_values,
    before=st.dictionaries(st.text(max_size=6).filter(lambda k: k != "content"), json_values),
    after=st.dictionaries(st.text(max_size=6).filter(lambda k: k != "content"), json_values),
    space=_SPACES,
)
def test_a_member_is_found_as_it_was_written(
    content: object, before: dict, after: dict, space: str
) -> None:
    """Whatever surrounds it (strings with quotes, brackets and escapes, numbers, nesting),
    the member's text is exactly what the frame wrote."""
    written = json.dumps(content, indent=1 if space else None)
    parts = [f"{json.dumps(k)}:{json.dumps(v)}" for k, v in before.items()]
    parts.append(f'"content"{space}:{space}{written}{space}')
    parts += [f"{json.dumps(k)}:{json.dumps(v)}" for k, v in after.items()]
    frame = "{" + space + ",".join(parts) + "}"
    assert member_text(frame, "content") == written
    assert member_text(frame, "missing") is None


def test_members_of_every_kind_and_escaped_keys() -> None:
    doc = b'{"a": 1 , "b" :true,"c":"x\\"}{","\\u0063ontent":[1,{"d":[]}],"e":null}'
    assert member_text(doc, "a") == "1"
    assert member_text(doc, "b") == "true"
    assert member_text(doc, "c") == '"x\\"}{"'
    assert member_text(doc, "content") == '[1,{"d":[]}]'
    assert member_text(doc, "e") == "null"
    assert member_text(doc, "d") is None  # not a top-level member
    assert member_span(b"[1, 2]", "a") is None
    for junk in ("", "{", '{"content":', '{"content":[1,', "\udcff", '"content":1'):
        assert member_text(junk, "content") in (None, "1")  # never raises


@settings(max_examples=300, deadline=None)
@given(json_values)
def test_pretty_json_lays_out_the_same_tokens_as_the_json_module_would(value: object) -> None:
    assert pretty_json(json.dumps(value)) == json.dumps(value, indent=2)


def test_pretty_json_matches_the_usual_layout_and_keeps_every_digit() -> None:
    text = '{"a":[1,{"b":[]},{}],"big":12345678901234567890123,"s":"x,:{["}'
    assert pretty_json(text) == (
        "{\n"
        '  "a": [\n'
        "    1,\n"
        "    {\n"
        '      "b": []\n'
        "    },\n"
        "    {}\n"
        "  ],\n"
        '  "big": 12345678901234567890123,\n'
        '  "s": "x,:{["\n'
        "}"
    )
    assert pretty_json("[" * 2000 + "]" * 2000).count("\n") == 3998  # no depth limit


def test_event_text_and_an_extra_member() -> None:
    event = '{"event":"x","n":12345678901234567890123}'
    frame = json.dumps({"module": "message", "content": event})
    assert event_text(frame) == event.encode()
    assert event_text(frame.encode()) == event.encode()
    assert with_member(event.encode(), "_at", b'"now"') == event[:-1].encode() + b',"_at":"now"}'
    assert with_member(b"{ }", "k", b"1") == b'{"k":1}'


def test_preview_is_bounded() -> None:
    assert preview("abc", 5) == "abc"
    assert preview("x" * 10, 4) == "xxxx…"
