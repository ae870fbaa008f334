"""`zoomtui forward` and `zoomtui resend`: the fake Zoom as the event source, a real
handler on 127.0.0.1 (tests/webhookkit.py), the archive in between."""

from __future__ import annotations

import asyncio
import io
import time

import orjson
from click.testing import CliRunner, Result

from tests.connhelpers import CALM_HB, meeting_event
from tests.waits import awaited, until
from tests.webhookkit import Handler, down_url, zoom_signature
from zoomtui.cli import main
from zoomtui.commands.forward import run_forward
from zoomtui.commands.resend import archived_events, run_resend
from zoomtui.fakezoom import FakeZoom
from zoomtui.forward import ForwardOptions, Routes
from zoomtui.monitor.archive import Archive, ArchiveReader, archive_path
from zoomtui.redaction import Secret

SECRET = "handler-secret-token-0001"
ENV = {"ZOOM_WEBHOOK_SECRET_TOKEN": SECRET}


def cli(args: list[str], env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(main, args, env=env, catch_exceptions=False)


def options(*to: str, **changes: object) -> ForwardOptions:
    return ForwardOptions(routes=Routes.parse(list(to)), secret=Secret(SECRET), **changes)  # type: ignore[arg-type]


# -- forward ---------------------------------------------------------------------------------
async def test_forward_prints_one_json_line_per_delivery_and_archives_what_it_took_in() -> None:
    archive = Archive(archive_path("default"), flush_interval=0.02)
    async with Handler(SECRET) as handler, FakeZoom() as fake:
        out, err = io.BytesIO(), io.StringIO()
        task = asyncio.create_task(
            run_forward(
                fake.settings(heartbeat_interval=CALM_HB),
                options("a.fail=" + handler.url("/fail"), handler.url("/ok")),
                out=out,
                err=err,
                as_json=True,
                count=3,
                handle_signals=False,
                archive=archive,
            )
        )
        await fake.wait_for_connection()
        await fake.inject(meeting_event(1))
        await fake.inject({"event": "a.fail", "event_ts": 2, "payload": {}})
        await fake.inject(meeting_event(3))
        assert await awaited(task, "forward to stop after 3 deliveries") == 0
        sent = fake.connections[0].sent_events
    lines = [orjson.loads(line) for line in out.getvalue().splitlines()]
    assert sorted(o["outcome"] for o in lines) == ["delivered", "delivered", "failed"]
    (failed,) = [o for o in lines if o["outcome"] == "failed"]
    assert failed["status"] == 500 and failed["event"] == "a.fail" and failed["signed"]
    assert all(r.verified for r in handler.received)
    assert sorted(r.body for r in handler.received) == sorted(c.encode() for c in sent)
    news = err.getvalue()
    assert f"forwarding to {handler.url('/fail')} (signed)" in news
    assert "forwarded: 2 delivered, 1 failed, 0 dropped (queue full)" in news
    assert SECRET not in news and SECRET.encode() not in out.getvalue()
    archived = list(ArchiveReader(archive_path("default")).iter_events())
    assert len(archived) == 3  # the archive has every event, forwarded or not


async def test_a_failed_delivery_line_says_it_failed_and_why() -> None:
    """A handler's failure answer is more than a bare status: the line says "failed" (the
    word of the end summary and of --json's outcome), and why; a delivered line says
    nothing more."""
    async with Handler(SECRET) as handler, FakeZoom() as fake:
        out, err = io.BytesIO(), io.StringIO()
        dead = down_url("/zoom")
        routes = ("a.fail=" + handler.url("/fail"), "a.down=" + dead, handler.url("/ok"))
        task = asyncio.create_task(
            run_forward(
                fake.settings(heartbeat_interval=CALM_HB),
                options(*routes),
                out=out,
                err=err,
                count=3,
                handle_signals=False,
            )
        )
        await fake.wait_for_connection()
        await fake.inject({"event": "a.fail", "event_ts": 1, "payload": {}})
        await fake.inject({"event": "a.down", "event_ts": 2, "payload": {}})
        await fake.inject(meeting_event(3))
        assert await awaited(task, "forward to stop after 3 deliveries") == 0
    lines = {line.split()[4]: line for line in out.getvalue().decode().splitlines()}
    refused, answered = lines["a.down"], lines["a.fail"]
    assert "  500  " in answered
    assert answered.endswith(f"a.fail -> {handler.url('/fail')}  failed (not a 2xx answer)")
    assert "  ---  " in refused and f"a.down -> {dead}  failed (cannot connect" in refused
    assert lines["meeting.participant_joined"].endswith(f"-> {handler.url('/ok')}")
    assert "forwarded: 1 delivered, 2 failed" in err.getvalue()


class Noted(io.StringIO):
    """stderr that signals each line written (the test waits on what forward says)."""

    def __init__(self) -> None:
        super().__init__()
        self.more = asyncio.Event()

    def write(self, text: str) -> int:
        self.more.set()
        return super().write(text)


async def test_a_full_queue_is_said_on_stderr_and_ingest_goes_on() -> None:
    async with Handler(SECRET) as handler, FakeZoom() as fake:
        out, err = io.BytesIO(), Noted()
        task = asyncio.create_task(
            run_forward(
                fake.settings(heartbeat_interval=CALM_HB),
                options(handler.url("/hang"), queue_limit=2, concurrency=1, timeout=60),
                out=out,
                err=err,
                count=3,
                handle_signals=False,
            )
        )
        conn = await fake.wait_for_connection()
        await fake.inject(meeting_event(0), conn)
        await handler.wait_for(1)  # one on its way, hanging
        for i in range(1, 10):
            await fake.inject(meeting_event(i), conn)  # two queued, the rest dropped
        await until(lambda: "forwarding queue full" in err.getvalue(), err.more, "the note")
        handler.release()  # the three it holds are delivered: --count 3 ends the run
        assert await awaited(task, "forward to stop after 3 deliveries") == 0
        assert len(conn.sent_events) == 10
    news = err.getvalue()
    assert "forwarding queue full (2/2 waiting" in news
    assert "7 events not forwarded since the last note (7 in all)" in news
    assert "the monitor and the archive have them" in news
    assert "forwarded: 3 delivered, 0 failed, 7 dropped (queue full)" in news


def test_forward_unsigned_sends_what_the_filter_takes_without_a_signature() -> None:
    """`--unsigned` with no token: Zoom's request without x-zm-signature, said on stderr;
    `--filter` picks the events forwarded (the others are neither sent nor counted); stdout
    has one human line per delivery."""
    import threading

    from tests.connhelpers import ThreadedFake

    with Handler(SECRET) as handler, ThreadedFake() as tf:
        args = ["forward", "--unsigned", "--filter", "type:meeting.participant_joined"]
        args += ["--to", handler.url("/hook"), "--count", "2", "--no-archive"]
        results: list[Result] = []
        env = {**tf.env(), "ZOOM_WEBHOOK_SECRET_TOKEN": ""}
        runner = threading.Thread(target=lambda: results.append(cli(args, env=env)))
        runner.start()
        try:
            tf.call(lambda f: f.wait_until(f.open_connections))
            other = meeting_event(2) | {"event": "meeting.participant_left"}
            for event in (meeting_event(1), other, meeting_event(3)):
                tf.call(lambda f, e=event: f.inject(e))
        finally:
            runner.join(60)
        sent = tf.call(lambda f: list(f.connections[0].sent_events))
    (result,) = results
    assert result.exit_code == 0, result.output
    joined = sorted(c.encode() for c in sent if "participant_joined" in c)
    assert sorted(r.body for r in handler.received) == joined and len(joined) == 2
    for r in handler.received:
        assert "x-zm-signature" not in r.headers and not r.verified
        assert r.headers["x-zm-request-timestamp"] and r.headers["user-agent"]
    unsigned = "UNSIGNED: --unsigned given, a handler that checks signatures will refuse these"
    assert f"forwarding to {handler.url('/hook')} ({unsigned})\n" in result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 2
    for line in lines:
        assert "  200  " in line and line.endswith(
            f"ms  meeting.participant_joined -> {handler.url('/hook')}"
        ), line
    assert "forwarded: 2 delivered, 0 failed, 0 dropped (queue full)" in result.stderr


def test_forward_retry_tries_again_on_zooms_schedule_compressed() -> None:
    """`--retry --retry-factor F`: a failed delivery is tried again after Zoom's 5, 20 and 60
    minutes divided by F, each attempt a line of its own, signed afresh."""
    import threading

    from tests.connhelpers import ThreadedFake

    with Handler(SECRET) as handler, ThreadedFake() as tf:
        args = ["forward", "--retry", "--retry-factor", "6000", "--json", "--no-archive"]
        args += ["--to", handler.url("/fail"), "--count", "4"]
        results: list[Result] = []
        runner = threading.Thread(target=lambda: results.append(cli(args, env={**tf.env(), **ENV})))
        runner.start()
        try:
            tf.call(lambda f: f.wait_until(f.open_connections))
            tf.call(lambda f: f.inject(meeting_event(1)))
        finally:
            runner.join(60)
    (result,) = results
    assert result.exit_code == 0, result.output
    lines = [orjson.loads(line) for line in result.stdout.splitlines()]
    assert [o["attempt"] for o in lines] == [1, 2, 3, 4]
    assert [o["retry_in"] for o in lines] == [0.05, 0.2, 0.6, None]
    assert all(o["status"] == 500 and o["outcome"] == "failed" for o in lines)
    assert len({o["request_id"] for o in lines}) == 4
    assert len(handler.received) == 4 and all(r.verified for r in handler.received)


def test_forward_without_a_webhook_secret_token_says_how_to_get_one() -> None:
    result = cli(["forward", "--to", "http://127.0.0.1:9/hook"])
    assert result.exit_code == 3
    assert "No webhook secret token for profile 'default'" in result.stderr
    assert "--unsigned" in result.stderr and "ZOOM_WEBHOOK_SECRET_TOKEN" in result.stderr


def test_forward_refuses_plain_http_to_another_machine() -> None:
    result = cli(["forward", "--to", "http://hooks.example.com/zoom"], env=ENV)
    assert result.exit_code == 3 and "clear text" in result.stderr
    bad = cli(["forward", "--to", "meeting.*"], env=ENV)
    assert bad.exit_code == 3 and "is not a route" in bad.stderr


# -- --check ----------------------------------------------------------------------------------
def test_check_passes_a_right_handler_and_fails_a_wrong_token_and_a_late_answer() -> None:
    with Handler(SECRET) as right, Handler(SECRET) as wrong, Handler(SECRET) as late:
        wrong.validation_secret = "not-the-token-zoom-has"
        passed = cli(["forward", "--check", "--to", right.url("/validate")], env=ENV)
        refused = cli(["forward", "--check", "--to", wrong.url("/validate")], env=ENV)
        # Zoom waits 3 s: the deadline is shrunk, and the handler answers only after it
        args = ["forward", "--check", "--check-deadline", "0.2", "--to", late.url("/hang")]
        too_late = cli(args, env=ENV)
        late.release()
    assert passed.exit_code == 0, passed.output
    assert passed.stdout.startswith(f"ok    {right.url('/validate')}  answered the challenge")
    assert refused.exit_code == 1
    assert "FAIL" in refused.stdout and "encryptedToken" in refused.stdout
    assert too_late.exit_code == 1 and "no answer within 0.2 s" in too_late.stdout
    (challenge,) = right.received
    assert challenge.verified
    assert orjson.loads(challenge.body)["event"] == "endpoint.url_validation"


def test_check_needs_the_token() -> None:
    result = cli(["forward", "--check", "--to", "http://127.0.0.1:9/validate"])
    assert result.exit_code == 3 and "No webhook secret token" in result.stderr


def test_check_with_unsigned_says_why_it_needs_the_token_instead_of_offering_unsigned() -> None:
    # the challenge's answer is a hash made with the token: --unsigned cannot help here
    result = cli(["forward", "--check", "--unsigned", "--to", "http://127.0.0.1:9/validate"])
    assert result.exit_code == 3 and "No webhook secret token" in result.stderr
    assert "--check needs it" in result.stderr
    assert "pass --unsigned" not in result.stderr


# -- resend ------------------------------------------------------------------------------------
async def test_resend_delivers_what_the_archive_kept_signed_with_a_new_timestamp() -> None:
    """Forwarded to a handler that was down, archived; resent later once it is up: the
    same bytes, signed afresh (an hour later here, by the clock the resend is given)."""
    archive = Archive(archive_path("default"), flush_interval=0.02)
    async with Handler(SECRET) as handler, FakeZoom() as fake:
        out, err = io.BytesIO(), io.StringIO()
        task = asyncio.create_task(
            run_forward(
                fake.settings(heartbeat_interval=CALM_HB),
                options(down_url()),
                out=out,
                err=err,
                as_json=True,
                count=3,
                handle_signals=False,
                archive=archive,
            )
        )
        await fake.wait_for_connection()
        for i in range(3):
            await fake.inject(meeting_event(i))
        assert await awaited(task, "forward to stop after 3 failed deliveries") == 0
        first = [orjson.loads(line) for line in out.getvalue().splitlines()]
        sent = fake.connections[0].sent_events
        reader = ArchiveReader(archive_path("default"))
        later = time.time() + 3600
        out2, err2 = io.BytesIO(), io.StringIO()
        code = await run_resend(
            archived_events(reader, time.time() - 600, None, None),
            options(handler.url("/ok")),
            out=out2,
            err=err2,
            wall_clock=lambda: later,
        )
        received = await handler.wait_for(3)
    assert [o["outcome"] for o in first] == ["failed"] * 3
    assert code == 0, err2.getvalue()
    assert [r.body for r in received] != [] and sorted(r.body for r in received) == sorted(
        c.encode() for c in sent
    )
    for r in received:
        assert r.verified
        assert r.timestamp == int(later)
        assert r.timestamp >= max(o["timestamp"] for o in first) + 3599
        sig = zoom_signature(SECRET, str(r.timestamp), r.body)
        assert r.headers["x-zm-signature"] == sig
    assert "resent 3 archived events: 3 delivered, 0 failed" in err2.getvalue()


def test_resend_command_filters_the_archive_and_reports_failures() -> None:
    archive = Archive(archive_path("default"), flush_interval=0.02)

    async def fill() -> None:
        from zoomtui.zoom.protocol import message_frame, parse_text_frame

        for i in range(4):
            event = parse_text_frame(message_frame(meeting_event(i)).encode(), time.time())
            archive.add(event)
        archive.add(
            parse_text_frame(
                message_frame({"event": "recording.completed", "event_ts": 1}).encode(),
                time.time(),
            )
        )

    asyncio.run(fill())
    archive.close()
    with Handler(SECRET) as handler:
        ok = cli(
            ["resend", "--since", "1h", "--filter", "type:recording.*", "--json"]
            + ["--to", handler.url("/ok")],
            env=ENV,
        )
        failing = cli(["resend", "--since", "1h", "--to", handler.url("/fail")], env=ENV)
    assert ok.exit_code == 0, ok.output
    (line,) = ok.stdout.splitlines()
    assert orjson.loads(line)["event"] == "recording.completed"
    assert failing.exit_code == 1
    assert len(failing.stdout.splitlines()) == 5
    assert "5 failed" in failing.stderr
    assert all(r.verified for r in handler.received)
