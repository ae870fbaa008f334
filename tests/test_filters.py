"""The filter language: parsing, errors a user understands, matching real events and other rows."""

from __future__ import annotations

import fnmatch
import json
import re

import pytest
from _zoom_events import SAMPLES, SAMPLES_MISSING, T0, joined, left, parse, started
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from zoomtui.monitor.eventlog import EventLog, GapRow, StateRow
from zoomtui.monitor.filters import (
    Filter,
    FilterError,
    Term,
    compile_filter,
    filter_for_meeting,
    filter_for_participant,
    filter_for_type,
    quote_value,
)
from zoomtui.zoom.protocol import (
    Envelope,
    MalformedFrame,
    ZoomEvent,
    envelope_frame,
    family_of,
    message_frame,
    parse_frame,
)
from zoomtui.zoom.updates import ConnectionState, Gap, Notice, StateChanged


def _terms(text: str) -> list[tuple[str | None, str, bool]]:
    return [(t.field, t.value, t.negated) for t in compile_filter(text).terms]


def _error(text: str) -> FilterError:
    with pytest.raises(FilterError) as info:
        compile_filter(text)
    return info.value


ANA = joined("ana", 10, topic="Weekly [sync]")
BO_LEFT = left(
    {"user_name": "Bo Berg", "participant_uuid": "PU-Bo", "email": "bo@corp.example"},
    20,
    topic="Design review",
    mid="93456789012",
    uuid="XyZ/abc+def==",
)
WEBINAR_JOIN = joined("cy", 30, kind="webinar", topic="All hands", mid=1234567890, uuid="WeB1==")
STARTED = started(0, topic="Weekly [sync]")
USER_UPDATED = parse(
    {
        "event": "user.updated",
        "event_ts": 1706123456789,
        "payload": {"object": {"id": "u1", "email": "dee@example.com"}},
    }
)
EVENTS = [ANA, BO_LEFT, WEBINAR_JOIN, STARTED, USER_UPDATED]


def _names(text: str, rows: list | None = None) -> list[str]:
    flt = compile_filter(text)
    return [
        getattr(r, "participant_name", None) or r.name for r in (rows or EVENTS) if flt.matches(r)
    ]


# --- parsing ---------------------------------------------------------------------------------


def test_empty_and_blank_match_everything() -> None:
    for text in ("", "   ", "\t\n"):
        flt = compile_filter(text)
        assert flt.is_empty and flt.describe() == ""
        assert all(flt.matches(e) for e in EVENTS)
        assert flt.matches(GapRow(1.0, 2.0)) and flt.matches(object())


def test_terms_fields_aliases_and_case() -> None:
    assert _terms('Ana "Two  Words" TYPE:Meeting.* event:x.y Meeting:123 user:Bo family:web*') == [
        (None, "ana", False),
        (None, "two  words", False),
        ("type", "meeting.*", False),
        ("type", "x.y", False),
        ("meeting", "123", False),
        ("user", "bo", False),
        ("family", "web*", False),
    ]


def test_negation_of_every_kind_of_term() -> None:
    assert _terms('-ana -"a b" -type:*.qos -user:"Bo Berg"') == [
        (None, "ana", True),
        (None, "a b", True),
        ("type", "*.qos", True),
        ("user", "bo berg", True),
    ]


def test_quotes_escapes_and_joined_runs() -> None:
    assert _terms(r'"say \"hi\"" user:"O\\Brien" ab"c d"e') == [
        (None, 'say "hi"', False),
        ("user", "o\\brien", False),
        (None, "abc de", False),
    ]
    # outside quotes a backslash is just a character
    assert _terms(r"a\b") == [(None, "a\\b", False)]


def test_text_that_only_looks_like_a_field() -> None:
    # digits before ':' (a time, a port) are text; a quoted field is text
    assert _terms('14:03 "usr:x" type:a:b') == [
        (None, "14:03", False),
        (None, "usr:x", False),
        ("type", "a:b", False),
    ]


def test_positions_are_recorded() -> None:
    assert [t.position for t in compile_filter("  ana  -type:x 'q'").terms] == [2, 7, 15]


