"""The webhook secret token `zoomtui forward` signs with: kept by `login` in the keyring
(a separate, optional prompt), overridden by ZOOM_WEBHOOK_SECRET_TOKEN, removed by
`logout`, and never printed."""

from __future__ import annotations

import logging

import pytest

from tests.conftest import MemoryKeyring
from tests.test_login_cli import PROMPTS, USER, C, assert_no_secret_anywhere, fake, run, urls
from zoomtui import credentials as cred
from zoomtui.fakezoom import FakeZoom
from zoomtui.redaction import Secret, install_log_redaction, redact

TOKEN = "whsec-token-for-tests-0001"
WEBHOOK_USER = "work:webhook_secret_token"

__all__ = ["fake"]  # the fixture, imported for the tests below


def test_login_asks_for_the_webhook_secret_token_separately_and_keeps_it_in_the_keyring(
    memory_keyring: MemoryKeyring, fake: FakeZoom
) -> None:
    args = ["login", "--profile", "work", "--webhook-secret", *urls(fake)]
    result = run(args, input=PROMPTS + TOKEN + "\n")
    assert result.exit_code == 0, result.output
    assert "Webhook secret token, for `zoomtui forward`" in result.output
    assert "Saved the webhook secret token of 'work' in the keyring." in result.output
    assert memory_keyring.passwords == {
        ("zoomtui", USER): C.client_secret,
        ("zoomtui", WEBHOOK_USER): TOKEN,
    }
    assert_no_secret_anywhere(result, TOKEN)
    found = cred.resolve_webhook_secret("work")
    assert found.source == "keyring" and found.secret == Secret(TOKEN)


def test_the_webhook_prompt_may_be_left_empty(
    memory_keyring: MemoryKeyring, fake: FakeZoom
) -> None:
    args = ["login", "--profile", "work", "--webhook-secret", *urls(fake)]
    result = run(args, input=PROMPTS + "\n")
    assert result.exit_code == 0, result.output
    assert memory_keyring.passwords == {("zoomtui", USER): C.client_secret}
    assert cred.resolve_webhook_secret("work").secret is None


def test_a_script_is_not_asked_but_the_environment_gives_it(
    memory_keyring: MemoryKeyring, fake: FakeZoom
) -> None:
    quiet = run(["login", "--profile", "work", *urls(fake)], input=PROMPTS)
    assert quiet.exit_code == 0 and "Webhook secret token" not in quiet.output
    env = {"ZOOM_WEBHOOK_SECRET_TOKEN": TOKEN}
    given = run(["login", "--profile", "work", *urls(fake)], input=PROMPTS, env=env)
    assert given.exit_code == 0, given.output
    assert "Webhook secret token: from ZOOM_WEBHOOK_SECRET_TOKEN" in given.output
    assert memory_keyring.passwords[("zoomtui", WEBHOOK_USER)] == TOKEN
    assert_no_secret_anywhere(given, TOKEN)


def test_the_environment_wins_over_the_keyring(memory_keyring: MemoryKeyring) -> None:
    memory_keyring.passwords[("zoomtui", WEBHOOK_USER)] = "stored-token-000"
    env = {"ZOOM_WEBHOOK_SECRET_TOKEN": TOKEN}
    found = cred.resolve_webhook_secret("work", env=env)
    assert found.secret == Secret(TOKEN) and found.source == "env ZOOM_WEBHOOK_SECRET_TOKEN"
    assert cred.resolve_webhook_secret("work", env={}).secret == Secret("stored-token-000")
    assert cred.resolve_webhook_secret("other", env={}).secret is None


def test_no_keyring_is_a_problem_in_words_not_a_crash(fail_keyring: object) -> None:
    found = cred.resolve_webhook_secret("work", env={})
    assert found.secret is None and "keyring" in found.problem.lower()
    help_text = cred.no_webhook_secret_help("work", found.problem)
    assert "--unsigned" in help_text and "ZOOM_WEBHOOK_SECRET_TOKEN" in help_text


def test_logout_removes_the_webhook_secret_token_too(
    memory_keyring: MemoryKeyring, fake: FakeZoom
) -> None:
    args = ["login", "--profile", "work", "--webhook-secret", *urls(fake)]
    assert run(args, input=PROMPTS + TOKEN + "\n").exit_code == 0
    result = run(["logout", "--profile", "work"])
    assert result.exit_code == 0, result.output
    assert "Removed the webhook secret token of 'work'" in result.output
    assert memory_keyring.passwords == {}


def test_the_token_is_redacted_from_text_and_logs(caplog: pytest.LogCaptureFixture) -> None:
    secret = Secret("a-webhook-token-never-shown")
    install_log_redaction()
    logging.getLogger("zoomtui.forward").error("signing with %s", secret.reveal())
    assert "a-webhook-token-never-shown" not in caplog.text
    assert "never-shown" not in redact('{"secret_token": "something-else-entirely"}' + str(secret))
    assert "something-else" not in redact('{"secret_token": "something-else-entirely"}')
    assert "abc123secret" not in redact("url?secret_token=abc123secret&x=1")


def test_forward_with_no_usable_keyring_names_the_webhook_token_and_offers_the_environment(
    fail_keyring: object,
) -> None:
    """The keyring's words name the secret asked for (not the client secret), and a token
    cannot be kept in a keyring there is none of: the environment is the way."""
    result = run(["forward", "--to", "http://127.0.0.1:9/hook"])
    assert result.exit_code == 3
    said = result.stderr
    assert "No usable keyring on this machine" in said
    assert "cannot store the webhook secret token" in said
    assert "client secret (" not in said and "cannot store the client secret" not in said
    assert "keep it in the keyring" not in said and "zoomtui login" not in said
    assert "read -rs ZOOM_WEBHOOK_SECRET_TOKEN && export ZOOM_WEBHOOK_SECRET_TOKEN" in said
    assert "--unsigned" in said


def test_forward_with_a_keyring_offers_to_keep_the_token_there(
    memory_keyring: MemoryKeyring,
) -> None:
    result = run(["forward", "--to", "http://127.0.0.1:9/hook"])
    assert result.exit_code == 3
    assert "No usable keyring" not in result.stderr
    assert "zoomtui login --profile default --webhook-secret` to keep it in the keyring" in (
        result.stderr
    )
    assert "ZOOM_WEBHOOK_SECRET_TOKEN" in result.stderr


def test_a_locked_keyring_names_the_webhook_tokens_variable() -> None:
    import keyring

    from tests.test_credentials import LockedKeyring

    keyring.set_keyring(LockedKeyring())  # (the autouse isolation puts the default back)
    found = cred.resolve_webhook_secret("work", env={})
    assert found.secret is None and "locked" in found.problem
    assert "or use ZOOM_WEBHOOK_SECRET_TOKEN." in found.problem
    assert "ZOOM_CLIENT_SECRET" not in found.problem
