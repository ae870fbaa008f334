"""Alert actions reach real local receivers: a command that writes a file, an HTTP server
on 127.0.0.1.  They run off the session's thread, bounded in time and in queue; a failure
is said once and counted."""

from __future__ import annotations

import json
import os
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.connhelpers import meeting_event
from tests.waits import poll_until
from zoomtui.alerts.actions import ActionError, AlertDispatcher, desktop_command, run_command
from zoomtui.alerts.alert import Alert
from zoomtui.alerts.rules import Rule, parse_rules
from zoomtui.zoom.protocol import ZoomEvent, message_frame, parse_frame


def _rule(body: str, name: str = "vip") -> Rule:
    text = f'[profiles.default]\n\n[[profiles.default.alerts]]\nname = "{name}"\n{body}\n'
    return parse_rules(text, Path("config.toml"), "default").rules[0]


def _alert(rule: str = "vip", state: str = "firing", with_event: bool = True) -> Alert:
    event = parse_frame(message_frame(meeting_event(7)), 1706123456.5)
    assert isinstance(event, ZoomEvent)
    return Alert(
        id=1,
        rule=rule,
        condition="event",
        state=state,  # type: ignore[arg-type]
        message="meeting.participant_joined Ana 7 in Weekly sync",
        at=1706123457.0,
        since=1706123456.5,
        event=event if with_event else None,
    )


def _writer(path: Path) -> str:
    code = f"import sys; open({str(path)!r}, 'wb').write(sys.stdin.buffer.read())"
    return json.dumps([sys.executable, "-c", code])


class _Hook(BaseHTTPRequestHandler):
    bodies: list[bytes]
    status = 200

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.bodies.append((self.path, self.headers["Content-Type"], body))  # type: ignore[attr-defined]
        self.send_response(self.server.status)  # type: ignore[attr-defined]
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def hook() -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hook)
    server.bodies = []  # type: ignore[attr-defined]
    server.status = 200  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_a_command_gets_the_alert_and_its_event_as_json_on_stdin(tmp_path: Path) -> None:
    out = tmp_path / "alert.json"
    rule = _rule(f'event = "type:meeting.*"\ncommand = {_writer(out)}')
    dispatcher = AlertDispatcher([rule])
    dispatcher.send(_alert())
    assert dispatcher.wait_idle(300)
    dispatcher.close()
    got = json.loads(out.read_bytes())
    assert got["alert"]["rule"] == "vip" and got["alert"]["state"] == "firing"
    assert got["alert"]["count"] == 1 and got["alert"]["gap"] is None
    assert got["event"]["payload"] == meeting_event(7)["payload"]  # as Zoom sent it
    assert got["event"]["_received_at"] == "2024-01-24T19:10:56.500Z"
    assert dispatcher.stats[("vip", "command")].sent == 1


