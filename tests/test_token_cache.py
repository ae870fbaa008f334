"""One access token per profile, shared: the OS keyring where one is usable, else this
process's memory; bound to the credentials and token URL; dropped for everyone once Zoom
calls it invalid; never a plain file; a secret (redacted) all the way.  Against the fake
Zoom's real token endpoint, which counts the tokens it issues."""

from __future__ import annotations

from pathlib import Path

import keyring
import orjson
import pytest
from click.testing import CliRunner
from keyring.backend import KeyringBackend
from keyrings_alt_fake import PlaintextKeyring

from tests.conftest import MemoryKeyring
from tests.connhelpers import ThreadedFake
from zoomtui import config as cfg
from zoomtui import credentials
from zoomtui.cli import main
from zoomtui.credentials.token_cache import (
    IN_KEYRING,
    IN_MEMORY,
    MemoryTokenCache,
    decode_entry,
    encode_entry,
    shared_token_cache,
)
from zoomtui.fakezoom import DEMO_CREDENTIALS as C
from zoomtui.fakezoom import FakeZoom
from zoomtui.redaction import Secret, forget_secrets, redact
from zoomtui.settings import ConnectionSettings
from zoomtui.zoom.auth import TokenProvider
from zoomtui.zoom.tokens import TokenOwner

pytestmark = pytest.mark.timeout(60)

ENTRY = ("zoomtui", "demo:access_token")


def shared(fake: FakeZoom, **changes: object) -> ConnectionSettings:
    """The fake's settings as a profile's would be: sharing through the keyring allowed."""
    return fake.settings(keyring_token=True, **changes)


def provider(settings: ConnectionSettings) -> TokenProvider:
    """A token provider as the front ends build one: sharing through the profile's cache."""
    return TokenProvider(settings, cache=shared_token_cache(settings))


async def test_a_second_provider_reuses_the_token_from_the_keyring(
    memory_keyring: MemoryKeyring,
) -> None:
    async with FakeZoom() as fake:
        async with provider(shared(fake)) as first:
            issued = await first.get()
        assert not issued.from_cache and first.cache_where == IN_KEYRING
        entry = orjson.loads(memory_keyring.passwords[ENTRY])
        # what it belongs to is stored with it; the secret only as a fingerprint
        assert entry["client_id"] == C.client_id and entry["account_id"] == C.account_id
        assert entry["grant"] == "account_credentials" and entry["oauth_url"] == fake.oauth_url
        assert entry["expires_at"] == pytest.approx(issued.expires_at)
        assert C.client_secret not in memory_keyring.passwords[ENTRY]
        async with provider(shared(fake)) as second:
            again = await second.get()
        assert again.from_cache and second.reused == 1 and second.requests == 0
        assert again.access_token == issued.access_token
        assert again.scopes == issued.scopes and again.api_url == issued.api_url
        assert fake.tokens_issued == 1


@pytest.mark.parametrize(
    "change",
    ["secret", "account", "client", "token URL", "grant", "profile"],
)
async def test_a_token_is_never_reused_by_other_credentials(
    change: str, memory_keyring: MemoryKeyring
) -> None:
    async with FakeZoom() as fake:
        async with provider(shared(fake)) as first:
            await first.get()
        other = {
            "secret": {"client_secret": Secret("another-secret-of-the-same-client")},
            "account": {"account_id": "another-account"},
            "client": {"client_id": "anotherClientId"},
            "token URL": {"oauth_url": fake.oauth_url.replace("127.0.0.1", "localhost")},
            "grant": {"grant": "client_credentials"},
            "profile": {"profile": "work"},
        }[change]
        owner, stranger = TokenOwner.of(shared(fake)), TokenOwner.of(shared(fake, **other))
        assert owner != stranger
        # the stored entry is not theirs, whatever they ask
        assert decode_entry(memory_keyring.passwords[ENTRY], stranger) is None
        assert decode_entry(memory_keyring.passwords[ENTRY], owner) is not None


async def test_without_a_usable_keyring_the_token_is_shared_in_memory_only(
    fail_keyring: object,
) -> None:
    async with FakeZoom() as fake:
        async with provider(shared(fake)) as first, provider(shared(fake)) as second:
            a = await first.get()
            b = await second.get()
        assert b.from_cache and b.access_token == a.access_token
        assert first.cache_where == second.cache_where == IN_MEMORY
        assert fake.tokens_issued == 1


async def test_a_plain_file_keyring_never_holds_a_token(tmp_path: Path) -> None:
    store = tmp_path / "plain.json"
    keyring.set_keyring(PlaintextKeyring(store))
    async with FakeZoom() as fake:
        async with provider(shared(fake)) as first:
            token = (await first.get()).access_token.reveal()
        assert first.cache_where == IN_MEMORY
        assert not store.exists() or token not in store.read_text()


class BrokenKeyring(KeyringBackend):
    """A keyring that answers every call with an error (a locked or broken D-Bus service)."""

    priority = -1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    def get_password(self, service: str, username: str) -> str | None:
        self.calls += 1
        raise RuntimeError("org.freedesktop.DBus.Error.ServiceUnknown")

    def set_password(self, service: str, username: str, password: str) -> None:
        self.calls += 1
        raise RuntimeError("org.freedesktop.DBus.Error.ServiceUnknown")

    def delete_password(self, service: str, username: str) -> None:
        self.calls += 1
        raise RuntimeError("org.freedesktop.DBus.Error.ServiceUnknown")


