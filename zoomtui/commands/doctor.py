"""`zoomtui doctor`: the preflight. Each step says what it found and, when it fails, what to do.

Steps: settings (and where each came from), transport, the alert rules (`--test-alerts`
fires a test alert through each action), keyring, the profile's archive (read-only: its
file, size, retention, schema, search index), token request, clock skew, the Dashboard
API hydration reads (one call: its scope and the plan), WebSocket
handshake + build_connection, one heartbeat round trip.
Plain text, no colours, no TTY needed; never prints the secret or a token.

Exit codes: 0 all passed, 1 a check failed, 3 settings missing or invalid,
4 Zoom rejected the credentials or the subscription.
"""

from __future__ import annotations

import asyncio
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, TYPE_CHECKING

import click

from zoomtui.commands.common import (
    EXIT_CONFIG,
    EXIT_CREDENTIALS,
    EXIT_FAILURE,
    EXIT_OK,
    connection_options,
    overrides_from,
)
from zoomtui.commands.reports import (
    SETTING_LABELS,
    marks_for,
    quiet_logging,
    secret_source,
    worse_exit,
)
from zoomtui.redaction import mask_id, redact
from zoomtui.settings import ConnectionSettings, SettingsError
from zoomtui.timefmt import duration_short
from zoomtui.visible import visible_lines

if TYPE_CHECKING:
    from zoomtui.zoom.auth import Token, TokenProvider
    from zoomtui.zoom.updates import StateChanged

CONNECT_TIMEOUT = 20.0
#: the token request's deadline, unless --timeout is shorter
TOKEN_TIMEOUT = 10.0
SKEW_WARN = 2.0  # Date has a 1 s resolution: below this is noise


class _NoJitter(random.Random):
    def uniform(self, a: float, b: float) -> float:
        return b


class Report:
    """Writes one block per step: mark, title, findings, and what to do."""

    def __init__(self, out: IO[str]) -> None:
        self.out = out
        self.marks = marks_for(out)
        self.failed: list[str] = []
        self.code = EXIT_OK

    def step(
        self,
        status: str,
        title: str,
        found: str | list[str] = "",
        todo: str = "",
        code: int = EXIT_FAILURE,
    ) -> None:
        lines = [found] if isinstance(found, str) else list(found)
        first = f"{self.marks[status]} {title}"
        if lines and lines[0]:
            first += f": {lines[0]}"
        self._write(first)
        for line in lines[1:]:
            self._write(f"    {line}")
        if todo:
            self._write(f"    {self.marks['todo']} {todo}")
        if status == "fail":
            self.failed.append(title)
            self.code = worse_exit(self.code, code)

    def line(self, text: str = "") -> None:
        self._write(text)

    def _write(self, text: str) -> None:
        # Findings hold server text (refusals, token endpoint errors): no control character
        # in it reaches the terminal.
        self.out.write(visible_lines(redact(text)) + "\n")
        self.out.flush()


def _shown(name: str, value: object) -> str:
    if name == "client_secret":
        return "set (hidden)"
    if name in ("account_id", "client_id", "subscription_id"):
        return mask_id(str(value))
    return str(value)


# -- steps ----------------------------------------------------------------------------------
def check_settings(
    report: Report, profile: str | None, config_path: str | None, overrides: dict
) -> ConnectionSettings | None:
    from zoomtui import credentials

    try:
        res = credentials.resolve(
            profile=profile, config_path=config_path, overrides=dict(overrides)
        )
    except SettingsError as exc:  # a broken config file
        report.step(
            "fail",
            "settings",
            str(exc),
            "Fix the config file, or set the ZOOM_* environment variables.",
            code=EXIT_CONFIG,
        )
        return None
    found = [f"profile {res.profile} (config {res.config_path})"]
    for name, label in SETTING_LABELS:
        if res.values.get(name):
            source = res.sources.get(name, "?")
            if name == "client_secret" and source == "keyring":
                source = secret_source(source, credentials.keyring_status().state)
            found.append(f"{label}: {_shown(name, res.values[name])} (from {source})")
        elif name not in credentials.required(res.values.get("grant")):
            found.append(f"{label}: not used ({res.values.get('grant')} grant)")
        else:
            found.append(f"{label}: missing")
    try:
        settings = credentials.resolve_settings(
            profile=profile, config_path=config_path, overrides=dict(overrides)
        )
    except SettingsError as exc:
        report.step("fail", "settings", found, str(exc), code=EXIT_CONFIG)
        return None
    report.step("ok", "settings", found)
    _config_warnings(report, res.config_path)
    try:
        settings.check_transport()
    except SettingsError as exc:
        report.step("fail", "transport", str(exc), code=EXIT_CONFIG)
        return None
    return settings


