"""The core never imports Textual: the same code serves the TUI, `tail` and the benchmarks."""

from __future__ import annotations

import subprocess
import sys

CORE = [
    "zoomtui.zoom.protocol",
    "zoomtui.zoom.updates",
    "zoomtui.zoom.auth",
    "zoomtui.zoom.tokens",
    "zoomtui.zoom.connection",
    "zoomtui.monitor.filters",
    "zoomtui.monitor.meetings",
    "zoomtui.monitor.eventlog",
    "zoomtui.monitor.gcpolicy",
    "zoomtui.monitor.archive",
    "zoomtui.monitor.recording",
    "zoomtui.monitor.replay",
    "zoomtui.monitor.session",
    "zoomtui.monitor.source",
    "zoomtui.monitor.linkstatus",
    "zoomtui.monitor.lines",
    "zoomtui.monitor.export",
    "zoomtui.fakezoom",
    "zoomtui.fakezoom.server",  # (the package itself loads its parts when asked)
    "zoomtui.forward",
    "zoomtui.alerts",
    "zoomtui.alerts.engine",
    "zoomtui.alerts.actions",
    "zoomtui.alerts.metrics",
    "zoomtui.settings",
    "zoomtui.credentials",
    "zoomtui.credentials.token_cache",
    "zoomtui.config",
    "zoomtui.redaction",
]


def test_core_modules_import_no_textual() -> None:
    code = (
        "import importlib, importlib.util, sys\n"
        f"mods = {CORE!r}\n"
        "present = [m for m in mods if importlib.util.find_spec(m) is not None]\n"
        "for m in present: importlib.import_module(m)\n"
        "bad = sorted(k for k in sys.modules if k == 'textual' or k.startswith('textual.'))\n"
        "print(len(present)); print(','.join(bad))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    count, bad = out.splitlines()[0], (out.splitlines()[1:] or [""])[0]
    assert int(count) >= 3
    assert bad == "", f"core imported Textual: {bad}"


def test_tail_command_imports_no_textual() -> None:
    code = (
        "import sys, zoomtui.cli as c\n"
        "from click.testing import CliRunner\n"
        "CliRunner().invoke(c.main, ['tail', '--help'])\n"
        "print(any(k == 'textual' or k.startswith('textual.') for k in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip().splitlines()[-1] == "False"
