"""The live page: what a card shows, the update stream against a real broker (and its restart),
and the page itself in headless Chromium at phone width."""

from __future__ import annotations

import http.client
import json
import os
import shutil
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.brokers import RealBroker, wait_until
from tests.browser import CHROMIUM, SKIP_REASON, Browser
from tracker.errors import UserError
from tracker.events import Rep, RepEvent, SetEvent, WobbleEvent
from tracker.mqtt import BrokerURL, MqttSettings, SensorPublisher
from tracker.mqtt import payloads as pl
from tracker.mqtt.plan_publisher import PlanPublisher
from tracker.mqtt.subscriber import LiveFacts
from tracker.plan import PlanFollower, load_plan
from tracker.service import Telemetry
from tracker.ui.web import WebDashboard, bind, sensor_card

pytestmark = pytest.mark.timeout(120)


def rep_ev(set_index: int, n: int, exercise: str, leg: str, depth: float = 60.0) -> RepEvent:
    t_end = 100.0 * set_index + 4.0 * n
    rep = Rep(n, t_end - 3.5, t_end - 2.0, t_end, depth, 1.5, 0.5, 1.5, 90.0, {"rms_deg": 2.0 + 0.1 * n})
    return RepEvent(t_end + 0.1, set_index, exercise, leg, rep)  # type: ignore[arg-type]


def set_ev(set_index: int, reps: int, exercise: str, leg: str) -> SetEvent:
    rs = tuple(rep_ev(set_index, n, exercise, leg).rep for n in range(1, reps + 1))
    return SetEvent(rs[-1].t_end_s + 10, set_index, exercise, leg, rs[0].t_start_s, rs[-1].t_end_s, rs)  # type: ignore[arg-type]


def seed_morning() -> list[Any]:
    """The seed plan's first two sets done, the third (single-leg deadlift, left) at rep 7."""
    events: list[Any] = []
    for index, leg in ((1, "left"), (2, "right")):
        events += [rep_ev(index, n, "single_leg_squat", leg) for n in range(1, 11)]
        events.append(set_ev(index, 10, "single_leg_squat", leg))
    events += [rep_ev(3, n, "single_leg_deadlift", "left", depth=21.0) for n in range(1, 8)]
    events.append(WobbleEvent(307.0, 3, 0.8, 2.0, balance_loss=True))
    return events


# --- what a card shows -----------------------------------------------------------------------


@pytest.mark.unit
def test_card_shows_set_of_plan_reps_target_last_rep_wobble_and_losses() -> None:
    facts = LiveFacts("reptrack")
    follower = PlanFollower(load_plan("builtin:runner-strength"))
    state = pl.StateTracker()
    for ev in seed_morning():
        follower.follow(ev)
        state.apply(ev)
        leaf, body = _payload("s1", "today", ev)
        facts.handle(f"reptrack/s1/{leaf}", pl.encode(body))
    facts.handle("reptrack/s1/state", pl.encode(state.payload("s1", "today")))
    facts.handle("reptrack/s1/status", pl.encode(pl.status_payload("s1", "today", True)))
    facts.handle("reptrack/s1/plan", pl.encode(pl.plan_payload("s1", "today", follower.progress())))
    card = sensor_card(facts.sensors["s1"])
    assert card["online"] and card["exercise"] == "single-leg deadlift" and card["leg"] == "left"
    assert (card["set_label"], card["reps"], card["target"]) == ("Set 3 of 6", 7, "8-12")
    assert card["last_rep"]["depth_deg"] == 21.0 and card["last_rep"]["descent_s"] == 1.5
    assert card["balance_losses"] == 1
    assert card["wobble"]["level_deg"] == pytest.approx(2.7)  # the last rep's, not the jolt of the loss
    assert card["plan"]["announcement"] == "set 3 of 6: single-leg deadlift (left) 7/8-12"
    assert [s["status"] for s in card["plan"]["sets"]] == [
        "done",
        "done",
        "active",
        "pending",
        "pending",
        "pending",
    ]

    # a plan left retained by an earlier session is not this session's: not shown
    facts.handle("reptrack/s1/plan", pl.encode(pl.plan_payload("s1", "yesterday", follower.progress())))
    facts.handle("reptrack/s1/status", pl.encode(pl.status_payload("s1", "today", False, "shutdown")))
    card = sensor_card(facts.sensors["s1"])
    assert card["plan"] is None and card["set_label"] == "Set 3" and card["target"] is None
    assert not card["online"] and card["status"] == "offline (shutdown)"