def _config_warnings(report: Report, path: Path) -> None:
    """What the config file holds that zoomtui ignores (unknown keys, insecure_transport)."""
    from zoomtui import config as cfg

    try:
        warnings = cfg.load_config(path).warnings
    except SettingsError:  # already reported by the settings step
        return
    if warnings:
        report.step(
            "warn",
            "config file",
            list(warnings),
            "Fix or delete those lines.",
        )


def check_keyring(report: Report, settings: ConnectionSettings | None) -> None:
    try:
        from zoomtui.credentials import keyring_status
    except ImportError:
        report.step("skip", "keyring", "checked by `zoomtui profiles`")
        return
    status = keyring_status()
    source = settings.sources.get("client_secret", "") if settings else ""
    if status.usable:
        report.step("ok", "keyring", f"{status.backend_name} answers")
    elif source and source != "keyring":
        report.step(
            "skip", "keyring", [f"{status.message}", f"not needed: the secret comes from {source}"]
        )
    elif source and status.state == "insecure":  # read only for a profile that accepted it
        assert settings is not None
        report.step(
            "warn",
            "keyring",
            [
                f"INSECURE: the only keyring ({status.backend_name}) is a plain file that any "
                "program running as you can read",
                f"profile {settings.profile} accepted it (insecure_keyring = true): its client "
                "secret is read from that file, in clear text",
            ],
            f"`zoomtui logout --profile {settings.profile}` removes it from there; then set "
            "ZOOM_CLIENT_SECRET, or install a real keyring and run `zoomtui login` again.",
        )
    else:
        report.step(
            "warn",
            "keyring",
            status.message,
            "Set ZOOM_CLIENT_SECRET for this shell, or fix the keyring and run `zoomtui login`.",
        )


async def check_token(
    report: Report, settings: ConnectionSettings, tokens: TokenProvider
) -> Token | None:
    from zoomtui.zoom.auth import CredentialsRejected, RateLimited

    host = settings.oauth_url
    try:
        tok = await tokens.get()
    except CredentialsRejected as exc:
        report.step(
            "fail", "token request", f"{host}: {exc.message}", exc.hint, code=EXIT_CREDENTIALS
        )
        return None
    except RateLimited as exc:
        report.step(
            "fail",
            "token request",
            f"{host}: {exc.message}",
            f"Wait {exc.retry_after:.0f} s and run doctor again; something else may be "
            "asking for tokens with these credentials in a loop.",
        )
        return None
    except Exception as exc:  # TransientAuthError and anything unforeseen: say it plainly
        msg = getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}"
        report.step(
            "fail",
            "token request",
            f"{host}: {msg}",
            "Check the network, a proxy (HTTPS_PROXY) and the token URL; then try again.",
        )
        return None
    left = tok.expires_at - time.time()
    where = tokens.cache_where
    if tok.from_cache:
        first = (
            f"reused the access token shared in the {where} ({settings.grant}, from {host}); "
            f"no new token was issued; valid for {duration_short(left)}"
        )
    else:
        first = f"HTTP {tok.status} from {host} ({settings.grant}); token valid for {duration_short(left)}"
    found = [first, f"scopes: {' '.join(tok.scopes) or '(none listed)'}"]
    from zoomtui.credentials.token_cache import IN_MEMORY

    if not tok.from_cache and where == IN_MEMORY:
        # no keyring to share through: each process asks Zoom for its own token
        found.append(
            "kept in this process's memory only (no usable keyring): each zoomtui process "
            "of this profile asks Zoom for its own"
        )
    elif not tok.from_cache and where:
        found.append(f"shared with this profile's other zoomtui processes through the {where}")
    if tok.api_url:
        found.append(f"API host named by the token answer: {tok.api_url}")
    report.step("ok", "token request", found)
    return tok


def check_clock(report: Report, tok: Token) -> None:
    skew = tok.clock_skew
    if skew is None:
        report.step("warn", "clock", "the token endpoint sent no usable Date header; skew unknown")
    elif abs(skew) <= SKEW_WARN:
        report.step(
            "ok", "clock", f"within {SKEW_WARN:.0f} s of Zoom's (Date header, 1 s resolution)"
        )
    else:
        way = "ahead of" if skew > 0 else "behind"
        report.step(
            "warn",
            "clock",
            f"this machine is {abs(skew):.0f} s {way} Zoom's clock",
            "Event lag figures will be off by that much: enable NTP (timedatectl set-ntp true).",
        )


