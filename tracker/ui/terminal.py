"""The live terminal dashboard: one row per sensor, updated as facts arrive (docs/mqtt.md).

It only subscribes: any number of dashboards can watch the same trackers. On a terminal it
draws a rich table and redraws it on every message (new facts show within a frame, well under
100 ms); without a terminal (CI, a pipe) it prints one plain line per new fact instead.
"""

from __future__ import annotations

import sys
import threading
import time
from typing import Any, TextIO

from rich import box
from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from tracker.mqtt.connection import MqttSettings
from tracker.mqtt.subscriber import LiveFacts, SensorView, Watcher

GAUGE_WIDTH = 6


def wobble_gauge(level: float | None, baseline: float | None) -> Text:
    """A bar: empty at the athlete's baseline sway, full at three times it."""
    if level is None:
        return Text("-", style="dim")
    scale = 3.0 * baseline if baseline else 1.0
    frac = max(0.0, min(1.0, level / scale)) if scale > 0 else 0.0
    filled = round(frac * GAUGE_WIDTH)
    style = "green" if frac < 0.4 else "yellow" if frac < 0.7 else "red"
    return (
        Text("█" * filled, style=style)
        + Text("·" * (GAUGE_WIDTH - filled), style="dim")
        + Text(f" {level:.2f}")
    )


def _fmt(value: Any, spec: str = "", unit: str = "", none: str = "-") -> str:
    if value is None:
        return none
    try:
        return f"{value:{spec}}{unit}"
    except (TypeError, ValueError):
        return str(value)


def sensor_row(view: SensorView) -> list[Any]:
    st, tel = view.state, view.telemetry
    status = view.status.get("status", "?")
    status_text = Text(status, style="green" if status == "online" else "red")
    last = view.last_rep["rep"] if view.last_rep else None
    tempo = "-"
    if last:
        tempo = (
            f"{last.get('descent_s', 0):.1f}/{last.get('bottom_s', 0):.1f}/{last.get('ascent_s', 0):.1f} s"
        )
    baseline = view.last_wobble.get("baseline") if view.last_wobble else None
    loss = tel.get("packet_loss")
    battery = tel.get("battery_pct", st.get("battery_pct"))
    return [
        view.sensor_id,
        status_text,
        st.get("exercise") or "-",
        _fmt(st.get("set_index")),
        Text(str(st.get("reps_in_set", 0)), style="bold"),
        _fmt(st.get("total_reps")),
        _fmt(last.get("depth_deg") if last else None, ".0f", "°"),
        tempo,
        wobble_gauge(_wobble_level(view), baseline),
        _fmt(battery, ".0f", "%"),
        _fmt(None if loss is None else 100 * loss, ".1f", "%"),
    ]


# Columns by how much a lifter needs them: on a narrow terminal the last ones go first, so the
# exercise and the rep count stay readable on 80 columns (rich would squeeze them to "…").
COLUMNS = ("sensor", "status", "exercise", "set", "reps", "total", "depth", "tempo", "wobble", "batt", "loss")
DROP_ORDER = ("loss", "batt", "tempo", "wobble", "total", "set", "status")
_CELL_PADDING = 3  # one space each side, and the column separator


def _cell_width(value: Any) -> int:
    return (
        Text(value).cell_len if isinstance(value, str) else (value.cell_len if isinstance(value, Text) else 0)
    )


def fitting_columns(rows: list[list[Any]], width: int) -> list[int]:
    """Indices of the columns to show: all that fit in ``width`` cells, dropping by DROP_ORDER."""
    need = [len(name) + _CELL_PADDING for name in COLUMNS]
    for row in rows:
        for i, value in enumerate(row):
            need[i] = max(need[i], _cell_width(value) + _CELL_PADDING)
    shown = list(range(len(COLUMNS)))
    for name in DROP_ORDER:
        if sum(need[i] for i in shown) + 1 <= width:  # and the table's edge
            break
        shown.remove(COLUMNS.index(name))
    return shown


def render(facts: LiveFacts, title: str = "", width: int | None = None) -> Group:
    """The live table; with ``width`` (the terminal's), the columns that fit it."""
    table = Table(
        title=title or f"RepTrack live ({facts.prefix}/...)",
        caption="tempo: down/bottom/up seconds of the last rep",
        box=box.SIMPLE_HEAD,
        padding=(0, 1),
    )
    views = facts.snapshot()
    rows = [sensor_row(view) for view in views]
    shown = fitting_columns(rows, width) if width else list(range(len(COLUMNS)))
    for i in shown:
        table.add_column(COLUMNS[i], no_wrap=True, overflow="ellipsis")
    for row in rows:
        table.add_row(*(row[i] for i in shown))
    if not views:
        return Group(table, Text("waiting for sensors...", style="dim"))
    return Group(table)


