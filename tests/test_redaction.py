"""No token and no secret in any log record, reason, hint or notice, whatever happens.

The scenarios run with every logger at DEBUG (websockets logs the request line, with the
token, at DEBUG) and two capture paths: pytest's caplog and a handler on the root logger.
"""

from __future__ import annotations

import asyncio
import base64
import io
import logging
from collections.abc import Iterator

import pytest

from tests.connhelpers import Recorder, meeting_event
from zoomtui.fakezoom import DEMO_CREDENTIALS, FakeZoom
from zoomtui.redaction import (
    _LIBRARY_LOGGERS,
    RedactingFilter,
    Secret,
    install_log_redaction,
    mask_id,
    redact,
)
from zoomtui.zoom.auth import TokenProvider
from zoomtui.zoom.connection import ZoomConnection
from zoomtui.zoom.updates import ConnectionState as S
from zoomtui.zoom.updates import Gap, Notice, StateChanged

WRONG_SECRET = "wrong-secret-for-the-test-0042"


def test_redact_masks_query_tokens_headers_and_known_values() -> None:
    s = Secret("registered-secret-value-99")
    text = (
        "wss://ws.zoom.us/ws?subscriptionId=abc&access_token=eyJhbGciOi.J9.x "
        "Authorization: Bearer abcdefghijklmnop Authorization: Basic ZGVtbzpzZWNyZXQ= "
        '{"access_token": "tok123456789"} and registered-secret-value-99'
    )
    out = redact(text)
    for leaked in (
        "eyJhbGciOi",
        "abcdefghijklmnop",
        "ZGVtbzpzZWNyZXQ=",
        "tok123456789",
        s.reveal(),
    ):
        assert leaked not in out
    assert "subscriptionId=abc" in out


def test_filter_on_a_parent_logger_misses_children_so_install_covers_them() -> None:
    token = "fzk.child-logger-token-0001"
    Secret(token)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)  # a handler of its own: no filter on it
    parent = logging.getLogger("zoomtui_test_parent")
    parent.propagate = False
    parent.setLevel(logging.DEBUG)
    parent.addHandler(handler)
    parent.addFilter(RedactingFilter())
    child = logging.getLogger("zoomtui_test_parent.child")
    old = logging.getLogRecordFactory()
    try:
        logging.setLogRecordFactory(logging.LogRecord)
        child.warning("url ?access_token=%s", token)
        assert token in stream.getvalue()  # the pitfall: the parent's filter never ran
        stream.truncate(0)
        install_log_redaction()
        child.warning("url ?access_token=%s", token)
        child.warning("plain %s", token)
        assert token not in stream.getvalue() and "***" in stream.getvalue()
    finally:
        logging.setLogRecordFactory(old)
        parent.filters.clear()
        parent.removeHandler(handler)
        parent.propagate = True


def test_install_keeps_library_loggers_quiet() -> None:
    install_log_redaction()
    for name in ("httpx", "httpcore.http11", "websockets.client"):
        assert logging.getLogger(name).level == logging.WARNING
        assert any(isinstance(f, RedactingFilter) for f in logging.getLogger(name).filters)


def test_tracebacks_are_redacted(caplog: pytest.LogCaptureFixture) -> None:
    install_log_redaction()
    caplog.set_level(logging.DEBUG)
    try:
        raise ValueError("wss://ws.zoom.us/ws?access_token=secret-in-exception-1")
    except ValueError:
        logging.getLogger("zoomtui.zoom.connection").exception("boom")
    assert "secret-in-exception-1" not in caplog.text
    assert all(r.exc_info is None for r in caplog.records)


