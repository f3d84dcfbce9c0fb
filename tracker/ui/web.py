"""The live page by the rack: every sensor under the prefix, readable on a phone (docs/web.md).

It is fed by the same subscriber as the terminal dashboard (:class:`~tracker.mqtt.subscriber.Watcher`,
which resubscribes after a broker restart), and served by Starlette on uvicorn. The page gets
its updates as server-sent events: one stream per open page, woken by each new fact and sending
only the sensors that changed, as :func:`sensor_card` models them. The page itself
(``tracker/ui/static/``) only draws those cards; what it shows is decided here, where tests can
read it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import socket
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from tracker.errors import UserError
from tracker.mqtt.publisher import MqttSettings
from tracker.mqtt.subscriber import SensorView, Watcher
from tracker.plan import exercise_title
from tracker.ui import WEB_HOST, WEB_PORT

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).resolve().parent / "static"
CHECK_EVERY_S = 1.0  # how often an idle stream looks at the broker connection (and for shutdown)
HEARTBEAT_S = 15.0  # a comment line that keeps proxies and phones from closing an idle stream


# --- what the page shows ---------------------------------------------------------------------


def _same_session(body: dict[str, Any], session: str | None) -> bool:
    return session is None or body.get("session") in (None, session)


def _last_rep(view: SensorView) -> dict[str, Any] | None:
    if view.last_rep is None or not _same_session(view.last_rep, view.session):
        return None
    rep = view.last_rep.get("rep") or {}
    keys = ("n", "depth_deg", "descent_s", "bottom_s", "ascent_s", "duration_s")
    return {"set_index": view.last_rep.get("set_index"), **{k: rep.get(k) for k in keys}}


def _wobble(view: SensorView) -> dict[str, Any] | None:
    """The last rep's sway against the athlete's baseline (the gauge is full at 3x baseline).

    Balance-loss events are left out: their level is the jolt of the foot touching down, in g.
    """
    session = view.session
    swaying = [w for w in view.wobbles.values() if not w.get("balance_loss") and _same_session(w, session)]
    baseline = swaying[-1].get("baseline") if swaying else None
    level = None
    if view.last_rep is not None and _same_session(view.last_rep, session):
        level = ((view.last_rep.get("rep") or {}).get("wobble") or {}).get("rms_deg")
    if level is None and swaying:
        level = swaying[-1].get("level")
    if level is None:
        return None
    scale = 3.0 * baseline if baseline else 10.0
    return {"level_deg": level, "baseline_deg": baseline, "fraction": max(0.0, min(1.0, level / scale))}


def _plan(view: SensorView) -> dict[str, Any] | None:
    body = view.plan
    if not body or not _same_session(body, view.session) or "sets" not in body:
        return None
    return {
        "name": (body.get("plan") or {}).get("name"),
        "announcement": body.get("announcement", ""),
        "sets_total": body.get("sets_total"),
        "sets_done": body.get("sets_done"),
        "current": body.get("current"),
        "next": body.get("next"),
        "sets": [
            {
                "number": s.get("number"),
                "title": exercise_title(str(s.get("exercise")), str(s.get("leg"))),
                "target": s.get("target"),
                "status": s.get("status"),
                "reps": s.get("reps"),
                "named_by": s.get("named_by"),
            }
            for s in body.get("sets", [])
        ],
        "off_plan": [
            f"{o.get('reps')} x {exercise_title(str(o.get('exercise')), str(o.get('leg')))}"
            for o in body.get("off_plan", [])
        ],
        "untracked": [
            f"{exercise_title(str(u.get('exercise')))} {u.get('target')}" for u in body.get("untracked", [])
        ],
    }


def _set_label(set_index: Any, plan: dict[str, Any] | None) -> str:
    if plan is not None and plan["current"] is not None:
        return f"Set {plan['current']} of {plan['sets_total']}"
    if plan is not None and plan["next"] is not None:
        return f"Next: set {plan['next']} of {plan['sets_total']}"
    return "" if set_index is None else f"Set {set_index}"


def sensor_card(view: SensorView) -> dict[str, Any]:
    """Everything the page shows for one sensor, as plain JSON (the page only lays it out)."""
    st, tel = view.state, view.telemetry
    status = view.status.get("status") or "unknown"
    reason = view.status.get("reason") or ""
    plan = _plan(view)
    exercise = st.get("exercise")
    leg = st.get("leg") or "both"
    target = None
    if plan is not None and plan["current"] is not None:
        target = next((s["target"] for s in plan["sets"] if s["number"] == plan["current"]), None)
    losses = sum(1 for w in view.wobbles.values() if w.get("balance_loss") and _same_session(w, view.session))
    battery = tel.get("battery_pct", st.get("battery_pct"))
    return {
        "sensor": view.sensor_id,
        "online": status == "online",
        "status": status + (f" ({reason})" if reason and status != "online" else ""),
        "session": view.session,
        "exercise": exercise_title(exercise) if exercise else None,
        "leg": leg if leg in ("left", "right") else None,
        "phase": st.get("phase"),
        "set_index": st.get("set_index"),
        "set_label": _set_label(st.get("set_index"), plan),
        "reps": int(st.get("reps_in_set") or 0),
        "target": target,
        "total_reps": int(st.get("total_reps") or 0),
        "sets_done": int(st.get("sets_done") or 0),
        "last_rep": _last_rep(view),
        "wobble": _wobble(view),
        "balance_losses": losses,
        "battery_pct": battery,
        "packet_loss": tel.get("packet_loss"),
        "link": tel.get("link"),
        "plan": plan,
    }


# --- change notification: paho's thread -> the page streams ----------------------------------


class LiveHub:
    """Which sensors changed since a version; wakes every waiting stream on a new fact.

    ``touch`` is called from paho's network thread; the streams wait in the server's event loop.
    """

    def __init__(self, watcher: Watcher) -> None:
        self.watcher = watcher
        self.version = 0
        self.closing = False
        self._versions: dict[str, int] = {}
        self._lock = threading.Lock()
        self._waiters: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()

    def touch(self, sensor: str) -> None:
        with self._lock:
            self.version += 1
            self._versions[sensor] = self.version
            waiters = list(self._waiters)
        for loop, event in waiters:
            with contextlib.suppress(RuntimeError):  # a loop that closed meanwhile
                loop.call_soon_threadsafe(event.set)

    def changes_since(self, version: int) -> tuple[int, list[dict[str, Any]]]:
        """(current version, cards of the sensors changed after ``version``)."""
        with self._lock:
            now = self.version
            changed = {s for s, v in self._versions.items() if v > version}
        views = [v for v in self.watcher.facts.snapshot() if v.sensor_id in changed]
        with self.watcher.facts.lock:
            cards = [sensor_card(v) for v in views]
        return now, cards

    @property
    def broker(self) -> str:
        return "connected" if self.watcher.connected.is_set() else "reconnecting"

    async def wait(self, version: int, timeout_s: float) -> None:
        """Until something changed after ``version`` or ``timeout_s`` passed."""
        event = asyncio.Event()
        entry = (asyncio.get_running_loop(), event)
        with self._lock:
            if self.version > version:
                return
            self._waiters.add(entry)
        try:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), timeout_s)
        finally:
            with self._lock:
                self._waiters.discard(entry)


def _sse(kind: str, body: dict[str, Any]) -> str:
    return f"event: {kind}\ndata: {json.dumps(body, separators=(',', ':'))}\n\n"


async def _stream(hub: LiveHub) -> AsyncIterator[str]:
    """One page's updates: everything first, then each change (coalesced while it was sending)."""
    version, cards = hub.changes_since(-1)
    broker = hub.broker
    yield "retry: 2000\n\n"
    yield _sse("update", {"broker": broker, "sensors": cards, "full": True})
    last_sent = time.monotonic()
    while not hub.closing:
        await hub.wait(version, CHECK_EVERY_S)
        version, cards = hub.changes_since(version)
        now_broker = hub.broker
        if cards or now_broker != broker:
            broker = now_broker
            yield _sse("update", {"broker": broker, "sensors": cards, "full": False})
            last_sent = time.monotonic()
        elif time.monotonic() - last_sent >= HEARTBEAT_S:
            yield ": still here\n\n"
            last_sent = time.monotonic()