def plain_line(sensor: str, leaf: str, body: dict[str, Any]) -> str | None:
    """One line per new fact, for a log or a terminal-less run."""
    if leaf == "event/rep":
        rep = body.get("rep", {})
        return (
            f"{sensor}: set {body.get('set_index')} rep {rep.get('n')} {body.get('exercise')} "
            f"depth {_fmt(rep.get('depth_deg'), '.0f')} deg, {_fmt(rep.get('duration_s'), '.1f')} s"
        )
    if leaf == "event/set":
        return f"{sensor}: set {body.get('index')} done, {body.get('reps')} reps of {body.get('exercise')}"
    if leaf == "event/wobble":
        return f"{sensor}: wobble {_fmt(body.get('level'), '.2f')}{' (balance lost)' if body.get('balance_loss') else ''}"
    if leaf == "status":
        reason = f" ({body['reason']})" if body.get("reason") else ""
        return f"{sensor}: {body.get('status')}{reason}"
    return None


class Dashboard:
    """Watches a prefix and shows it: rich live table on a terminal, plain lines otherwise.

    The table is redrawn by its own thread as soon as a message arrives, at most every
    ``MIN_REDRAW_S``: a burst of messages from many sensors costs one redraw, not one each.
    """

    MIN_REDRAW_S = 0.04

    def __init__(
        self,
        settings: MqttSettings,
        *,
        live: bool | None = None,
        out: TextIO | None = None,
        client_id: str | None = None,
    ) -> None:
        self.out = out or sys.stdout
        self.console = Console(file=self.out)
        self.live_mode = self.console.is_terminal if live is None else live
        self.watcher = Watcher(settings, client_id=client_id, persistent=False, on_message=self._on_message)
        self._live: Live | None = None
        self._lock = threading.Lock()
        self._dirty = threading.Event()
        self._stopping = threading.Event()
        self._painter: threading.Thread | None = None

    @property
    def facts(self) -> LiveFacts:
        return self.watcher.facts

    def _on_message(self, sensor: str, leaf: str, body: dict[str, Any]) -> None:
        if self.live_mode:
            self._dirty.set()
            return
        line = plain_line(sensor, leaf, body)
        if line:
            with self._lock:
                print(line, file=self.out, flush=True)

    def _paint(self) -> None:
        while not self._stopping.is_set():
            if not self._dirty.wait(0.5):
                if not self.watcher.connected.is_set():
                    self._redraw(Text("broker unreachable, reconnecting...", style="red"))
                continue
            self._dirty.clear()
            t0 = time.monotonic()
            self._redraw()
            self._stopping.wait(max(0.0, self.MIN_REDRAW_S - (time.monotonic() - t0)))

    def _redraw(self, note: Text | None = None) -> None:
        with self._lock:
            if self._live is not None:
                view = render(self.facts, width=self.console.width)
                self._live.update(view if note is None else Group(view, note), refresh=True)

    def start(self) -> Dashboard:
        if self.live_mode:
            self._live = Live(
                render(self.facts, width=self.console.width),
                console=self.console,
                auto_refresh=False,
                transient=False,
            )
            self._live.start()
            self._painter = threading.Thread(target=self._paint, name="dashboard-painter", daemon=True)
            self._painter.start()
        self.watcher.start()
        return self

    def stop(self) -> None:
        self.watcher.stop()
        self._stopping.set()
        if self._painter is not None:
            self._painter.join(timeout=5)
            self._painter = None
        self._redraw()
        with self._lock:
            if self._live is not None:
                self._live.stop()
                self._live = None

    def run_forever(self, duration_s: float | None = None) -> None:
        deadline = None if duration_s is None else time.monotonic() + duration_s
        while deadline is None or time.monotonic() < deadline:
            time.sleep(0.2)


def _wobble_level(view: SensorView) -> float | None:
    """The latest sway level: the state's, or the last wobble event's when the state has none."""
    level = view.state.get("wobble")
    if level is None and view.last_wobble is not None:
        level = view.last_wobble.get("level")
    return None if level is None else float(level)
