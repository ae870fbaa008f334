"""First run: no usable credentials.  A short form that verifies the credentials
with Zoom and saves them (secret to the OS keyring), or one key into the demo.

Either grant (a Server-to-Server OAuth app's account token, or an app-level
client_credentials token, which needs no account id) and either cloud; the endpoint
URL exactly as Zoom's subscription page shows it gives the WebSocket host and the
subscription id (the subscription id field may then stay empty).

The screen dismisses with the saved `ConnectionSettings`, or with `DEMO` when
the user chose the demo; the app connects either way.  Saving goes through
the credentials module (`verify_and_save`), which owns profiles and keyring.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, Literal

from textual import on, work
from textual.actions import SkipAction
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Button, Footer, Input, Label, Select, Static

from zoomtui.redaction import Secret, redact
from zoomtui.settings import (
    DEFAULT_CLOUD,
    GRANT_ACCOUNT,
    GRANT_CLIENT,
    ConnectionSettings,
    SettingsError,
    split_endpoint,
)

DEMO: Literal["demo"] = "demo"
FirstRunResult = ConnectionSettings | Literal["demo"]

#: `zoomtui.credentials.verify_and_save` or a stand-in with its signature: returns a
#: SaveResult-like object (ok, message, needs_confirmation), possibly as an awaitable
Saver = Callable[..., Any | Awaitable[Any]]

FIELDS: tuple[tuple[str, str, str, bool], ...] = (
    # (field, label, placeholder, password)
    ("account_id", "Account ID", "from your app's App Credentials page", False),
    ("client_id", "Client ID", "from your app's App Credentials page", False),
    (
        "client_secret",
        "Client secret",
        "from your app's App Credentials page (shown as dots)",
        True,
    ),
    (
        "subscription_id",
        "Subscription ID",
        "from Event Subscriptions, or leave empty and paste the URL below",
        False,
    ),
    (
        "ws_url",
        "Endpoint URL",
        "wss://…?subscriptionId=… as the subscription's page shows it",
        False,
    ),
)
#: enter in one of these saves (the id, or the URL that holds it, is the last thing typed)
SAVE_ON_ENTER = ("subscription_id", "ws_url")
GRANT_CHOICES = (
    ("Server-to-Server OAuth app (account_credentials)", GRANT_ACCOUNT),
    ("App-level token, no account id (client_credentials)", GRANT_CLIENT),
)
CLOUD_CHOICES = (
    ("Zoom (zoom.us)", "zoom"),
    ("Zoom for Government (zoomgov.com)", "gov"),
)
_ACCOUNT_PLACEHOLDER = FIELDS[0][2]


def default_saver() -> Saver:
    from zoomtui import credentials

    return credentials.verify_and_save


def default_resolver(profile: str, config_path: Path | None) -> ConnectionSettings:
    from zoomtui.credentials import resolve_settings

    return resolve_settings(profile=profile, config_path=config_path)


class FirstRunScreen(Screen[FirstRunResult]):
    """Welcome: connect your own Server-to-Server OAuth app, or press d for the demo."""

    DEFAULT_CSS = """
    FirstRunScreen { align: center top; }
    FirstRunScreen > VerticalScroll { width: 96; max-width: 100%; height: 1fr; padding: 1 2; }
    FirstRunScreen #title { text-style: bold; color: $text-primary; margin-bottom: 1; }
    FirstRunScreen #why { color: $text-muted; margin-bottom: 1; }
    FirstRunScreen #demo-line { margin-bottom: 1; }
    FirstRunScreen #form { height: auto; }
    FirstRunScreen .field { height: 3; }
    FirstRunScreen .field Label { width: 18; padding: 1 1 0 0; text-align: right; }
    FirstRunScreen .field Input { width: 1fr; }
    FirstRunScreen .field Select { width: 1fr; }
    FirstRunScreen #buttons { height: 3; margin-top: 1; }
    FirstRunScreen #buttons Button { margin-right: 2; }
    FirstRunScreen #status { height: auto; margin-top: 1; }
    FirstRunScreen #status.-error { color: $text-error; }
    FirstRunScreen #status.-busy { color: $text-warning; }
    FirstRunScreen #status.-ok { color: $text-success; }
    FirstRunScreen #note { color: $text-muted; margin-top: 1; }
    """

    # No field is focused at first, so `d` starts the demo; tab moves into the form.
    AUTO_FOCUS = None

    BINDINGS = [
        Binding("d", "demo", "Try the demo", id="first_run.demo"),
        Binding("ctrl+s", "save", "Verify and save", id="first_run.save", priority=True),
        Binding("escape", "leave_field", "Leave field", show=False, id="first_run.leave_field"),
        # priority: moving between fields happens when the key arrives, not after it went to the
        # field and back, so keys sent in a burst (a password manager's auto-type, a paste of
        # keystrokes) land in the right field
        Binding("tab", "next_field", "Next field", show=False, priority=True, id="first_run.next"),
        Binding(
            "shift+tab",
            "previous_field",
            "Previous field",
            show=False,
            priority=True,
            id="first_run.previous",
        ),
        Binding(
            "enter", "enter", "Next field or save", show=False, priority=True, id="first_run.enter"
        ),
        Binding("q", "app.quit", "Quit", id="first_run.quit"),
    ]

    def __init__(
        self,
        *,
        profile: str = "default",
        reason: str = "",
        config_path: Path | None = None,
        prefill: dict[str, str] | None = None,
        oauth_url: str | None = None,
        ws_url: str | None = None,
        grant: str | None = None,
        cloud: str | None = None,
        insecure_transport: bool = False,
        keyring_problem: str | None = None,
        keyring_state: str | None = None,
        saver: Saver | None = None,
        resolver: Callable[[str, Path | None], ConnectionSettings] | None = None,
    ) -> None:
        super().__init__()
        self.profile = profile
        self.reason = reason
        self.config_path = config_path
        self.prefill = {k: v for k, v in (prefill or {}).items() if k != "client_secret" and v}
        self.oauth_url = oauth_url
        self.ws_url = ws_url
        if ws_url and "ws_url" not in self.prefill:  # shown, so what is verified is visible
            self.prefill["ws_url"] = ws_url
        self.grant = grant if grant in (GRANT_ACCOUNT, GRANT_CLIENT) else GRANT_ACCOUNT
        self.cloud = cloud if cloud in dict(CLOUD_CHOICES).values() else DEFAULT_CLOUD
        self.insecure_transport = insecure_transport
        self.keyring_problem = keyring_problem
        #: "insecure": the only keyring is a plain file (used once the person confirms)
        self.keyring_state = keyring_state
        self._saver = saver
        self._resolver = resolver or default_resolver
        # set when the only keyring is a plain file and the user confirms by saving again
        self._allow_insecure_keyring = False
        self._confirming_insecure = False

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static("Welcome to zoomtui", id="title", markup=False)
            # (the profile is named once, quoted as the command line quotes it)
            why = f"No usable Zoom credentials for profile '{self.profile}'."
            if self.reason:
                why += " " + redact(self.reason)
            yield Static(why, id="why", markup=False)
            yield Static(
                Content.assemble(
                    "Press ",
                    ("d", "bold $text-accent"),
                    " to try the demo: a built-in fake Zoom with "
                    "made-up meetings, no account needed.",
                ),
                id="demo-line",
                markup=False,
            )
            yield Static(
                "Or connect your own Zoom app (Zoom App Marketplace): a Server-to-Server OAuth app, "
                "or an app-level token (client_credentials). Press tab to start typing; ctrl+s or "
                "the button verifies the credentials with Zoom and saves them.",
                markup=False,
            )
            with Vertical(id="form"):
                for name, label, placeholder, password in FIELDS:
                    with Horizontal(classes="field"):
                        yield Label(label, markup=False)
                        yield Input(
                            self.prefill.get(name, ""),
                            placeholder=placeholder,
                            password=password,
                            id=name,
                        )
                with Horizontal(classes="field"):
                    yield Label("App type", markup=False)
                    yield Select(GRANT_CHOICES, allow_blank=False, value=self.grant, id="grant")
                with Horizontal(classes="field"):
                    yield Label("Cloud", markup=False)
                    yield Select(CLOUD_CHOICES, allow_blank=False, value=self.cloud, id="cloud")
            with Horizontal(id="buttons"):
                yield Button("Verify and save", id="save", variant="primary")
                yield Button("Try the demo", id="demo")
            yield Static("", id="status", markup=False)
            yield Static(
                f"Saved in that profile: the ids in the config file, {self._secret_goes()}. "
                "Environment variables (ZOOM_ACCOUNT_ID, ZOOM_CLIENT_ID, ZOOM_CLIENT_SECRET, "
                "ZOOM_SUBSCRIPTION_ID) work too and win over a profile.",
                id="note",
                markup=False,
            )
        yield Footer()

    def _secret_goes(self) -> str:
        """Where saving puts the secret, as the keyring found at start allows."""
        if self.keyring_state == "insecure":
            return (
                "the secret in the only keyring here, a plain file any program running as you "
                "can read, and only once you confirm it (saving asks)"
            )
        if self.keyring_problem:
            return (
                "the secret kept for this session only (no usable keyring here: next time, "
                "enter it again or set ZOOM_CLIENT_SECRET)"
            )
        return "the secret in your OS keyring, never in a file"

    # -- actions ---------------------------------------------------------------------
    def action_demo(self) -> None:
        self.dismiss(DEMO)

    def action_leave_field(self) -> None:
        self.set_focus(None)

    @on(Button.Pressed, "#demo")
    def _demo_pressed(self) -> None:
        self.action_demo()

    @on(Button.Pressed, "#save")
    def _save_pressed(self) -> None:
        self.action_save()

    def action_next_field(self) -> None:
        self.focus_next()

    def action_previous_field(self) -> None:
        self.focus_previous()

    def action_enter(self) -> None:
        """Enter: on a button, press it; in a field, go to the next one; after the
        subscription, save.  On a choice list, enter is the list's own (open, pick)."""
        focused = self.focused
        if isinstance(focused, Button):
            focused.press()
        elif isinstance(focused, Input):
            if focused.id in SAVE_ON_ENTER:
                # Decide once the field has handled the keys queued before this enter.
                focused.call_later(self._enter_after, focused)
            else:
                self.focus_next()
        else:
            raise SkipAction()

    def _enter_after(self, field: Input) -> None:
        """Enter after the subscription: save, unless its id was left for the URL below."""
        if field.id == "subscription_id" and not field.value.strip():
            self.focus_next()
        else:
            self.action_save()

    def on_mount(self) -> None:
        self._apply_grant(self.grant)

    @on(Select.Changed, "#grant")
    def _grant_changed(self, event: Select.Changed) -> None:
        self._apply_grant(event.value)

    def _apply_grant(self, grant: object) -> None:
        # app-level tokens name no account: the field is not asked for
        account = self.query_one("#account_id", Input)
        account.disabled = grant == GRANT_CLIENT
        account.placeholder = (
            "not used by client_credentials" if account.disabled else _ACCOUNT_PLACEHOLDER
        )

    def values(self) -> dict[str, str]:
        values = {name: self.query_one(f"#{name}", Input).value.strip() for name, *_ in FIELDS}
        for name in ("grant", "cloud"):
            values[name] = str(self.query_one(f"#{name}", Select).value)
        if values["grant"] == GRANT_CLIENT:
            values["account_id"] = ""
        return values

    def _missing(self, values: dict[str, str]) -> list[str]:
        """The fields still to fill in (the subscription id may come from the endpoint URL)."""
        missing = [
            name
            for name in ("account_id", "client_id", "client_secret")
            if not values[name] and not (name == "account_id" and values["grant"] == GRANT_CLIENT)
        ]
        if not values["subscription_id"]:
            try:
                named = split_endpoint(values["ws_url"])[1] if values["ws_url"] else None
            except SettingsError:  # a malformed URL: saving says what is wrong with it
                return missing
            if not named:
                missing.append("subscription_id")
        return missing

    def action_save(self) -> None:
        values = self.values()
        if "://" in values["subscription_id"]:  # the endpoint URL pasted in the id's field
            if values["ws_url"] and values["ws_url"] != values["subscription_id"]:
                self._status("Paste the endpoint URL in the Endpoint URL field.", "-error")
                return
            values["ws_url"], values["subscription_id"] = values["subscription_id"], ""
        missing = self._missing(values)
        if missing:
            labels = {name: label for name, label, *_ in FIELDS}
            extra = " (or the endpoint URL)" if missing[-1] == "subscription_id" else ""
            self._status(f"Fill in {', '.join(labels[m] for m in missing)}{extra}.", "-error")
            self.set_focus(self.query_one(f"#{missing[0]}", Input))
            return
        secret = Secret(values.pop("client_secret"))
        if self._confirming_insecure:
            self._allow_insecure_keyring = True
        self._verify(values, secret)

    @work(exclusive=True, group="first-run", exit_on_error=False)
    async def _verify(self, values: dict[str, str], secret: Secret) -> None:
        self._busy(True)
        self._status("Verifying with Zoom (requesting a token)…", "-busy")
        try:
            saver = self._saver or default_saver()
            result: Any = saver(
                self.profile,
                values["account_id"],
                values["client_id"],
                secret,
                values["subscription_id"],
                self.oauth_url,
                values["ws_url"] or None,
                config_path=self.config_path,
                insecure_transport=self.insecure_transport,
                allow_insecure_keyring=self._allow_insecure_keyring,
                grant=values["grant"],
                cloud=values["cloud"],
            )
            if inspect.isawaitable(result):
                result = await result
        except Exception as exc:  # noqa: BLE001 - shown to the user, redacted; never the crash screen
            self._failed(redact(str(exc)) or type(exc).__name__)
            return
        if not getattr(result, "ok", False):
            message = redact(getattr(result, "message", "")) or "Saving failed."
            if getattr(result, "needs_confirmation", False):
                self._confirming_insecure = True
                message += (
                    " To store the secret in that file, press ctrl+s again; to keep it out of "
                    "files, quit and set ZOOM_CLIENT_SECRET instead."
                )
            self._failed(message)
            return
        self.query_one("#client_secret", Input).value = ""
        settings = await self._settings_after_save(values, secret)
        self._status("Verified and saved. Connecting…", "-ok")
        self.app.notify(redact(result.message), title="Credentials saved", timeout=8, markup=False)
        self.dismiss(settings)

    async def _settings_after_save(
        self, values: dict[str, str], secret: Secret
    ) -> ConnectionSettings:
        """What the next `zoomtui` run will resolve (environment included); else the form's values."""
        try:
            return await asyncio.to_thread(self._resolver, self.profile, self.config_path)
        except Exception:  # noqa: BLE001 - e.g. the secret is session-only: the form has it all
            return ConnectionSettings(
                account_id=values["account_id"],
                client_id=values["client_id"],
                client_secret=secret,
                subscription_id=values["subscription_id"],
                oauth_url=self.oauth_url or "",
                ws_url=values["ws_url"],
                grant=values["grant"],
                cloud=values["cloud"],
                profile=self.profile,
                insecure_transport=self.insecure_transport,
            )

    def _failed(self, message: str) -> None:
        self._status(message, "-error")
        self._busy(False)

    def _busy(self, busy: bool) -> None:
        self.query_one("#save", Button).disabled = busy

    def _status(self, text: str, cls: str) -> None:
        status = self.query_one("#status", Static)
        status.update(text)
        status.set_classes(cls)
