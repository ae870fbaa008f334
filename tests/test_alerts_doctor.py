"""`zoomtui doctor` lists the alert rules, refuses a bad one naming it, and with
`--test-alerts` fires a test alert through each action to a real local receiver."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import platformdirs
from click.testing import CliRunner

from zoomtui.commands.doctor import command


def _config(rules: str) -> Path:
    path = Path(platformdirs.user_config_dir("zoomtui")) / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"[profiles.default]\n\n{rules}")
    return path


def test_doctor_lists_the_rules_and_test_alerts_reach_each_action(tmp_path: Path) -> None:
    out = tmp_path / "test-alert.json"
    writer = f"import sys; open({str(out)!r}, 'wb').write(sys.stdin.buffer.read())"
    failing = [sys.executable, "-c", "import sys; sys.exit(2)"]
    _config(
        '[[profiles.default.alerts]]\nname = "VIP joined"\n'
        'event = "type:meeting.participant_joined user:ceo@example.com"\n'
        f"command = {json.dumps([sys.executable, '-c', writer])}\n\n"
        '[[profiles.default.alerts]]\nname = "broken pager"\ndisplaced = true\n'
        f"command = {json.dumps(failing)}\n\n"
        '[[profiles.default.alerts]]\nname = "tui only"\nsilent_for = "10m"\n'
    )
    listed = CliRunner().invoke(command, ["--no-connect"], env={})
    assert "✓ alert rules: 3 in profile default" in listed.output
    assert "VIP joined: an event matching" in listed.output
    assert not out.exists()  # listing sends nothing
    tested = CliRunner().invoke(command, ["--no-connect", "--test-alerts"], env={})
    text = tested.output
    assert "✓ test alert 'VIP joined': sent: command" in text
    assert "✗ test alert 'broken pager'" in text and "exited with 2" in text
    assert "- test alert 'tui only': no actions" in text
    sent = json.loads(out.read_bytes())
    assert sent["alert"]["state"] == "test" and sent["event"] is None
    assert tested.exit_code != 0


def test_doctor_refuses_a_bad_rule_naming_it() -> None:
    path = _config('[[profiles.default.alerts]]\nname = "vip"\nevent = "usr:ana"\n')
    result = CliRunner().invoke(command, ["--no-connect"], env={})
    assert f"✗ alert rules: {path}, line 5: alert rule 'vip'" in result.output
    assert result.exit_code == 3
    assert "alert rules" in result.output.rstrip().splitlines()[-1]  # among the failed checks


def test_test_alerts_say_when_the_desktop_has_no_notifications(monkeypatch) -> None:
    monkeypatch.setattr("shutil.which", lambda name: None)
    _config('[[profiles.default.alerts]]\nname = "down"\ndisplaced = true\ndesktop = true\n')
    result = CliRunner().invoke(command, ["--no-connect", "--test-alerts"], env={})
    assert "✓ test alert 'down': sent: desktop notification (this machine has no desktop" in (
        result.output
    )