def create_app(hub: LiveHub, prefix: str) -> Starlette:
    """The page, its static files, the update stream and a JSON snapshot (``/api/sensors``)."""

    async def index(request: Request) -> Response:
        return FileResponse(STATIC_DIR / "index.html", headers={"Cache-Control": "no-cache"})

    async def events(request: Request) -> Response:
        headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
        return StreamingResponse(_stream(hub), media_type="text/event-stream", headers=headers)

    async def sensors(request: Request) -> Response:
        _, cards = hub.changes_since(-1)
        return JSONResponse({"prefix": prefix, "broker": hub.broker, "sensors": cards})

    return Starlette(
        routes=[
            Route("/", index),
            Route("/events", events),
            Route("/api/sensors", sensors),
            Mount("/static", StaticFiles(directory=STATIC_DIR), name="static"),
        ]
    )


# --- the server ------------------------------------------------------------------------------


def bind(host: str, port: int) -> socket.socket:
    """The listening socket, or a clear error (the port is taken, the address is not ours)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise UserError(
            f"cannot serve the live page on {host}:{port}: {exc.strerror or exc} (try --port)"
        ) from None
    sock.listen(64)
    sock.setblocking(False)
    return sock


class _Server(uvicorn.Server):
    """uvicorn, telling the update streams to end as soon as it is asked to stop (Ctrl-C): an
    open stream would otherwise hold the graceful shutdown until its timeout."""

    def __init__(self, config: uvicorn.Config, hub: LiveHub) -> None:
        super().__init__(config)
        self.hub = hub

    def handle_exit(self, sig: int, frame: Any) -> None:
        self.hub.closing = True
        super().handle_exit(sig, frame)


class WebDashboard:
    """The live page for every sensor under ``settings.prefix``: ``start()`` serves it from a
    background thread (the demo), ``serve_forever()`` in the foreground (``reptrack web``)."""

    def __init__(
        self,
        settings: MqttSettings,
        *,
        host: str = WEB_HOST,
        port: int = WEB_PORT,
        client_id: str | None = None,
    ) -> None:
        self.settings = settings
        self.watcher = Watcher(settings, client_id=client_id, persistent=False, on_message=self._on_message)
        self.hub = LiveHub(self.watcher)
        self.app = create_app(self.hub, settings.prefix)
        self.socket = bind(host, port)
        self.host, self.port = self.socket.getsockname()[:2]
        self._server = _Server(
            uvicorn.Config(
                self.app, log_level="warning", lifespan="off", timeout_graceful_shutdown=3, access_log=False
            ),
            self.hub,
        )
        self._thread: threading.Thread | None = None
        self._watching = False

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/"

    def _on_message(self, sensor: str, leaf: str, body: dict[str, Any]) -> None:
        self.hub.touch(sensor)

    def connect(self) -> WebDashboard:
        """Subscribe to the broker (once); a broker that cannot be reached is a BrokerError here."""
        if not self._watching:
            self.watcher.start()
            self._watching = True
        return self

    def start(self, timeout_s: float = 10.0) -> WebDashboard:
        self.connect()
        self._thread = threading.Thread(target=self._serve, name="web-dashboard", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout_s
        while not self._server.started and self._thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.02)
        return self

    def _serve(self) -> None:
        self._server.run(sockets=[self.socket])

    def serve_forever(self) -> None:
        """Serve until Ctrl-C (uvicorn handles the signal and closes the streams)."""
        self.connect()
        try:
            self._server.run(sockets=[self.socket])
        finally:
            self.hub.closing = True
            self.watcher.stop()

    def stop(self) -> None:
        self.hub.closing = True
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        self.watcher.stop()
        self.socket.close()

    def __enter__(self) -> WebDashboard:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
