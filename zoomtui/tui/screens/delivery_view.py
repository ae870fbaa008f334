"""The inspector's forwarding pane (`f`): the request sent to the webhook handler and
what it answered, as lines of Rich text.

The request: the URL, every header (`x-zm-signature` too: an HMAC of this one body,
harmless to show; the webhook secret token it was made with is never in a `Delivery`)
and the body, the frame's content byte for byte, laid out here one member per line.
The answer: the status and the time it took, the handler's headers and the first KB of
its body (`RESPONSE_KEEP`), or why there was none.  Everything from the handler and
from Zoom is appended as plain text with control characters made visible.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.style import Style
from rich.text import Text

from zoomtui.forward import Delivery
from zoomtui.forward.results import RESPONSE_KEEP
from zoomtui.timefmt import milliseconds
from zoomtui.tui.theme import rich_style_for
from zoomtui.visible import visible_text
from zoomtui.words import counted
from zoomtui.zoom.protocol import ZoomEvent
from zoomtui.zoom.rawjson import pretty_json

if TYPE_CHECKING:
    from zoomtui.tui.forwarding import TuiForwarding

#: the body is laid out up to this many lines here (the event JSON view has all of it)
BODY_LINES = 400

#: style keys (theme variables) the pane uses
STYLES = {
    "title": "bold $text-primary",
    "header": "$text-muted",
    "ok": "bold $text-success",
    "failed": "bold $text-error",
    "note": "italic $text-muted",
}


def forward_field(forwarding: TuiForwarding, ev: ZoomEvent, variables: dict[str, str]) -> Text:
    """The inspector's `forwarded` field: the row's mark, then what came of it."""
    mark = forwarding.mark_of(ev)
    delivery = forwarding.delivery_of(ev)
    if mark is None:
        return Text("no (R sends it to its handler)")
    style = rich_style_for(mark.style, variables) + Style(bold=True)
    if delivery is not None:
        text = Text(visible_text(delivery.result_text), style=style)
        text.append(f" · {forward_summary(delivery, forwarding.sent_count(ev))}")
        text.append(" · f shows the request and the answer", style="dim")
        return text
    text = Text(mark.text, style=style)
    if mark.text == "→full":
        text.append(" not forwarded: the queue was full · R sends it")
    else:
        text.append(" on its way" if mark.text == "→…" else " (no longer kept in full)")
    return text


def forward_summary(delivery: Delivery, sent: int) -> str:
    """Where it went, and how often: `to http://... · sent 2 times`."""
    times = f" · sent {counted(sent, 'time')}" if sent > 1 else ""
    return f"to {visible_text(delivery.url)}{times}"


def delivery_lines(delivery: Delivery, styles: dict[str, Style]) -> list[Text]:
    """The request and the answer, one Text per line."""
    request = delivery.request
    signed = "signed" if request.signed else "UNSIGNED (--unsigned)"
    lines = [_line(f"POST {visible_text(request.url)} · {signed}", styles["title"])]
    lines += _headers(request.headers, styles)
    lines.append(Text(end=""))
    lines += answer_lines(delivery, styles)
    lines.append(Text(end=""))
    size = counted(len(request.body), "byte")
    note = f"the body sent: {size}, the frame's content byte for byte (laid out here)"
    lines.append(_line(note, styles["note"]))
    lines += _body(request.body, styles)
    return lines


def answer_lines(delivery: Delivery, styles: dict[str, Style]) -> list[Text]:
    """What the handler answered, or why nothing did."""
    queued = f" · waited {milliseconds(delivery.waited)} in the queue" if delivery.waited else ""
    attempt = f" · attempt {delivery.attempt}" if delivery.attempt > 1 else ""
    response = delivery.response
    if response is None:
        status = f"no answer: {visible_text(delivery.error)}"
        return [_line(status + attempt, styles["failed"])]
    style = styles["ok"] if delivery.ok else styles["failed"]
    took = f"{response.status} in {milliseconds(delivery.latency)}"
    lines = [_line(f"HTTP {took}{queued}{attempt}", style)]
    lines += _headers(response.headers, styles)
    lines.append(Text(end=""))
    text = response.body.decode("utf-8", "replace")
    lines += [_line(visible_text(part)) for part in text.split("\n")] if text else []
    if response.truncated:
        lines.append(_line(f"… (the first {RESPONSE_KEEP:,} bytes of the answer)", styles["note"]))
    elif not text:
        lines.append(_line("(an empty body)", styles["note"]))
    return lines


def _headers(headers: tuple[tuple[str, str], ...], styles: dict[str, Style]) -> list[Text]:
    out = []
    for name, value in headers:
        line = Text(end="")
        line.append(f"{visible_text(name)}: ", styles["header"])
        line.append(visible_text(value))
        out.append(line)
    return out


def _body(body: bytes, styles: dict[str, Style]) -> list[Text]:
    try:
        laid_out = pretty_json(body.decode("utf-8", "replace")).split("\n")
    except Exception:  # noqa: BLE001 - a body that cannot be laid out is shown as it is
        laid_out = [body.decode("utf-8", "replace")]
    lines = [_line(visible_text(part)) for part in laid_out[:BODY_LINES]]
    if len(laid_out) > BODY_LINES:
        more = counted(len(laid_out) - BODY_LINES, "more line")
        lines.append(_line(f"… {more} (the event JSON view shows it all)", styles["note"]))
    return lines


def _line(text: str, style: Style | str = "") -> Text:
    return Text(text, style=style, end="")