@pytest.mark.parametrize(
    ("text", "message", "position"),
    [
        (
            "usr:ana",
            "unknown field 'usr:' — fields are type:, event:, meeting:, user:, family:, sub: "
            "(did you mean user:?)",
            0,
        ),
        ("ana  foo:bar", "unknown field 'foo:'", 5),
        ('ana "bo', "unclosed quote", 4),
        ('user:"bo', "unclosed quote", 5),
        ("type:", "empty value after 'type:'", 5),
        ("type: meeting.started", "empty value after 'type:'", 5),
        ("-event: x", "empty value after 'event:'", 7),
        ('meeting:""', "empty value after 'meeting:'", 0),
        ('""', "empty value in quotes", 0),
        ("ana -", "'-' needs a term after it", 4),
        ("- ana", "'-' needs a term after it", 0),
        ("--ana", "two '-' in a row", 1),
    ],
)
def test_errors_say_what_is_wrong_and_where(text: str, message: str, position: int) -> None:
    err = _error(text)
    assert message in err.message, err.message
    assert str(err) == err.message
    assert err.position == position
    assert isinstance(err, ValueError)


def test_unknown_field_without_a_close_match_says_how_to_search_text() -> None:
    err = _error("https://example.com")
    assert "unknown field 'https:'" in err.message and 'quote it: "https:..."' in err.message


def test_not_text_is_a_filter_error() -> None:
    with pytest.raises(FilterError):
        compile_filter(None)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "message", "position"),
    [
        ("type:" + "[" * 10_000, "a filter is at most 2000 characters", 2000),
        ("type:" + "[" * 1_000, "a type: or family: pattern is at most 200 characters", 0),
        ("ana family:" + "[" * 201, "a type: or family: pattern is at most 200 characters", 4),
        ('-type:"' + "*[" * 101 + '"', "a type: or family: pattern is at most 200 characters", 0),
        ("ana " * 600, "a filter is at most 2000 characters", 2000),
    ],
    ids=["10,000 [", "1,000 [", "family: 201 [", "quoted and negated", "2,400 characters"],
)
def test_pathological_filters_are_refused_with_a_clear_error(
    text: str, message: str, position: int
) -> None:
    """Before: `type:` and 10,000 `[` took 2.6 s to compile (50,000: 48 s), freezing the TUI."""
    err = _error(text)
    assert message in err.message, err.message
    assert err.position == position


def test_glob_compile_work_is_bounded_by_the_pattern_limit(monkeypatch) -> None:
    """The costly step (fnmatch.translate, quadratic in `[`) only ever sees a short pattern,
    and a filter holds a bounded number of them."""
    from zoomtui.monitor import filters as filters_module

    seen: list[int] = []
    translate = fnmatch.translate

    def recording(pattern: str) -> str:
        seen.append(len(pattern))
        return translate(pattern)

    monkeypatch.setattr(filters_module.fnmatch, "translate", recording)
    longest = "type:" + "[" * filters_module.MAX_GLOB_CHARS
    compile_filter(longest)
    compile_filter(" ".join([longest[:120]] * 16))
    assert seen and max(seen) <= filters_module.MAX_GLOB_CHARS
    assert filters_module.MAX_FILTER_CHARS // len("type:x ") * filters_module.MAX_GLOB_CHARS < 10**5
    with pytest.raises(FilterError):
        compile_filter("type:" + "[" * (filters_module.MAX_GLOB_CHARS + 1))
    with pytest.raises(FilterError):
        compile_filter("x" * (filters_module.MAX_FILTER_CHARS + 1))


# --- matching events -------------------------------------------------------------------------


def test_free_text_searches_name_topic_ids_person() -> None:
    assert _names("ana") == ["Ana"]
    assert _names("ANA@EXAMPLE") == ["Ana"]
    assert _names("design") == ["Bo Berg"]
    assert _names("93456789012") == ["Bo Berg"]  # meeting id
    assert _names("xyz/abc") == ["Bo Berg"]  # uuid, case-insensitive
    assert _names("user.updated") == ["user.updated"]
    assert _names("[sync]") == ["Ana", "meeting.started"]  # brackets are text, not markup
    assert _names("weekly sync") == ["Ana", "meeting.started"]  # each word somewhere...
    assert _names('"weekly sync"') == []  # ...but a quoted phrase as it is written
    assert _names('"weekly [sync]"') == ["Ana", "meeting.started"]
    assert _names("weekly design") == []  # every term must match


