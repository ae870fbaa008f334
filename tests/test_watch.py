"""`zoomtui watch` as a real process against the fake: its metrics read back by
prometheus-client's own parser with the right values, its alerts on stdout and through
their actions, a clean stop on SIGTERM with everything archived, and a bad rule refused."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import platformdirs
from click.testing import CliRunner
from prometheus_client.parser import text_string_to_metric_families

from tests.connhelpers import ThreadedFake, meeting_event
from tests.waits import HANG_GUARD, poll_until
from zoomtui.commands.watch import command
from zoomtui.monitor.archive import ArchiveReader, archive_path


def _config(rules: str) -> Path:
    path = Path(platformdirs.user_config_dir("zoomtui")) / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"[profiles.default]\n\n{rules}")
    return path


def _watch(env: dict[str, str], *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "zoomtui.cli", "watch", *args],
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _metrics_url(proc: subprocess.Popen) -> str:
    while True:
        line = proc.stderr.readline()  # type: ignore[union-attr]
        assert line, f"watch ended before serving metrics (exit {proc.poll()})"
        if "metrics on " in line:
            return line.split("metrics on ", 1)[1].strip()


def _stderr_line(proc: subprocess.Popen, text: str) -> str:
    """The next line on the watch's stderr holding `text` (read as `_metrics_url` reads:
    its buffer holds what follows, which `communicate` would not see)."""
    while True:
        line = proc.stderr.readline()  # type: ignore[union-attr]
        assert line, f"watch ended before saying {text!r} (exit {proc.poll()})"
        if text in line:
            return line


def _scrape(url: str) -> dict[tuple[str, tuple], float]:
    text = httpx.get(url, timeout=HANG_GUARD).text
    values = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            values[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return values


def _events(n: int, name: str, start: int = 0) -> list[dict]:
    out = []
    for i in range(start, start + n):
        e = meeting_event(i)
        e["event"] = name
        e["event_ts"] = int(time.time() * 1000)
        out.append(e)
    return out


def test_watch_serves_metrics_alerts_and_stops_on_sigterm_with_everything_archived(
    tmp_path: Path,
) -> None:
    fired = tmp_path / "fired.json"
    writer = f"import sys; open({str(fired)!r}, 'wb').write(sys.stdin.buffer.read())"
    _config(
        '[[profiles.default.alerts]]\nname = "joins"\n'
        'event = "type:meeting.participant_joined"\n'
        f"command = {json.dumps([sys.executable, '-c', writer])}\n\n"
        '[[profiles.default.alerts]]\nname = "down"\ndisconnected_for = "1h"\n'
    )
    with ThreadedFake() as tf:
        proc = _watch(tf.env(), "--metrics", "127.0.0.1:0")
        try:
            url = _metrics_url(proc)
            tf.call(lambda f: f.wait_until(f.open_connections))
            sent = _events(20, "meeting.participant_joined") + _events(7, "user.created", 20)
            for event in sent:
                tf.call(lambda f, e=event: f.inject(e))

            def total() -> float:
                got = _scrape(url)
                return sum(v for (n, _), v in got.items() if n == "zoomtui_events_total")

            poll_until(lambda: total() == 27, "27 events counted by the metrics")
            poll_until(fired.exists, "the alert command to write its file")
            got = _scrape(url)
        finally:
            proc.send_signal(signal.SIGTERM)
            out, err = proc.communicate(timeout=HANG_GUARD)
    assert got[("zoomtui_events_total", (("family", "meeting"),))] == 20
    assert got[("zoomtui_events_total", (("family", "user"),))] == 7
    assert got[("zoomtui_connected", ())] == 1
    assert got[("zoomtui_connection_state", (("state", "connected"),))] == 1
    assert got[("zoomtui_connection_state", (("state", "reconnecting"),))] == 0
    assert got[("zoomtui_alerts_fired_total", (("rule", "joins"),))] == 1
    assert got[("zoomtui_alerts_fired_total", (("rule", "down"),))] == 0
    assert got[("zoomtui_event_lag_seconds_count", ())] == 27
    assert got[("zoomtui_gaps_total", ())] == 0 and got[("zoomtui_reconnects_total", ())] == 0
    assert ("zoomtui_heartbeat_rtt_seconds_count", ()) in got
    # a clean stop: exit 0, the alert on stdout, every event in the archive, and the stop said
    assert proc.returncode == 0, err
    assert "Traceback" not in err and "everything received is archived" in err
    assert "zoomtui ALERT: joins: meeting.participant_joined" in out
    assert json.loads(fired.read_bytes())["alert"]["rule"] == "joins"
    reader = ArchiveReader(archive_path("default"))
    try:
        assert reader.count() == 27
        assert reader.count("state") >= 2  # connected ... stopped
    finally:
        reader.close()


def test_a_bad_rule_stops_watch_at_start_naming_it() -> None:
    path = _config('[[profiles.default.alerts]]\nname = "late"\nlag_above = "soon"\n')
    with ThreadedFake() as tf:
        result = CliRunner().invoke(command, [], env=tf.env())
        assert tf.call(lambda f: len(f.token_requests)) == 0  # it never connected
    assert result.exit_code == 3
    assert f"{path}, line 5: alert rule 'late': lag_above must be a duration" in result.output


def test_metrics_count_gaps_reconnects_and_keep_hostile_families_bounded() -> None:
    from zoomtui.alerts.metrics import MAX_FAMILIES, MetricsSink, parse_listen
    from zoomtui.monitor.session import MonitorSession
    from zoomtui.zoom.protocol import message_frame, parse_frame
    from zoomtui.zoom.updates import ConnectionState, Gap, StateChanged

    sink = MetricsSink()
    session = MonitorSession()
    session.subscribe(sink)
    s = ConnectionState
    for previous, state in ((s.CONNECTING, s.CONNECTED), (s.CONNECTED, s.RECONNECTING)):
        session.receive(StateChanged(state, previous, "", 1.0))
    session.receive(StateChanged(s.CONNECTED, s.RECONNECTING, "", 2.0))
    session.receive(Gap(10.0, 12.5, "cut"))
    for i in range(MAX_FAMILIES + 20):
        e = meeting_event(i) | {"event": f"fam{i}.x"}
        session.receive(parse_frame(message_frame(e), 1706123456.5))
    session.receive(parse_frame(message_frame(meeting_event(1) | {"event": "\x1b[2J.x"}), 1.0))
    got = {}
    for family in text_string_to_metric_families(sink.render().decode()):
        for sample in family.samples:
            got[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    assert got[("zoomtui_gaps_total", ())] == 1
    assert got[("zoomtui_gap_seconds_total", ())] == 2.5
    assert got[("zoomtui_reconnects_total", ())] == 1
    families = {dict(k[1])["family"] for k in got if k[0] == "zoomtui_events_total"}
    assert len(families) == MAX_FAMILIES + 1 and "other" in families
    assert got[("zoomtui_events_total", (("family", "other"),))] == 21
    assert parse_listen("127.0.0.1:9464") == ("127.0.0.1", 9464)
    assert parse_listen("[::1]:0") == ("::1", 0) and parse_listen("9464") == ("127.0.0.1", 9464)


def test_watch_forwards_to_a_handler_signed_and_says_what_it_forwarded() -> None:
    """`watch --forward-to`: the headless monitor also delivers each live event to a webhook
    handler, signed as Zoom signs (the handler checks it with Zoom's algorithm)."""
    from tests.webhookkit import Handler

    _config("")
    with Handler() as handler, ThreadedFake() as tf:
        env = {**tf.env(), "ZOOM_WEBHOOK_SECRET_TOKEN": handler.secret}
        proc = _watch(env, "--forward-to", handler.url("/zoom"))
        try:
            tf.call(lambda f: f.wait_until(f.open_connections))
            sent = _events(5, "meeting.participant_joined")
            for event in sent:
                tf.call(lambda f, e=event: f.inject(e))
            poll_until(lambda: len(handler.received) == 5, "five deliveries")
        finally:
            proc.send_signal(signal.SIGTERM)
            out, err = proc.communicate(timeout=HANG_GUARD)
    assert proc.returncode == 0, err
    assert all(r.verified and r.path == "/zoom" for r in handler.received)
    bodies = [json.loads(r.body) for r in handler.received]
    assert sorted(b["payload"]["object"]["participant"]["user_name"] for b in bodies) == sorted(
        e["payload"]["object"]["participant"]["user_name"] for e in sent
    )
    assert f"forwarding to {handler.url('/zoom')} (signed)" in err
    assert "forwarded: 5 delivered" in err, err
    assert handler.secret not in out + err  # the secret token is never printed


def test_watch_stopped_with_an_alert_open_says_which_since_when_and_how_many() -> None:
    """SIGTERM while a rule's alert is still open: no "cleared" line will ever follow it,
    so the closing lines say it had not cleared (since when, how many occurrences), and
    the metrics showed it open by rule until then."""
    _config(
        '[[profiles.default.alerts]]\nname = "joins"\n'
        'event = "type:meeting.participant_joined"\ncooldown = "1h"\n\n'
        '[[profiles.default.alerts]]\nname = "down"\ndisconnected_for = "1h"\n'
    )
    with ThreadedFake() as tf:
        proc = _watch(tf.env(), "--metrics", "127.0.0.1:0")
        try:
            url = _metrics_url(proc)
            tf.call(lambda f: f.wait_until(f.open_connections))
            for event in _events(3, "meeting.participant_joined"):
                tf.call(lambda f, e=event: f.inject(e))

            def counted() -> float:
                got = _scrape(url)
                return got.get(("zoomtui_events_total", (("family", "meeting"),)), 0)

            poll_until(lambda: counted() == 3, "three joins counted by the metrics")
            got = _scrape(url)
        finally:
            proc.send_signal(signal.SIGTERM)
            out, err = proc.communicate(timeout=HANG_GUARD)
    assert got[("zoomtui_alerts_open", (("rule", "joins"),))] == 1
    assert got[("zoomtui_alerts_open", (("rule", "down"),))] == 0
    assert proc.returncode == 0, err
    assert out.count("zoomtui ALERT: joins") == 1 and "cleared" not in out
    lines = err.splitlines()
    head = lines.index("zoomtui: 1 alert still open at stop (not cleared):")
    said = lines[head + 1]
    assert said.startswith("zoomtui:   joins: open since 20") and "Z (" in said, said
    assert ", 3 times: meeting.participant_joined" in said, said
    assert "down" not in "\n".join(lines[head:])
    assert lines[-1] == "zoomtui: stopped; everything received is archived"


def test_watch_serves_forwarding_figures_by_handler_with_no_secret_in_a_label() -> None:
    """`watch --forward-to ... --metrics`: deliveries by outcome and reason, latency as a
    histogram and the queue, per handler named by host and port only (the token in a
    route's query never reaches a label)."""
    from tests.webhookkit import Handler, down_url

    _config("")
    with Handler() as handler, ThreadedFake() as tf:
        env = {**tf.env(), "ZOOM_WEBHOOK_SECRET_TOKEN": handler.secret}
        dead = down_url("/zoom")
        routes = (
            "meeting.*=" + handler.url("/ok?token=sekrit-query-token"),
            "user.*=" + handler.url("/fail"),
            "recording.*=" + dead,
        )
        args = [a for route in routes for a in ("--forward-to", route)]
        proc = _watch(env, "--metrics", "127.0.0.1:0", *args)
        try:
            url = _metrics_url(proc)
            named = _stderr_line(proc, "metrics handler=")
            assert named.endswith(f'(signed; metrics handler="127.0.0.1:{handler.port}")\n')
            tf.call(lambda f: f.wait_until(f.open_connections))
            sent = (
                _events(4, "meeting.participant_joined")
                + _events(2, "user.created", 4)
                + _events(1, "recording.completed", 6)
            )
            for event in sent:
                tf.call(lambda f, e=event: f.inject(e))

            def attempts() -> float:
                got = _scrape(url)
                return sum(
                    v for (n, _), v in got.items() if n == "zoomtui_forward_deliveries_total"
                )

            poll_until(lambda: attempts() == 7, "seven delivery attempts counted")
            text = httpx.get(url, timeout=HANG_GUARD).text
            got = _scrape(url)
        finally:
            proc.send_signal(signal.SIGTERM)
            out, err = proc.communicate(timeout=HANG_GUARD)
    assert proc.returncode == 0, err
    ok, failing = f"127.0.0.1:{handler.port}", f"127.0.0.1:{handler.port}#2"
    down = dead.split("//", 1)[1].split("/", 1)[0]

    def delivered(handler: str, outcome: str, reason: str) -> float:
        key = (("handler", handler), ("outcome", outcome), ("reason", reason))
        return got[("zoomtui_forward_deliveries_total", key)]

    assert delivered(ok, "delivered", "2xx") == 4
    assert delivered(failing, "failed", "5xx") == 2
    assert delivered(down, "failed", "connect") == 1
    assert all(delivered(h, "dropped", "queue_full") == 0 for h in (ok, failing, down))
    latency = {
        h: got[("zoomtui_forward_latency_seconds_count", (("handler", h),))]
        for h in (ok, failing, down)
    }
    assert latency == {ok: 4, failing: 2, down: 1}
    assert got[("zoomtui_forward_queue_length", ())] == 0
    assert got[("zoomtui_forward_queue_limit", ())] == 1000
    assert got[("zoomtui_forward_in_flight", ())] == 0
    assert got[("zoomtui_forward_oldest_wait_seconds", ())] == 0
    handlers = {dict(k[1])["handler"] for k in got if k[0].startswith("zoomtui_forward_") and k[1]}
    assert handlers == {ok, failing, down}  # bounded: host:port names, nothing more
    assert "sekrit" not in text and "/ok" not in text and "/fail" not in text


def test_watch_unsigned_says_so_once_plainly() -> None:
    """`watch --forward-to ... --unsigned`: the handler named at start, and that what it
    gets carries no signature, in one plain parenthesis (no brackets within brackets)."""
    from tests.webhookkit import Handler

    _config("")
    with Handler() as handler, ThreadedFake() as tf:
        env = {**tf.env(), "ZOOM_WEBHOOK_SECRET_TOKEN": ""}
        proc = _watch(env, "--forward-to", handler.url("/zoom"), "--unsigned")
        try:
            line = _stderr_line(proc, "forwarding to")
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.communicate(timeout=HANG_GUARD)
    unsigned = "UNSIGNED: --unsigned given, a handler that checks signatures will refuse these"
    assert line == f"zoomtui: forwarding to {handler.url('/zoom')} ({unsigned})\n"
