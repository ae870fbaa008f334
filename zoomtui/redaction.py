"""Secrets stay wrapped until the moment of use; one function scrubs them from text.

The access token travels in the WebSocket URL's query string and the client
secret in a Basic Authorization header, so any URL, header, exception text or
log record may carry one.  `redact()` is the single place that removes them,
and `install_log_redaction()` puts it in front of the loggers of the libraries
that see those values (httpx, httpcore, websockets).
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
from collections.abc import Iterable
from typing import Any, NoReturn

MASK = "***"

_TOKEN_QUERY = re.compile(r"(?i)((?:access_token|token|client_secret|secret_token)=)[^&\s\"'<>]+")
_AUTH_HEADER = re.compile(
    r"(?i)(authorization[\"']?\s*[:=]\s*[\"']?\s*(?:basic|bearer)\s+)[A-Za-z0-9._~+/=-]+"
)
_BEARER = re.compile(r"(?i)\b(bearer\s+)[A-Za-z0-9._~+/=-]{8,}")
_BASIC = re.compile(r"(?i)\b(basic\s+)[A-Za-z0-9+/=]{8,}")
_JSON_TOKEN = re.compile(
    r"(?i)([\"'](?:access_token|secret_token|webhook_secret_token)[\"']\s*:\s*[\"'])[^\"']+"
)

_known_lock = threading.Lock()
_known_secrets: set[str] = set()


class Secret:
    """A secret value whose repr and str are masked, so tracebacks and logs never show it.

    Use `.reveal()` only at the moment the value is sent over the wire.
    Constructing one registers the value with `redact()` as a known secret.
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value
        register_secret(value)

    def reveal(self) -> str:
        return self._value

    def __bool__(self) -> bool:
        return bool(self._value)

    def __repr__(self) -> str:
        return "Secret('***')" if self._value else "Secret('')"

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return repr(self)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(("Secret", self._value))

    def __reduce__(self) -> NoReturn:  # pickling would write the value somewhere
        raise TypeError("Secret values cannot be pickled")

    def masked(self, keep: int = 0) -> str:
        """A hint for humans: the last `keep` characters (0 = none) behind a mask."""
        if not self._value:
            return "(empty)"
        if keep and len(self._value) > keep * 3:
            return MASK + self._value[-keep:]
        return MASK


def register_secret(value: str | None) -> None:
    """Remember a secret value (client secret, access token) so `redact()` removes it anywhere."""
    if value and len(value) >= 6:
        with _known_lock:
            _known_secrets.add(value)


def forget_secrets() -> None:
    """For tests: drop every registered value."""
    with _known_lock:
        _known_secrets.clear()


def redact(text: object, extra: Iterable[str] = ()) -> str:
    """Return `text` as a string with tokens, Authorization values and known secrets masked."""
    s = text if isinstance(text, str) else str(text)
    s = _TOKEN_QUERY.sub(r"\1" + MASK, s)
    s = _AUTH_HEADER.sub(r"\1" + MASK, s)
    s = _JSON_TOKEN.sub(r"\1" + MASK, s)
    s = _BEARER.sub(r"\1" + MASK, s)
    s = _BASIC.sub(r"\1" + MASK, s)
    with _known_lock:
        known = sorted(_known_secrets, key=len, reverse=True)
    for value in (*known, *extra):
        if value and value in s:
            s = s.replace(value, MASK)
    return s


#: characters that URL-encoding and JSON escaping leave as they are
_PLAIN_RUN = re.compile(r"[A-Za-z0-9._~-]+")


class HeldSecrets:
    """The secrets one connection holds (the client secret, its Basic header value, the
    access tokens in use), in the forms they can take inside a frame from Zoom: as they
    are, URL-encoded, and with JSON's escaped slash.

    Zoom may echo a token in an event (a URL it builds, a field a bug fills in).  A frame
    that holds one is scrubbed as it arrives, before anything keeps or shows it, so
    stdout, exports, the screen and the archive all get the same masked bytes.  That is
    the one change zoomtui makes to the bytes Zoom sent.

    Every frame is looked at, so the look is cheap: one `probes` search per secret (a
    stretch of it that every form shares); only a frame that holds a probe is scrubbed.
    """

    __slots__ = ("_fixed", "_tokens", "forms", "probes")

    #: tokens held: the one in use and the one before it (an event may come late)
    KEEP_TOKENS = 2
    #: a probe is at most this long (longer ones search no faster)
    PROBE = 32

    def __init__(self, *values: str) -> None:
        self._fixed = [v for v in values if v and len(v) >= 6]
        self._tokens: list[str] = []
        #: every form of every held secret, longest first (used once a probe is found)
        self.forms: tuple[bytes, ...] = ()
        #: what `found_in` searches each frame for: one stretch per secret, as a rule
        self.probes: tuple[bytes, ...] = ()
        self._rebuild()

    def hold(self, token: str) -> None:
        """A new access token: held from now on (the oldest beyond `KEEP_TOKENS` is let go)."""
        if not token or len(token) < 6 or token in self._tokens:
            return
        self._tokens = [*self._tokens, token][-self.KEEP_TOKENS :]
        self._rebuild()

    def _rebuild(self) -> None:
        from urllib.parse import quote

        forms: set[bytes] = set()
        probes: set[bytes] = set()
        for value in (*self._fixed, *self._tokens):
            mine = {value, quote(value, safe=""), value.replace("/", "\\/")}
            forms.update(f.encode("utf-8", "surrogatepass") for f in mine)
            run = max(_PLAIN_RUN.findall(value), key=len, default="")
            if len(run) >= 6:  # in every form as it is
                probes.add(run[: self.PROBE].encode())
            else:  # a secret made of symbols: look for each form
                probes.update(f.encode("utf-8", "surrogatepass") for f in mine)
        self.forms = tuple(sorted(forms, key=len, reverse=True))
        self.probes = tuple(probes)

    def found_in(self, data: bytes) -> bool:
        """Whether `data` may hold a held secret (then `scrub` it)."""
        return any(probe in data for probe in self.probes)

    def scrub(self, data: bytes) -> bytes:
        """`data` with every held secret replaced by the mask."""
        mask = MASK.encode()
        for form in self.forms:
            if form in data:
                data = data.replace(form, mask)
        return data