def test_free_text_does_not_span_fields() -> None:
    # search_text joins fields with \x00, so a phrase never matches across two of them
    assert _names('"sync] ana"') == []


def test_type_is_a_glob_on_the_event_name() -> None:
    assert _names("type:meeting.participant_*") == ["Ana", "Bo Berg"]
    assert _names("type:*.participant_joined") == ["Ana", "Cy"]
    assert _names("event:meeting.started") == ["meeting.started"]
    assert _names("type:meeting.start") == []  # no wildcard: the whole name
    assert _names("type:MEETING.STARTED") == ["meeting.started"]
    assert _names("type:*joined") == ["Ana", "Cy"]
    assert _names("type:meeting.participant_[jl]*") == ["Ana", "Bo Berg"]


def test_type_without_family_matches_both_families() -> None:
    assert _names("type:participant_joined") == ["Ana", "Cy"]
    assert _names("type:participant_*") == ["Ana", "Bo Berg", "Cy"]
    assert _names("type:updated") == ["user.updated"]


def test_family() -> None:
    assert _names("family:webinar") == ["Cy"]
    assert _names("family:meeting") == ["Ana", "Bo Berg", "meeting.started"]
    assert _names("-family:meeting") == ["Cy", "user.updated"]
    assert _names("family:m*") == ["Ana", "Bo Berg", "meeting.started"]


def test_meeting_by_id_uuid_or_topic() -> None:
    assert _names("meeting:85746352415") == ["Ana", "meeting.started"]
    assert _names('meeting:"857 4635 2415"') == ["Ana", "meeting.started"]  # as Zoom displays it
    assert _names("meeting:857-4635-2415") == ["Ana", "meeting.started"]
    assert _names("meeting:5746352415") == []  # an id is exact: no match inside a longer id
    assert _names("meeting:1234567890") == ["Cy"]  # a number on the wire, a str in the event
    assert _names("meeting:xyz/abc+def==") == ["Bo Berg"]
    assert _names("meeting:XYZ/ABC") == ["Bo Berg"]
    assert _names("meeting:design") == ["Bo Berg"]
    assert _names('meeting:"weekly [sync]"') == ["Ana", "meeting.started"]
    assert _names("meeting:ana") == []  # a person is not a meeting


def test_meeting_digits_also_search_the_topic() -> None:
    ev = joined("ana", 1, topic="Incident 4711 bridge")
    assert compile_filter("meeting:4711").matches(ev)
    assert not compile_filter("meeting:4712").matches(ev)


def test_user_by_name_email_or_participant_key() -> None:
    assert _names("user:ana") == ["Ana"]
    assert _names('user:"bo berg"') == ["Bo Berg"]
    assert _names("user:corp.example") == ["Bo Berg"]
    assert _names("user:pu-bo") == ["Bo Berg"]  # participant_key
    assert _names("user:weekly") == []  # a topic is not a person
    # user.updated has no participant: its subject (object.email) is the person it is about
    assert _names("user:dee") == ["user.updated"]


JILL = parse(
    {
        "event": "user.created",
        "event_ts": 1706123456789,
        "payload": {
            "account_id": "A1",
            "operator": "admin@example.com",
            "object": {
                "id": "KdYKjnimT4KPd8FFgQt9FQ",
                "first_name": "Jill",
                "last_name": "Chill",
                "email": "jchill@example.com",
                "type": 1,
            },
        },
    }
)


def test_user_and_free_words_find_the_subject_of_a_user_event() -> None:
    rows = [*EVENTS, JILL]
    for text in ("user:jchill@example.com", "jchill", "user:jchill", 'user:"jill chill"'):
        assert _names(text, rows) == ["user.created"], text
    assert _names("-user:jchill", rows) == [
        "Ana",
        "Bo Berg",
        "Cy",
        "meeting.started",
        "user.updated",
    ]
    assert _names("meeting:jchill", rows) == []  # a person is not a meeting
    assert _names("user:admin", rows) == []  # the operator did it; it is not about them


