"""Odd but valid frames from Zoom, played by the fake Zoom over a real WebSocket, against
what zoomtui writes back out: `tail` (human and JSON, live and history), `export`, the
archive, notices and state reasons.

- Nesting to 1,024 levels and integers beyond 64 bits: what zoomtui prints, exports or
  archives of a frame is the frame's own bytes, never parsed and written again (orjson
  writes only 254 levels, and reads such an integer as a float).
- Error-shaped answers: only `success: true` makes a build_connection an acceptance, or
  a heartbeat answer a sign of a healthy link.
- Terminal escape sequences in names, topics, reasons and previews: every human-facing
  output shows them as symbols, never raw.
- A secret zoomtui holds, echoed by Zoom inside a frame: masked as the frame arrives, so
  stdout, stderr and the archive all get the same masked bytes.
"""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.connhelpers import CALM_HB, HB, Recorder, meeting_event
from tests.reliability.framekit import (
    BIG,
    ESCAPES,
    deep_event_text,
    error_frame,
    escape_event,
    message_with_content_object,
    message_with_content_string,
    nested,
)
from tests.tui.conftest import wait_until
from tests.waits import awaited
from zoomtui.cli import main
from zoomtui.commands.tail import run_tail
from zoomtui.fakezoom import FakeZoom
from zoomtui.monitor.archive import Archive, ArchiveReader
from zoomtui.monitor.lines import human_line, json_line
from zoomtui.visible import visible_lines, visible_text
from zoomtui.zoom.connection import FailureKind, ZoomConnection
from zoomtui.zoom.protocol import ZoomEvent, parse_text_frame
from zoomtui.zoom.updates import ConnectionState as S
from zoomtui.zoom.updates import Notice

pytestmark = pytest.mark.timeout(60)

T0 = 1_706_123_456.0
RECEIVED = b',"_received_at":"2024-01-24T19:10:56.000Z"}'


def _event(frame: str) -> ZoomEvent:
    ev = parse_text_frame(frame.encode(), T0)
    assert isinstance(ev, ZoomEvent), ev
    return ev


# -- 1. the frame's own bytes -----------------------------------------------------------------
@pytest.mark.parametrize("depth", [4, 255, 300, 1024])
def test_a_json_line_is_the_events_own_text_at_any_depth(depth: int) -> None:
    """Before: `TypeError: Recursion limit reached` from 255 levels on, and BIG as a float."""
    text = deep_event_text(depth)
    line = json_line(_event(message_with_content_string(text)))
    assert line == text[:-1].encode() + RECEIVED + b"\n"
    assert BIG.encode() in line and b"e+22" not in line


def test_a_content_object_is_cut_from_the_frame_as_it_stands() -> None:
    text = deep_event_text(1020)  # the envelope is one level more
    pretty = text.replace('"payload":', '\n  "payload" :\r\n ')  # line breaks between tokens
    for frame, want in (
        (message_with_content_object(text), text),
        (message_with_content_object(pretty), pretty.replace("\r\n", " ").replace("\n", " ")),
        # a second "content" wins, as it does for the parser
        (
            '{"module":"message","content":{"x":1},"success":true,"content":' + text + "}",
            text,
        ),
    ):
        assert json_line(_event(frame)) == want[:-1].encode() + RECEIVED + b"\n"


def test_the_human_line_of_a_deep_event_is_one_line() -> None:
    line = human_line(_event(message_with_content_string(deep_event_text())))
    assert line.count(b"\n") == 1 and b"meeting.updated" in line and b"Deep 0" in line


