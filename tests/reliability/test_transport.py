"""Transport policy: https:// and wss:// with verified certificates for any host but this
machine's own; http:// and ws:// to another host refused with a clear message (exit code 3)
by every command that connects, unless --insecure-transport; proxies from the standard
environment variables honoured by both the token request (httpx) and the WebSocket.

Nothing here leaves the machine: a small HTTP proxy on 127.0.0.1 sends every request to
127.0.0.1 at the port asked for, whatever host name was asked, so the tests can use
non-loopback names (`zoom-ws.example.test`) without DNS or network.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import ssl
import threading
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from click.testing import CliRunner, Result

from tests.connhelpers import HB, Recorder, ThreadedFake, meeting_event
from zoomtui.cli import main
from zoomtui.fakezoom import FakeZoom
from zoomtui.settings import SettingsError, check_transport, is_loopback_host
from zoomtui.zoom.connection import FailureKind, ZoomConnection
from zoomtui.zoom.updates import ConnectionState as S

REMOTE_WS = "ws://zoom-ws.example.test/ws"
REMOTE_OAUTH = "http://zoom-oauth.example.test/oauth/token"


# -- the rule -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.8.9.10", True),
        ("localhost", True),
        ("LOCALHOST", True),
        ("::1", True),
        ("[::1]", True),
        ("::ffff:127.0.0.1", True),
        # names that only look local resolve wherever their owner says
        ("127.0.0.1.nip.io", False),
        ("127.evil.example", False),
        ("localhost.evil.example", False),
        ("0.0.0.0", False),
        ("10.0.0.1", False),
        ("zoom.us", False),
        ("", False),
    ],
)
def test_what_counts_as_this_machine(host: str, loopback: bool) -> None:
    assert is_loopback_host(host) is loopback


@pytest.mark.parametrize(
    ("oauth", "ws", "refused"),
    [
        ("https://zoom.us/oauth/token", "wss://ws.zoom.us/ws", None),
        ("http://127.0.0.1:8080/oauth/token", "ws://[::1]:8081/ws", None),
        (REMOTE_OAUTH, "wss://ws.zoom.us/ws", "OAuth URL uses http://"),
        ("https://zoom.us/oauth/token", REMOTE_WS, "WebSocket URL uses ws://"),
        ("https://zoom.us/oauth/token", "ws://127.evil.example/ws", "WebSocket URL uses ws://"),
        ("ftp://zoom.us/token", "wss://ws.zoom.us/ws", "not an http(s)/ws(s) URL"),
    ],
)
def test_cleartext_to_another_host_is_refused_unless_allowed(
    oauth: str, ws: str, refused: str | None
) -> None:
    if refused is None:
        check_transport(oauth, ws)
        return
    with pytest.raises(SettingsError) as err:
        check_transport(oauth, ws)
    assert refused in str(err.value)
    if "not an" not in refused:
        assert "clear text" in str(err.value) and "--insecure-transport" in str(err.value)
        check_transport(oauth, ws, insecure=True)  # the flag: the user's explicit choice


# -- every connecting command ------------------------------------------------------------------
def cli(*args: str, env: dict[str, str]) -> Result:
    return CliRunner().invoke(main, list(args), env=env)


@pytest.fixture(scope="module")
def tf():
    with ThreadedFake() as fake:
        yield fake


@pytest.mark.parametrize("command", ["tail", "doctor", "run", "login"])
@pytest.mark.parametrize("which", ["ws", "oauth"])
def test_every_connecting_command_refuses_cleartext_to_another_host(
    tf: ThreadedFake, command: str, which: str, memory_keyring
) -> None:
    urls = {"ZOOMTUI_WS_URL": REMOTE_WS} if which == "ws" else {"ZOOMTUI_OAUTH_URL": REMOTE_OAUTH}
    before = len(tf.fake.token_requests)
    r = cli(command, env=tf.env(**urls))
    assert r.exit_code == 3, r.output
    assert "clear text" in r.output and "--insecure-transport" in r.output
    assert "Traceback" not in r.output and tf.fake.credentials.client_secret not in r.output
    assert len(tf.fake.token_requests) == before  # nothing was sent anywhere


async def test_the_engine_refuses_too_whoever_calls_it() -> None:
    """Defence in depth: a front end that forgot to check still sends nothing."""
    async with FakeZoom() as fake:
        conn = ZoomConnection(fake.settings(heartbeat_interval=HB, ws_url=REMOTE_WS))
        rec = Recorder(conn)
        failed = await rec.wait_state(S.FAILED)
        assert conn.failure is FailureKind.CONFIG
        assert "clear text" in failed.reason and "wss://" in failed.hint
        assert fake.token_requests == [] and fake.connections == []
        conn.request_connect()  # pressing connect again does not get round it
        await rec.wait_state(S.FAILED, 2)
        await rec.close()


# -- the flag, and proxies from the environment -------------------------------------------------
class LoopbackProxy:
    """An HTTP proxy on 127.0.0.1 that connects every request to 127.0.0.1 at the port asked
    for: CONNECT host:port is tunnelled, an absolute-form request (POST http://host:port/x)
    is passed on as it is.  `seen` holds each request line."""

    def __init__(self) -> None:
        self.seen: list[str] = []
        self.server: asyncio.Server | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}"

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)

    async def stop(self) -> None:
        self.server.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            line = head.split(b"\r\n", 1)[0].decode()
            self.seen.append(line)
            method, target, _ = line.split(" ")
            port = int(target.rsplit(":", 1)[1]) if method == "CONNECT" else urlsplit(target).port
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", port)
            if method == "CONNECT":
                writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
            else:
                up_writer.write(head)
            await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))
        except (OSError, asyncio.IncompleteReadError, ValueError):
            pass
        finally:
            writer.close()


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(OSError):
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    with contextlib.suppress(OSError):
        writer.close()


@pytest.fixture
def proxy(tf: ThreadedFake):
    p = LoopbackProxy()
    tf.call(lambda _fake: p.start())
    yield p
    tf.call(lambda _fake: p.stop())


def proxy_env(tf: ThreadedFake, proxy: LoopbackProxy, **urls: str) -> dict[str, str]:
    env = tf.env(**urls)
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
        env[name] = proxy.url
    env.update(NO_PROXY="", no_proxy="")
    return env


def remote_names(tf: ThreadedFake) -> dict[str, str]:
    """The fake's URLs under non-loopback names (only the proxy can reach them)."""
    return {
        "ZOOMTUI_OAUTH_URL": f"http://zoom-oauth.example.test:{tf.fake.oauth_port}/oauth/token",
        "ZOOMTUI_WS_URL": f"ws://zoom-ws.example.test:{tf.fake.port}/ws",
    }


def test_insecure_transport_flag_allows_cleartext_and_proxies_are_honoured(
    tf: ThreadedFake, proxy: LoopbackProxy
) -> None:
    env = proxy_env(tf, proxy, **remote_names(tf))
    r = cli("tail", "--heartbeat", str(HB), "--duration", "0.5", env=env)
    assert r.exit_code == 3 and "clear text" in r.output
    assert proxy.seen == []  # refused before anything was sent

    # tail ends after one event, sent once it is connected (however long that takes here)
    async def one_event_once_connected(fake) -> None:
        await fake.wait_until(fake.open_connections)
        await fake.inject(meeting_event(1))

    sender = threading.Thread(target=tf.call, args=(one_event_once_connected,))
    sender.start()
    r = cli("tail", "--insecure-transport", "--heartbeat", str(HB), "--count", "1", env=env)
    sender.join()
    assert r.exit_code == 0, r.output
    assert "connected: build_connection accepted" in r.output
    oauth, ws = (tf.fake.oauth_port, tf.fake.port)
    # both went through the proxy named in the environment, under the names asked for
    assert f"POST http://zoom-oauth.example.test:{oauth}/oauth/token HTTP/1.1" in proxy.seen
    assert f"CONNECT zoom-ws.example.test:{ws} HTTP/1.1" in proxy.seen


# -- certificates are verified ---------------------------------------------------------------
def self_signed(folder: Path, name: str) -> ssl.SSLContext:
    """A server context with a certificate for `name` that no one has signed."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .sign(key, hashes.SHA256())
    )
    (folder / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(folder / "cert.pem", folder / "key.pem")
    return ctx


@pytest.mark.parametrize("which", ["oauth", "ws"])
def test_an_unverifiable_certificate_is_refused(
    tf: ThreadedFake, proxy: LoopbackProxy, which: str, tmp_path: Path
) -> None:
    name = "zoom-oauth.example.test" if which == "oauth" else "zoom-ws.example.test"
    ctx = self_signed(tmp_path, name)
    received: list[bytes] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(Exception):  # the client hangs up in the handshake
            received.append(await reader.read(1024))
        writer.close()

    server = tf.call(lambda _fake: asyncio.start_server(serve, "127.0.0.1", 0, ssl=ctx))
    port = server.sockets[0].getsockname()[1]
    urls = (
        {"ZOOMTUI_OAUTH_URL": f"https://{name}:{port}/oauth/token"}
        if which == "oauth"
        else {"ZOOMTUI_WS_URL": f"wss://{name}:{port}/ws"}
    )
    try:
        r = cli(
            "tail", "--give-up-after", "1", "--heartbeat", str(HB), env=proxy_env(tf, proxy, **urls)
        )
    finally:
        tf.call(lambda _fake: server.close())
    assert r.exit_code == 5, r.output  # gave up: nothing was accepted
    assert "certificate verify failed" in r.output.lower()
    assert f"CONNECT {name}:{port} HTTP/1.1" in proxy.seen
    assert not any(received)  # no request (no secret, no token) was ever sent to it