def test_type_matches_an_event_name_sent_with_a_trailing_space() -> None:
    ev = parse({"event": "user.updated ", "event_ts": 1, "payload": {"object": {"id": "u"}}})
    for text in ("type:user.updated", "type:updated", "family:user", "-type:*_created"):
        assert compile_filter(text).matches(ev), text
    assert compile_filter(filter_for_type(ev)).matches(ev)


def test_negation_and_conjunction() -> None:
    assert _names("-user:ana type:*joined") == ["Cy"]
    assert _names("-ana -bo -cy") == ["meeting.started", "user.updated"]
    assert _names("type:meeting.* -type:meeting.started") == ["Ana", "Bo Berg"]
    assert _names('-"weekly [sync]" -meeting:1234567890') == ["Bo Berg", "user.updated"]


def test_matches_event_agrees_with_matches() -> None:
    for text in ("ana", "type:*joined -user:ana", "", "meeting:design bo"):
        flt = compile_filter(text)
        assert [flt.matches_event(e) for e in EVENTS] == [flt.matches(e) for e in EVENTS]


def test_a_released_event_still_matches() -> None:
    ev = joined("ana", 1)
    ev.release()  # the event log keeps events released: filters must not need the body
    assert compile_filter("user:ana type:*joined meeting:weekly").matches(ev)


# --- rows that are not events ----------------------------------------------------------------


def test_malformed_frames_match_type_and_their_reason_or_preview() -> None:
    bad = parse_frame('{"module": "message", "content": "{oops"}', T0)
    binary = parse_frame(b"\x00\x01", T0)
    assert isinstance(bad, MalformedFrame) and isinstance(binary, MalformedFrame)
    assert compile_filter("type:malformed").matches(bad)
    assert compile_filter("not json").matches(bad)  # the reason
    assert compile_filter("oops").matches(bad)  # the preview
    assert compile_filter("binary").matches(binary) and not compile_filter("binary").matches(bad)
    assert not compile_filter("type:meeting.*").matches(bad)
    assert not compile_filter("user:x").matches(bad)
    assert not compile_filter("meeting:1").matches(bad)
    assert compile_filter("-user:x").matches(bad) and compile_filter("-type:gap").matches(bad)
    assert compile_filter("family:malformed").matches(bad)


def test_gap_state_and_notice_rows() -> None:
    rows = [
        GapRow(T0, T0 + 7, "server closed 1006"),
        Gap(T0, T0 + 7, "no heartbeat answer"),
        StateRow("connected", "token refreshed", T0),
        StateChanged(
            ConnectionState.RECONNECTING, ConnectionState.CONNECTED, "server closed 1011", T0
        ),
    ]
    env = parse_frame(envelope_frame("surprise", True, "hello there"), T0)
    assert isinstance(env, Envelope)
    rows += [Notice(env, "unknown module 'surprise'"), env]

    def hits(text: str) -> str:
        return "".join("x" if compile_filter(text).matches(r) else "." for r in rows)

    assert hits("type:gap") == "xx...."
    assert hits("type:state") == "..xx.."
    assert hits("type:notice") == "....xx"
    assert hits("1006") == "x....."
    assert compile_filter("reconnecting").matches(rows[3])
    assert compile_filter("surprise").matches(rows[4]) and compile_filter("hello").matches(rows[5])


def test_rows_may_describe_themselves() -> None:
    class Custom:
        filter_name = "custom.row"
        filter_text = "Something Happened"

    assert compile_filter("type:custom.* happened").matches(Custom())
    assert compile_filter("type:object").matches(object())  # anything else: its class name


def test_select_and_event_log_integration() -> None:
    log = EventLog(limit=100)
    bad = parse_frame("{nope", T0)
    log.extend([*EVENTS, bad, GapRow(T0, T0 + 1, "cut")])
    log.set_filter(compile_filter("type:*joined"))
    assert [r.participant_name for r in log if isinstance(r, ZoomEvent)] == ["Ana", "Cy"]
    assert compile_filter("type:malformed").select([*EVENTS, bad]) == [bad]


# --- describe, quoting and quick filters -----------------------------------------------------