async def test_tail_json_prints_deep_events_live_and_from_history(tmp_path: Path) -> None:
    """Before: a traceback and exit 1 at the first deep event, live and in `--since`."""
    deep = [deep_event_text(d, seq=d) for d in (300, 1024)]
    path = tmp_path / "a.sqlite3"
    async with FakeZoom() as fake:
        out, err = io.BytesIO(), io.StringIO()
        task = asyncio.create_task(
            run_tail(
                fake.settings(heartbeat_interval=CALM_HB),
                as_json=True,
                count=3,
                out=out,
                err=err,
                handle_signals=False,
                archive=Archive(path, flush_interval=0.02),
            )
        )
        await fake.wait_for_connection()
        for text in deep:
            await fake.inject(text)
        await fake.inject(meeting_event(1))
        assert await awaited(task, "tail to end") == 0, err.getvalue()
        live = out.getvalue().splitlines()
        assert [line[: len(t) - 1] for line, t in zip(live, deep, strict=False)] == [
            t[:-1].encode() for t in deep
        ]

        out2, err2 = io.BytesIO(), io.StringIO()
        task = asyncio.create_task(
            run_tail(
                fake.settings(heartbeat_interval=CALM_HB),
                as_json=True,
                count=1,
                out=out2,
                err=err2,
                handle_signals=False,
                history=(ArchiveReader(path), 0.0),
            )
        )
        await fake.wait_for_connection(2)
        await fake.inject(meeting_event(2))
        assert await awaited(task, "tail to end") == 0, err2.getvalue()
    again = out2.getvalue().splitlines()
    assert len(again) == 4 and again[:3] == live
    assert "Traceback" not in err.getvalue() + err2.getvalue()


def test_export_writes_every_deep_event_whole(tmp_path: Path) -> None:
    """Before: one line, then a traceback; with -o no file was left."""
    path = tmp_path / "a.sqlite3"
    frames = [message_with_content_string(deep_event_text(d, seq=d)) for d in (4, 300, 1024)]
    with Archive(path) as archive:
        for i, frame in enumerate(frames):
            archive.add(parse_text_frame(frame.encode(), T0 + i), "c1")
    out = tmp_path / "out.jsonl"
    runner = CliRunner()
    result = runner.invoke(main, ["export", "--archive", str(path), "-o", str(out)])
    assert result.exit_code == 0, result.output
    lines = out.read_bytes().splitlines()
    assert [line.split(b',"_received_at"')[0] for line in lines] == [
        deep_event_text(d, seq=d)[:-1].encode() for d in (4, 300, 1024)
    ]
    to_stdout = runner.invoke(main, ["export", "--archive", str(path)])
    assert to_stdout.exit_code == 0 and to_stdout.stdout_bytes.splitlines() == lines


async def test_a_refusal_whose_content_nests_deep_is_a_refusal() -> None:
    """Before: `tail` exited with a traceback; the TUI said "unexpected error ... bug" and
    stopped retrying."""
    refusal = error_frame("build_connection", False, '{"why":' + nested(300) + "}")
    async with FakeZoom() as fake:
        fake.answer_build_connection(refusal)
        err = io.StringIO()
        code = await run_tail(
            fake.settings(heartbeat_interval=CALM_HB),
            out=io.BytesIO(),
            err=err,
            handle_signals=False,
        )
        fake.answer_build_connection(refusal)
        conn = ZoomConnection(fake.settings(heartbeat_interval=CALM_HB))
        rec = Recorder(conn)
        failed = await rec.wait_state(S.FAILED)
        await rec.close()
    assert code == 4, err.getvalue()
    assert conn.failure is FailureKind.SUBSCRIPTION
    assert failed.reason.startswith("Zoom refused the connection to subscription")
    assert '{"why":[[[' in failed.reason and failed.reason.endswith('…"')
    assert len(failed.reason) < 400  # a preview, not the whole content
    assert "failed: Zoom refused the connection" in err.getvalue()
    assert "Traceback" not in err.getvalue()


async def test_an_error_frame_nesting_deep_while_connected_is_a_notice_and_nothing_is_lost(
    tmp_path: Path,
) -> None:
    """Before: "internal error while receiving (TypeError)", a reconnect and a gap; the
    frame was never shown or archived, and the event right behind it was lost."""
    frame = error_frame("mystery", False, "{" + f'"n":{BIG},"deep":' + nested(1022) + "}")
    archive = Archive(tmp_path / "a.sqlite3", flush_interval=0.02)
    async with FakeZoom() as fake:
        rec = Recorder(ZoomConnection(fake.settings(heartbeat_interval=CALM_HB)), sink=archive.add)
        await rec.wait_state(S.CONNECTED)
        await fake.inject_frame(frame)
        await fake.inject(meeting_event(7))
        await rec.wait_for(lambda items: any(isinstance(u, ZoomEvent) for u in items))
        await rec.close()
    archive.close()
    notices = rec.of(Notice)
    assert len(notices) == 1 and notices[0].envelope.raw == frame
    assert notices[0].text.startswith(f"Zoom reported an error in module 'mystery': {{\"n\":{BIG}")
    assert rec.state_names() == ["authenticating", "connecting", "connected", "stopped"]
    assert rec.gaps == [] and len(rec.events) == 1
    kept = [r.update for r in ArchiveReader(tmp_path / "a.sqlite3").iter_records()]
    assert [u.envelope.raw for u in kept if isinstance(u, Notice)] == [frame]


