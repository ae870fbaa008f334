"""`zoomtui tail`: in-process against the fake for the pipeline, and as a real process for
what a shell user sees (JSON lines, exit codes, Ctrl-C, `| head`)."""

from __future__ import annotations

import asyncio
import io
import os
import signal
import subprocess
import sys
import time

import orjson
import pytest
from click.testing import CliRunner

from tests.connhelpers import CALM_HB, HB, ThreadedFake, meeting_event
from tests.waits import HANG_GUARD, awaited
from zoomtui.commands.tail import command, run_tail
from zoomtui.fakezoom import FakeZoom
from zoomtui.monitor.filters import compile_filter
from zoomtui.monitor.lines import human_line, json_line
from zoomtui.timefmt import iso_utc_ms, lag_words
from zoomtui.zoom.protocol import ZoomEvent, message_frame, parse_frame


def test_json_line_is_the_event_as_sent_plus_received_at() -> None:
    event = meeting_event(7)
    parsed = parse_frame(message_frame(event), 1706123456.7891)
    line = json_line(parsed)
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    obj = orjson.loads(line)
    assert obj.pop("_received_at") == "2024-01-24T19:10:56.789Z"
    assert obj == event
    assert list(obj) == list(event)  # key order kept
    assert iso_utc_ms(0) == "1970-01-01T00:00:00.000Z"


def _event(body: dict, received: float) -> ZoomEvent:
    ev = parse_frame(message_frame(body), received)
    assert isinstance(ev, ZoomEvent)
    return ev


def test_human_line_shows_the_subject_of_an_event_not_about_a_meeting() -> None:
    obj = {"id": "KdYKjnimT4", "first_name": "Jill", "last_name": "Chill", "email": "j@x.io"}
    body = {"event": "user.created", "event_ts": 1706123456789, "payload": {"object": obj}}
    line = human_line(_event(body, 1706123456.8)).decode()
    assert line.endswith("  user.created  Jill Chill <j@x.io>\n"), line
    # no email or name: the object id, as before
    body["payload"]["object"] = {"id": "KdYKjnimT4", "settings": {}}
    assert human_line(_event(body, 1706123456.8)).decode().endswith("user.created  KdYKjnimT4\n")


@pytest.mark.parametrize(
    ("lag", "shown"),
    [
        (1.5, None),
        (3.25, "(lag 3.2 s)"),
        (75, "(lag 1m 15s)"),
        (7200, "(lag 2h 0m)"),
        (7200 + 59 * 60, "(lag 2h 59m)"),
        (3 * 86400 + 4 * 3600, "(lag 3d 4h)"),
    ],
)
def test_human_line_shows_a_long_lag_in_units_that_read(lag: float, shown: str | None) -> None:
    ts = 1706123456789
    ev = _event(meeting_event(1) | {"event_ts": ts}, ts / 1000 + lag)
    line = human_line(ev).decode()
    if shown is None:
        assert "lag" not in line
    else:
        assert line.endswith(f"  {shown}\n"), line
    assert lag_words(-7200) == "-2h 0m"


async def test_tail_shows_every_real_shape_the_fake_plays() -> None:
    """The fake's "shapes" scenario through `tail`: subjects, a trimmed name, the 2 h lag."""
    async with FakeZoom(scenario="shapes", rate="max") as fake:
        out, err = io.BytesIO(), io.StringIO()
        code = await awaited(
            run_tail(
                fake.settings(heartbeat_interval=HB),
                count=17,
                out=out,
                err=err,
                handle_signals=False,
            ),
            "tail to end after the 17 shapes",
        )
    assert code == 0
    lines = out.getvalue().decode().splitlines()
    assert len(lines) == 17
    text = "\n".join(lines)
    assert "user.created  Jill Chill <jchill@example.com>" in text
    assert "user.updated  dee.lopez@example.com" in text  # sent as "user.updated "
    assert "team_chat.channel_message_posted  eng-oncall" in text
    (late,) = [line for line in lines if "user.deactivated" in line]
    assert late.endswith("Pat Former <pat.former@example.com>  (lag 2h 0m)"), late
    assert sum("(lag" in line for line in lines) == 1
    assert "meeting.participant_jbh_joined  Office hours  Early Bird" in text


