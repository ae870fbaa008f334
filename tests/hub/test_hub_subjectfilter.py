"""A viewer's `type:` and `family:` terms as subject filters on the server: the server sends
fewer messages, and the viewer prints exactly what it would from the whole stream.

The translation is checked three ways: a table of what common filters become; a property
over hostile event names and globs (whatever name a filter matches, the subject the collector
publishes it under is among the subjects asked for); and against a real nats-server (the same
filter, with and without the server's part, gives the same events, and fewer deliveries)."""

from __future__ import annotations

import io
import time
from types import SimpleNamespace

import pytest
from click.testing import CliRunner
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from tests.hub.hubkit import Viewer, Watch, publish_names
from tests.hub.natsserver import RunningServer
from tests.waits import awaited
from zoomtui.cli import main
from zoomtui.commands.hubtail import run_hub_tail
from zoomtui.hub.settings import HubSettings
from zoomtui.hub.source import HubSource
from zoomtui.hub.subjectfilter import server_filter
from zoomtui.hub.subjects import OWN_TOKENS, event_tokens, subscription_prefix
from zoomtui.monitor.filters import FilterError, compile_filter, quote_value


def nats_matches(pattern: str, subject: str) -> bool:
    """NATS's own rule: `*` is one token, a last `>` one or more."""
    want, have = pattern.split("."), subject.split(".")
    for i, token in enumerate(want):
        if token == ">":
            return len(have) > i
        if i >= len(have) or (token != "*" and token != have[i]):
            return False
    return len(have) == len(want)


def event_subjects(text: str) -> tuple[str, ...] | str:
    """The event subjects asked of the server for filter `text`, else why none."""
    asked = server_filter(compile_filter(text))
    if not asked.narrows:
        return asked.why_not
    own = [s for s in asked.subjects if s.rsplit(".", 1)[-1] in OWN_TOKENS]
    assert len(own) == len(OWN_TOKENS)  # the collector's states and gaps always come
    return tuple(s for s in asked.subjects if s not in own)


@pytest.mark.parametrize(
    ("text", "subjects"),
    [
        (
            "type:meeting.participant_joined",
            ("zoom.*.*.meeting.participant_joined", "zoom.*.*.*.meeting.participant_joined"),
        ),
        ("type:meeting.*", ("zoom.*.*.meeting.>", "zoom.*.*.*.meeting.>")),
        # `*` inside a token may match a '.': that token and the rest become `>`
        ("type:meeting.participant_*", ("zoom.*.*.meeting.>", "zoom.*.*.*.meeting.>")),
        ("event:Meeting.Started", ("zoom.*.*.meeting.started", "zoom.*.*.*.meeting.started")),
        ("family:webinar", ("zoom.*.*.webinar", "zoom.*.*.webinar.>")),
        # a literal the collector cleaned to a token of its own: any one token
        ("type:phone:x.ended", ("zoom.*.*.*.ended", "zoom.*.*.*.*.ended")),
        ("type:_odd.y", ("zoom.*.*.*.y", "zoom.*.*.*._odd.y")),
        ("type:" + "x" * 65, ("zoom.*.*.*", "zoom.*.*.*.*")),
        # from the sixth token on, the collector may have folded a long name into one
        ("type:a.b.c.d.e.f.g", ("zoom.*.*.a.b.c.d.e.>", "zoom.*.*.*.a.b.c.d.>")),
        # terms that must all match: their subjects intersected
        (
            "type:meeting.* type:*.participant_joined",
            ("zoom.*.*.meeting.>", "zoom.*.*.*.meeting.>"),
        ),
        ("type:meeting.* family:meeting", ("zoom.*.*.meeting.>",)),
        ("type:meeting.* -type:*.qos user:ana", ("zoom.*.*.meeting.>", "zoom.*.*.*.meeting.>")),
        ("type:meeting.started type:webinar.started", ()),  # no event: only the collector's
        # what cannot narrow anything: the whole stream, and why
        ("type:participant_*", "its patterns may match any event name from the first part on"),
        ("type:*.started", "its patterns may match any event name from the first part on"),
        ("family:web*", "its patterns may match any event name from the first part on"),
        ("-type:meeting.*", "the filter has no type: or family: term to send to the server"),
        ("user:ana sub:x", "the filter has no type: or family: term to send to the server"),
    ],
)
def test_what_a_filter_asks_of_the_server(text: str, subjects: tuple[str, ...] | str) -> None:
    assert event_subjects(text) == subjects


def test_no_filter_reads_the_whole_stream_and_says_nothing() -> None:
    assert server_filter(None).subjects == () and server_filter(None).describe() == ""


# Hostile names: any case, dots anywhere, characters no subject token holds, long parts.
_NAME_CHARS = st.sampled_from(list("abcmeMEtingAB_-.:/ *>?[]İß\x00\t") + ["x" * 70])
_NAMES = st.one_of(
    st.lists(_NAME_CHARS, max_size=14).map("".join),
    st.lists(
        st.sampled_from(["meeting", "Meeting", "participant_joined", "a", "", "_x", "x y"]),
        min_size=1,
        max_size=9,
    ).map(".".join),
)
_GLOB_PIECES = st.sampled_from(
    ["meeting", "participant_joined", "a", "_x", "x_y", ".", ".", "*", "?", "[a.]", "[!m]", ":"]
    + ["/", "-", "e", "t", "x" * 70, "]", "^", "!"]
)
_GLOBS = st.lists(_GLOB_PIECES, min_size=1, max_size=10).map("".join)


_HOW = st.lists(st.sampled_from(["keep", "star", "question", "drop"]), max_size=10)


