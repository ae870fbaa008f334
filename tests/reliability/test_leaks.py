"""No credential leaks: one run through everything a user touches, then a scan of everything
it left behind for the client secret and the access tokens, in every encoding they travel in.

The run: `login` (the secret from the environment, verified, saved), `tail` (through a
forced token refresh and reconnect), `doctor`, the TUI (a network error whose message holds
the token-bearing URL, an export of the view, an SVG screenshot) and a crash-screen attempt
(a widget that raises with the token and the secret in its message and its locals), a
connection writing the archive (through a refresh), and `export` from that archive.  Every
library logs at DEBUG, where websockets writes the request line with the token in it.

The scan: every log record (pytest's caplog and a root handler with its own formatter),
stdout and stderr at the file-descriptor level, each command's output, the screen, the
SVG, the export files and every file under the isolated home (config, keyring-free data
folder, the archive with its WAL).  Needles: the secret and the token prefix, raw, URL-
encoded, hex and base64 (standard and URL-safe, at each of the three byte alignments, so
they are found inside a longer encoded value such as the Basic header).

The fake gives every token a recognisable prefix with `+` and `/` in it, so the token in
the WebSocket URL's query string is percent-encoded there: a scrubber that only knew the
raw value would miss it.
"""

from __future__ import annotations

import asyncio
import base64
import io
import logging
import re
import sys
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest
from click.testing import CliRunner, Result
from textual.widgets import Static

from tests.connhelpers import HB, Recorder, ThreadedFake
from tests.tui.conftest import screen_text, wait_until
from zoomtui import credentials, redaction
from zoomtui.cli import main
from zoomtui.fakezoom import DemoCredentials
from zoomtui.monitor.archive import Archive, archive_path
from zoomtui.tui.app import ZoomtuiApp
from zoomtui.tui.options import AppOptions, ConnectionOptions, FirstRunOptions
from zoomtui.zoom.auth import TokenProvider
from zoomtui.zoom.connection import ZoomConnection
from zoomtui.zoom.updates import ConnectionState as S
from zoomtui.zoom.updates import Update
from zoomtui.zoom.zoomsocket import url_with_token

SECRET = "cs+LeakCanary/Secret=4711q"
TOKEN_MARK = "tk+LeakCanary/Token."
#: Zoom's access tokens are JWTs several hundred characters long: long enough to be folded
#: across lines by anything that wraps text, so the fake's are as long
TOKEN_PREFIX = TOKEN_MARK + ".".join(
    base64.urlsafe_b64encode(bytes((i * k) % 256 for k in range(180))).decode().rstrip("=")
    for i in (7, 61, 113)
)
CREDS = DemoCredentials(
    account_id="leak-account-0001",
    client_id="leakClientId0001",
    client_secret=SECRET,
    subscription_id="leakSubscription0001",
)
PROFILE = "leak"


