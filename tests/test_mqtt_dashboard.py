"""The dashboard against a real broker: plain lines without a terminal, the table, restarts."""

from __future__ import annotations

import io

from rich.console import Console

from tests.brokers import RealBroker, rep_event, set_event, wait_until, wobble_event
from tracker.mqtt import BrokerURL, MqttSettings, SensorPublisher
from tracker.service import Telemetry
from tracker.ui.terminal import Dashboard, render


def test_dashboard_shows_many_sensors_and_survives_a_broker_restart() -> None:
    out = io.StringIO()
    with RealBroker() as broker:
        settings = MqttSettings(BrokerURL.parse(broker.url))
        dash = Dashboard(settings, live=False, out=out).start()
        pubs = [SensorPublisher(settings, f"athlete-{i}", "s") for i in range(3)]
        try:
            for i, pub in enumerate(pubs):
                pub.connect()
                pub.publish_telemetry(Telemetry(t_s=1.0, battery_pct=90.0 - i, packet_loss=0.01 * i))
                for n in range(1, i + 2):
                    pub.publish(rep_event(1, n, exercise="single_leg_squat"))
                pub.publish_state()
            wait_until(lambda: sum(len(v.reps) for v in dash.facts.snapshot()) == 6, what="6 reps on screen")
            broker.kill()
            wait_until(lambda: not dash.watcher.connected.is_set(), what="the dashboard noticing")
            broker.start()
            wait_until(lambda: dash.watcher.connected.is_set(), 15.0, "the dashboard reconnecting")
            wait_until(lambda: all(p.connected for p in pubs), 15.0, "publishers reconnecting")
            pubs[0].publish(set_event(1, 1, exercise="single_leg_squat"))
            pubs[0].publish(wobble_event(2))
            wait_until(
                lambda: len(dash.facts.sensors["athlete-0"].sets) == 1, 10.0, "the set after the restart"
            )
        finally:
            for pub in pubs:
                pub.close()
            wait_until(lambda: all(v.status.get("status") == "offline" for v in dash.facts.snapshot()))
            dash.stop()
    lines = out.getvalue().splitlines()
    assert "athlete-2: set 1 rep 3 single_leg_squat depth 80 deg, 2.0 s" in lines
    assert "athlete-0: set 1 done, 1 reps of single_leg_squat" in lines
    assert "athlete-1: offline (shutdown)" in lines

    console = Console(file=io.StringIO(), width=160, color_system=None)
    console.print(render(dash.facts))
    table = console.file.getvalue()  # type: ignore[attr-defined]
    row = next(line for line in table.splitlines() if "athlete-1" in line)
    for cell in ("offline", "single_leg_squat", "89%", "1.0%", "80°", "0.9/0.2/0.9"):
        assert cell in row, f"{cell!r} missing from {row!r}"
    assert "4.20" in next(line for line in table.splitlines() if "athlete-0" in line)  # wobble gauge value


def test_live_table_redraws_on_new_facts_and_coalesces_bursts(monkeypatch) -> None:
    import tracker.ui.terminal as dashboard_module

    reps_drawn: list[int] = []  # per redraw: how many of the burst's reps the table showed
    real_render = dashboard_module.render

    def counting_render(facts, title="", width=None):
        view = facts.sensors.get("burst")
        reps_drawn.append(0 if view is None else len(view.reps))
        return real_render(facts, title, width)

    monkeypatch.setattr(dashboard_module, "render", counting_render)
    out = io.StringIO()
    with RealBroker() as broker:
        settings = MqttSettings(BrokerURL.parse(broker.url))
        dash = Dashboard(settings, live=True, out=out).start()
        pub = SensorPublisher(settings, "burst", "s")
        pub.connect()
        try:
            wait_until(lambda: "burst" in dash.facts.sensors, what="the sensor's status")
            for n in range(1, 41):
                pub.publish(rep_event(1, n))
            wait_until(lambda: len(dash.facts.sensors["burst"].reps) == 40, what="40 reps")
            wait_until(lambda: 40 in reps_drawn, 10.0, "a redraw that shows all 40 reps")
        finally:
            pub.close()
            dash.stop()
    burst_draws = [n for n in reps_drawn if n > 0]
    assert burst_draws[-1] == 40 and burst_draws == sorted(burst_draws)
    assert len(burst_draws) < 40, "a burst must not cost one redraw per message"
    assert "burst" in out.getvalue()
