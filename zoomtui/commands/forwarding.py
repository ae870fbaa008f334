"""What `zoomtui forward` and `zoomtui resend` share: the options that say where and how
to deliver, the webhook secret token, and the one line printed per delivery.

stdout carries one line per delivery attempt (flushed): a human line by default, or with
`--json` one JSON object, for pipes.  Everything else goes to stderr.
"""

from __future__ import annotations

import contextlib
import functools
import sys
import time
from collections.abc import Callable
from typing import IO, Any

import click
import orjson

from zoomtui.commands.common import EXIT_CONFIG
from zoomtui.forward import (
    DEFAULT_CONCURRENCY,
    DEFAULT_QUEUE_LIMIT,
    DEFAULT_TIMEOUT,
    Delivery,
    ForwardOptions,
    RouteError,
    Routes,
)
from zoomtui.redaction import Secret
from zoomtui.timefmt import clock_ms, iso_utc_ms
from zoomtui.visible import visible_text
from zoomtui.zoom.protocol import ZoomEvent

#: `--retry` compresses Zoom's schedule (5, 20, 60 min) by this much unless told otherwise
DEFAULT_RETRY_FACTOR = 60.0
#: the most of an event name a line shows (Zoom's data may be any size)
_NAME_CHARS = 80


def delivery_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """--to, --filter, --json, --unsigned, --timeout, --concurrency."""

    @click.option(
        "--to",
        "to",
        multiple=True,
        metavar="[GLOB=]URL",
        help="Where to deliver: a handler URL (every event), or 'GLOB=URL' for the events "
        "whose name matches GLOB (e.g. 'meeting.participant_*=http://localhost:3000/p'). "
        "Repeatable; the first match wins. http:// only to this machine.",
    )
    @click.option(
        "--filter",
        "filter_text",
        default=None,
        metavar="EXPR",
        help="Only events matching EXPR (the TUI's filter language).",
    )
    @click.option(
        "--json",
        "as_json",
        is_flag=True,
        help="One JSON object per delivery on stdout (for pipes).",
    )
    @click.option(
        "--unsigned",
        is_flag=True,
        help="Send without x-zm-signature when there is no webhook secret token.",
    )
    @click.option(
        "--timeout",
        type=click.FloatRange(min=0.01),
        default=DEFAULT_TIMEOUT,
        show_default=True,
        metavar="SECONDS",
        help="A delivery with no answer within this is failed (Zoom waits 3 s).",
    )
    @click.option(
        "--concurrency",
        type=click.IntRange(min=1, max=256),
        default=DEFAULT_CONCURRENCY,
        show_default=True,
        help="Deliveries on their way at once.",
    )
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return func(*args, **kwargs)

    return wrapper


def monitor_forward_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """--forward-to [GLOB=]URL (repeatable) and --unsigned: forwarding while monitoring,
    with `forward --to`'s routes, transport rule and webhook secret token."""

    @click.option(
        "--forward-to",
        "forward_to",
        multiple=True,
        metavar="[GLOB=]URL",
        help="Also forward each live event to this webhook handler, signed as Zoom signs "
        "(as `zoomtui forward --to`): a URL, or 'GLOB=URL' for the events whose name matches. "
        "Repeatable; the first match wins. http:// only to this machine.",
    )
    @click.option(
        "--unsigned",
        is_flag=True,
        help="With --forward-to: send without x-zm-signature when there is no webhook secret "
        "token.",
    )
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return func(*args, **kwargs)

    return wrapper


def monitor_forwarding(
    command: str,
    forward_to: tuple[str, ...],
    *,
    unsigned: bool,
    profile: str | None,
    config_path: str | None,
    insecure: bool,
) -> ForwardOptions | None:
    """What `--forward-to` asks for (None: no forwarding).  A route the transport rule
    refuses, or no webhook secret token without `--unsigned`: says why and exits (3)."""
    if not forward_to:
        if unsigned:
            fail(command, "--unsigned is for --forward-to: there is nothing to forward.")
        return None
    routes = routes_from(command, forward_to, insecure)
    secret = webhook_secret_for(command, profile, config_path, unsigned=unsigned)
    return forward_options_from(
        routes, secret, timeout=DEFAULT_TIMEOUT, concurrency=DEFAULT_CONCURRENCY
    )


def fail(command: str, message: str, code: int = EXIT_CONFIG) -> None:
    click.echo(f"zoomtui {command}: {message}", err=True)
    sys.exit(code)


def routes_from(command: str, to: tuple[str, ...], insecure: bool) -> Routes:
    try:
        return Routes.parse(list(to), insecure=insecure)
    except RouteError as exc:
        fail(command, str(exc))
        raise  # (not reached: fail exits)


def matcher_for(
    filter_text: str | None, config_path: str | None = None
) -> Callable[[ZoomEvent], bool] | None:
    """--filter as the test an event must pass (None: every event passes); `@name` is a
    saved filter of the config file."""
    from zoomtui.commands.common import filter_option

    flt = filter_option(filter_text, config_path)
    return None if flt is None else flt.matches_event


