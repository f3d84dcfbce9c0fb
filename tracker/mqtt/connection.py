"""One MQTT connection: the broker settings, a configured paho client, and a login that says why it failed.

Both the publisher (one connection per sensor) and the subscribers (dashboards, watchers) connect
through :func:`connect_client`, so refused logins, failed TLS handshakes and unreachable brokers get
the same one-line :class:`~tracker.mqtt.broker.BrokerError` everywhere (docs/mqtt.md).
"""

from __future__ import annotations

import logging
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from tracker.mqtt.broker import BrokerError, BrokerURL, Security
from tracker.mqtt.topics import DEFAULT_PREFIX

log = logging.getLogger(__name__)

DEFAULT_MAX_BUFFERED_EVENTS = 10_000


@dataclass(frozen=True, slots=True)
class MqttSettings:
    """How to reach the broker and where to publish."""

    broker: BrokerURL
    security: Security = field(default_factory=Security)
    prefix: str = DEFAULT_PREFIX
    protocol: str = "auto"  # "5", "3.1.1" or "auto" (MQTT 5, falling back to 3.1.1)
    keepalive_s: int = 10
    max_buffered_events: int = DEFAULT_MAX_BUFFERED_EVENTS
    homeassistant_prefix: str | None = None  # e.g. "homeassistant" to publish discovery configs
    reconnect_min_s: int = 1
    reconnect_max_s: int = 4


def make_client(
    settings: MqttSettings,
    client_id: str,
    protocol: int,
    *,
    clean_start: bool = True,
    auto_reconnect: bool = True,
) -> mqtt.Client:
    """A paho client with credentials and TLS from ``settings`` (also used by the dashboard)."""
    kwargs: dict[str, Any] = {
        "client_id": client_id,
        "protocol": protocol,
        "reconnect_on_failure": auto_reconnect,
    }
    if protocol != mqtt.MQTTv5:
        kwargs["clean_session"] = clean_start
    client = mqtt.Client(CallbackAPIVersion.VERSION2, **kwargs)
    sec = settings.security
    if sec.username:
        client.username_pw_set(sec.username, sec.password)
    if settings.broker.tls:
        try:
            client.tls_set(
                ca_certs=str(sec.ca_file) if sec.ca_file else None,
                certfile=str(sec.cert_file) if sec.cert_file else None,
                keyfile=str(sec.key_file) if sec.key_file else None,
            )
        except (ssl.SSLError, OSError) as exc:
            raise BrokerError(f"cannot load the TLS files for {settings.broker}: {exc}") from None
        if sec.insecure:
            client.tls_insecure_set(True)
    client.reconnect_delay_set(settings.reconnect_min_s, settings.reconnect_max_s)
    return client


def describe_refusal(broker: BrokerURL, security: Security, reason: object) -> str:
    text = str(reason)
    if "password" in text.lower() or "authori" in text.lower():
        who = f"user {security.username!r}" if security.username else "anonymous clients"
        return (
            f"the MQTT broker {broker} refused the login of {who}: {text}. Check the user in the URL or "
            "REPTRACK_MQTT_USERNAME, and REPTRACK_MQTT_PASSWORD or the config file (docs/mqtt.md)"
        )
    return f"the MQTT broker {broker} refused the connection: {text}"


def connect_error(broker: BrokerURL, exc: BaseException) -> BrokerError:
    if isinstance(exc, ssl.SSLCertVerificationError):
        return BrokerError(
            f"TLS handshake with {broker} failed: {exc.verify_message or exc.reason} (the broker's "
            "certificate is not trusted: give its CA with REPTRACK_MQTT_CA_FILE or ca_file in the config file)"
        )
    if isinstance(exc, ssl.SSLError):
        return BrokerError(f"TLS handshake with {broker} failed: {exc.reason or exc}")
    if broker.tls and isinstance(exc, TimeoutError):
        return BrokerError(f"TLS handshake with {broker} failed: no answer (is this port TLS?)")
    if broker.tls and isinstance(exc, ConnectionResetError | ConnectionAbortedError | EOFError):
        return BrokerError(
            f"TLS handshake with {broker} failed: the broker closed the connection "
            "(is this port TLS? mqtts:// usually uses 8883)"
        )
    if isinstance(exc, ConnectionRefusedError):
        return BrokerError(
            f"cannot reach the MQTT broker {broker}: connection refused (is a broker running?)"
        )
    if isinstance(exc, TimeoutError):
        return BrokerError(f"cannot reach the MQTT broker {broker}: timed out")
    if isinstance(exc, OSError):
        return BrokerError(f"cannot reach the MQTT broker {broker}: {exc.strerror or exc}")
    return BrokerError(f"cannot connect to the MQTT broker {broker}: {exc}")