@pytest.fixture
def debug_everything(caplog: pytest.LogCaptureFixture) -> Iterator[io.StringIO]:
    """Every logger at DEBUG, captured by caplog and by a plain root handler."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setLevel(logging.DEBUG)
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    root = logging.getLogger()
    saved = {n: logging.getLogger(n).level for n in _LIBRARY_LOGGERS}
    install_log_redaction(level=logging.DEBUG)
    root.addHandler(handler)
    caplog.set_level(logging.DEBUG)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        for n, level in saved.items():
            logging.getLogger(n).setLevel(level)


async def test_no_token_or_secret_anywhere_across_scenarios(
    debug_everything: io.StringIO, caplog: pytest.LogCaptureFixture
) -> None:
    issued: list[str] = []
    texts: list[str] = []
    async with FakeZoom() as fake:
        real_issue = fake.issuer.issue

        def issue() -> str:
            tok = real_issue()
            issued.append(tok)
            return tok

        fake.issuer.issue = issue  # type: ignore[method-assign]

        def collect(rec: Recorder) -> None:
            for u in rec.items:
                if isinstance(u, StateChanged):
                    texts.extend((u.reason, u.hint, repr(u)))
                elif isinstance(u, (Gap, Notice)):
                    texts.append(repr(u))
                else:
                    texts.append(repr(u))

        # 1. connect, events, heartbeats, invalid token, close, cut, silence, bad frames
        settings = fake.settings(heartbeat_interval=0.1)
        conn = ZoomConnection(settings, backoff_base=0.01, backoff_cap=0.05)
        rec = Recorder(conn)
        await rec.wait_state(S.CONNECTED)
        await fake.inject(meeting_event(1))
        await fake.send_invalid_token()
        await rec.wait_state(S.CONNECTED, 2)
        await fake.close(code=1011, reason="")
        await rec.wait_state(S.CONNECTED, 3)
        await fake.cut()
        await rec.wait_state(S.CONNECTED, 4)
        fake.go_silent()
        await rec.wait_state(S.CONNECTED, 5)
        fake.expire_tokens()
        await rec.wait_state(S.CONNECTED, 6)
        await fake.send_malformed(kind="not_json")
        await fake.inject_frame('{"module":"x","success":false,"content":"access_token=leak"}')
        conn.request_reconnect()
        await rec.wait_state(S.CONNECTED, 7)
        await rec.close()
        collect(rec)
        texts.append(repr(conn.stats))

        # 2. a 404 on the WebSocket path (the handshake error carries the URL)
        rec = Recorder(ZoomConnection(settings.replace(ws_url=fake.ws_url + "/nope")))
        await rec.wait_state(S.FAILED)
        await rec.close()
        collect(rec)

        # 3. wrong secret: rejected credentials
        bad = settings.replace(client_secret=Secret(WRONG_SECRET))
        rec = Recorder(ZoomConnection(bad))
        await rec.wait_state(S.FAILED)
        await rec.close()
        collect(rec)

        # 4. the token provider on its own, logging at DEBUG
        async with TokenProvider(settings) as tokens:
            tok = await tokens.get()
            texts.append(repr(tok))
        await asyncio.sleep(0)

    assert len(issued) >= 3
    basic = base64.b64encode(
        f"{DEMO_CREDENTIALS.client_id}:{DEMO_CREDENTIALS.client_secret}".encode()
    ).decode()
    forbidden = [*issued, DEMO_CREDENTIALS.client_secret, WRONG_SECRET, basic]
    logged = (
        caplog.text
        + debug_everything.getvalue()
        + "\n".join(r.getMessage() for r in caplog.records)
    )
    assert "access_token=***" in logged  # websockets did log the request line, redacted
    everything = logged + "\n".join(texts)
    for value in forbidden:
        assert value not in everything


def test_mask_id_keeps_the_ends_and_a_fingerprint_tells_apart_the_middle() -> None:
    assert mask_id("9fXabcdefk2") == "9fX…k2"  # the default is unchanged (the panel uses it)
    assert mask_id("abc") == "abc"  # too short to hide anything: shown whole, no fingerprint
    assert mask_id("abc", fingerprint=True) == "abc"
    one = mask_id("demo-account-0001", fingerprint=True)
    two = mask_id("demo-acc-prod-0001", fingerprint=True)
    assert one.startswith("dem…01 #") and two.startswith("dem…01 #")
    assert one != two and len(one) == len(two) == len("dem…01 #0000")
    assert mask_id("demo-account-0001", fingerprint=True) == one  # stable between runs
    assert "account" not in one and "prod" not in two
    assert mask_id("bad\udcffid-from-env", fingerprint=True).startswith("bad…nv #")
