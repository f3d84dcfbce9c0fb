"""The publisher and watcher against a real broker started on a free port (Mosquitto or amqtt)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tests.brokers import RealBroker, rep_event, set_event, validate, wait_until, wobble_event
from tracker.mqtt import (
    BrokerError,
    BrokerURL,
    EmbeddedBroker,
    MqttSettings,
    Security,
    SensorPublisher,
    Watcher,
)
from tracker.mqtt.topics import split_topic
from tracker.service import Telemetry

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def broker():
    with RealBroker() as b:
        yield b


def settings_for(b: RealBroker, **kw) -> MqttSettings:
    return MqttSettings(BrokerURL.parse(b.url), **kw)


def test_every_message_follows_its_schema_and_arrives_in_order(broker: RealBroker) -> None:
    problems: list[str] = []
    seen: list[tuple[str, dict]] = []

    def on_raw(topic: str, payload: bytes) -> None:
        where = split_topic("reptrack", topic)
        if where is None or not payload:
            return
        body = json.loads(payload)
        try:
            validate(where[1], body)
        except Exception as exc:
            problems.append(f"{topic}: {exc}")
        seen.append((where[1], body))

    st = settings_for(broker)
    with Watcher(st, on_raw=on_raw) as watcher:
        pub = SensorPublisher(st, "left-thigh", "s1")
        pub.connect()
        for n in range(1, 6):
            pub.publish(rep_event(1, n))
            pub.publish_state()
        pub.publish(wobble_event(1))
        pub.publish(set_event(1, 5))
        pub.publish_telemetry(
            Telemetry(t_s=20.0, battery_pct=87.0, packet_loss=0.02, lost_packets=2, packets=98, rate_hz=100.0)
        )
        assert pub.close() == 0
        wait_until(
            lambda: (
                watcher.facts.sensors.get("left-thigh", None) is not None
                and watcher.facts.sensors["left-thigh"].status.get("status") == "offline"
            ),
            what="offline status",
        )
        view = watcher.facts.sensors["left-thigh"]
    assert problems == []
    assert [r["rep"]["n"] for r in view.reps.values()] == [1, 2, 3, 4, 5]
    assert view.state["total_reps"] == 5 and view.state["reps_in_set"] == 5
    assert view.telemetry["battery_pct"] == 87.0
    assert {leaf for leaf, _ in seen} == {
        "status",
        "state",
        "event/rep",
        "event/set",
        "event/wobble",
        "telemetry",
    }
    assert view.status["reason"] == "shutdown"


def test_broker_killed_mid_set_loses_no_event(tmp_path) -> None:
    with RealBroker() as b:
        st = settings_for(b)
        watcher = Watcher(st, client_id="restart-watcher").start()
        pub = SensorPublisher(st, "s1", "sess")
        pub.connect()
        try:
            for n in range(1, 31):
                pub.publish(rep_event(1, n))
                if n == 10:
                    b.kill()  # SIGKILL in the middle of the set
                if n == 20:  # however long the publisher took to notice, it now buffers
                    wait_until(
                        lambda: not pub.connected and pub.buffered_events >= 10, 10.0, "the loss noticed"
                    )
                    b.start()  # same port
                time.sleep(0.03)  # pacing: the set goes on while the broker is down
            assert pub.flush(15.0), f"{pub.buffered_events} events still waiting"
            wait_until(lambda: len(watcher.facts.sensors["s1"].reps) >= 30, 15.0, "all 30 reps")
        finally:
            pub.close(2.0)
            watcher.stop()
    view = watcher.facts.sensors["s1"]
    assert sorted(int(r["rep"]["n"]) for r in view.reps.values()) == list(range(1, 31))
    assert [int(r["rep"]["n"]) for r in view.reps.values()] == list(range(1, 31)), "not in order"
    assert pub.dropped_events == 0


def test_outage_buffer_is_bounded_and_keeps_the_oldest(broker: RealBroker) -> None:
    with RealBroker() as b:
        st = settings_for(b, max_buffered_events=5)
        pub = SensorPublisher(st, "s1", "sess")
        pub.connect()
        b.kill()
        wait_until(lambda: not pub.connected, what="disconnect")
        for n in range(1, 9):
            pub.publish(rep_event(1, n))
        assert pub.dropped_events == 3 and pub.buffered_events == 5
        b.start()
        with Watcher(settings_for(b)) as watcher:
            assert pub.flush(15.0)
            pub.close()
            wait_until(
                lambda: "s1" in watcher.facts.sensors and len(watcher.facts.sensors["s1"].reps) == 5,
                what="5 buffered reps",
            )
            assert [r["rep"]["n"] for r in watcher.facts.sensors["s1"].reps.values()] == [1, 2, 3, 4, 5]


def test_duplicates_are_dropped_by_id(broker: RealBroker) -> None:
    st = settings_for(broker)
    with Watcher(st) as watcher:
        a = SensorPublisher(st, "dup", "sess")
        a.connect()
        for _ in range(2):  # the same events twice, as a QoS 1 redelivery would do
            a.publish(rep_event(1, 1))
            a._wobbles = 0
            a.publish(wobble_event(1))
        a.close()
        wait_until(lambda: "dup" in watcher.facts.sensors and watcher.facts.sensors["dup"].duplicates == 2)
        view = watcher.facts.sensors["dup"]
        assert len(view.reps) == 1 and len(view.wobbles) == 1


@pytest.mark.process
def test_last_will_says_offline_when_the_tracker_dies(broker: RealBroker) -> None:
    st = settings_for(broker)
    code = textwrap.dedent(
        f"""
        import time
        from tracker.mqtt import BrokerURL, MqttSettings, SensorPublisher
        p = SensorPublisher(MqttSettings(BrokerURL.parse({broker.url!r})), "doomed", "sess")
        p.connect()
        print("up", flush=True)
        time.sleep(60)
        """
    )
    with Watcher(st) as watcher:
        proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, cwd=REPO)
        try:
            assert proc.stdout is not None and proc.stdout.readline().strip() == b"up"
            wait_until(
                lambda: (
                    watcher.facts.sensors.get("doomed") is not None
                    and watcher.facts.sensors["doomed"].status.get("status") == "online"
                )
            )
        finally:
            proc.kill()
            proc.wait()
        wait_until(
            lambda: watcher.facts.sensors["doomed"].status.get("status") == "offline", 10.0, "last will"
        )
        assert watcher.facts.sensors["doomed"].status["reason"] == "connection lost"


def test_refused_login_and_tls_mismatch_are_clear_errors() -> None:
    with RealBroker(users={"alice": "right-password"}) as b:
        ok = MqttSettings(
            BrokerURL.parse(f"mqtt://alice@127.0.0.1:{b.port}"), Security("alice", "right-password")
        )
        pub = SensorPublisher(ok, "s1", "sess")
        pub.connect()
        pub.close()
        bad = MqttSettings(ok.broker, Security("alice", "wrong"))
        with pytest.raises(BrokerError, match="refused the login of user 'alice'"):
            SensorPublisher(bad, "s1", "sess").connect()
        tls = MqttSettings(BrokerURL.parse(f"mqtts://127.0.0.1:{b.port}"))
        with pytest.raises(BrokerError, match=r"TLS handshake with mqtts://127\.0\.0\.1:.* failed"):
            SensorPublisher(tls, "s1", "sess").connect(timeout_s=3)
    with pytest.raises(BrokerError, match="connection refused"):
        SensorPublisher(MqttSettings(BrokerURL("127.0.0.1", b.port)), "s1", "sess").connect()


@pytest.mark.process
def test_wrong_password_on_the_command_line_exits_nonzero_without_traceback(tmp_path) -> None:
    csv = tmp_path / "still.csv"
    csv.write_text("t,ax,ay,az,gx,gy,gz\n" + "".join(f"{i / 100:.2f},0,0,1,0,0,0\n" for i in range(300)))
    with RealBroker(users={"alice": "right-password"}) as b:
        env = {
            **os.environ,
            "REPTRACK_MQTT_PASSWORD": "wrong",
            "REPTRACK_MQTT_CONFIG": str(tmp_path / "none.toml"),
        }
        env.pop("REPTRACK_MQTT_CONFIG")
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "tracker.cli",
                "run",
                "--replay",
                str(csv),
                "--speed",
                "0",
                "--broker",
                f"mqtt://alice@127.0.0.1:{b.port}",
            ],
            capture_output=True,
            text=True,
            env=env,
            cwd=REPO,
            timeout=60,
        )
    assert proc.returncode != 0
    assert "refused the login of user 'alice'" in proc.stderr
    assert "REPTRACK_MQTT_PASSWORD" in proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout


def test_embedded_broker_needs_nothing_installed() -> None:
    with EmbeddedBroker(port=0) as emb:
        st = MqttSettings(emb.url)  # protocol auto: amqtt refuses MQTT 5, the publisher falls back
        with Watcher(st) as watcher:
            pub = SensorPublisher(st, "s1", "sess")
            pub.connect()
            pub.publish(rep_event(1, 1))
            pub.close()
            wait_until(lambda: "s1" in watcher.facts.sensors and len(watcher.facts.sensors["s1"].reps) == 1)


def test_home_assistant_discovery_is_retained_on_the_broker(broker: RealBroker) -> None:
    import paho.mqtt.client as mqtt

    st = settings_for(broker, homeassistant_prefix="homeassistant")
    pub = SensorPublisher(st, "ha-thigh", "sess")
    pub.connect()
    pub.publish(rep_event(1, 1))
    pub.publish_state()
    pub.close()
    configs: dict[str, dict] = {}
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
    client.on_message = lambda c, u, m: configs.__setitem__(m.topic, json.loads(m.payload))
    client.connect("127.0.0.1", broker.port)
    client.subscribe("homeassistant/sensor/reptrack_ha_thigh/+/config")
    client.loop_start()
    try:
        wait_until(lambda: len(configs) == 7, what="7 retained discovery configs")
    finally:
        client.disconnect()
        client.loop_stop()
    reps = configs["homeassistant/sensor/reptrack_ha_thigh/total_reps/config"]
    assert reps["state_topic"] == "reptrack/ha-thigh/state"
    assert reps["value_template"] == "{{ value_json.total_reps }}"
    assert reps["availability_topic"] == "reptrack/ha-thigh/status"


def test_without_broker_option_a_local_broker_is_used_else_an_embedded_one(
    monkeypatch, broker: RealBroker
) -> None:
    import tracker.mqtt.broker as broker_module
    from tests.brokers import free_port

    monkeypatch.setattr(broker_module, "DEFAULT_PORT", broker.port)
    url, embedded = broker_module.resolve_broker(None)
    assert (url.port, embedded) == (broker.port, None)

    nothing_there = free_port()
    monkeypatch.setattr(broker_module, "DEFAULT_PORT", nothing_there)
    url, embedded = broker_module.resolve_broker(None)
    try:
        assert embedded is not None and url.port == nothing_there
        assert broker_module.broker_answers("127.0.0.1", nothing_there)
    finally:
        assert embedded is not None
        embedded.stop()
    assert not broker_module.broker_answers("127.0.0.1", nothing_there)


def test_tls_with_a_ca_file_and_a_client_certificate(tmp_path) -> None:
    from tests.brokers import make_test_pki

    pki = make_test_pki(tmp_path / "pki")
    with RealBroker(tls=pki) as b:
        url = BrokerURL.parse(f"mqtts://127.0.0.1:{b.port}")
        good = MqttSettings(url, Security(ca_file=pki.ca, cert_file=pki.client_cert, key_file=pki.client_key))
        with Watcher(good) as watcher:
            pub = SensorPublisher(good, "tls-thigh", "sess")
            pub.connect()
            pub.publish(rep_event(1, 1))
            pub.close()
            wait_until(
                lambda: (
                    "tls-thigh" in watcher.facts.sensors and len(watcher.facts.sensors["tls-thigh"].reps) == 1
                )
            )
        untrusted = MqttSettings(url, Security(cert_file=pki.client_cert, key_file=pki.client_key))
        with pytest.raises(
            BrokerError,
            match=r"TLS handshake with mqtts://127\.0\.0\.1:\d+ failed: .*REPTRACK_MQTT_CA_FILE",
        ):
            SensorPublisher(untrusted, "tls-thigh", "sess").connect(timeout_s=5)
        if b.kind == "mosquitto":  # mosquitto is configured to require a client certificate
            no_cert = MqttSettings(url, Security(ca_file=pki.ca))
            with pytest.raises(BrokerError, match=r"requires a client certificate.*REPTRACK_MQTT_CERT_FILE"):
                SensorPublisher(no_cert, "tls-thigh", "sess").connect(timeout_s=5)