def forms(value: str) -> dict[str, bytes]:
    """`value` as it may be written anywhere: raw, URL-encoded, hex, base64 inside a longer
    encoded value (only the characters that depend on `value` alone, at each alignment)."""
    raw = value.encode()
    out = {
        "raw": raw,
        "url": quote(value, safe="").encode(),
        "url+": quote_plus(value).encode(),
        "hex": raw.hex().encode(),
    }
    for pad in range(3):
        for name, encode in (("b64", base64.b64encode), ("b64url", base64.urlsafe_b64encode)):
            text = encode(b"\0" * pad + raw)
            start, end = -(-8 * pad // 6), 8 * (pad + len(raw)) // 6
            out[f"{name}@{pad}"] = text[start:end]
    return out


def needles(tokens: list[str]) -> dict[str, bytes]:
    """The secret and every token issued, in every form; and any 32 characters of a token
    (what is left when only the start of a folded token was masked)."""
    found = {f"secret {k}": v for k, v in forms(SECRET).items()}
    found |= {f"token mark {k}": v for k, v in forms(TOKEN_MARK).items()}
    for n, token in enumerate(tokens, 1):
        found |= {f"token {n} {k}": v for k, v in forms(token).items()}
        found |= {
            f"token {n} chars {i}-{i + 32}": token[i : i + 32].encode()
            for i in range(len(TOKEN_MARK), len(token) - 32, 16)
        }
    return found


_WRAPPING = re.compile(rb"(?:\s|\xe2\x94\x82)+")  # whitespace, and the box edge "│" in UTF-8


def leaks(places: dict[str, bytes], tokens: list[str]) -> list[str]:
    """Where a needle is found, in the text as written and with line wrapping undone."""
    look = needles(tokens)
    return [
        f"{needle} in {where}{how}"
        for where, data in places.items()
        for how, text in (("", data), (" (unwrapped)", _WRAPPING.sub(b"", data)))
        for needle, value in look.items()
        if value in text
    ]


def _b(text: str | bytes | None) -> bytes:
    if text is None:
        return b""
    return text if isinstance(text, bytes) else text.encode("utf-8", "surrogatepass")


def debug_logging_everywhere(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every command installs log redaction with the chatty libraries at WARNING; here they
    log at DEBUG (the worst case: a developer turned debugging on), redaction unchanged."""
    import zoomtui.commands.doctor
    import zoomtui.commands.export
    import zoomtui.commands.login
    import zoomtui.commands.run
    import zoomtui.commands.tail  # noqa: F401 - imported so their bindings are patched too

    real = redaction.install_log_redaction

    def at_debug(level: int = logging.DEBUG) -> None:
        real(logging.DEBUG)

    for module in list(sys.modules.values()):
        if (
            getattr(module, "__name__", "").startswith("zoomtui")
            and getattr(module, "install_log_redaction", None) is real
        ):
            monkeypatch.setattr(module, "install_log_redaction", at_debug)
    at_debug()


class NetworkDiesAfterEvents(ZoomConnection):
    """A real connection whose socket fails the way a real one does: the exception text
    holds the WebSocket URL, token and all (websockets puts the URL in its errors)."""

    async def updates(self) -> AsyncIterator[Update]:
        events = 0
        async for update in super().updates():
            yield update
            events += update.__class__.__name__ == "ZoomEvent"
            if events >= 5:
                raise OSError(
                    "network is unreachable while reading "
                    + url_with_token(self.settings, self.tokens.token)
                )


class ExplodingWidget(Static):
    """A bug: raises on mount with a token and the secret in its message and its locals."""

    def __init__(self, token: str, secret: str) -> None:
        super().__init__("")
        self.token, self.secret = token, secret

    def on_mount(self) -> None:
        token, secret = self.token, self.secret  # locals: Textual's crash report would print them
        raise RuntimeError(f"widget failed with access_token={token} client_secret {secret}")


def cli(*args: str, **env: str) -> Result:
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


async def test_no_secret_or_token_anywhere(
    tmp_path: Path, monkeypatch, caplog, capfd, memory_keyring, _isolate_user_dirs
) -> None:
    home: Path = _isolate_user_dirs
    caplog.set_level(logging.DEBUG)
    debug_logging_everywhere(monkeypatch)
    root_out = io.StringIO()
    handler = logging.StreamHandler(root_out)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
    logging.getLogger().addHandler(handler)
    monkeypatch.chdir(tmp_path)
    places: dict[str, bytes] = {}

    def keep(where: str, result: Result) -> None:
        places[where] = _b(result.output) + _b(result.stderr_bytes)
        assert "Traceback" not in result.output, result.output

    try:
        with ThreadedFake(
            credentials=CREDS, token_prefix=TOKEN_PREFIX, scenario="demo", rate=100
        ) as tf:
            issued: list[str] = []  # every token the fake hands out, to look for each
            issue = tf.fake.issuer.issue
            tf.fake.issuer.issue = lambda: issued.append(issue()) or issued[-1]
            urls = ["--oauth-url", tf.fake.oauth_url, "--ws-url", tf.fake.ws_url]

            # login: the secret from the environment, checked with the fake, saved
            r = await asyncio.to_thread(cli, "login", "--profile", PROFILE, *urls, **tf.env())
            assert r.exit_code == 0, r.output
            keep("login output", r)
            assert memory_keyring.passwords[("zoomtui", f"{PROFILE}:client_secret")] == SECRET

            # tail from the saved profile, through an invalid-token frame (refresh, reconnect)
            async def once_tail_is_connected(f) -> None:
                await f.wait_until(f.open_connections)
                await f.send_invalid_token()

            fault = threading.Thread(target=tf.call, args=(once_tail_is_connected,))
            fault.start()
            r = await asyncio.to_thread(
                cli,
                "tail",
                "--json",
                "--count",
                "150",
                "--heartbeat",
                str(HB),
                ZOOMTUI_PROFILE=PROFILE,
            )
            fault.join()
            assert r.exit_code == 0, r.output
            keep("tail output", r)
            assert "getting a new access token" in r.output  # the refresh did happen

            r = await asyncio.to_thread(cli, "doctor", ZOOMTUI_PROFILE=PROFILE)
            keep("doctor output", r)

            settings = credentials.resolve_settings(profile=PROFILE).replace(heartbeat_interval=HB)
            assert settings.client_secret.reveal() == SECRET
            async with TokenProvider(settings) as tokens:
                token = (await tokens.get()).access_token.reveal()
            assert token.startswith(TOKEN_MARK) and token in issued  # the needles are right

            # the TUI: a network error carrying the URL, an export of the view, a screenshot
            app = ZoomtuiApp(
                AppOptions(
                    settings,
                    profile=PROFILE,
                    connection=ConnectionOptions(factory=NetworkDiesAfterEvents),
                )
            )
            async with app.run_test(size=(160, 40)) as pilot:
                await wait_until(pilot, lambda: app.status.state is S.FAILED, what="failed")
                await pilot.pause()
                assert "network is unreachable" in app.status.reason
                app.main.action_export_view()
                await wait_until(
                    pilot, lambda: list(tmp_path.glob("zoomtui-export-*.jsonl")), what="the export"
                )
                places["TUI screen"] = _b(screen_text(app))
                places["TUI screenshot (SVG)"] = _b(app.export_screenshot())

            # a crash-screen attempt
            class CrashingApp(ZoomtuiApp):
                def compose(self):
                    yield from super().compose()
                    yield ExplodingWidget(token, SECRET)

            with pytest.raises(RuntimeError):
                crashing = CrashingApp(
                    AppOptions(first_run=FirstRunOptions(reason="(none: it crashes first)"))
                )
                async with crashing.run_test() as pilot:
                    await pilot.pause()

            # the archive, written by a connection through a token refresh and a server close
            archive = Archive(archive_path(PROFILE), flush_interval=0.02)
            rec = Recorder(ZoomConnection(settings, backoff_base=0.01), sink=archive.add)
            await rec.wait_state(S.CONNECTED)
            await asyncio.to_thread(tf.call, lambda f: f.send_invalid_token())
            await rec.wait_state(S.CONNECTED, 2)
            await asyncio.to_thread(tf.call, lambda f: f.close(code=1011, reason="maintenance"))
            await rec.wait_state(S.CONNECTED, 3)
            await rec.wait_for(lambda _: len(rec.events) >= 20)
            await rec.close()
            await asyncio.to_thread(archive.close)
            assert archive.count() >= 20 and archive.count("gap") >= 2  # (tail may archive too)

        # export from that archive, both formats
        for name in ("export.jsonl", "export.csv"):
            r = await asyncio.to_thread(
                cli, "export", "--profile", PROFILE, "-o", str(tmp_path / name)
            )
            assert r.exit_code == 0, r.output
            keep(f"export {name} output", r)
    finally:
        logging.getLogger().removeHandler(handler)

    captured = capfd.readouterr()
    places["stdout"], places["stderr"] = _b(captured.out), _b(captured.err)
    crash = _WRAPPING.sub(b"", places["stderr"])  # the crash report was printed
    assert b"RuntimeError:widgetfailedwithaccess_token=" in crash
    places["log records"] = b"\n".join(
        _b(r.getMessage()) + _b(r.exc_text) + _b(r.stack_info) for r in caplog.records
    )
    places["root handler"] = _b(root_out.getvalue())
    files = [p for base in (home, tmp_path) for p in base.rglob("*") if p.is_file()]
    places |= {f"file {p}": p.read_bytes() for p in files}

    # the scan looks at real material: websockets logged its request line (the URL with the
    # token), the commands logged plenty, every kind of file was written
    assert any(
        r.name.startswith("websockets") and "GET /ws?" in r.getMessage() for r in caplog.records
    )
    assert len(caplog.records) > 100
    names = {p.name for p in files}
    assert {"config.toml", f"{PROFILE}.sqlite3", "export.jsonl", "export.csv"} <= names
    assert any(n.startswith("zoomtui-export-") for n in names)
    assert b"<svg" in places["TUI screenshot (SVG)"]

    assert len(issued) >= 4  # login, tail (and its refresh), doctor, the TUI, the archive
    found = leaks(places, issued)
    assert not found, f"{len(found)} leaks:\n" + "\n".join(sorted(found)[:60])