def mask_id(value: str, keep: int = 2, *, fingerprint: bool = False) -> str:
    """Partly mask an identifier for display (`9fX…k2`): enough to recognise, not to copy.

    `fingerprint=True` adds four hex digits of the id's SHA-256 (`dem…01 #5c1e`): ids that
    share their ends (`demo-account-0001`, `demo-acc-prod-0001`) still look different side
    by side, and the digits say nothing about the hidden middle.  Short ids are shown whole."""
    if len(value) <= keep * 2 + 1:
        return value
    shown = f"{value[: keep + 1]}…{value[-keep:]}"
    if fingerprint:
        shown += " #" + hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:4]
    return shown


def _redact_record(record: logging.LogRecord) -> None:
    """Rewrite a record in place: message, args, traceback and stack all go through `redact()`."""
    if getattr(record, "_zoomtui_redacted", False):
        return
    try:
        message = record.getMessage()
    except Exception:  # a broken format string must not break logging
        message = str(record.msg)
    record.msg = redact(message)
    record.args = None
    if record.exc_info and record.exc_info[1] is not None:
        # Render the traceback now, redacted, and drop the exception object: its str() and
        # attributes (websockets keeps the URL) must not reach a handler or a formatter.
        import traceback

        record.exc_text = redact("".join(traceback.format_exception(*record.exc_info)))
        record.exc_info = None
    elif record.exc_text:
        record.exc_text = redact(record.exc_text)
    if record.stack_info:
        record.stack_info = redact(record.stack_info)
    record._zoomtui_redacted = True


class RedactingFilter(logging.Filter):
    """A logging filter that rewrites each record's message and args through `redact()`.

    Note: a filter on a logger sees only records logged *on that logger*, not those
    propagated from its children; `install_log_redaction()` therefore puts it on each
    library's actual loggers and on the root handlers, and also installs a record factory.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        _redact_record(record)
        return True


#: the loggers that see URLs (with the token) or Authorization headers, by their exact names:
#: filters do not apply to records propagated from child loggers.
_LIBRARY_LOGGERS = (
    "httpx",
    "httpcore",
    "httpcore.connection",
    "httpcore.http11",
    "httpcore.http2",
    "httpcore.proxy",
    "httpcore.socks",
    "hpack",
    "websockets",
    "websockets.client",
    "websockets.server",
    "websockets.protocol",
)
_OWN_LOGGERS = (
    "zoomtui",
    "zoomtui.zoom.auth",
    "zoomtui.zoom.connection",
    "zoomtui.forward",
)
_installed = False


def _install_record_factory() -> None:
    """Redact every record as it is made, whatever logger and handler it meets later.

    Handlers added after installation (pytest's caplog, Textual's, a user's) are covered,
    and so are loggers nobody listed.  Costs nothing for records below a logger's level:
    they are never made.
    """
    old = logging.getLogRecordFactory()
    if getattr(old, "_zoomtui_redacting", False):
        return

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = old(*args, **kwargs)
        _redact_record(record)
        return record

    factory._zoomtui_redacting = True  # type: ignore[attr-defined]  # a mark on the function
    logging.setLogRecordFactory(factory)


def install_log_redaction(level: int = logging.WARNING) -> None:
    """Redact every log record; keep the chatty libraries at `level` (WARNING unless asked).

    httpx logs full URLs at INFO and websockets logs the request line (with the token)
    at DEBUG: both stay quiet unless a caller lowers `level`, and are redacted if they speak.
    Idempotent.
    """
    global _installed
    _install_record_factory()
    flt = RedactingFilter()
    for name in (*_LIBRARY_LOGGERS, *_OWN_LOGGERS):
        lg = logging.getLogger(name)
        if not any(isinstance(f, RedactingFilter) for f in lg.filters):
            lg.addFilter(flt)
        if name in _LIBRARY_LOGGERS:
            lg.setLevel(level)
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(flt)
    _installed = True