# -- 11. error-shaped answers -----------------------------------------------------------------
@pytest.mark.parametrize(
    ("answer", "said"),
    [
        (
            '{"module":"build_connection","content":"Invalid subscriptionId"}',
            "does not say success",
        ),
        ('{"module":"build_connection","content":"session-1"}', "does not say success"),
        ('{"module":"build_connection","success":false,"content":"Nope"}', "Zoom refused the"),
    ],
    ids=["error, no success", "no success", "success false"],
)
async def test_a_build_connection_that_does_not_say_success_is_not_connected(
    answer: str, said: str
) -> None:
    """Before: an answer without `success` (content "Invalid subscriptionId") was reported
    as "build_connection accepted" and the link as connected."""
    async with FakeZoom() as fake:
        fake.answer_build_connection(answer, accept=True)  # the fake even keeps it open
        conn = ZoomConnection(fake.settings(heartbeat_interval=CALM_HB))
        rec = Recorder(conn)
        failed = await rec.wait_state(S.FAILED)
        await rec.close()
    assert S.CONNECTED not in [s.state for s in rec.states]
    assert conn.failure is FailureKind.SUBSCRIPTION and conn.stats.connects == 0
    assert said in failed.reason and orjson_content(answer) in failed.reason


def orjson_content(frame: str) -> str:
    return orjson.loads(frame)["content"]


@pytest.mark.parametrize(
    "answer",
    [
        '{"module":"heartbeat","success":false,"content":"rate limited"}',
        '{"module":"heartbeat","success":false,"content":{"code":' + nested(300) + "}}",
        '{"module":"heartbeat","content":"live"}',
    ],
    ids=["success false", "success false, content nested", "no success"],
)
async def test_a_heartbeat_answer_that_does_not_say_success_is_not_a_healthy_link(
    answer: str,
) -> None:
    """Before: a `success:false` heartbeat answer counted as a round trip (healthy)."""
    from zoomtui.zoom.updates import Heartbeat

    async with FakeZoom() as fake:
        fake.heartbeat_answer = answer
        conn = ZoomConnection(fake.settings(heartbeat_interval=HB))
        rec = Recorder(conn)
        await rec.wait_state(S.CONNECTED)
        await rec.wait_for(lambda items: len([u for u in items if isinstance(u, Notice)]) >= 2)
        live = fake.open_connections()[0]
        await fake.close(live, code=1000)  # a close by the server of a healthy link
        dropped = await rec.wait_state(S.RECONNECTING)
        await rec.close()
    assert rec.of(Heartbeat) == [] and conn.stats.heartbeats == 0
    notice = rec.of(Notice)[0]
    assert notice.text.startswith("Zoom answered the heartbeat with an")
    assert notice.text.endswith("the link is not counted as healthy") and len(notice.text) < 400
    assert "possibly displaced" not in dropped.reason  # heartbeats were not answered


def test_doctor_fails_the_heartbeat_step_on_an_error_answer() -> None:
    from tests.connhelpers import ThreadedFake
    from zoomtui.commands.doctor import command

    with ThreadedFake() as tf:
        tf.fake.heartbeat_answer = '{"module":"heartbeat","success":false,"content":"busy"}'
        result = CliRunner().invoke(command, [], env=tf.env())
    assert result.exit_code == 1, result.output
    assert "✓ build_connection" in result.output
    assert '✗ heartbeat: Zoom answered the heartbeat with an error ("busy")' in result.output