async def check_dashboard(
    report: Report, settings: ConnectionSettings, tokens: object, timeout: float
) -> None:
    """One call to the Dashboard's live meetings (page_size 1): does the token's scope, and
    the account's plan, let hydration ask who is in each meeting?  A warning, not a failure:
    the monitor works without it."""
    from zoomtui.zoom.rest import ApiError, ZoomRest

    title = "Dashboard API (hydration)"
    if not settings.hydrate:
        report.step("skip", title, "skipped: hydrate = false in the profile")
        return
    rest = ZoomRest(settings, tokens, timeout=timeout)  # type: ignore[arg-type]
    try:
        async with asyncio.timeout(timeout):
            body = await rest.get("/v2/metrics/meetings", {"type": "live", "page_size": "1"})
    except ApiError as exc:
        report.step("warn", title, str(exc), exc.hint or "Rosters stay as events built them.")
        return
    except TimeoutError:
        report.step("warn", title, f"no answer within {timeout:g} s")
        return
    finally:
        await rest.aclose()
    total = body.get("total_records")
    live = f" ({total} live now)" if isinstance(total, int) and not isinstance(total, bool) else ""
    report.step("ok", title, f"live meetings and rosters can be read{live}")


#: (step title, what was found, what to do, exit code) of a WebSocket step that failed
_Outcome = tuple[str, str, str, int]


def _outcome(u: StateChanged, failure: object, connected: bool) -> _Outcome | None:
    """The failed step a state change means (None: not a failure, go on)."""
    from zoomtui.zoom.connection import FailureKind
    from zoomtui.zoom.updates import ConnectionState as S

    title = "heartbeat" if connected else "WebSocket handshake"
    if u.state is S.FAILED:
        if failure is FailureKind.SUBSCRIPTION:
            return ("build_connection", u.reason, u.hint, EXIT_CREDENTIALS)
        if failure is FailureKind.CREDENTIALS:
            return ("token request", u.reason, u.hint, EXIT_CREDENTIALS)
        return ("WebSocket handshake", u.reason, u.hint, EXIT_FAILURE)
    if u.state is S.DISPLACED:
        todo = (
            "Another consumer is using this subscription and doctor did not take it back. "
            "Use --no-connect, or a subscription of its own for monitoring."
        )
        return (title, u.reason, todo, EXIT_FAILURE)
    if u.state is S.RECONNECTING and not (u.retry_in == 0 and not connected):
        todo = (
            "Check the network, a proxy and the WebSocket URL; a firewall must allow "
            "outbound wss:// (443)."
        )
        return (title, u.reason, todo, EXIT_FAILURE)
    return None


async def check_websocket(
    report: Report,
    settings: ConnectionSettings,
    tokens: TokenProvider,
    timeout: float = CONNECT_TIMEOUT,
) -> None:
    from zoomtui.settings import DisplacedPolicy
    from zoomtui.zoom.connection import ZoomConnection
    from zoomtui.zoom.protocol import KIND_HEARTBEAT
    from zoomtui.zoom.updates import ConnectionState as S
    from zoomtui.zoom.updates import Heartbeat, Notice, StateChanged

    sub = mask_id(settings.subscription_id)
    report.step(
        "warn",
        "one connection per subscription",
        [
            f"the next step opens a WebSocket on subscription {sub}; if another consumer (for "
            "example your production integration) is connected to it, Zoom may close that one",
        ],
        "Use --no-connect to skip the WebSocket steps on a production subscription.",
    )
    # No jitter: a retry_in of 0 then only means "new token, at once", which doctor lets run.
    # Displaced, doctor never takes the subscription back, whatever the profile says.
    conn = ZoomConnection(
        settings, tokens, backoff_base=1.0, rng=_NoJitter(), on_displaced=DisplacedPolicy()
    )
    connected = False
    outcome: _Outcome | None = None
    try:
        async with asyncio.timeout(timeout):
            async for u in conn.updates():
                if isinstance(u, StateChanged):
                    if u.state is S.CONNECTED:
                        connected = True
                        report.step("ok", "WebSocket handshake", settings.ws_url)
                        report.step("ok", "build_connection", f"accepted for subscription {sub}")
                    else:
                        outcome = _outcome(u, conn.failure, connected)
                        if outcome is not None:
                            if outcome[0] == "build_connection":
                                report.step("ok", "WebSocket handshake", settings.ws_url)
                            break
                elif isinstance(u, Notice) and u.envelope.kind == KIND_HEARTBEAT:
                    outcome = (
                        "heartbeat",
                        u.text,
                        "Zoom did not confirm the link: check Zoom's status page, then run "
                        "doctor again.",
                        EXIT_FAILURE,
                    )
                    break
                elif isinstance(u, Heartbeat):
                    ms = u.rtt * 1000
                    report.step(
                        "ok",
                        "heartbeat",
                        f"answered in {ms:.1f} ms" if ms < 10 else f"answered in {ms:.0f} ms",
                    )
                    break
    except TimeoutError:
        title = "heartbeat" if connected else "WebSocket handshake"
        outcome = (
            title,
            f"no answer within {timeout:.0f} s (state: {conn.state.value})",
            "Check the network and the WebSocket URL.",
            EXIT_FAILURE,
        )
    finally:
        await conn.close()
    if outcome is not None:
        title, found, todo, code = outcome
        report.step("fail", title, found, todo, code=code)