async def test_tail_prints_every_event_as_json_and_news_on_stderr() -> None:
    async with FakeZoom() as fake:
        out, err = io.BytesIO(), io.StringIO()
        task = asyncio.create_task(
            run_tail(
                fake.settings(heartbeat_interval=CALM_HB),
                as_json=True,
                count=12,
                out=out,
                err=err,
                handle_signals=False,
            )
        )
        conn = await fake.wait_for_connection()
        for i in range(6):
            await fake.inject(meeting_event(i))
        await fake.close(code=1011, reason="maintenance")
        conn = await fake.wait_for_connection(2)
        for i in range(6, 20):
            await fake.inject(meeting_event(i))
        assert await awaited(task, "tail to end after 12 events") == 0
    lines = out.getvalue().splitlines()
    assert len(lines) == 12
    objs = [orjson.loads(line) for line in lines]
    assert [o["event_ts"] for o in objs] == [1706123456789 + i for i in range(12)]
    assert all(o["_received_at"].endswith("Z") for o in objs)
    news = err.getvalue()
    assert "connected: build_connection accepted" in news
    assert "reconnecting in" in news and "1011: maintenance" in news
    assert "gap " in news and "Zoom does not replay them" in news
    assert conn.sent_events  # the fake did send on the second connection


async def test_filter_count_and_malformed_frames() -> None:
    async with FakeZoom() as fake:
        out, err = io.BytesIO(), io.StringIO()
        flt = compile_filter("user:ana -type:*.participant_left")
        task = asyncio.create_task(
            run_tail(
                fake.settings(heartbeat_interval=CALM_HB),
                matches=flt.matches_event,
                count=2,
                out=out,
                err=err,
                handle_signals=False,
            )
        )
        await fake.wait_for_connection()
        await fake.inject({**meeting_event(1), "event": "meeting.participant_left"})
        await fake.send_malformed(kind="not_json")
        bo = meeting_event(2)
        bo["payload"]["object"]["participant"].update(user_name="Bo", email="bo@example.com")
        await fake.inject(bo)
        await fake.inject(meeting_event(3))
        await fake.inject(meeting_event(4))
        await fake.inject(meeting_event(5))
        assert await awaited(task, "tail to end after 2 matches") == 0
    lines = out.getvalue().decode().splitlines()
    assert len(lines) == 2
    assert "meeting.participant_joined  Weekly sync  Ana 3 <ana3@example.com>" in lines[0]
    assert "Ana 4" in lines[1]
    assert "malformed frame" in err.getvalue()


async def test_duration_ends_the_run() -> None:
    async with FakeZoom() as fake:
        t0 = time.monotonic()
        run = run_tail(
            fake.settings(heartbeat_interval=CALM_HB),
            duration=0.5,
            out=io.BytesIO(),
            err=io.StringIO(),
            handle_signals=False,
        )
        code = await awaited(run, "the run to end by itself")  # it ends: no other way out
        assert code == 0 and time.monotonic() - t0 >= 0.4  # and not before its time


async def test_gives_up_with_exit_5() -> None:
    async with FakeZoom() as fake:
        settings = fake.settings(heartbeat_interval=HB)
    err = io.StringIO()
    code = await run_tail(
        settings,
        give_up_after=3,
        out=io.BytesIO(),
        err=err,
        handle_signals=False,
        connection_kwargs={"backoff_base": 0.01, "backoff_cap": 0.02},
    )
    assert code == 5
    assert "gave up after 3 failed attempts" in err.getvalue()


def test_cli_exit_codes_for_settings_credentials_subscription_and_filter() -> None:
    runner = CliRunner()
    r = runner.invoke(command, [], env={})
    assert r.exit_code == 3 and "Missing" in r.output
    with ThreadedFake() as tf:
        r = runner.invoke(command, [], env=tf.env(ZOOM_CLIENT_SECRET="wrong-secret-0042"))
        assert r.exit_code == 4
        assert "rejected the credentials" in r.output and "hint:" in r.output
        assert "wrong-secret-0042" not in r.output
        r = runner.invoke(command, [], env=tf.env(ZOOM_SUBSCRIPTION_ID="noSuchSub"))
        assert r.exit_code == 4 and "subscription" in r.output
        r = runner.invoke(command, ["--filter", "usr:ana"], env=tf.env())
        assert r.exit_code == 2 and "did you mean user:" in r.output


