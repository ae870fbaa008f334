"""The event inspector: one row of the log in full, over the list.

Shows the event as highlighted JSON (long arrays folded until `e`), the raw
frame (`r`), receive time, Zoom's event time and the lag, the meeting and
the participant.  `n`/`p` step through the *filtered* view without closing,
`y` copies the event JSON (the event's own text, laid out: never parsed and written
again, so every level and every digit is kept) and `Y` the raw frame.  Malformed frames show their
reason and their bytes (escaped text, and a hex dump on `r`); gaps their
interval.

Everything from Zoom is appended to `rich.text.Text` as plain strings, never
as markup.  The JSON comes from a small folding printer (not a lexer) as
lines, shown by a Line API view that renders only what is on screen, so an
expanded event of 20,000 lines opens and scrolls as fast as a small one.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, ClassVar

import orjson
from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import ContentSwitcher, Footer, Static

from zoomtui.monitor.eventlog import EventLog, GapRow, Row, StateRow
from zoomtui.timefmt import date_clock_ms_zone, duration_words, lag_cell, utc_clock_ms
from zoomtui.tui.theme import rich_style_for
from zoomtui.tui.widgets.event_log import LATE_AFTER, Columns, event_style
from zoomtui.tui.widgets.text_lines import TextLines as TextLines
from zoomtui.visible import visible_text
from zoomtui.words import counted
from zoomtui.zoom.protocol import MalformedFrame, ZoomEvent
from zoomtui.zoom.rawjson import event_text, pretty_json

if TYPE_CHECKING:
    from zoomtui.forward import Delivery
    from zoomtui.tui.forwarding import TuiForwarding

#: arrays longer than this are folded to their first FOLD_SHOW items until expanded
FOLD_AT = 20
FOLD_SHOW = 5
#: strings longer than this are cut until expanded
LONG_STRING = 2000
#: at most this many JSON lines are rendered (the copy is always whole)
MAX_LINES = 20_000
#: values nested deeper than this are shown folded (Zoom's data may nest 1,024 levels;
#: the copy is always whole)
MAX_DEPTH = 64
#: raw frames / malformed bytes shown up to this size (the copy is always whole)
RAW_SHOW = 64 * 1024
HEX_SHOW = 4 * 1024

JSON_STYLES = {
    "key": "$text-primary",
    "string": "$text-success",
    "number": "$text-accent",
    "literal": "$text-secondary",
    "fold": "italic $text-warning",
}


def _local_and_utc(epoch: float) -> str:
    """The local time, and the same in UTC unless local time is UTC (said once, then)."""
    local = date_clock_ms_zone(epoch)
    if dt.datetime.fromtimestamp(epoch).astimezone().utcoffset() != dt.timedelta(0):
        return f"{local} · {utc_clock_ms(epoch)}"
    return local if local.endswith(" UTC") else f"{local} (UTC)"


class JsonPrinter:
    """Indented JSON as Rich `Text` lines, folding long arrays and strings unless `expand`."""

    def __init__(self, styles: dict[str, Style], *, expand: bool = False) -> None:
        self.styles = styles
        self.expand = expand
        self.folded = 0  # how many arrays/strings were folded (0: nothing to expand)
        self.too_deep = 0  # how many values were folded for being nested past MAX_DEPTH
        self.cut = False  # stopped at MAX_LINES
        self.lines: list[Text] = [Text(end="")]

    @property
    def text(self) -> Text:
        """All lines as one Text (for tests and small uses)."""
        return Text("\n", end="").join(self.lines)

    def render(self, value: Any) -> list[Text]:
        self._value(value, 0)
        return self.lines

    def _put(self, text: str, style: Style | None = None) -> None:
        self.lines[-1].append(text, style)

    def _newline(self, indent: int) -> bool:
        if len(self.lines) >= MAX_LINES:
            self.cut = True
            return False
        self.lines.append(Text("  " * indent, end=""))
        return True

    def _value(self, value: Any, indent: int) -> None:
        put, s = self._put, self.styles
        if self.cut:
            return
        if indent >= MAX_DEPTH and isinstance(value, (dict, list)) and value:
            self.too_deep += 1  # folded: the printer calls itself once per level
            put("{…}" if isinstance(value, dict) else "[…]", s["fold"])
        elif isinstance(value, dict):
            self._dict(value, indent)
        elif isinstance(value, list):
            self._list(value, indent)
        elif isinstance(value, str):
            self._string(value)
        elif value is None or isinstance(value, bool):
            put(orjson.dumps(value).decode(), s["literal"])
        elif isinstance(value, (int, float)):
            put(orjson.dumps(value).decode(), s["number"])
        else:
            put(visible_text(repr(value)))

    def _dict(self, value: dict, indent: int) -> None:
        put, s = self._put, self.styles
        if not value:
            put("{}")
            return
        put("{")
        for n, (key, item) in enumerate(value.items()):
            if not self._newline(indent + 1):
                return
            put(_json_string(str(key)), s["key"])
            put(": ")
            self._value(item, indent + 1)
            if n < len(value) - 1:
                put(",")
        if self._newline(indent):
            put("}")

    def _list(self, value: list, indent: int) -> None:
        put, s = self._put, self.styles
        if not value:
            put("[]")
            return
        shown = value if self.expand or len(value) <= FOLD_AT else value[:FOLD_SHOW]
        put("[")
        for n, item in enumerate(shown):
            if not self._newline(indent + 1):
                return
            self._value(item, indent + 1)
            if n < len(value) - 1:
                put(",")
        if len(shown) < len(value):
            self.folded += 1
            if not self._newline(indent + 1):
                return
            put(f"… {counted(len(value) - len(shown), 'more item')} (e expands)", s["fold"])
        if self._newline(indent):
            put("]")

    def _string(self, value: str) -> None:
        put, s = self._put, self.styles
        if not self.expand and len(value) > LONG_STRING:
            self.folded += 1
            put(_json_string(value[:LONG_STRING]), s["string"])
            put(f" … {counted(len(value) - LONG_STRING, 'more character')} (e expands)", s["fold"])
        else:
            put(_json_string(value), s["string"])


def _json_string(value: str) -> str:
    # orjson escapes control characters, so the terminal sees none of them raw.
    return orjson.dumps(value).decode()


def hex_dump(data: bytes, limit: int = HEX_SHOW) -> str:
    lines = []
    for off in range(0, min(len(data), limit), 16):
        chunk = data[off : off + 16]
        hexes = " ".join(f"{b:02x}" for b in chunk)
        ascii_ = "".join(chr(b) if 32 <= b < 127 else "." for b in chunk)
        lines.append(f"{off:08x}  {hexes:<47}  {ascii_}")
    if len(data) > limit:
        lines.append(f"… {counted(len(data) - limit, 'more byte')} (Y copies them all)")
    return "\n".join(lines)


def escaped_bytes(data: bytes) -> str:
    """Bytes as text: UTF-8 where it decodes, \\xNN where it does not; controls made visible."""
    return visible_text(data.decode("utf-8", errors="backslashreplace"))


class InspectorScreen(ModalScreen[Row | None]):
    """One row in full. Dismisses with the row last shown (so the list can select it)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "close", "Close", id="inspector.close"),
        Binding("n,j", "step(1)", "Next", id="inspector.next"),
        Binding("p,k", "step(-1)", "Previous", id="inspector.previous"),
        Binding("r", "toggle_raw", "Raw frame", id="inspector.raw"),
        Binding("e", "toggle_expand", "Expand/fold", id="inspector.expand"),
        Binding("y,c", "copy_event", "Copy JSON", id="inspector.copy"),
        Binding("Y", "copy_raw", "Copy raw frame", id="inspector.copy_raw"),
        Binding("f", "toggle_forward", "Forwarded", id="inspector.forwarded"),
        Binding("R", "resend", "Resend", id="inspector.resend"),
    ]

    DEFAULT_CSS = """
    InspectorScreen {
        align: center middle;
        & > #inspector {
            width: 92%;
            height: 92%;
            border: thick $primary;
            border-title-color: $text;
            border-title-style: bold;
            background: $surface;
            padding: 0 1;
        }
        & #inspector-summary { height: auto; }
        & #inspector-heading { color: $text-muted; text-style: bold; margin-top: 1; }
        & #inspector-body { height: 1fr; }
        & #inspector-json { background: $surface; }
        & #inspector-raw { color: $text-muted; }
    }
    """

    def __init__(self, log: EventLog, row: Row, forwarding: TuiForwarding | None = None) -> None:
        super().__init__()
        self.event_log = log
        self.row = row
        #: `--forward-to`: the request and answer of a forwarded row (`f`), resend (`R`)
        self.forwarding = forwarding if forwarding is not None and forwarding.enabled else None
        self.show_forward = False
        self._seq = log.seq_of(row)
        self.expand = False
        self.show_raw = False
        self._body_label = ""
        self._raw_label = ""

    def compose(self) -> ComposeResult:
        with Vertical(id="inspector"):
            yield Static(id="inspector-summary", markup=False)
            yield Static(id="inspector-heading", markup=False)
            with ContentSwitcher(initial="inspector-json", id="inspector-body"):
                yield TextLines(id="inspector-json")
                with VerticalScroll(id="inspector-raw-pane"):
                    yield Static(id="inspector-raw", markup=False)
                yield TextLines(id="inspector-forward")
        yield Footer()

    def on_mount(self) -> None:
        if self.forwarding is not None:
            self.forwarding.listeners.append(self._delivered)
        self._show()

    def on_unmount(self) -> None:
        if self.forwarding is not None and self._delivered in self.forwarding.listeners:
            self.forwarding.listeners.remove(self._delivered)

    # -- for tests and callers -----------------------------------------------------------
    @property
    def body_text(self) -> str:
        """What the body pane shows, as plain text."""
        return self.query_one("#inspector-json", TextLines).plain

    @property
    def raw_text(self) -> str:
        return str(self.query_one("#inspector-raw", Static).render())

    @property
    def forward_text(self) -> str:
        """What the forwarding pane shows (the request and the answer), as plain text."""
        return self.query_one("#inspector-forward", TextLines).plain

    # -- showing -----------------------------------------------------------------------
    def _styles(self) -> dict[str, Style]:
        variables = self.app.theme_variables or self.app.get_css_variables()
        return {k: rich_style_for(v, variables) for k, v in JSON_STYLES.items()}

    def _title(self) -> str:
        log = self.event_log
        index = None if self._seq is None else log.visible_index_of_seq(self._seq)
        kind = {
            ZoomEvent: "event",
            MalformedFrame: "malformed frame",
            GapRow: "gap",
            StateRow: "state change",
        }.get(type(self.row), "row")
        if index is None:
            return f"{kind} (no longer in the list)"
        return f"{kind} {index + 1:,} of {log.visible_count:,}"

    def _show(self) -> None:
        self.query_one("#inspector").border_title = Content(self._title())
        summary, body, body_label, raw_label, raw = self._describe(self.row)
        self._body_label, self._raw_label = body_label, raw_label
        self.query_one("#inspector-summary", Static).update(summary)
        self.query_one("#inspector-json", TextLines).set_lines(body)
        self.query_one("#inspector-raw", Static).update(raw)
        if not raw_label:
            self.show_raw = False
        self.show_forward = self.show_forward and self._show_delivery()
        self._switch()

    def _show_delivery(self) -> bool:
        """Fill the forwarding pane from the row's latest delivery; False: there is none."""
        delivery = self._delivery()
        if delivery is None:
            return False
        from zoomtui.tui.screens.delivery_view import STYLES, delivery_lines

        variables = self.app.theme_variables or self.app.get_css_variables()
        styles = {k: rich_style_for(v, variables) for k, v in STYLES.items()}
        self.query_one("#inspector-forward", TextLines).set_lines(delivery_lines(delivery, styles))
        return True

    def _delivery(self) -> Delivery | None:
        if self.forwarding is None or not isinstance(self.row, ZoomEvent):
            return None
        return self.forwarding.delivery_of(self.row)

    def _switch(self) -> None:
        """Show the body, the raw or the forwarding pane, and say how to reach the others."""
        pane = "inspector-raw-pane" if self.show_raw else "inspector-json"
        if self.show_forward:
            pane = "inspector-forward"
        self.query_one(ContentSwitcher).current = pane
        if self.show_forward:
            heading = f"request sent and the handler's answer · f shows the {self._body_label}"
        elif self.show_raw:
            heading = f"{self._raw_label} · r shows the {self._body_label}"
        elif self._raw_label:
            heading = f"{self._body_label} · r shows the {self._raw_label}"
        else:
            heading = self._body_label
        self.query_one("#inspector-heading", Static).update(Text(heading))
        focus = self.query_one(f"#{pane}")
        focus.scroll_home(animate=False)
        focus.focus()

    def _describe(self, row: Row) -> tuple[Text, list[Text], str, str, Text]:
        if isinstance(row, ZoomEvent):
            return self._describe_event(row)
        if isinstance(row, MalformedFrame):
            summary = _fields(
                [
                    ("malformed", Text(visible_text(row.reason), style="bold")),
                    ("received", Text(date_clock_ms_zone(row.received_at))),
                    ("size", Text(counted(row.size, "byte"))),
                ]
            )
            text = escaped_bytes(row.raw[:RAW_SHOW])
            lines = [Text(line, end="") for line in text.split("␊")]  # newlines were made visible
            if len(row.raw) > RAW_SHOW:
                more = counted(len(row.raw) - RAW_SHOW, "more byte")
                lines.append(Text(f"… {more} (Y copies them all)"))
            return summary, lines, "the frame as text", "hex dump", Text(hex_dump(row.raw))
        if isinstance(row, GapRow):
            summary = _fields(
                [
                    (
                        "gap",
                        Text(
                            f"{date_clock_ms_zone(row.start)} – {date_clock_ms_zone(row.end)}",
                            style="bold",
                        ),
                    ),
                    ("length", Text(duration_words(row.seconds))),
                    ("reason", Text(visible_text(row.reason or "not connected"))),
                ]
            )
            body = [
                Text("Zoom does not replay events sent while no connection was open:"),
                Text("any event in this window was not delivered and is not in this list."),
            ]
            return summary, body, "what a gap means", "", Text()
        if isinstance(row, StateRow):
            summary = _fields(
                [
                    ("state", Text(row.state, style="bold")),
                    ("at", Text(date_clock_ms_zone(row.at))),
                    ("reason", Text(visible_text(row.reason))),
                ]
            )
            return summary, [], "connection state change", "", Text()
        return Text(visible_text(repr(row))), [], "", "", Text()

    def _describe_event(self, ev: ZoomEvent) -> tuple[Text, list[Text], str, str, Text]:
        variables = self.app.theme_variables or self.app.get_css_variables()
        name_style = rich_style_for(event_style(ev.name), variables)
        fields: list[tuple[str, Text]] = [
            ("event", Text(visible_text(ev.name), style=name_style + Style(bold=True))),
            ("received", Text(date_clock_ms_zone(ev.received_at))),
        ]
        if ev.event_ts_ms is not None:
            stamp = ev.event_ts_ms / 1000
            fields.append(("event time", Text(_local_and_utc(stamp))))
            lag = ev.lag
            late = lag is not None and lag >= LATE_AFTER
            fields.append(
                (
                    "lag",
                    Text(
                        lag_cell(lag, Columns.LAG) + (" late" if late else ""),
                        style=rich_style_for("$text-warning", variables) if late else "",
                    ),
                )
            )
        else:
            fields.append(("event time", Text("none (the event has no event_ts)")))
        meeting = [
            v
            for v in (
                ev.topic,
                ev.meeting_id and f"id {ev.meeting_id}",
                ev.meeting_uuid and f"uuid {ev.meeting_uuid}",
            )
            if v
        ]
        if ev.subject:  # user.*, account.*, ...: who or what the event is about
            fields.append(("subject", Text(visible_text(ev.subject))))
        if meeting:
            # (without a topic or uuid, the id of such an event is its object's, no meeting's)
            label = "meeting" if ev.topic or ev.meeting_uuid or not ev.subject else "object"
            fields.append((label, Text(visible_text(" · ".join(meeting)))))
        who = [
            v
            for v in (
                ev.participant_name,
                ev.participant_email and f"<{ev.participant_email}>",
                ev.participant_key and f"key {ev.participant_key}",
            )
            if v
        ]
        if who:
            fields.append(("participant", Text(visible_text(" ".join(who)))))
        if ev.account_id:
            fields.append(("account", Text(visible_text(ev.account_id))))
        if self.forwarding is not None:
            from zoomtui.tui.screens.delivery_view import forward_field

            fields.append(("forwarded", forward_field(self.forwarding, ev, variables)))
        try:
            body_value: Any = ev.body
        except Exception as exc:  # the raw text parsed once; still, never crash the screen
            body = [Text(f"the event could not be parsed again: {type(exc).__name__}")]
        else:
            printer = JsonPrinter(self._styles(), expand=self.expand)
            body = printer.render(body_value)
            if printer.cut:
                body.append(Text(f"… cut at {MAX_LINES:,} lines (y copies the whole event)"))
            if printer.folded and not self.expand:
                fields.append(("folded", Text(f"{printer.folded} long arrays/strings: e expands")))
            if printer.too_deep:
                fields.append(
                    (
                        "nested",
                        Text(f"past {MAX_DEPTH} levels shown as […]: y copies the whole event"),
                    )
                )
            ev.release()  # the log keeps events compact; the body was needed only to draw
        raw_text = ev.raw if len(ev.raw) <= RAW_SHOW else ev.raw[:RAW_SHOW] + "…"
        raw_label = f"raw frame ({counted(len(ev.raw.encode('utf-8', 'surrogatepass')), 'byte')})"
        return _fields(fields), body, "event JSON", raw_label, Text(visible_text(raw_text))

    def _delivered(self, delivery: Delivery) -> None:
        """A delivery came back: show it if it is this row's."""
        if delivery.event is self.row and self.is_attached:
            self._show()

    # -- actions -----------------------------------------------------------------------
    def action_toggle_forward(self) -> None:
        if not self.show_forward and not self._show_delivery():
            self.app.bell()
            return
        self.show_forward = not self.show_forward
        self.show_raw = False
        self._switch()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("toggle_forward", "resend"):  # (offered when forwarding is on)
            return self.forwarding is not None
        return True

    def action_resend(self) -> None:
        """R: the event to its handler again, signed afresh (a new timestamp)."""
        row = self.row
        if not isinstance(row, ZoomEvent) or self.forwarding is None:
            self.app.bell()
            return
        problem = self.forwarding.resend(row)
        if problem:
            self.notify(problem, title="Not resent", severity="warning", markup=False)
            return
        self._show()

    def action_close(self) -> None:
        self.dismiss(self.row)

    def action_step(self, delta: int) -> None:
        """The next/previous row of the filtered view (where the row is, or would be)."""
        log = self.event_log
        n = log.visible_count
        if not n:
            self.app.bell()
            return
        here = None if self._seq is None else log.visible_index_of_seq(self._seq)
        if here is None:
            # Filtered out or dropped: continue from where it would sit.
            after = 0 if self._seq is None else log.first_visible_at_or_after(self._seq)
            target = after if delta > 0 else after - 1
        else:
            target = here + delta
        if not 0 <= target < n:
            self.app.bell()
            return
        self._seq = log.seq_at(target)
        self.row = log.visible(target)
        self._show()

    def action_toggle_raw(self) -> None:
        if not self._raw_label:
            self.app.bell()
            return
        self.show_raw = not self.show_raw
        self.show_forward = False
        self._switch()

    def action_toggle_expand(self) -> None:
        self.expand = not self.expand
        self._show()

    def action_copy_event(self) -> None:
        row = self.row
        if isinstance(row, ZoomEvent):
            text = copy_text(row)
            what = "event JSON"
        elif isinstance(row, MalformedFrame):
            text = row.raw.decode("utf-8", errors="backslashreplace")
            what = "malformed frame"
        elif isinstance(row, GapRow):
            text = (
                f"gap {date_clock_ms_zone(row.start)} – {date_clock_ms_zone(row.end)} "
                f"({duration_words(row.seconds)}): {row.reason}"
            )
            what = "gap"
        elif isinstance(row, StateRow):
            text = f"{date_clock_ms_zone(row.at)} {row.state}: {row.reason}"
            what = "state change"
        else:
            return
        self._copy(text, what)

    def action_copy_raw(self) -> None:
        row = self.row
        if isinstance(row, ZoomEvent):
            self._copy(row.raw, "raw frame")
        elif isinstance(row, MalformedFrame):
            self._copy(row.raw.decode("utf-8", errors="backslashreplace"), "raw frame")
        else:
            self.action_copy_event()

    def _copy(self, text: str, what: str) -> None:
        self.app.copy_to_clipboard(text)
        self.notify(
            f"{counted(len(text), 'character')} of {what} (if your terminal allows OSC 52).",
            title="Copied to the clipboard",
            markup=False,
        )


def copy_text(event: ZoomEvent) -> str:
    """What `y` copies: the event as Zoom sent it, one member per line.  Laid out from the
    event's own text, so nothing is lost to writing it again; the raw frame when even
    that cannot be read (a hand-made event)."""
    try:
        return pretty_json(event_text(event.stored_raw).decode("utf-8", "replace"))
    except Exception:
        return event.raw


def _fields(pairs: list[tuple[str, Text]]) -> Text:
    width = max((len(k) for k, _ in pairs), default=0) + 2
    out = Text()
    for n, (key, value) in enumerate(pairs):
        if n:
            out.append("\n")
        out.append(key.ljust(width), style="dim")
        out.append_text(value)
    return out