def _payload(sensor: str, session: str, ev: Any, count: int = 1) -> tuple[str, dict[str, Any]]:
    if isinstance(ev, RepEvent):
        return "event/rep", pl.rep_payload(sensor, session, ev)
    if isinstance(ev, SetEvent):
        return "event/set", pl.set_payload(sensor, session, ev)
    return "event/wobble", pl.wobble_payload(sensor, session, ev, count)


@pytest.mark.unit
def test_a_taken_port_is_one_clear_error() -> None:
    sock = bind("127.0.0.1", 0)
    try:
        with pytest.raises(UserError, match=rf"127\.0\.0\.1:{sock.getsockname()[1]}.*--port"):
            bind("127.0.0.1", sock.getsockname()[1])
    finally:
        sock.close()


# --- the server against a real broker --------------------------------------------------------


class EventStream:
    """The page's update stream, read as the browser reads it."""

    def __init__(self, url: str) -> None:
        host_port = url.split("//", 1)[1].strip("/")
        self.conn = http.client.HTTPConnection(host_port, timeout=60)
        self.conn.request("GET", "/events")
        self.resp = self.conn.getresponse()
        assert self.resp.getheader("Content-Type", "").startswith("text/event-stream")
        self.cards: dict[str, dict[str, Any]] = {}  # the page as the updates so far build it

    def next_update(self) -> dict[str, Any]:
        kind, data = None, None
        while True:
            line = self.resp.fp.readline().decode().rstrip("\n")
            if line.startswith("event: "):
                kind = line[7:]
            elif line.startswith("data: "):
                data = line[6:]
            elif line == "" and kind == "update" and data is not None:
                update: dict[str, Any] = json.loads(data)
                if update.get("full"):
                    self.cards = {}
                self.cards.update({c["sensor"]: c for c in update["sensors"]})
                return update

    def until(self, cond: Any, limit: int = 200) -> dict[str, Any]:
        """Read updates until ``cond`` holds for the page they add up to (an update after the first
        carries only the sensors that changed, and the broker's state: the page keeps the rest).
        Judging each update alone missed a rep whose card came while the broker still read
        "reconnecting", followed by a "connected" update without cards."""
        for _ in range(limit):
            update = self.next_update()
            page = {"broker": update["broker"], "sensors": list(self.cards.values())}
            if cond(page):
                return page
        raise AssertionError("no such update in the stream")

    def close(self) -> None:
        self.conn.close()


def _reps(update: dict[str, Any], sensor: str) -> int | None:
    return next((c["reps"] for c in update["sensors"] if c["sensor"] == sensor), None)


def test_stream_sends_each_new_fact_and_survives_a_broker_restart() -> None:
    with RealBroker() as broker:
        settings = MqttSettings(BrokerURL.parse(broker.url))
        pub = SensorPublisher(settings, "rack-1", "s")
        pub.connect()
        with WebDashboard(settings, port=0) as web:
            stream = EventStream(web.url)
            try:
                first = stream.next_update()
                assert first["full"] and first["broker"] == "connected"
                for n in (1, 2):
                    pub.publish(rep_ev(1, n, "squat", "both", depth=80.0))
                    pub.publish_state()
                    update = stream.until(lambda u, n=n: _reps(u, "rack-1") == n)
                    assert update["sensors"][0]["last_rep"]["n"] == n
                broker.kill()
                assert stream.until(lambda u: u["broker"] == "reconnecting")["broker"] == "reconnecting"
                broker.start()
                wait_until(lambda: pub.connected, 15.0, "the publisher reconnecting")
                pub.publish(rep_ev(1, 3, "squat", "both"))
                pub.publish_state()
                update = stream.until(lambda u: u["broker"] == "connected" and _reps(u, "rack-1") == 3)
                assert update["sensors"][0]["total_reps"] == 3
            finally:
                stream.close()
            with urllib.request.urlopen(web.url + "api/sensors", timeout=10) as resp:
                snapshot = json.load(resp)
            assert [c["sensor"] for c in snapshot["sensors"]] == ["rack-1"]
            assert snapshot["sensors"][0]["reps"] == 3
        pub.close()