async def run_doctor(
    report: Report,
    settings: ConnectionSettings,
    *,
    connect: bool = True,
    timeout: float = CONNECT_TIMEOUT,
) -> None:
    from zoomtui.credentials.token_cache import shared_token_cache
    from zoomtui.zoom.auth import TokenProvider

    # --timeout bounds the token request too (its deadline covers the whole request, not
    # each read: an endpoint trickling bytes cannot hold doctor).  The token is the one the
    # other zoomtui processes of this profile share, if they have one.
    cache = shared_token_cache(settings)
    async with TokenProvider(settings, timeout=min(TOKEN_TIMEOUT, timeout), cache=cache) as tokens:
        tok = await check_token(report, settings, tokens)
        if tok is None:
            return
        check_clock(report, tok)
        await check_dashboard(report, settings, tokens, timeout)
        if connect:
            await check_websocket(report, settings, tokens, timeout)
        else:
            report.step("skip", "WebSocket", "skipped (--no-connect)")


def doctor(
    profile: str | None,
    config_path: str | None,
    overrides: dict,
    *,
    connect: bool,
    out: IO[str],
    timeout: float = CONNECT_TIMEOUT,
    runner: Callable = asyncio.run,
    test_alerts: bool = False,
) -> int:
    from zoomtui.commands.alertcheck import check_alerts
    from zoomtui.commands.archivecheck import check_archive

    report = Report(out)
    report.line("zoomtui doctor")
    settings = check_settings(report, profile, config_path, overrides)
    check_alerts(report, profile, config_path, test=test_alerts)
    check_keyring(report, settings)
    check_archive(report, profile, config_path)
    if settings is not None:
        try:
            runner(run_doctor(report, settings, connect=connect, timeout=timeout))
        except KeyboardInterrupt:
            report.line("interrupted")
            return 130
    report.line()
    if report.failed:
        report.line(f"{len(report.failed)} check(s) failed: {', '.join(report.failed)}.")
    else:
        report.line("All checks passed.")
    return report.code


@click.command()
@connection_options
@click.option(
    "--no-connect",
    is_flag=True,
    default=False,
    help="Skip the WebSocket steps (they may displace another consumer of the subscription).",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=1),
    default=CONNECT_TIMEOUT,
    show_default=True,
    help="Seconds to wait for the token request (at most 10), the WebSocket and the heartbeat.",
)
@click.option(
    "--test-alerts",
    is_flag=True,
    default=False,
    help="Fire a test alert through each action of each alert rule (desktop, command, POST).",
)
def command(
    profile: str | None,
    config_path: str | None,
    no_connect: bool,
    timeout: float,
    test_alerts: bool,
    **kwargs: object,
) -> None:
    """Check a setup step by step: settings, keyring, archive, token, clock, WebSocket, heartbeat.

    Exit codes: 0 all passed, 1 a check failed, 3 settings, 4 credentials or subscription.
    """
    quiet_logging()
    code = doctor(
        profile,
        config_path,
        overrides_from(kwargs),
        connect=not no_connect,
        out=sys.stdout,
        timeout=timeout,
        test_alerts=test_alerts,
    )
    sys.exit(code)