def test_event_data_never_reaches_a_shell_and_secrets_stay_out_of_its_env(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ZOOM_CLIENT_SECRET", "s3cr3t-never-passed")
    out = tmp_path / "env.json"
    code = f"import os, json; open({str(out)!r}, 'w').write(json.dumps(dict(os.environ)))"
    rule = _rule(f"silent_for = 9\ncommand = {json.dumps([sys.executable, '-c', code])}")
    hostile = Alert(**{**_alert_fields(), "message": "$(touch pwned); `id`"})
    AlertDispatcher([rule], workers=0).run_actions(rule, hostile)
    env = json.loads(out.read_text())
    assert "ZOOM_CLIENT_SECRET" not in env and "s3cr3t-never-passed" not in out.read_text()


def _alert_fields() -> dict:
    a = _alert()
    return {name: getattr(a, name) for name in Alert.__slots__}  # type: ignore[attr-defined]


def test_a_post_reaches_a_local_server_as_json_or_slacks_text(
    hook: ThreadingHTTPServer,
) -> None:
    url = f"http://127.0.0.1:{hook.server_port}/hook/SECRET"
    plain = _rule(f'event = "type:x"\npost = "{url}"', "plain")
    slack = _rule(f'event = "type:x"\npost = "{url}"\nslack = true', "slack")
    dispatcher = AlertDispatcher([plain, slack])
    dispatcher.send(_alert("plain"))
    dispatcher.send(_alert("slack"))
    assert dispatcher.wait_idle(300)
    dispatcher.close()
    bodies = {json.loads(b).get("alert", {}).get("rule", "slack"): (p, t, json.loads(b))
              for p, t, b in hook.bodies}  # type: ignore[attr-defined]  # fmt: skip
    path, ctype, body = bodies["plain"]
    assert path == "/hook/SECRET" and ctype == "application/json"
    assert body["event"]["event"] == "meeting.participant_joined"
    assert bodies["slack"][2] == {
        "text": "zoomtui ALERT: slack: meeting.participant_joined Ana 7 in Weekly sync"
    }


def test_a_failing_action_is_said_once_and_counted(hook: ThreadingHTTPServer) -> None:
    hook.status = 500  # type: ignore[attr-defined]
    url = f"http://127.0.0.1:{hook.server_port}/hook/SECRET"
    said: list[str] = []
    rule = _rule(f'event = "type:x"\npost = "{url}"\ncommand = ["{sys.executable}", "-c", '
                 f'"import sys; print(\'no pager here\'); sys.exit(3)"]')  # fmt: skip
    dispatcher = AlertDispatcher([rule], report=said.append)
    for _ in range(3):
        dispatcher.send(_alert())
    assert dispatcher.wait_idle(300)
    dispatcher.close()
    assert dispatcher.stats[("vip", "post")].failed == 3
    assert dispatcher.stats[("vip", "command")].failed == 3
    assert dispatcher.failures == 6
    assert len(said) == 2  # once per action
    assert any("answered 500" in s and "http://127.0.0.1" in s for s in said)
    assert any("exited with 3: no pager here" in s for s in said)
    assert not any("SECRET" in s for s in said)


def test_a_command_that_hangs_is_stopped_at_its_timeout() -> None:
    with pytest.raises(ActionError, match="took longer than 0.2 s"):
        run_command((sys.executable, "-c", "import time; time.sleep(600)"), b"{}", 0.2)
    with pytest.raises(ActionError, match="cannot run /no/such/pager"):
        run_command(("/no/such/pager",), b"{}", 5)


def test_the_queue_is_bounded_and_never_waits() -> None:
    release = threading.Event()
    started = threading.Event()

    def stuck(alert: Alert) -> bool:
        started.set()
        return release.wait(300)

    rule = _rule('event = "type:x"\ndesktop = true')
    dispatcher = AlertDispatcher([rule], desktop=stuck, workers=1, queue_size=2)
    dispatcher.send(_alert())
    poll_until(started.is_set, "the worker to take the first alert")
    for _ in range(10):
        dispatcher.send(_alert())  # returns at once: 2 wait, 8 dropped
    assert dispatcher.dropped == 8
    release.set()
    assert dispatcher.wait_idle(300)
    dispatcher.close()
    assert dispatcher.stats[("vip", "desktop")].sent == 3


def test_alerts_not_meant_for_actions_are_not_sent(tmp_path: Path) -> None:
    out = tmp_path / "alert.json"
    rule = _rule(f'event = "type:x"\ncommand = {_writer(out)}')
    dispatcher = AlertDispatcher([rule])
    dispatcher.send(Alert(**{**_alert_fields(), "notify": False}))
    assert dispatcher.wait_idle(300)
    dispatcher.close()
    assert not out.exists()


def test_the_desktop_is_skipped_silently_where_there_is_none(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("shutil.which", lambda name: None)
    assert desktop_command("t", "x", "linux") is None
    monkeypatch.setattr("shutil.which", lambda name: f"/usr/bin/{name}")
    argv = desktop_command("title", "$(x)", "linux")
    assert argv is not None and argv[-2:] == ["title", "$(x)"] and "--" in argv
    mac = desktop_command("title", "it's", "darwin")
    assert mac is not None and mac[-2:] == ["title", "it's"]  # arguments, never the script


@pytest.mark.skipif(sys.platform == "darwin", reason="macOS shows it with osascript")
def test_a_desktop_notification_reaches_notify_send_with_the_text_as_arguments(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A `notify-send` of our own first on PATH, which writes down what it was given: the
    dispatcher's own desktop action reaches it, the title and message as two arguments."""
    got = tmp_path / "notified.json"
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "notify-send"
    script.write_text(
        f"#!{sys.executable}\nimport json, sys\n"
        f"open({str(got)!r}, 'w').write(json.dumps(sys.argv[1:]))\n"
    )
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")
    rule = _rule('event = "type:x"\ndesktop = true')
    dispatcher = AlertDispatcher([rule])
    dispatcher.send(Alert(**{**_alert_fields(), "message": "$(touch pwned) Ana 7"}))
    assert dispatcher.wait_idle(300)
    dispatcher.close()
    argv = json.loads(got.read_text())
    assert argv[-3:] == ["--", "zoomtui ALERT: vip", "$(touch pwned) Ana 7"]
    assert dispatcher.stats[("vip", "desktop")].sent == 1