# --- the page in a real browser --------------------------------------------------------------


@pytest.mark.skipif(CHROMIUM is None, reason=SKIP_REASON)
def test_phone_page_shows_a_rep_published_on_the_broker(tmp_path: Path) -> None:
    with RealBroker() as broker:
        settings = MqttSettings(BrokerURL.parse(broker.url))
        pub = SensorPublisher(settings, "sim-1", "today")
        plan_pub = PlanPublisher(settings, "sim-1", "today")
        follower = PlanFollower(load_plan("builtin:runner-strength"))
        pub.connect()
        plan_pub.connect()
        try:
            with WebDashboard(settings, port=0) as web, Browser(390, 844) as browser:
                pub.publish_telemetry(Telemetry(t_s=1.0, battery_pct=87.0))
                for ev in seed_morning():
                    pub.publish(follower.follow(ev)[0])
                pub.publish_state()
                plan_pub.publish(follower.progress())
                browser.goto(web.url)
                card = "document.querySelector('[data-sensor=\"sim-1\"]')"
                browser.wait_for(
                    f"{card} && {card}.querySelector('.count').textContent === '7' && "
                    f"{card}.querySelector('.set').textContent === 'Set 3 of 6'",
                    what="set 3 of 6 at rep 7",
                )

                # a new rep on the broker reaches the open page
                ev = rep_ev(3, 8, "single_leg_deadlift", "left", depth=23.0)
                pub.publish(follower.follow(ev)[0])
                pub.publish_state()
                plan_pub.publish(follower.progress())
                # the count comes with the state, the announcement with the plan (its own connection)
                browser.wait_for(
                    f"{card}.querySelector('.count').textContent === '8' && "
                    f"{card}.querySelector('.announce').textContent.endsWith('8/8-12')",
                    what="rep 8 on the page",
                )
                fields = (".exercise", ".target", ".depth", ".wobble", ".losses", ".battery", ".announce")
                shown = {f: browser.evaluate(f"{card}.querySelector('{f}').textContent") for f in fields}
                assert shown == {
                    ".exercise": "single-leg deadlift · left",
                    ".target": "/8-12",
                    ".depth": "23°",
                    ".wobble": "2.8°",  # the last rep's sway (rep_ev: 2.0 + 0.1 n deg)
                    ".losses": "1",
                    ".battery": "battery 87%",
                    ".announce": "set 3 of 6: single-leg deadlift (left) 8/8-12",
                }
                _check_readable_on_a_phone(browser, card, browser.screenshot(tmp_path / "live.png"))
                _keep_screenshot(browser, tmp_path)
                # every sensor under the prefix gets its card, in sensor order
                other = SensorPublisher(settings, "rack-2", "today")
                other.connect()
                other.publish(rep_ev(1, 1, "squat", "both", depth=85.0))
                other.publish_state()
                browser.wait_for(
                    "document.querySelectorAll('[data-sensor]').length === 2", what="a second card"
                )
                order = browser.evaluate(
                    "[...document.querySelectorAll('[data-sensor]')].map(e => e.dataset.sensor)"
                )
                assert order == ["rack-2", "sim-1"]
                other.close()
        finally:
            plan_pub.close()
            pub.close()