def test_describe_is_canonical() -> None:
    flt = compile_filter('  Ana   EVENT:Meeting.*  -user:"Bo  Berg" meeting:"x""y" "-x" "type:a" ')
    assert flt.describe() == 'ana type:meeting.* -user:"bo  berg" meeting:xy "-x" "type:a"'
    assert compile_filter(flt.describe()) == flt
    assert repr(flt) == f"Filter({flt.describe()!r})"
    assert len({flt, compile_filter(flt.describe())}) == 1


@pytest.mark.parametrize(
    "value",
    ["plain", "two words", 'say "hi"', "back\\slash", '\\"', "-dash", "type:x", "a\tb", "ü"],
)
def test_quote_value_round_trips(value: str) -> None:
    for bare in (True, False):
        text = quote_value(value, bare=bare) if bare else "user:" + quote_value(value)
        (term,) = compile_filter(text).terms
        assert term.value == value.lower()


def test_quick_filters_from_a_selected_event() -> None:
    assert filter_for_meeting(ANA) == f"meeting:{ANA.meeting_uuid}"
    assert filter_for_participant(ANA) == "user:PU-ana"
    assert filter_for_type(ANA) == "type:meeting.participant_joined"
    assert filter_for_meeting(USER_UPDATED) is None
    assert filter_for_participant(USER_UPDATED) is None
    updated = parse(
        {"event": "meeting.updated", "event_ts": 1, "payload": {"object": {"id": 94890226305}}}
    )
    assert filter_for_meeting(updated) == "meeting:94890226305"
    bad = parse_frame("{nope", T0)
    assert filter_for_type(bad) == "type:malformed"
    assert filter_for_type(GapRow(T0, T0 + 1)) == "type:gap"


def test_quick_filters_quote_names_and_find_their_own_event() -> None:
    odd = joined(
        {"user_name": 'Ana "Nan" Lima', "email": None},
        5,
        topic='He said "go"',
        uuid='we ird"uuid==',
    )
    assert filter_for_participant(odd) == r'user:"Ana \"Nan\" Lima"'  # no key, no email: the name
    for text in (filter_for_meeting(odd), filter_for_participant(odd), filter_for_type(odd)):
        assert text is not None
        flt = compile_filter(text)
        assert flt.matches(odd), text
        assert not flt.matches(WEBINAR_JOIN) or text.startswith("type:"), text


def test_term_describe() -> None:
    assert Term(None, "a b", True).describe() == '-"a b"'
    assert Term("user", "x", False).describe() == "user:x"


# --- every Zoom sample ----------------------------------------------------------------------

SAMPLE_FILTERS = [
    "type:meeting.participant_* -user:jill",
    "family:webinar",
    "meeting:1234567890",
    "meeting:my",
    "user:jill",
    "jill -type:*qos*",
    "type:malformed",
]


def test_every_sample_filters_without_raising_and_finds_itself() -> None:
    if not SAMPLES.is_dir():
        pytest.skip(SAMPLES_MISSING)
    flts = [compile_filter(t) for t in SAMPLE_FILTERS]
    counts = dict.fromkeys(SAMPLE_FILTERS, 0)
    for f in sorted(SAMPLES.glob("*.json")):
        row = parse_frame(message_frame(f.read_text(encoding="utf-8")), T0)
        for text, flt in zip(SAMPLE_FILTERS, flts, strict=True):
            if flt.matches(row):
                counts[text] += 1
        if isinstance(row, ZoomEvent):
            for quick in (
                filter_for_meeting(row),
                filter_for_participant(row),
                filter_for_type(row),
            ):
                if quick is not None:
                    assert compile_filter(quick).matches(row), (f.name, quick)
        else:
            assert compile_filter("type:malformed").matches(row)
    assert counts["type:malformed"] == 16  # the samples that are not JSON as published
    assert counts["family:webinar"] >= 25
    assert counts["user:jill"] >= 20
    assert counts["meeting:1234567890"] >= 40


def test_the_samples_user_created_is_found_by_its_email_and_a_word_of_it() -> None:
    if not SAMPLES.is_dir():
        pytest.skip(SAMPLES_MISSING)
    row = parse_frame(message_frame((SAMPLES / "user.created.json").read_text()), T0)
    assert isinstance(row, ZoomEvent)
    for text in ("user:jchill@example.com", "jchill", "user:jchill", "type:user.created"):
        assert compile_filter(text).matches(row), text
    trimmed = SAMPLES / "revenue_accelerator.conversation_analysis_completed.json"
    row = parse_frame(message_frame(trimmed.read_text()), T0)
    assert compile_filter("type:revenue_accelerator.conversation_analysis_completed").matches(row)


