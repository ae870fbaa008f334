"""`zoomtui trigger EVENT`: make a running `zoomtui fake-server` send one chosen event.

Like `stripe trigger`: someone building a handler fires exactly the event they need,
shaped like Zoom's, to whatever is connected to the fake.  It talks to the fake's
control endpoint (docs/FAKEZOOM_API.md) with the URL and control token the fake
exported (`source` its `--env-file`, or pass `--env-file` here).

Exit codes: 0 sent, 1 the fake could not be reached, refused, or had nobody connected,
2 bad usage (an unknown event name), 3 no fake-server settings found.
"""

from __future__ import annotations

import difflib
import os
import shlex
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import click

from zoomtui.commands.common import EXIT_CONFIG, EXIT_FAILURE, EXIT_USAGE

# (the names only: importing zoomtui.fakezoom does not load the fake)
from zoomtui.fakezoom.names import ENV_CONTROL_TOKEN, ENV_CONTROL_URL
from zoomtui.fakezoom.names import TRIGGER_EVENTS as EVENTS

TIMEOUT = 10.0


class _TriggerCommand(click.Command):
    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with formatter.section("Events"):
            formatter.write_text(", ".join(EVENTS))
        super().format_epilog(ctx, formatter)


def read_env_file(path: Path) -> dict[str, str]:
    """The `export NAME=value` lines of a fake-server env file (nothing is executed)."""
    values: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            words = shlex.split(line, comments=True)
        except ValueError:
            continue
        if len(words) == 2 and words[0] == "export" and "=" in words[1]:
            name, _, value = words[1].partition("=")
            values[name] = value
    return values


def _check_event(name: str) -> str:
    name = name.strip()
    if name in EVENTS:
        return name
    close = difflib.get_close_matches(name, EVENTS, n=1)
    hint = f" Did you mean {close[0]}?" if close else ""
    click.echo(
        f"zoomtui trigger: unknown event {name!r}.{hint} Supported: {', '.join(EVENTS)}.",
        err=True,
    )
    sys.exit(EXIT_USAGE)


def _control(env_file: Path | None) -> tuple[str, str]:
    """The control URL and token: from --env-file, else the environment."""
    if env_file is not None:
        try:
            source = read_env_file(env_file)
        except (OSError, UnicodeDecodeError) as exc:
            click.echo(f"zoomtui trigger: cannot read {env_file}: {exc}", err=True)
            sys.exit(EXIT_CONFIG)
        where = str(env_file)
    else:
        source, where = dict(os.environ), "the environment"
    url, token = source.get(ENV_CONTROL_URL, ""), source.get(ENV_CONTROL_TOKEN, "")
    if not (url and token):
        click.echo(
            f"zoomtui trigger: no running fake-server found in {where} ({ENV_CONTROL_URL} and "
            f"{ENV_CONTROL_TOKEN} are not set). Start one with `zoomtui fake-server --env-file "
            "FILE`, then `source FILE` or pass --env-file FILE.",
            err=True,
        )
        sys.exit(EXIT_CONFIG)
    if not _is_http_url(url):
        click.echo(
            f"zoomtui trigger: {ENV_CONTROL_URL} in {where} is not an http:// URL ({url!r}). "
            "Source the env file of a running `zoomtui fake-server` again.",
            err=True,
        )
        sys.exit(EXIT_CONFIG)
    return url.rstrip("/"), token


def _is_http_url(url: str) -> bool:
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - reading it is the check (ValueError for a bad port)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def _post(url: str, token: str, body: dict[str, Any]) -> Any:
    """POST the trigger; the parsed answer, or a message and an exit on any failure."""
    import httpx

    try:
        resp = httpx.post(
            f"{url}/trigger",
            json=body,
            headers={"Authorization": f"Bearer {token}"},
            timeout=TIMEOUT,
            trust_env=False,  # the fake is on this machine: no proxy in between
        )
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        click.echo(
            f"zoomtui trigger: no fake Zoom answers at {url} ({type(exc).__name__}). Is "
            "`zoomtui fake-server` still running? Its settings change each time it starts: "
            "source its env file again.",
            err=True,
        )
        sys.exit(EXIT_FAILURE)
    try:
        answer = resp.json()
    except ValueError:
        answer = {}
    if resp.status_code == 200 and isinstance(answer, dict):
        return answer
    reason = answer.get("reason") if isinstance(answer, dict) else None
    if resp.status_code == 401:
        reason = "it refused the control token; source the env file of the running fake-server"
    click.echo(f"zoomtui trigger: the fake answered HTTP {resp.status_code}: {reason}.", err=True)
    sys.exit(EXIT_USAGE if resp.status_code == 400 else EXIT_FAILURE)


def _summary(event: dict[str, Any], sent_to: int) -> str:
    """One line on what was sent (the fake built it: still, no field is trusted to exist)."""
    name = str(event.get("event", "?"))
    payload = event.get("payload")
    obj = payload.get("object") if isinstance(payload, dict) else None
    obj = obj if isinstance(obj, dict) else {}
    about = []
    if name.startswith("user."):
        about.append(f"user {obj.get('display_name')} <{obj.get('email', '')}>")
    else:
        about.append(f"{'webinar' if name.startswith('webinar.') else 'meeting'} {obj.get('id')}")
        if obj.get("topic"):
            about[-1] += f" ({obj['topic']})"
    person = obj.get("participant")
    if isinstance(person, dict):
        about.append(f"participant {person.get('user_name')} <{person.get('email', '')}>")
    where = f"{sent_to} connection" + ("" if sent_to == 1 else "s")
    return f"Sent {name} to {where}: " + ", ".join(about) + "."


@click.command("trigger", cls=_TriggerCommand)
@click.argument("event", metavar="EVENT")
@click.option("--meeting", "meeting_id", type=click.IntRange(min=1), help="Meeting or webinar id.")
@click.option("--name", default=None, help="The participant's (or new user's) name.")
@click.option("--email", default=None, help="The participant's (or new user's) email.")
@click.option(
    "--env-file",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    default=None,
    help="The env file of the running `zoomtui fake-server --env-file` (else the environment).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the event sent, as JSON.")
def command(
    event: str,
    meeting_id: int | None,
    name: str | None,
    email: str | None,
    env_file: Path | None,
    as_json: bool,
) -> None:
    """Make a running `zoomtui fake-server` send one EVENT to whoever is connected.

    The event is shaped like Zoom's; the same --meeting and --name give the same meeting
    uuid, topic and participant ids each time, so a joined and a left pair up.

    \b
        zoomtui trigger meeting.participant_joined --meeting 85746352410 --name "Ana"

    Exit codes: 0 sent, 1 the fake was not reached or nobody is connected, 2 bad usage,
    3 no fake-server settings.
    """
    event = _check_event(event)
    url, token = _control(env_file)
    body: dict[str, Any] = {"event": event}
    for key, value in (("meeting_id", meeting_id), ("name", name), ("email", email)):
        if value is not None:
            body[key] = value
    answer = _post(url, token, body)
    sent = answer.get("event") if isinstance(answer.get("event"), dict) else {}
    sent_to = answer.get("sent_to") if isinstance(answer.get("sent_to"), int) else 0
    if as_json:
        import orjson

        click.echo(orjson.dumps(sent).decode())
    else:
        click.echo(_summary(sent, sent_to))
    if sent_to == 0:
        click.echo(
            "zoomtui trigger: nobody is connected to the fake, so nobody received it "
            "(Zoom does not replay either). Connect a client first.",
            err=True,
        )
        sys.exit(EXIT_FAILURE)