async def test_a_failing_keyring_costs_one_call_and_the_token_still_comes() -> None:
    broken = BrokenKeyring()
    keyring.set_keyring(broken)
    async with FakeZoom() as fake, provider(shared(fake)) as tokens:
        assert (await tokens.get()).access_token
        assert tokens.cache_where == IN_MEMORY
        await tokens.refresh()
    assert broken.calls == 1  # not asked again by that provider


async def test_garbage_in_the_keyring_is_not_a_token(memory_keyring: MemoryKeyring) -> None:
    async with FakeZoom() as fake:
        for junk in ("not json", "[]", '{"v": 1}', '{"v": 2, "access_token": "x"}', "x" * 70_000):
            memory_keyring.passwords[ENTRY] = junk
            async with provider(shared(fake)) as tokens:
                assert not (await tokens.get()).from_cache
        assert fake.tokens_issued == 5
        # the last one replaced the junk with a real entry
        assert decode_entry(memory_keyring.passwords[ENTRY], TokenOwner.of(shared(fake)))


async def test_an_invalid_token_is_dropped_for_everyone(memory_keyring: MemoryKeyring) -> None:
    async with FakeZoom() as fake:
        async with provider(shared(fake)) as monitor, provider(shared(fake)) as tail:
            old = await monitor.get()
            assert (await tail.get()).from_cache
            fake.oauth_fault("500")  # the new token cannot be had at once ...
            with pytest.raises(Exception, match="HTTP 500"):
                await monitor.refresh(rejected=old)
            # ... yet the rejected one is gone from the keyring: nobody picks it up again
            assert ENTRY not in memory_keyring.passwords
            new = await monitor.refresh(rejected=old)
            assert new.access_token != old.access_token
            # the other process, told the same by Zoom, takes the new one without asking
            assert await tail.refresh(rejected=old) is not None
            assert tail.token is not None and tail.token.access_token == new.access_token
            assert tail.requests == 0
        assert fake.tokens_issued == 2


async def test_a_token_read_from_the_keyring_is_redacted_everywhere(
    memory_keyring: MemoryKeyring,
) -> None:
    async with FakeZoom() as fake:
        settings = shared(fake)
        value = fake.issue_token()  # a live token this process has never wrapped
        async with provider(settings) as tokens:
            owner_token = await tokens.get()
        entry = orjson.loads(encode_entry(TokenOwner.of(settings), owner_token))
        entry["access_token"] = value
        memory_keyring.passwords[ENTRY] = orjson.dumps(entry).decode()
        forget_secrets()
        assert redact(f"token {value}") == f"token {value}"  # not known yet
        MemoryTokenCache.clear()
        async with provider(settings) as tokens:
            got = await tokens.get()
        assert got.from_cache and got.access_token.reveal() == value
        assert value not in redact(f"token {value}") and value not in repr(got)


async def test_a_logins_check_asks_zoom_whatever_is_shared(
    memory_keyring: MemoryKeyring,
) -> None:
    async with FakeZoom() as fake:
        async with provider(fake.settings(profile="work", keyring_token=True)) as tokens:
            await tokens.get()
        result = await credentials.verify_and_save(
            "work",
            C.account_id,
            C.client_id,
            Secret(C.client_secret),
            C.subscription_id,
            fake.oauth_url,
            fake.ws_url,
        )
        assert result.ok, result.message
        assert fake.tokens_issued == 2


# -- the commands say it ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def tf():
    with ThreadedFake(scenario="quiet", token_prefix="fzk.cache-test.") as fake:
        yield fake


def _profile(tf: ThreadedFake, memory_keyring: MemoryKeyring) -> None:
    values = {
        "account_id": C.account_id,
        "client_id": C.client_id,
        "subscription_id": C.subscription_id,
        "oauth_url": tf.fake.oauth_url,
        "ws_url": tf.fake.ws_url,
    }
    cfg.save_profile("work", values)
    memory_keyring.set_password("zoomtui", "work:client_secret", C.client_secret)


def _run(*args: str):
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    assert "fzk.cache-test." not in result.output and C.client_secret not in result.output
    return result


def test_doctor_and_status_say_they_reused_the_shared_token(
    tf: ThreadedFake, memory_keyring: MemoryKeyring
) -> None:
    _profile(tf, memory_keyring)
    before = tf.fake.tokens_issued
    first = _run("doctor", "--profile", "work", "--no-connect")
    assert first.exit_code == 0, first.output
    assert "✓ token request: HTTP 200 from" in first.output
    assert "shared with this profile's other zoomtui processes through the OS keyring" in (
        first.output
    )
    assert tf.fake.tokens_issued == before + 1

    again = _run("doctor", "--profile", "work", "--no-connect")
    assert again.exit_code == 0, again.output
    assert "reused the access token shared in the OS keyring" in again.output
    assert "no new token was issued" in again.output
    status = _run("status", "--profile", "work")
    assert status.exit_code == 0, status.output
    assert "reused the token shared in the OS keyring" in status.output
    assert tf.fake.tokens_issued == before + 1


def test_logout_removes_the_shared_token(tf: ThreadedFake, memory_keyring: MemoryKeyring) -> None:
    _profile(tf, memory_keyring)
    assert _run("doctor", "--profile", "work", "--no-connect").exit_code == 0
    assert ("zoomtui", "work:access_token") in memory_keyring.passwords
    out = _run("logout", "--profile", "work")
    assert out.exit_code == 0 and "Removed the shared access token of 'work'" in out.output
    assert memory_keyring.passwords == {}