def _names_glob(name: str, how: list[str]) -> str:
    """A glob made from the name itself (so that it often matches): each part kept, starred,
    questioned or dropped."""
    made = []
    for i, part in enumerate(name.lower().split(".")):
        way = how[i] if i < len(how) else "keep"
        made.append({"keep": part, "star": "*", "question": "?" * len(part), "drop": ""}[way])
    return ".".join(made)


@settings(max_examples=500, deadline=None)
@given(name=_NAMES, glob=_GLOBS, field=st.sampled_from(["type", "family"]), how=_HOW)
@example(name="Meeting.Started", glob="meeting.started", field="type", how=[])
@example(name="x.meeting.started", glob="meeting.started", field="type", how=[])
@example(name="a.b.c.d.e.f.g.h", glob="a.b.c.d.e.f.g.h", field="type", how=[])
@example(name="_x.y", glob="_x.y", field="type", how=[])
@example(name="meeting.", glob="meeting.*", field="type", how=[])
@example(name="\u0130.a", glob="i\u0307.a", field="type", how=[])
def test_every_name_a_filter_matches_is_under_a_subject_asked_for(
    name: str, glob: str, field: str, how: list[str]
) -> None:
    if how and how[0] != "keep":  # half the time a glob of the name's own parts
        glob = _names_glob(name, how[1:])
    try:
        flt = compile_filter(f"{field}:{quote_value(glob or 'x')}")
    except FilterError:
        assume(False)
        return
    asked = server_filter(flt)
    subject = f"{subscription_prefix('acct', 'sub')}.{event_tokens(name)}"
    if flt.matches_event(SimpleNamespace(name=name)):  # type:/family: read only the name
        assert not asked.narrows or any(nats_matches(p, subject) for p in asked.subjects), (
            name,
            glob,
            asked.subjects,
        )


# -- against a real nats-server ---------------------------------------------------------

_NAMES_PUBLISHED = [
    "meeting.participant_joined",
    "meeting.participant_left",
    "Meeting.Started",
    "meeting.participant joined",  # a space: cleaned, hashed
    "webinar.participant_joined",
    "x.meeting.participant_joined",
    "recording.completed",
    "a.b.c.d.e.f.g.h",
    "phone:x.ended",
    "user.created",
    "webinar.meeting.started",
]
_FILTERS = [
    "type:meeting.*",
    "type:meeting.participant_joined",
    "type:participant_joined",
    "family:meeting",
    "type:meeting.* -type:*_left",
    "type:a.b.c.d.e.f.g.h",
    "type:phone:x.ended",
    "type:webinar.* type:meeting.*",
    "type:participant_*",  # (cannot narrow: the whole stream)
]


async def _read_window(hub: HubSettings, subjects: tuple[str, ...], until: float) -> Viewer:
    viewer = Viewer(HubSource(hub, since=0.0, until=until, filter_subjects=subjects), Watch())
    await viewer.watch.until(lambda: viewer.done, "the window read")
    return viewer


async def test_the_server_sends_fewer_and_the_viewer_shows_the_same(
    hub_server: RunningServer,
) -> None:
    hub = HubSettings(url=hub_server.url)
    published = len(await publish_names(hub, _NAMES_PUBLISHED, rounds=3))
    until = time.time() + 1.0
    whole = await _read_window(hub, (), until)
    assert whole.source.received == published and not whole.source.filtered
    for text in _FILTERS:
        flt = compile_filter(text)
        asked = server_filter(flt)
        narrowed = await _read_window(hub, asked.subjects, until)
        assert not narrowed.source.error
        expected = [(e.name, e.body["event_ts"]) for e in whole.events if flt.matches_event(e)]
        shown = [(e.name, e.body["event_ts"]) for e in narrowed.events if flt.matches_event(e)]
        assert shown == expected, text  # the same events, in the same order
        assert expected, text  # (each filter matches some, so the comparison says something)
        if asked.narrows:
            assert narrowed.source.filtered, text
            assert narrowed.source.received < whole.source.received, text
        else:
            assert narrowed.source.received == whole.source.received, text
    # a selective filter: the server sent its events and next to nothing else
    asked = server_filter(compile_filter("type:recording.*"))
    recording = await _read_window(hub, asked.subjects, until)
    assert recording.source.received == published // len(_NAMES_PUBLISHED)


async def test_tail_says_once_what_the_server_filters(hub_server: RunningServer) -> None:
    hub = HubSettings(url=hub_server.url)
    await publish_names(hub, _NAMES_PUBLISHED, rounds=1)
    flt = compile_filter("type:meeting.participant_*")
    out, err = io.BytesIO(), io.StringIO()
    code = await awaited(
        run_hub_tail(
            hub,
            matches=flt.matches_event,
            as_json=True,
            count=2,
            since=0.0,
            out=out,
            err=err,
            handle_signals=False,
            server_filter=flt,
        ),
        "two events",
    )
    assert code == 0, err.getvalue()
    said = [line for line in err.getvalue().splitlines() if "server" in line]
    assert said == [
        "zoomtui: hub: filtered on the server to zoom.*.*.meeting.>, zoom.*.*.*.meeting.>"
    ], err.getvalue()
    assert len(out.getvalue().splitlines()) == 2


def test_tail_with_an_archive_reads_the_whole_stream(hub_server: RunningServer) -> None:
    import asyncio

    asyncio.run(publish_names(HubSettings(url=hub_server.url), _NAMES_PUBLISHED, rounds=1))
    args = ["tail", "--hub", hub_server.url, "--since", "1h", "--json", "--count", "1"]
    result = CliRunner().invoke(main, [*args, "--filter", "type:user.*", "--archive"])
    assert result.exit_code == 0, result.output
    assert "every event is read and filtered here (--archive keeps every event read)" in (
        result.stderr
    )