# -- 6. terminal escape sequences --------------------------------------------------------------
#: what must never reach a terminal raw: ESC, BEL, BS, CR, C1 CSI, RLO, an isolate
RAW_CONTROLS = ("\x1b", "\x07", "\x08", "\r", "\x9b", "\u202e", "\u2066")


def assert_no_raw_controls(text: str) -> None:
    for c in RAW_CONTROLS:
        assert c not in text, (c, text[:400])


@settings(max_examples=300, deadline=None)
@given(st.text(st.characters(exclude_categories=["Cs"])))
def test_visible_text_leaves_no_control_character(text: str) -> None:
    import unicodedata

    shown = visible_text(text)
    for c in shown:
        assert unicodedata.category(c) != "Cc" and c not in "\u202a\u202b\u202c\u202d\u202e"
    assert "\n" not in shown
    assert set(visible_lines(text)) - set(shown) <= {"\n"}


async def test_tail_shows_escape_sequences_from_zoom_as_symbols() -> None:
    """Before: a topic or a name holding `\\x1b]0;PWN\\x07` or `\\x1b[2J` was written raw to
    stdout, and a malformed frame's preview raw to stderr."""
    async with FakeZoom() as fake:
        out, err = io.BytesIO(), io.StringIO()
        task = asyncio.create_task(
            run_tail(
                fake.settings(heartbeat_interval=CALM_HB),
                count=2,
                out=out,
                err=err,
                handle_signals=False,
                connection_kwargs={"backoff_base": 0.01, "backoff_cap": 0.02},
            )
        )
        await fake.wait_for_connection()
        await fake.inject(escape_event(1))
        await fake.inject_frame(
            '{"module":"message","content":"' + ESCAPES.replace("\r\n", "") + '"'
        )
        await fake.inject_frame(  # valid JSON: the controls are escaped on the wire
            orjson.dumps({"module": "x" + ESCAPES, "success": False, "content": "\x1b[2J"}).decode()
        )
        await fake.close(code=1011, reason="bye \x1b[2J\x07")
        await fake.wait_for_connection(2)
        await fake.inject(escape_event(2))
        assert await awaited(task, "tail to end") == 0, err.getvalue()
    printed = out.getvalue().decode()
    assert printed.count("\n") == 2
    assert_no_raw_controls(printed)
    assert "Mallory ␛]0;PWN␇|␛[2J|␛[31m|<U+202E>|␇|␈|<U+009B>31m|␍␊|<U+2066>" in printed
    news = err.getvalue()
    assert_no_raw_controls(news)
    assert "malformed frame" in news and "␛]0;PWN␇" in news
    assert "notice: Zoom reported an error in module 'x\\x1b]0;PWN\\x07" in news  # repr()
    assert "': ␛[2J" in news
    assert "1011: bye ␛[2J␇" in news


def test_doctor_and_status_show_server_text_as_symbols(tmp_path: Path) -> None:
    """The refusal's content (doctor) and the token endpoint's reason (status) are shown,
    never sent raw."""
    from tests.connhelpers import ThreadedFake
    from tests.reliability.hostile import HostileEndpoint, json_answer

    with ThreadedFake() as tf:
        tf.fake.answer_build_connection(
            error_frame("build_connection", False, '"Invalid \\u001b]0;PWN\\u0007 subscription"')
        )
        doctor = CliRunner().invoke(main, ["doctor"], env=tf.env())
        refusal = json_answer(
            lambda n: {"error": "invalid_client", "reason": "bad \x1b[2J\x1b]0;PWN\x07 \u202e"},
            400,
        )
        with HostileEndpoint(refusal) as endpoint:
            status = CliRunner().invoke(
                main, ["status"], env=tf.env(ZOOMTUI_OAUTH_URL=endpoint.url)
            )
    assert doctor.exit_code == 4, doctor.output
    assert_no_raw_controls(doctor.output)
    assert "Invalid ␛]0;PWN␇ subscription" in doctor.output
    assert status.exit_code == 4, status.output
    assert_no_raw_controls(status.output)
    assert "bad ␛[2J␛]0;PWN␇ <U+202E>" in status.output