# -- as a real process ----------------------------------------------------------------------
def _tail(env: dict[str, str], *args: str, **kw) -> subprocess.Popen:
    full = {**os.environ, **env}
    return subprocess.Popen(
        [sys.executable, "-m", "zoomtui.cli", "tail", *args],
        env=full,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        **kw,
    )


def _stderr_until(proc: subprocess.Popen, text: bytes) -> bytes:
    """What `proc` wrote on stderr up to and including the first line holding `text`."""
    said = b""
    while True:
        line = proc.stderr.readline()  # type: ignore[union-attr]
        assert line, f"tail ended (exit {proc.wait()}) before saying {text!r}: {said!r}"
        said += line
        if text in line:
            return said


def test_process_prints_valid_json_lines_exactly_as_sent() -> None:
    with ThreadedFake(scenario="demo", rate=200, seed=5) as tf:
        # an account without the Dashboard: no roster record, stdout is the events alone
        tf.call(lambda fake: setattr(fake.dashboard, "plan_has_dashboard", False))
        proc = _tail(tf.env(), "--json", "--count", "25")
        out, err = proc.communicate(timeout=HANG_GUARD)
        assert proc.returncode == 0, err
        sent = tf.call(lambda fake: list(fake.accepted_connections[0].sent_events))
    lines = out.decode().splitlines()
    assert len(lines) == 25
    for line, content in zip(lines, sent, strict=False):
        obj = orjson.loads(line)
        assert obj.pop("_received_at")
        assert obj == orjson.loads(content)
    assert b"Traceback" not in err


def test_ctrl_c_exits_130_without_a_traceback() -> None:
    with ThreadedFake(scenario="demo", rate=50) as tf:
        # unbuffered: readline takes no more than its line, so communicate() later reads
        # everything after it (a buffered pipe keeps what it read ahead, which communicate
        # never sees: a traceback there would go unnoticed)
        proc = _tail(tf.env(), bufsize=0)
        # tail says it is connected: the fake's side of the handshake is not enough, as
        # tail may not have read the fake's answer yet when the signal comes
        said = _stderr_until(proc, b"zoomtui: connected: ")
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=HANG_GUARD)
    err = said + err
    assert proc.returncode == 130
    assert b"Traceback" not in err and b"KeyboardInterrupt" not in err
    assert b"zoomtui: connected: " in err


def test_broken_pipe_from_head_ends_quietly() -> None:
    with ThreadedFake(scenario="demo", rate=500) as tf:
        tail = _tail(tf.env(), "--json")
        head = subprocess.run(
            ["head", "-n", "3"], stdin=tail.stdout, capture_output=True, timeout=HANG_GUARD
        )
        tail.stdout.close()
        _, err = tail.communicate(timeout=HANG_GUARD)
    assert len(head.stdout.splitlines()) == 3
    assert tail.returncode == 0
    assert b"Traceback" not in err and b"BrokenPipe" not in err


def test_a_broken_config_file_warns_and_tail_goes_on_from_the_environment(tmp_path) -> None:
    broken = tmp_path / "config.toml"
    broken.write_text("this is = = not toml [[[\n", encoding="utf-8")
    runner = CliRunner()
    with ThreadedFake(scenario="demo", rate=200, seed=5) as tf:
        env = tf.env(ZOOMTUI_CONFIG=str(broken))
        r = runner.invoke(command, ["--count", "2"], env=env)
        assert r.exit_code == 0, r.output
        assert "warning:" in r.stderr and str(broken) in r.stderr and "not valid TOML" in r.stderr
        assert "Going on without it" in r.stderr
        assert len(r.stdout.splitlines()) == 2
        # what the environment lacks, the broken file cannot give: that stays an error
        r = runner.invoke(command, ["--count", "2"], env={**env, "ZOOM_SUBSCRIPTION_ID": ""})
        assert r.exit_code == 3 and "not valid TOML" in r.stderr and "Going on" not in r.stderr
