"""Broker URLs, credentials and payload schemas: pure functions, no broker."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.brokers import rep_event, set_event, validate, wobble_event
from tracker.errors import UserError
from tracker.mqtt import payloads
from tracker.mqtt.broker import BrokerURL, load_security
from tracker.mqtt.homeassistant import discovery_messages
from tracker.mqtt.topics import Topics, check_prefix, sensor_topic_id, split_topic
from tracker.service import Telemetry


def test_broker_url_defaults_and_round_trip() -> None:
    assert BrokerURL.parse("mqtt://broker.local") == BrokerURL("broker.local", 1883, False, None)
    assert BrokerURL.parse("mqtts://alice@broker.local") == BrokerURL("broker.local", 8883, True, "alice")
    assert BrokerURL.parse("10.0.0.2:1884") == BrokerURL("10.0.0.2", 1884)
    assert str(BrokerURL.parse("mqtts://alice@h:9000")) == "mqtts://alice@h:9000"


@pytest.mark.parametrize(
    ("url", "needle"),
    [
        ("mqtt://alice:secret@host", "password"),
        ("http://host", "scheme 'http'"),
        ("mqtt://host:99999", "port"),
        ("mqtt://host/path", "path"),
        ("mqtt://", "no host"),
    ],
)
def test_bad_broker_urls_are_clear_errors(url: str, needle: str) -> None:
    with pytest.raises(UserError, match=needle):
        BrokerURL.parse(url)


hosts = st.from_regex(r"[a-z][a-z0-9\-]{0,20}(\.[a-z][a-z0-9\-]{0,10}){0,3}", fullmatch=True)
users = st.none() | st.text(string.ascii_letters + string.digits + "_.-", min_size=1, max_size=12)


@settings(max_examples=60, deadline=None)
@given(hosts, st.integers(1, 65535), st.booleans(), users)
def test_broker_url_parse_format_round_trip(host: str, port: int, tls: bool, user: str | None) -> None:
    url = BrokerURL(host, port, tls, user)
    assert BrokerURL.parse(str(url)) == url


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=40))
def test_broker_url_parser_never_crashes(text: str) -> None:
    with contextlib.suppress(UserError):
        BrokerURL.parse(text)


def test_credentials_from_file_env_and_url(tmp_path) -> None:
    cfg = tmp_path / "mqtt.toml"
    ca = tmp_path / "ca.pem"
    ca.write_text("x")
    cfg.write_text(f'[mqtt]\nusername = "file-user"\npassword = "file-pw"\nca_file = "{ca}"\n')
    cfg.chmod(0o600)  # a password file every user can read is refused (test_bad_input_cli)
    url = BrokerURL.parse("mqtts://h")
    sec = load_security(url, cfg, env={})
    assert (sec.username, sec.password, sec.ca_file) == ("file-user", "file-pw", ca)
    sec = load_security(url, cfg, env={"REPTRACK_MQTT_PASSWORD": "env-pw"})
    assert (sec.username, sec.password) == ("file-user", "env-pw")
    sec = load_security(BrokerURL.parse("mqtts://bob@h"), cfg, env={"REPTRACK_MQTT_PASSWORD": "env-pw"})
    assert (sec.username, sec.password) == ("bob", "env-pw")
    assert "env-pw" not in repr(sec)


def test_broken_config_files_name_the_file_and_key(tmp_path) -> None:
    url = BrokerURL.parse("mqtt://h")
    bad = tmp_path / "bad.toml"
    bad.write_text("username = 'a'\npasword = 'typo'\n")
    with pytest.raises(UserError, match=r"bad\.toml.*unknown key 'pasword'"):
        load_security(url, bad, env={})
    bad.write_text("username = [\n")
    with pytest.raises(UserError, match=r"bad\.toml.*not valid TOML"):
        load_security(url, bad, env={})
    with pytest.raises(UserError, match=r"missing\.toml.*not found"):
        load_security(url, tmp_path / "missing.toml", env={})
    with pytest.raises(UserError, match=r"ca file .*nope\.pem: no such file"):
        load_security(
            BrokerURL.parse("mqtts://h"), None, env={"REPTRACK_MQTT_CA_FILE": str(tmp_path / "nope.pem")}
        )


def test_topics_and_prefix() -> None:
    t = Topics("gym/floor1", sensor_topic_id("AA:BB:CC:DD:EE:FF"))
    assert t.event("rep") == "gym/floor1/AA-BB-CC-DD-EE-FF/event/rep"
    assert split_topic("gym/floor1", t.state) == ("AA-BB-CC-DD-EE-FF", "state")
    assert split_topic("gym/floor1", "gym/floor1/x/other") is None
    assert sensor_topic_id("a/b+c#").startswith("a-b-c-") and "/" not in sensor_topic_id("a/b+c#")
    assert check_prefix("/reptrack/") == "reptrack"
    with pytest.raises(UserError, match="must not contain"):
        check_prefix("reptrack/#")


def test_every_payload_follows_its_schema() -> None:
    tracker = payloads.StateTracker()
    validate("state", json.loads(payloads.encode(tracker.payload("s1", "sess"))))
    for ev in (rep_event(1, 1), rep_event(1, 2), set_event(1, 2), wobble_event(2)):
        tracker.apply(ev)
    state = json.loads(payloads.encode(tracker.payload("s1", "sess")))
    validate("state", state)
    assert (state["set_index"], state["reps_in_set"], state["total_reps"]) == (1, 2, 2)
    validate("event/rep", json.loads(payloads.encode(payloads.rep_payload("s1", "sess", rep_event(1, 3)))))
    validate("event/set", json.loads(payloads.encode(payloads.set_payload("s1", "sess", set_event(1, 3)))))
    validate(
        "event/wobble", json.loads(payloads.encode(payloads.wobble_payload("s1", "sess", wobble_event(1), 1)))
    )
    validate("status", json.loads(payloads.encode(payloads.status_payload("s1", "sess", False, "shutdown"))))
    link = Telemetry(t_s=3.0, battery_pct=None, packet_loss=0.01, lost_packets=1, packets=99, rate_hz=100.0)
    tel = payloads.telemetry_payload("s1", "sess", link)
    validate("telemetry", json.loads(payloads.encode(tel)))


def test_schema_rejects_a_rep_without_id() -> None:
    body = json.loads(payloads.encode(payloads.rep_payload("s1", "sess", rep_event(1, 1))))
    del body["id"]
    with pytest.raises(Exception, match="'id' is a required property"):
        validate("event/rep", body)


finite = st.floats(-1e6, 1e6, allow_nan=False)


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 99), st.integers(1, 50), finite, st.floats(allow_nan=True, allow_infinity=True))
def test_rep_payloads_are_valid_json_and_ids_are_stable(
    set_index: int, n: int, depth: float, odd: float
) -> None:
    ev = rep_event(set_index, n)
    ev = dataclasses.replace(ev, rep=dataclasses.replace(ev.rep, depth_deg=depth, wobble={"x": odd}))
    a = json.loads(payloads.encode(payloads.rep_payload("s1", "sess", ev)))
    b = json.loads(payloads.encode(payloads.rep_payload("s1", "sess", ev)))
    validate("event/rep", a)
    assert a["id"] == b["id"] == f"s1/sess/{set_index}/{n}"


def test_home_assistant_discovery_covers_the_issue_entities() -> None:
    msgs = discovery_messages("homeassistant", Topics("reptrack", "s1"), "s1")
    objects = {topic.split("/")[-2] for topic, _ in msgs}
    assert objects == {"reps_in_set", "total_reps", "exercise", "last_depth", "wobble", "battery", "status"}
    for topic, cfg in msgs:
        assert topic.startswith("homeassistant/sensor/reptrack_s1/")
        assert cfg["unique_id"].startswith("reptrack_s1_")
        assert cfg["state_topic"] in ("reptrack/s1/state", "reptrack/s1/status")
        assert cfg["device"]["identifiers"] == ["reptrack_s1"]
