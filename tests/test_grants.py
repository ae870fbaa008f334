"""Both token grants, the endpoint URL as Zoom's subscription page shows it, and the clouds,
end to end against the fake Zoom on 127.0.0.1 (PROTOCOL.md section 1, marked "new").

- a `client_credentials` profile (no account id) gets its token as Zoom's WebSocket docs
  ask for it (the grant in the query string, no body), reads `scope` as an array, connects;
- a pasted endpoint URL gives the WebSocket host and the subscription id (and a typed id
  that differs from it is refused, saying why);
- a `gov` profile asks the gov token host and names the gov API host; explicit URLs win.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner, Result

from tests.conftest import MemoryKeyring
from tests.connhelpers import HB, MaxRandom, Recorder, ThreadedFake
from zoomtui import config as cfg
from zoomtui import credentials, settings
from zoomtui.cli import main
from zoomtui.fakezoom import DEMO_CREDENTIALS as C
from zoomtui.fakezoom import FakeZoom
from zoomtui.fakezoom.httpserver import HttpServer, Request, Response
from zoomtui.redaction import Secret
from zoomtui.settings import CloudHosts, ConnectionSettings, SettingsError
from zoomtui.zoom.auth import CredentialsRejected, TokenProvider
from zoomtui.zoom.connection import ZoomConnection
from zoomtui.zoom.updates import ConnectionState as S
from zoomtui.zoom.updates import TokenInfo

pytestmark = pytest.mark.timeout(60)

SCOPES = (
    "meeting:read:admin",
    "user:read:admin",
    "webinar:read:admin",
    "recording:read:admin",
    "dashboard_meetings:read:admin",
    "dashboard_webinars:read:admin",
)


def endpoint(fake: FakeZoom, subscription: str = C.subscription_id) -> str:
    """The endpoint URL as Zoom's subscription page shows it (the fake's host)."""
    return f"{fake.ws_url}?subscriptionId={subscription}"


def run(*args: str, input: str | None = None, env: dict[str, str] | None = None) -> Result:
    result = CliRunner().invoke(main, list(args), input=input, env=env, catch_exceptions=False)
    assert C.client_secret not in result.output and "Traceback" not in result.output
    return result


def connection(s: ConnectionSettings) -> ZoomConnection:
    return ZoomConnection(
        s.replace(heartbeat_interval=HB), backoff_base=0.01, backoff_cap=0.2, rng=MaxRandom()
    )


# -- client_credentials ------------------------------------------------------------------------


async def test_client_credentials_asks_as_zoom_docs_show_and_reads_scope_as_an_array() -> None:
    seen: list[Request] = []
    async with FakeZoom() as fake:

        async def recording(req: Request) -> Response:
            seen.append(req)
            return await fake.issuer.handle(req)

        spy = HttpServer(recording, "127.0.0.1", 0)
        await spy.start()
        try:
            s = fake.settings(
                account_id="",
                grant="client_credentials",
                oauth_url=f"http://127.0.0.1:{spy.port}/oauth/token",
            )
            async with TokenProvider(s) as tokens:
                tok = await tokens.get()
        finally:
            await spy.stop()
    assert [r.target for r in seen] == ["/oauth/token?grant_type=client_credentials"]
    assert seen[0].body == b"" and seen[0].headers["authorization"].startswith("Basic ")
    assert tok.scopes == SCOPES  # the fake answers this grant with an array
    assert [q.grant for q in fake.token_requests] == ["client_credentials"]


async def test_account_credentials_still_sends_a_form_body() -> None:
    seen: list[Request] = []
    async with FakeZoom() as fake:

        async def recording(req: Request) -> Response:
            seen.append(req)
            return await fake.issuer.handle(req)

        spy = HttpServer(recording, "127.0.0.1", 0)
        await spy.start()
        try:
            s = fake.settings(oauth_url=f"http://127.0.0.1:{spy.port}/oauth/token")
            async with TokenProvider(s) as tokens:
                tok = await tokens.get()
        finally:
            await spy.stop()
    assert seen[0].target == "/oauth/token"
    assert seen[0].body == f"grant_type=account_credentials&account_id={C.account_id}".encode()
    assert tok.scopes == SCOPES  # a space-separated string there


async def test_a_rejected_client_credentials_token_says_what_to_check() -> None:
    async with FakeZoom() as fake:
        s = fake.settings(
            account_id="", grant="client_credentials", client_secret=Secret("nope-nope")
        )
        async with TokenProvider(s) as tokens:
            with pytest.raises(CredentialsRejected) as info:
                await tokens.get()
    assert "client secret" in info.value.hint and "account_credentials" in info.value.hint
    assert "Check the account id" not in info.value.hint


async def test_a_client_credentials_profile_connects(memory_keyring: MemoryKeyring) -> None:
    async with FakeZoom() as fake:
        cfg.save_profile(
            "app",
            {
                "grant": "client_credentials",
                "client_id": C.client_id,
                "subscription_id": C.subscription_id,
                "oauth_url": fake.oauth_url,
                "ws_url": fake.ws_url,
            },
        )
        memory_keyring.set_password("zoomtui", "app:client_secret", C.client_secret)
        s = credentials.resolve_settings(profile="app", env={})
        assert (s.grant, s.account_id) == ("client_credentials", "")
        rec = Recorder(connection(s))
        try:
            await rec.wait_state(S.CONNECTED)
        finally:
            await rec.close()
        assert rec.of(TokenInfo)[0].scopes == SCOPES
        # kept for REST calls: the account's REST host, which for the fake is its own
        assert rec.of(TokenInfo)[0].api_url == fake.api_url
        assert [(q.status, q.grant) for q in fake.token_requests] == [(200, "client_credentials")]


def test_an_account_credentials_profile_still_needs_its_account_id(memory_keyring) -> None:
    cfg.save_profile("work", {"client_id": "cid", "subscription_id": "sub"})
    memory_keyring.set_password("zoomtui", "work:client_secret", "a-secret-0042")
    with pytest.raises(SettingsError) as info:
        credentials.resolve_settings(profile="work", env={})
    assert info.value.missing == ("account_id",)
    # and a client_credentials one does not
    cfg.save_profile("work", {"grant": "client_credentials"})
    assert credentials.resolve_settings(profile="work", env={}).grant == "client_credentials"


@pytest.fixture
def tf() -> Iterator[ThreadedFake]:
    with ThreadedFake(scenario="demo", rate=50.0) as fake:
        yield fake


def test_login_with_client_credentials_asks_no_account_then_tail_connects(
    tf: ThreadedFake, memory_keyring: MemoryKeyring
) -> None:
    fake = tf.fake
    prompts = f"{C.client_id}\n{C.subscription_id}\n{C.client_secret}\n"
    urls = ["--oauth-url", fake.oauth_url, "--ws-url", fake.ws_url]
    login = run("login", "--profile", "app", "--grant", "client_credentials", *urls, input=prompts)
    assert login.exit_code == 0, login.output
    assert "Account id" not in login.output and "(client_credentials)" in login.output
    saved = cfg.get_profile("app")
    assert saved is not None and saved["grant"] == "client_credentials"
    assert "account_id" not in saved
    shown = run("profiles", "show", "app")
    assert "grant" in shown.output and "client_credentials" in shown.output
    assert "(not used: client_credentials)" in shown.output

    tail = run("tail", "--profile", "app", "--count", "1")
    assert tail.exit_code == 0, tail.output
    assert len(tail.stdout.splitlines()) == 1
    doctor = run("doctor", "--profile", "app", "--no-connect")
    assert doctor.exit_code == 0, doctor.output
    assert "grant: client_credentials (from profile app)" in doctor.output
    assert "account id: not used (client_credentials grant)" in doctor.output
    grants = {q.grant for q in fake.token_requests}
    assert grants == {"client_credentials"}


# -- the endpoint URL as Zoom shows it ---------------------------------------------------------


def test_a_pasted_endpoint_url_gives_host_and_subscription() -> None:
    s = ConnectionSettings(
        account_id="acc",
        client_id="cid",
        client_secret=Secret("a-secret-0042"),
        subscription_id="",
        ws_url="wss://ws.zoomgov.example/ws?subscriptionId=AbC-123_x",
    )
    assert (s.ws_url, s.subscription_id) == ("wss://ws.zoomgov.example/ws", "AbC-123_x")
    # the same id typed as well is fine; another one is refused, saying what to do
    same = s.replace(ws_url="wss://ws.zoom.us/ws?subscriptionId=AbC-123_x")
    assert same.subscription_id == "AbC-123_x"
    with pytest.raises(SettingsError, match="does not match the one in the endpoint URL"):
        s.replace(
            subscription_id="other-sub", ws_url="wss://ws.zoom.us/ws?subscriptionId=AbC-123_x"
        )
    # a token pasted along is never kept
    pasted = s.replace(
        subscription_id="", ws_url="wss://ws.zoom.us/ws?subscriptionId=x1&access_token=tok-123456"
    )
    assert pasted.ws_url == "wss://ws.zoom.us/ws" and pasted.subscription_id == "x1"


def test_an_endpoint_url_from_the_environment_names_the_subscription() -> None:
    env = {
        "ZOOM_ACCOUNT_ID": "acc",
        "ZOOM_CLIENT_ID": "cid",
        "ZOOM_CLIENT_SECRET": "a-secret-0042",
        "ZOOMTUI_WS_URL": "wss://ws.zoom.us/ws?subscriptionId=fromTheUrl",
    }
    s = credentials.resolve_settings(env=env)
    assert (s.ws_url, s.subscription_id) == ("wss://ws.zoom.us/ws", "fromTheUrl")
    assert s.sources["subscription_id"] == "env ZOOMTUI_WS_URL (endpoint URL)"
    with pytest.raises(SettingsError, match="does not match"):
        credentials.resolve_settings(env={**env, "ZOOM_SUBSCRIPTION_ID": "typedOther"})


def test_login_takes_the_pasted_endpoint_url_and_the_monitor_connects(
    tf: ThreadedFake, memory_keyring: MemoryKeyring
) -> None:
    fake = tf.fake
    prompts = f"{C.account_id}\n{C.client_id}\n{endpoint(fake)}\n{C.client_secret}\n"
    login = run("login", "--profile", "work", "--oauth-url", fake.oauth_url, input=prompts)
    assert login.exit_code == 0, login.output
    assert "Subscription id (or the endpoint URL Zoom shows)" in login.output
    saved = cfg.get_profile("work")
    assert saved is not None
    assert (saved["ws_url"], saved["subscription_id"]) == (fake.ws_url, C.subscription_id)
    tail = run("tail", "--profile", "work", "--count", "1")
    assert tail.exit_code == 0, tail.output

    # as an option, with no subscription asked at all
    again = run(
        "login",
        "--profile",
        "opt",
        "--oauth-url",
        fake.oauth_url,
        "--ws-url",
        endpoint(fake),
        input=f"{C.account_id}\n{C.client_id}\n{C.client_secret}\n",
    )
    assert again.exit_code == 0, again.output
    assert "Subscription id: from the endpoint URL" in again.output
    assert cfg.get_profile("opt")["subscription_id"] == C.subscription_id


def test_login_refuses_a_typed_subscription_that_is_not_the_urls(
    tf: ThreadedFake, memory_keyring: MemoryKeyring
) -> None:
    fake = tf.fake
    before = fake.tokens_issued
    result = run(
        "login",
        "--profile",
        "work",
        "--oauth-url",
        fake.oauth_url,
        "--ws-url",
        endpoint(fake),
        "--subscription-id",
        "someOtherSubscription",
        input=f"{C.account_id}\n{C.client_id}\n{C.client_secret}\n",
    )
    assert result.exit_code == 3
    assert "does not match the one in the endpoint URL" in result.output
    assert not cfg.default_config_path().exists() and memory_keyring.passwords == {}
    assert fake.tokens_issued == before  # refused before asking Zoom anything


# -- clouds ------------------------------------------------------------------------------------


def test_the_gov_cloud_has_zoomgov_hosts_and_no_guessed_websocket_host() -> None:
    gov = settings.CLOUDS["gov"]
    assert gov.oauth_url == "https://zoomgov.com/oauth/token"
    assert gov.api_url == "https://api.zoomgov.com"
    env = {
        "ZOOMTUI_CLOUD": "gov",
        "ZOOM_ACCOUNT_ID": "a",
        "ZOOM_CLIENT_ID": "c",
        "ZOOM_CLIENT_SECRET": "a-secret-0042",
        "ZOOM_SUBSCRIPTION_ID": "s",
    }
    with pytest.raises(SettingsError, match="paste the endpoint URL") as info:
        credentials.resolve_settings(env=env)
    assert info.value.missing == ("ws_url",)
    s = credentials.resolve_settings(env={**env, "ZOOMTUI_WS_URL": "wss://ws.gov.example/ws"})
    assert (s.oauth_url, s.api_url) == (gov.oauth_url, gov.api_url)
    assert s.sources["oauth_url"] == "cloud gov"
    # explicit URLs still win over the cloud's
    mine = credentials.resolve_settings(
        env={
            **env,
            "ZOOMTUI_WS_URL": "wss://ws.gov.example/ws",
            "ZOOMTUI_OAUTH_URL": "https://sso.example/oauth/token",
            "ZOOMTUI_API_URL": "https://api.example",
        }
    )
    assert (mine.oauth_url, mine.api_url) == (
        "https://sso.example/oauth/token",
        "https://api.example",
    )


def test_cloud_and_grant_are_checked_in_the_config_file(config_file: Path) -> None:
    config_file.parent.mkdir(parents=True)
    config_file.write_text('[profiles.work]\ncloud = "mars"\n')
    with pytest.raises(cfg.ConfigError, match=r"line 2: cloud must be one of zoom, gov"):
        cfg.load_config(config_file)
    config_file.write_text('[profiles.work]\ngrant = "password"\n')
    with pytest.raises(cfg.ConfigError, match="grant must be one of account_credentials"):
        cfg.load_config(config_file)
    config_file.write_text('[profiles.work]\napi_url = "not a url"\n')
    with pytest.raises(cfg.ConfigError, match="api_url must be a URL"):
        cfg.load_config(config_file)
    config_file.write_text('[profiles.work]\ncluod = "gov"\n')
    assert "did you mean 'cloud'" in cfg.load_config(config_file).warnings[0]


async def test_a_gov_profile_asks_the_gov_token_host(
    monkeypatch: pytest.MonkeyPatch, memory_keyring: MemoryKeyring
) -> None:
    async with FakeZoom() as fake:
        # The clouds point at the fake for this test only: gov's token host is the fake, and
        # zoom's is a port nothing listens on, so asking the wrong one fails.
        monkeypatch.setitem(
            settings.CLOUDS, "gov", CloudHosts(fake.oauth_url, "http://127.0.0.1:9/api", None)
        )
        monkeypatch.setitem(
            settings.CLOUDS,
            "zoom",
            CloudHosts("http://127.0.0.1:9/oauth/token", "http://127.0.0.1:9/api", fake.ws_url),
        )
        cfg.save_profile(
            "gov",
            {
                "cloud": "gov",
                "account_id": C.account_id,
                "client_id": C.client_id,
                "ws_url": endpoint(fake),  # as the gov subscription's page shows it
            },
        )
        memory_keyring.set_password("zoomtui", "gov:client_secret", C.client_secret)
        s = credentials.resolve_settings(profile="gov", env={})
        assert (s.cloud, s.oauth_url, s.subscription_id) == (
            "gov",
            fake.oauth_url,
            C.subscription_id,
        )
        assert s.sources["oauth_url"] == "cloud gov" and s.api_url == "http://127.0.0.1:9/api"
        rec = Recorder(connection(s))
        try:
            await rec.wait_state(S.CONNECTED)
        finally:
            await rec.close()
        assert [q.status for q in fake.token_requests] == [200]


@pytest.mark.parametrize(
    ("scope", "read"),
    [
        ("a:read  b:read", ("a:read", "b:read")),
        (["a:read", "b:read"], ("a:read", "b:read")),
        (["a:read b:read", 7, None, {"x": 1}, "", "c:read"], ("a:read", "b:read", "c:read")),
        (42, ()),
        (None, ()),
        (["s"] * 5000, ("s",) * 1000),  # a few dozen is real; a flood is cut
    ],
)
async def test_scope_as_a_string_or_an_array_whatever_comes(scope: object, read: tuple) -> None:
    async def answer(req: Request) -> Response:
        body = {"access_token": "tok-scope-test-0001", "expires_in": 3600, "scope": scope}
        return Response(200, orjson.dumps(body), {"Content-Type": "application/json"})

    server = HttpServer(answer, "127.0.0.1", 0)
    await server.start()
    try:
        async with FakeZoom() as fake:
            s = fake.settings(oauth_url=f"http://127.0.0.1:{server.port}/oauth/token")
        async with TokenProvider(s) as tokens:
            assert (await tokens.get()).scopes == read
    finally:
        await server.stop()


def test_status_shows_and_checks_each_profiles_grant_and_cloud(
    tf: ThreadedFake, memory_keyring: MemoryKeyring, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`status`, like `doctor` and `profiles show`, shows both grants and the cloud, and asks
    each profile's own token host with its own grant (gov's points at the fake here)."""
    fake = tf.fake
    monkeypatch.setitem(
        settings.CLOUDS, "gov", CloudHosts(fake.oauth_url, "http://127.0.0.1:9/api", None)
    )
    cfg.save_profile(
        "app",
        {
            "grant": "client_credentials",
            "client_id": C.client_id,
            "subscription_id": C.subscription_id,
            "oauth_url": fake.oauth_url,
            "ws_url": fake.ws_url,
        },
    )
    cfg.save_profile(
        "gov",
        {
            "cloud": "gov",
            "account_id": C.account_id,
            "client_id": C.client_id,
            "ws_url": endpoint(fake),
        },
    )
    for name in ("app", "gov"):
        memory_keyring.set_password("zoomtui", f"{name}:client_secret", C.client_secret)
    before = len(fake.token_requests)
    result = run("status")
    assert result.exit_code == 0, result.output
    app, gov = (result.output.split(f"\n{name}")[1].split("\n\n")[0] for name in ("app", "gov"))
    assert "✓ Zoom accepted the credentials" in app and "✓ Zoom accepted the credentials" in gov
    assert "grant: client_credentials (from profile app)" in app
    assert "account id: not used (client_credentials grant)" in app
    assert "cloud: gov (from profile gov)" in gov and "grant: account_credentials" in gov
    assert f"token URL: {fake.oauth_url} (from cloud gov)" in gov
    assert f"subscription id: {C.subscription_id[:3]}…" in gov  # taken from the pasted URL
    asked = sorted(q.grant or "" for q in fake.token_requests[before:])
    assert asked == ["account_credentials", "client_credentials"]
    assert fake.connections == []  # status never opens a WebSocket