@pytest.mark.skipif(CHROMIUM is None, reason=SKIP_REASON)
def test_open_page_says_the_broker_is_away_and_carries_on_after_its_restart() -> None:
    with RealBroker() as broker:
        settings = MqttSettings(BrokerURL.parse(broker.url))
        pub = SensorPublisher(settings, "sim-1", "today")
        pub.connect()
        try:
            with WebDashboard(settings, port=0) as web, Browser(390, 844) as browser:
                pub.publish(rep_ev(1, 1, "squat", "both"))
                pub.publish_state()
                browser.goto(web.url)
                count = "document.querySelector('[data-sensor=\"sim-1\"] .count')"
                browser.wait_for(f"{count} && {count}.textContent === '1'", what="rep 1")
                banner = "document.getElementById('banner')"
                assert browser.evaluate(f"{banner}.hidden")
                broker.kill()
                browser.wait_for(f"!{banner}.hidden", what="the broker banner")
                assert "MQTT broker unreachable" in browser.evaluate(f"{banner}.textContent")
                broker.start()
                wait_until(lambda: pub.connected, 15.0, "the publisher reconnecting")
                # The page says the broker is back once its watcher has reconnected and subscribed
                # again; the next rep then reaches the page.
                wait_until(web.watcher.subscribed.is_set, 15.0, "the page's watcher subscribing again")
                browser.wait_for(f"{banner}.hidden", 15.0, "the broker banner to go")
                pub.publish(rep_ev(1, 2, "squat", "both"))
                pub.publish_state()
                browser.wait_for(f"{count}.textContent === '2'", 30.0, "rep 2 after the restart")
        finally:
            pub.close()


def _check_readable_on_a_phone(browser: Browser, card: str, png: Path) -> None:
    """No sideways scrolling at 390 px; the rep count is big (readable from two metres: at least
    120 px tall) and drawn light on dark in the screenshot."""
    from PIL import Image

    assert browser.evaluate("document.documentElement.scrollWidth") <= 390
    box = browser.evaluate(
        f"(r => [r.left, r.top, r.width, r.height])({card}.querySelector('.count').getBoundingClientRect())"
    )
    assert box[3] >= 120, f"rep count only {box[3]} px tall"
    image = Image.open(png).convert("L")
    assert image.size == (390, 844)
    digits = image.crop((int(box[0]), int(box[1]), int(box[0] + box[2]), int(box[1] + box[3])))
    lo, hi = digits.getextrema()
    assert hi > 200 and lo < 60, "the rep count is not light text on a dark card"


def _keep_screenshot(browser: Browser, tmp_path: Path) -> None:
    """REPTRACK_SCREENSHOTS=DIR keeps the full page's screenshot (docs/img/web-phone.png comes from here)."""
    keep = os.environ.get("REPTRACK_SCREENSHOTS")
    if keep:
        shot = browser.screenshot(tmp_path / "web-phone.png", full_page=True)
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, Path(keep) / "web-phone.png")


@pytest.mark.process
def test_reptrack_web_serves_on_localhost_and_stops_cleanly_on_ctrl_c() -> None:
    import signal
    import subprocess
    import sys

    with RealBroker() as broker:
        cmd = [sys.executable, "-m", "tracker.cli", "web", "--port", "0", "--broker", broker.url]
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            assert proc.stdout is not None
            line = proc.stdout.readline()
            assert line.startswith("RepTrack live page: http://127.0.0.1:"), line
            url = line.split()[3]
            with urllib.request.urlopen(url, timeout=10) as resp:
                assert b"RepTrack live" in resp.read()
            stream = EventStream(url)  # an open page must not hold up the stop
            assert stream.next_update()["full"]
            proc.send_signal(signal.SIGINT)
            assert proc.wait(30) == 0
            stream.close()
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        assert "Traceback" not in proc.stderr.read()  # type: ignore[union-attr]


def test_demo_prints_the_page_address_and_takes_a_free_port_when_its_own_is_taken(
    capsys: pytest.CaptureFixture[str],
) -> None:
    import argparse

    from tracker.cli.demo import _live_page

    taken = bind("127.0.0.1", 0)
    port = taken.getsockname()[1]
    args = argparse.Namespace(web_host="127.0.0.1", web_port=port, open=False)
    try:
        with RealBroker() as broker:
            page = _live_page(MqttSettings(BrokerURL.parse(broker.url)), args)
            try:
                assert page.port != port
                assert capsys.readouterr().out.startswith(f"live page: {page.url} ")
                with urllib.request.urlopen(page.url + "api/sensors", timeout=10) as resp:
                    assert json.load(resp)["broker"] == "connected"
            finally:
                page.stop()
    finally:
        taken.close()