def webhook_secret_for(
    command: str,
    profile: str | None,
    config_path: str | None,
    *,
    unsigned: bool,
    needed_for: str = "",
) -> Secret | None:
    """The token to sign with (environment, then keyring); None with `--unsigned` when
    there is none.  Without one and without `--unsigned`: says what to do and exits
    (`needed_for`: why it cannot be done without, said instead of offering --unsigned)."""
    from zoomtui import config as cfg
    from zoomtui.credentials import no_webhook_secret_help, resolve_webhook_secret

    try:
        name = cfg.selected_profile(profile)
        values = cfg.get_profile(name, cfg.config_path(config_path)) or {}
    except cfg.ConfigError as exc:
        fail(command, str(exc))
        raise
    found = resolve_webhook_secret(name, allow_insecure=bool(values.get("insecure_keyring")))
    if found.secret is not None:
        return found.secret
    if unsigned:
        return None
    fail(command, no_webhook_secret_help(name, found.problem, needed_for=needed_for))
    raise AssertionError  # (not reached)


#: beside each handler named at start when `--unsigned` was given: said once, plainly
UNSIGNED_WORDS = "UNSIGNED: --unsigned given, a handler that checks signatures will refuse these"


def signing_words(secret: Secret | None) -> str:
    """How the deliveries go out, said beside each handler: `forwarding to URL (signed)`."""
    return "signed" if secret is not None else UNSIGNED_WORDS


def forward_options_from(
    routes: Routes,
    secret: Secret | None,
    *,
    timeout: float,
    concurrency: int,
    queue_limit: int = DEFAULT_QUEUE_LIMIT,
    retry_factor: float | None = None,
) -> ForwardOptions:
    return ForwardOptions(
        routes=routes,
        secret=secret,
        timeout=timeout,
        queue_limit=queue_limit,
        concurrency=concurrency,
        retry_factor=retry_factor,
    )


# -- one line per delivery -------------------------------------------------------------------
def delivery_line(d: Delivery, at: float) -> bytes:
    """`14:05:01.234  200     12 ms  meeting.participant_joined -> http://...`; a failure
    says so, and why (`501 ...  failed (not a 2xx answer)`, `---  ...  failed (timed out)`),
    then when it is tried again."""
    status = str(d.status) if d.status is not None else "---"
    name = visible_text(d.event_name[:_NAME_CHARS])
    text = f"{clock_ms(at)}  {status:>3}  {d.latency * 1000:>5.0f} ms  {name} -> {d.url}"
    if not d.ok:  # Zoom counts only a 2xx as delivered
        why = visible_text(d.error) if d.error else "not a 2xx answer"
        text += f"  {d.outcome} ({why})"
    elif d.error:
        text += f"  ({visible_text(d.error)})"
    if d.attempt > 1:
        text += f"  attempt {d.attempt}"
    if d.retry_in is not None:
        text += f"  retry in {d.retry_in:.1f} s"
    return (text + "\n").encode("utf-8", "replace")


def delivery_json(d: Delivery, at: float) -> bytes:
    """One JSON object per delivery (for pipes)."""
    obj = {
        "at": iso_utc_ms(at),
        "event": d.event_name,
        "event_ts": d.event.event_ts_ms if d.event is not None else None,
        "url": d.url,
        "outcome": d.outcome,
        "status": d.status,
        "error": d.error or None,
        "latency_ms": round(d.latency * 1000, 1),
        "waited_ms": round(d.waited * 1000, 1),
        "attempt": d.attempt,
        "retry_in": d.retry_in,
        "request_id": dict(d.request.headers).get("x-zm-request-id"),
        "timestamp": d.request.timestamp,
        "signed": d.request.signed,
    }
    return orjson.dumps(obj) + b"\n"


class DeliveryPrinter:
    """Prints each delivery on `out` (flushed), and counts them.  A reader of stdout that
    went away (`| head`) stops the printing, never the deliveries."""

    def __init__(self, out: IO[bytes], *, as_json: bool = False) -> None:
        self._write, self._flush = out.write, out.flush
        self._format = delivery_json if as_json else delivery_line
        #: deliveries reported, and printed (all of them unless stdout went away)
        self.seen = 0
        self.printed = 0
        self.stdout_gone = False

    def __call__(self, delivery: Delivery) -> None:
        self.seen += 1
        if self.stdout_gone:
            return
        try:
            self._write(self._format(delivery, time.time()))
            self._flush()
        except BrokenPipeError:
            self.stdout_gone = True
            return
        except ValueError:  # closed
            self.stdout_gone = True
            return
        self.printed += 1


def summary_text(stats: Any, left: int = 0) -> str:
    """`12 delivered, 3 failed, 0 dropped (queue full)`, plus what was not sent."""
    text = (
        f"{stats.delivered} delivered, {stats.failed} failed, {stats.dropped} dropped (queue full)"
    )
    if left:
        text += f", {left} not sent (stopped)"
    return text


def say(err: IO[str], text: str) -> None:
    with contextlib.suppress(BrokenPipeError, ValueError):
        err.write(f"zoomtui: {text}\n")
        err.flush()