# --- sub: the subscription a hub's event came through ---------------------------------------


def _from(subscription: str | None, event: ZoomEvent) -> ZoomEvent:
    copy = parse_frame(event.raw, event.received_at)
    assert isinstance(copy, ZoomEvent)
    copy.subscription_id = subscription
    return copy


def test_sub_globs_the_subscription_an_event_came_through_ignoring_case() -> None:
    one, two, direct = _from("AbC-123_x", ANA), _from("zZ9-prod", ANA), _from(None, ANA)
    rows = [one, two, direct]
    assert compile_filter("sub:AbC-123_x").select(rows) == [one]
    assert compile_filter("sub:abc*").select(rows) == [one]
    assert compile_filter("sub:?z9-*").select(rows) == [two]
    assert compile_filter("sub:[!a]*").select(rows) == [two]
    assert compile_filter("sub:abc").select(rows) == []  # a glob, not a substring
    assert compile_filter("sub:* ana").select(rows) == [one, two]
    assert _terms("SUB:AbC*") == [("sub", "abc*", False)]
    assert compile_filter("sub:AbC*").describe() == "sub:abc*"


def test_sub_negated_keeps_the_other_subscriptions_and_events_with_none() -> None:
    one, two, direct = _from("AbC-123", ANA), _from("zZ9", ANA), _from(None, ANA)
    assert compile_filter("-sub:abc*").select([one, two, direct]) == [two, direct]
    # an event of a direct connection carries no subscription: sub: never matches it
    assert not compile_filter("sub:*").matches(direct)


def test_sub_never_matches_a_row_that_is_not_an_event() -> None:
    gap, state = GapRow(T0, T0 + 1, "x"), StateRow("connected", "", T0)
    malformed = parse_frame("not json", T0)
    for row in (gap, state, malformed):
        assert not compile_filter("sub:*").matches(row)
        assert compile_filter("-sub:*").matches(row)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("sub:a.b", "'.' is in no subscription id"),
        ('sub:"a b"', "U+0020 is in no subscription id"),
        ("sub:a\x1b", "U+001B is in no subscription id"),
        ("sub:a\\b", "'\\\\' is in no subscription id"),
        ('sub:"a\tb"', "U+0009 is in no subscription id"),
        ("sub:" + "a" * 201, "at most 200 characters"),
        ("sbu:x", "did you mean sub:?"),
    ],
)
def test_a_sub_pattern_that_can_match_no_id_is_an_error_saying_so(text: str, says: str) -> None:
    error = _error(text)
    assert says in error.message, error.message
    assert error.position == 0
    assert _error("sub:").message == "empty value after 'sub:'"


def test_sub_survives_hostile_subscription_ids() -> None:
    flt = compile_filter("sub:*a*")
    for hostile in ("", "\x00\x1b[31m", "Ä" * 10_000, "a" * 100_000, "\ud800"):
        assert isinstance(flt.matches(_from(hostile, ANA)), bool)
    assert flt.matches(_from("a" * 100_000, ANA))


# --- a reference implementation and hypothesis --------------------------------------------

_ID = re.compile(r"[0-9\s-]+")


def _oracle(text: str, e: ZoomEvent) -> bool:
    """The documented semantics, written the slow and obvious way."""

    def low(s: str | None) -> str:
        return (s or "").lower()

    for t in compile_filter(text).terms:
        v = t.value
        if t.field is None:
            ok = v in e.search_text
        elif t.field == "type":
            name = e.name.lower()
            short = name.partition(".")[2] if "." in name else None
            ok = fnmatch.fnmatchcase(name, v) or (
                short is not None and fnmatch.fnmatchcase(short, v)
            )
        elif t.field == "family":
            ok = fnmatch.fnmatchcase(family_of(e.name).lower(), v)
        elif t.field == "sub":
            ok = e.subscription_id is not None and fnmatch.fnmatchcase(e.subscription_id.lower(), v)
        elif t.field == "meeting":
            digits = re.sub(r"[^0-9]", "", v) if _ID.fullmatch(v) else ""
            if digits:
                ok = e.meeting_id == digits or v in low(e.topic)
            else:
                ok = v in low(e.meeting_uuid) or v in low(e.topic)
        else:
            ok = (
                v in low(e.participant_name)
                or v in low(e.participant_email)
                or v in low(e.participant_key)
            )
        if ok == t.negated:
            return False
    return True