# -- 17. a secret zoomtui holds, echoed by Zoom ---------------------------------------------------
@pytest.mark.parametrize("as_json", [True, False], ids=["json", "human"])
async def test_a_token_zoom_echoes_in_an_event_is_masked_on_stdout_and_in_the_archive(
    tmp_path: Path, as_json: bool
) -> None:
    """Before: the token appeared on stdout and in the archive while stderr redacted it."""
    from urllib.parse import parse_qs, quote, urlsplit

    async with FakeZoom(token_prefix="fzk.echo/me+") as fake:
        settings = fake.settings(heartbeat_interval=CALM_HB)
        secret = settings.client_secret.reveal()
        out, err = io.BytesIO(), io.StringIO()
        task = asyncio.create_task(
            run_tail(
                settings,
                as_json=as_json,
                count=3,
                out=out,
                err=err,
                handle_signals=False,
                archive=Archive(tmp_path / "a.sqlite3", flush_interval=0.02),
            )
        )
        conn = await fake.wait_for_connection()
        token = parse_qs(urlsplit(conn.ws.request.path).query)["access_token"][0]
        leaky = meeting_event(1)
        obj = leaky["payload"]["object"]
        obj["topic"] = f"token {token} secret {secret}"
        obj["join_url"] = f"https://zoom.example/j/1?access_token={quote(token, safe='')}"
        await fake.inject(leaky)  # orjson writes "/" as it is; the json module would escape it
        escaped = token.replace("/", "\\/")
        await fake.inject_frame('{"module":"mystery","success":false,"content":"' + escaped + '"}')
        await fake.inject_frame("not json " + token)
        await fake.inject(meeting_event(2))
        await fake.inject(meeting_event(3))
        assert await awaited(task, "tail to end") == 0, err.getvalue()
    files = b"".join(f.read_bytes() for f in tmp_path.rglob("*") if f.is_file())
    for where, text in (("stdout", out.getvalue()), ("stderr", err.getvalue().encode())):
        for value in (token, quote(token, safe=""), escaped, secret):
            assert value.encode() not in text, (where, value)
            assert value.encode() not in files, ("archive", value)
    printed = out.getvalue().decode()
    assert "token *** secret ***" in printed
    if as_json:
        assert "access_token=***" in printed
    news = err.getvalue()
    assert "notice: Zoom reported an error in module 'mystery': ***" in news
    assert "malformed frame" in news and "not json ***" in news


# -- the TUI -----------------------------------------------------------------------------------
async def test_the_tuis_view_export_writes_deep_events_whole_and_a_deep_refusal_fails_honestly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before: `e` failed silently (no toast, no file); a refusal nesting deep gave
    "unexpected error ... This is a bug in zoomtui" and no more retries."""
    from zoomtui.tui.app import ZoomtuiApp
    from zoomtui.tui.options import AppOptions, ConnectionOptions

    monkeypatch.chdir(tmp_path)
    texts = [deep_event_text(d, seq=d) for d in (300, 1024)]
    async with FakeZoom() as fake:
        app = ZoomtuiApp(
            AppOptions(
                fake.settings(heartbeat_interval=CALM_HB),
                connection=ConnectionOptions({"backoff_base": 0.01, "backoff_cap": 0.05}),
            )
        )
        async with app.run_test(size=(160, 40), notifications=True) as pilot:
            await wait_until(pilot, lambda: app.status.state is S.CONNECTED, "connected")
            for text in texts:
                await fake.inject(text)
            await wait_until(pilot, lambda: app.status.events == 2, "the events")
            await pilot.press("e")
            await wait_until(
                pilot, lambda: any(n.title == "Exported" for n in app._notifications), "toast"
            )
            (path,) = tmp_path.glob("zoomtui-export-*.jsonl")
            lines = path.read_bytes().splitlines()
            assert [line.split(b',"_received_at"')[0] for line in lines] == [
                t[:-1].encode() for t in texts
            ]

            fake.answer_build_connection(
                error_frame("build_connection", False, nested(300)), times=1
            )
            await fake.close(code=1011, reason="maintenance")
            await wait_until(pilot, lambda: app.status.state is S.FAILED, "failed")
            assert app.status.reason.startswith("Zoom refused the connection to subscription")
            assert "bug" not in app.status.reason