def connect_client(
    settings: MqttSettings,
    client_id: str,
    *,
    clean_start: bool = True,
    session_expiry_s: int = 0,
    prepare: Callable[[mqtt.Client], None] | None = None,
    timeout_s: float = 10.0,
    auto_reconnect: bool = True,
) -> mqtt.Client:
    """Connect and start paho's network thread; return once the broker accepted the login.

    Raises :class:`BrokerError` with a clear message on refused logins, failed TLS handshakes and
    unreachable brokers. ``prepare`` sets callbacks and the will before connecting. With protocol
    "auto", a broker that refuses MQTT 5 is tried again with 3.1.1. With ``auto_reconnect`` paho
    reconnects by itself after a loss (and resends its unacknowledged messages).
    """
    versions = {"5": [mqtt.MQTTv5], "3.1.1": [mqtt.MQTTv311], "auto": [mqtt.MQTTv5, mqtt.MQTTv311]}
    try:
        candidates = versions[settings.protocol]
    except KeyError:
        raise BrokerError(f"MQTT protocol {settings.protocol!r}, expected 5, 3.1.1 or auto") from None
    if len(candidates) > 1:
        # Probe with a bare MQTT 5 CONNECT first: some 3.1.1 brokers (amqtt) choke on an MQTT 5
        # CONNECT that carries a will and never answer, instead of refusing the version.
        # The probe carries no login either (amqtt also chokes on that); a broker that refuses the
        # anonymous probe for any reason but the protocol version speaks MQTT 5.
        anonymous = replace(settings, security=replace(settings.security, username=None, password=None))
        probe, rc, _ = _attempt(anonymous, client_id + "-probe", mqtt.MQTTv5, True, 0, None, timeout_s, False)
        if probe is not None:
            disconnect_client(probe)
        if probe is not None or (rc is not None and "protocol version" not in str(rc).lower()):
            candidates = candidates[:1]
        else:
            candidates = candidates[1:]
    last: BrokerError | None = None
    for protocol in candidates:
        client, rc, closed = _attempt(
            settings, client_id, protocol, clean_start, session_expiry_s, prepare, timeout_s, auto_reconnect
        )
        if client is not None:
            return client
        if rc is not None and "protocol version" not in str(rc).lower():
            raise BrokerError(describe_refusal(settings.broker, settings.security, rc))
        hint = ""
        if settings.broker.tls and settings.security.cert_file is None:
            hint = (
                "; if it requires a client certificate, give it with REPTRACK_MQTT_CERT_FILE and "
                "REPTRACK_MQTT_KEY_FILE (or cert_file, key_file in the config file)"
            )
        last = BrokerError(
            f"the MQTT broker {settings.broker} closed the connection during login "
            f"({rc if rc is not None else closed}){hint}"
        )
        log.info("broker %s refused MQTT %s; trying the next protocol version", settings.broker, protocol)
    assert last is not None
    raise last


def _attempt(
    settings: MqttSettings,
    client_id: str,
    protocol: int,
    clean_start: bool,
    session_expiry_s: int,
    prepare: Callable[[mqtt.Client], None] | None,
    timeout_s: float,
    auto_reconnect: bool = True,
) -> tuple[mqtt.Client | None, Any, Any]:
    """One login with one protocol version: (client, None, None) on success, else (None, rc, closed)."""
    client = make_client(
        settings, client_id, protocol, clean_start=clean_start, auto_reconnect=auto_reconnect
    )
    if prepare is not None:
        prepare(client)
    done = threading.Event()
    outcome: dict[str, Any] = {}
    user_on_connect: Any = client.on_connect
    user_on_disconnect: Any = client.on_disconnect

    def on_connect(c: mqtt.Client, userdata: Any, flags: Any, rc: Any, props: Any) -> None:
        if not done.is_set():
            outcome["rc"] = rc
            done.set()
        if user_on_connect is not None and not rc.is_failure:
            user_on_connect(c, userdata, flags, rc, props)

    def on_disconnect(c: mqtt.Client, userdata: Any, flags: Any, rc: Any, props: Any) -> None:
        if not done.is_set():
            outcome["closed"] = rc
            done.set()
        if user_on_disconnect is not None:
            user_on_disconnect(c, userdata, flags, rc, props)

    client.on_connect = on_connect
    client.on_disconnect = on_disconnect
    props = None
    if protocol == mqtt.MQTTv5 and session_expiry_s:
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = session_expiry_s
    try:
        client.connect(
            settings.broker.host,
            settings.broker.port,
            keepalive=settings.keepalive_s,
            clean_start=clean_start if protocol == mqtt.MQTTv5 else mqtt.MQTT_CLEAN_START_FIRST_ONLY,
            properties=props,
        )
    except (OSError, ssl.SSLError) as exc:
        raise connect_error(settings.broker, exc) from None
    client.loop_start()
    if not done.wait(timeout_s):
        disconnect_client(client)
        raise BrokerError(f"the MQTT broker {settings.broker} did not answer within {timeout_s:.0f} s")
    rc = outcome.get("rc")
    if rc is not None and not rc.is_failure:
        return client, None, None
    disconnect_client(client)
    return None, rc, outcome.get("closed")


def disconnect_client(client: mqtt.Client) -> None:
    """Disconnect and stop the network loop of a client made by :func:`connect_client`."""
    client.disconnect()
    client.loop_stop()