VOCAB = [
    "ana",
    "bo",
    "sync",
    "weekly",
    "1234567890",
    "85746352415",
    "pu-",
    "meeting",
    "joined",
    "*",
    "?",
    "[ab]",
    "meeting.*",
    "*.participant_*",
    "participant_joined",
    "webinar",
    "x y",
    "é",
]


@st.composite
def filter_texts(draw: st.DrawFn) -> str:
    terms = []
    for _ in range(draw(st.integers(0, 4))):
        neg = draw(st.sampled_from(["", "", "-"]))
        field = draw(
            st.sampled_from(
                ["", "", "type:", "event:", "family:", "meeting:", "user:", "MEETING:", "sub:"]
            )
        )
        value = draw(st.sampled_from(VOCAB) | st.text(min_size=1, max_size=6))
        terms.append(neg + field + quote_value(value, bare=not field))
    return " ".join(terms)


texty = (
    st.none()
    | st.sampled_from(["Ana", "Weekly Sync", "ANA@example.com", "85746352415", ""])
    | st.text(max_size=12)
)


@st.composite
def events(draw: st.DrawFn) -> ZoomEvent:
    event = ZoomEvent(
        name=draw(
            st.sampled_from(["meeting.participant_joined", "webinar.started", "user.updated", "x"])
            | st.text(min_size=1, max_size=12)
        ),
        event_ts_ms=draw(st.none() | st.integers(0, 2**45)),
        received_at=T0,
        account_id=None,
        meeting_uuid=draw(texty),
        meeting_id=draw(
            st.none() | st.sampled_from(["1234567890", "85746352415"]) | st.text(max_size=5)
        ),
        topic=draw(texty),
        participant_key=draw(texty),
        participant_name=draw(texty),
        participant_email=draw(texty),
        raw="{}",
    )
    event.subscription_id = draw(st.none() | st.sampled_from(["AbC-123", "abc_9"]) | texty)
    return event


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=60) | filter_texts())
def test_any_text_is_a_filter_or_a_filter_error(text: str) -> None:
    try:
        flt = compile_filter(text)
    except FilterError as err:
        assert 0 <= err.position <= len(text)
        assert err.message
        return
    assert isinstance(flt, Filter)
    again = compile_filter(flt.describe())  # describe() round-trips
    assert [(t.field, t.value, t.negated) for t in again.terms] == [
        (t.field, t.value, t.negated) for t in flt.terms
    ]


@settings(max_examples=400, deadline=None)
@given(filter_texts(), st.lists(events(), min_size=1, max_size=6))
def test_compiled_filters_agree_with_the_reference(text: str, evs: list[ZoomEvent]) -> None:
    try:
        flt = compile_filter(text)
    except FilterError:
        assume(False)
        return
    for e in evs:
        assert flt.matches(e) == _oracle(text, e), (text, e.name, e.search_text)
        assert flt.matches_event(e) == flt.matches(e)


@settings(max_examples=300, deadline=None)
@given(
    st.text(max_size=40),
    st.lists(events(), max_size=4),
    st.dictionaries(st.text(max_size=6), st.text(max_size=6) | st.integers(), max_size=4),
)
def test_filters_never_raise_on_any_row(text: str, evs: list[ZoomEvent], extra: dict) -> None:
    try:
        flt = compile_filter(text)
    except FilterError:
        return
    body = {
        "event": "meeting.participant_joined",
        "payload": {"object": {**extra, "participant": extra}},
    }
    rows: list[object] = [
        *evs,
        parse_frame(message_frame(json.dumps(body)), T0),
        parse_frame(text, T0),
        GapRow(T0, T0, text),
        StateRow("x", text, T0),
        None,
        42,
    ]
    for row in rows:
        assert isinstance(flt.matches(row), bool)
