"""Where alerts go: a desktop notification, a command, an HTTP POST.  Off the hot path.

    dispatcher = AlertDispatcher(rules)
    engine.listen(dispatcher.send)      # cheap: one bounded put, never a wait
    ...
    dispatcher.close()                  # sends what is queued (bounded time), then stops

`send` only queues: worker threads run the actions, so an action that is slow or hangs
never slows the session.  The queue is bounded; an alert that does not fit is dropped and
counted.  Each action is bounded in time.  A failing action is said once (logged, and to
`report`), then only counted: `stats`.

- desktop: `notify-send` (Linux) or `osascript` (macOS); skipped silently where neither
  is installed.  The text is an argument, never a script built from it.
- command: the rule's argv, run as given (never a shell), the alert and its event as JSON
  on standard input (`Alert.to_json`); its output is captured (the first 4 KiB say why
  it failed); killed at `command_timeout`.  Its environment has no variable that looks
  like a secret (the client secret may be in the monitor's).
- post: the JSON (or Slack's `{"text": ...}`) to the URL, certificates verified, no
  redirects followed; http:// only to this machine (`rules.check_post_url`).  The URL is
  never shown whole (a webhook's secret is in it).
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import httpx

from zoomtui.alerts.alert import Alert
from zoomtui.alerts.rules import Rule, check_post_url, shown_url
from zoomtui.config import is_secret_key
from zoomtui.redaction import redact

log = logging.getLogger("zoomtui.alerts")

#: alerts waiting for the workers; more are dropped (and counted)
QUEUE_SIZE = 256
WORKERS = 2
DESKTOP_TIMEOUT = 5.0
#: how much of a failed command's output is kept to say why
OUTPUT_KEPT = 4096


@dataclass(slots=True)
class ActionStats:
    """What one action of one rule did (counted by the workers)."""

    sent: int = 0
    failed: int = 0
    #: the first failure, as said
    first_failure: str = ""


class ActionError(Exception):
    """An action did not reach its receiver; the message says why (no secret in it)."""


class _Skipped(Exception):
    """An action that has nowhere to go on this machine (no desktop)."""


# -- the actions themselves (blocking: run on a worker) -------------------------------------
def desktop_command(title: str, text: str, platform: str = sys.platform) -> list[str] | None:
    """The argv that shows a desktop notification here, or None where there is none."""
    if platform == "darwin" and shutil.which("osascript"):
        script = "on run argv\ndisplay notification (item 2 of argv) with title (item 1 of argv)\nend run"
        return ["osascript", "-e", script, title, text]
    notify_send = shutil.which("notify-send")
    if notify_send:
        return [notify_send, "--app-name=zoomtui", "--", title, text]
    return None


def run_desktop(alert: Alert) -> bool:
    """Show it on the desktop; False (and nothing said) where the machine has no way."""
    argv = desktop_command(alert.title, alert.message)
    if argv is None:
        return False
    try:
        subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, timeout=DESKTOP_TIMEOUT)
    except (OSError, subprocess.SubprocessError):
        return False  # no session bus, no display: silently, as where there is none
    return True


def _child_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not is_secret_key(k)}


def run_command(argv: tuple[str, ...], payload: bytes, timeout: float) -> None:
    """Run `argv` with `payload` on stdin; raise `ActionError` unless it exits 0 in time."""
    with tempfile.TemporaryFile() as output:
        try:
            proc = subprocess.Popen(
                list(argv),
                stdin=subprocess.PIPE,
                stdout=output,
                stderr=subprocess.STDOUT,
                env=_child_env(),
                start_new_session=True,  # a Ctrl-C at the terminal is the monitor's, not its
            )
        except OSError as exc:
            raise ActionError(f"cannot run {argv[0]}: {exc.strerror or exc}") from None
        try:
            proc.communicate(payload, timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            raise ActionError(f"{argv[0]} took longer than {timeout:g} s and was stopped") from None
        except (BrokenPipeError, OSError):
            proc.wait()
        if proc.returncode != 0:
            output.seek(0)
            said = output.read(OUTPUT_KEPT).decode("utf-8", "replace").strip()
            raise ActionError(
                f"{argv[0]} exited with {proc.returncode}" + (f": {said}" if said else "")
            )


def run_post(url: str, body: bytes, timeout: float, client: httpx.Client | None = None) -> None:
    """POST `body` (JSON) to `url`; raise `ActionError` unless it answers 2xx in time."""
    check_post_url(url)  # checked when the rule was read; checked again before data leaves
    where = shown_url(url)
    headers = {"Content-Type": "application/json", "User-Agent": "zoomtui-alerts"}
    own = client is None
    http = client or httpx.Client(timeout=timeout, follow_redirects=False, verify=True)
    try:
        answer = http.post(url, content=body, headers=headers, timeout=timeout)
    except httpx.TimeoutException:
        raise ActionError(f"{where} did not answer within {timeout:g} s") from None
    except httpx.HTTPError as exc:
        raise ActionError(f"{where} could not be reached ({type(exc).__name__})") from None
    finally:
        if own:
            http.close()
    if not 200 <= answer.status_code < 300:
        raise ActionError(f"{where} answered {answer.status_code}")


# -- the dispatcher ----------------------------------------------------------------------------
Job = tuple[Rule, Alert]


class AlertDispatcher:
    """Alerts to each rule's actions, on worker threads, from a bounded queue."""

    def __init__(
        self,
        rules: Iterable[Rule],
        *,
        report: Callable[[str], None] | None = None,
        desktop: Callable[[Alert], bool] = run_desktop,
        workers: int = WORKERS,
        queue_size: int = QUEUE_SIZE,
    ) -> None:
        self.rules = {r.name: r for r in rules}
        self._report = report
        self._desktop = desktop
        self._queue: queue.Queue[Job | None] = queue.Queue(maxsize=queue_size)
        #: per (rule, action): what it did
        self.stats: dict[tuple[str, str], ActionStats] = {}
        #: alerts dropped because the queue was full
        self.dropped = 0
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._pending = 0
        self._threads = [
            threading.Thread(target=self._work, name=f"zoomtui-alerts-{i}", daemon=True)
            for i in range(workers if self._has_actions() else 0)
        ]
        for thread in self._threads:
            thread.start()

    def _has_actions(self) -> bool:
        return any(r.desktop or r.command or r.post for r in self.rules.values())

    def send(self, alert: Alert) -> None:
        """Queue `alert` for its rule's actions (never waits; dropped and counted when full)."""
        rule = self.rules.get(alert.rule)
        if rule is None or not alert.notify or not self._threads:
            return
        if not (rule.desktop or rule.command or rule.post):
            return
        with self._lock:
            self._pending += 1
        try:
            self._queue.put_nowait((rule, alert))
        except queue.Full:
            with self._lock:
                self._pending -= 1
                self.dropped += 1
                first = self.dropped == 1
            if first:
                self._say("alerts are coming faster than their actions run: some are dropped "
                          "(counted)")  # fmt: skip

    def _work(self) -> None:
        http = httpx.Client(follow_redirects=False, verify=True)
        try:
            while (job := self._queue.get()) is not None:
                rule, alert = job
                try:
                    self.run_actions(rule, alert, http)
                finally:
                    with self._lock:
                        self._pending -= 1
                        self._idle.notify_all()
        finally:
            http.close()

    def run_actions(self, rule: Rule, alert: Alert, http: httpx.Client | None = None) -> list[str]:
        """Run each action of `rule` for `alert` now (blocking); returns the failures."""
        failures: list[str] = []
        steps: list[tuple[str, Callable[[], None]]] = []
        if rule.desktop:
            steps.append(("desktop", lambda: self._show_desktop(alert)))
        if rule.command:
            steps.append(
                (
                    "command",
                    lambda: run_command(rule.command, alert.to_json(), rule.command_timeout),
                )
            )
        if rule.post:
            body = alert.slack_json() if rule.slack else alert.to_json()
            steps.append(("post", lambda: run_post(rule.post, body, rule.post_timeout, http)))
        for action, step in steps:
            stats = self._stats(rule.name, action)
            try:
                step()
            except _Skipped:
                continue
            except Exception as exc:  # noqa: BLE001 - an action failing never stops the others
                text = redact(str(exc) if isinstance(exc, ActionError) else type(exc).__name__)
                failures.append(f"{action}: {text}")
                self._failed(rule.name, action, stats, text)
            else:
                with self._lock:
                    stats.sent += 1
        return failures

    def _show_desktop(self, alert: Alert) -> None:
        if not self._desktop(alert):
            raise _Skipped  # no way to show it here: not a failure, not sent

    def _stats(self, rule: str, action: str) -> ActionStats:
        with self._lock:
            return self.stats.setdefault((rule, action), ActionStats())

    def _failed(self, rule: str, action: str, stats: ActionStats, text: str) -> None:
        with self._lock:
            stats.failed += 1
            first = stats.failed == 1
            if first:
                stats.first_failure = text
        if first:
            self._say(
                f"alert rule {rule!r}: {action} failed (later failures are only counted): {text}"
            )

    def _say(self, text: str) -> None:
        log.warning("%s", text)
        if self._report is not None:
            with contextlib.suppress(Exception):  # saying it is best effort
                self._report(text)

    @property
    def failures(self) -> int:
        return sum(s.failed for s in self.stats.values())

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Wait until every queued alert has been through its actions."""
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout)

    def close(self, timeout: float = 15.0) -> None:
        """Run what is queued (at most `timeout` s), then stop the workers."""
        self.wait_idle(timeout)
        for _ in self._threads:
            try:
                self._queue.put_nowait(None)
            except queue.Full:
                break
        for thread in self._threads:
            thread.join(timeout=1.0)
        self._threads = []
