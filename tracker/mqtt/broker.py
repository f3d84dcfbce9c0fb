"""Where the broker is and how to log in: broker URLs, credentials, TLS, the embedded broker.

A broker URL is ``mqtt://[user@]host[:port]`` (plain TCP, default port 1883) or
``mqtts://[user@]host[:port]`` (TLS, default port 8883). Passwords never come from the command
line: they come from the environment (``REPTRACK_MQTT_PASSWORD``) or a TOML config file
(docs/mqtt.md, "Security").
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import stat
import threading
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from tracker.errors import InputFileError, UserError

log = logging.getLogger(__name__)

DEFAULT_PORT = 1883
DEFAULT_TLS_PORT = 8883
ENV_PREFIX = "REPTRACK_MQTT_"
CONFIG_KEYS = ("username", "password", "ca_file", "cert_file", "key_file", "insecure")


class BrokerError(UserError):
    """The broker cannot be reached, refused the login, or the TLS handshake failed."""

    exit_code = 3


def redact_password(url: str) -> str:
    """The URL with any ``user:password@`` shown as ``user:***@`` (for messages and logs)."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        scheme, rest = "", url
    authority, slash, tail = rest.partition("/")
    userinfo, at, host = authority.rpartition("@")
    if not at or ":" not in userinfo:
        return url
    user = userinfo.split(":", 1)[0]
    return f"{scheme}{sep}{user}:***@{host}{slash}{tail}"


@dataclass(frozen=True, slots=True)
class BrokerURL:
    host: str
    port: int
    tls: bool = False
    username: str | None = None

    @classmethod
    def parse(cls, url: str) -> BrokerURL:
        """Parse ``mqtt://[user@]host[:port]`` or ``mqtts://...``; a bare ``host[:port]`` means mqtt://."""
        text = url.strip()
        if "://" not in text:
            text = "mqtt://" + text
        url = redact_password(text)  # every message below shows the URL, never its password
        try:
            parts = urlsplit(text)
        except ValueError as exc:
            raise UserError(f"broker URL {url!r}: {exc}; expected mqtt://[user@]host[:port]") from None
        if parts.scheme not in ("mqtt", "mqtts"):
            raise UserError(f"broker URL {url!r}: scheme {parts.scheme!r}, expected mqtt:// or mqtts://")
        if parts.password is not None:
            raise UserError(
                f"broker URL {url!r}: contains a password; put it in the environment "
                f"({ENV_PREFIX}PASSWORD) or a config file (--mqtt-config), never on the command line"
            )
        if parts.path not in ("", "/") or parts.query or parts.fragment:
            raise UserError(
                f"broker URL {url!r}: unexpected path or query; expected mqtt://[user@]host[:port]"
            )
        try:
            port = parts.port
        except ValueError:
            raise UserError(f"broker URL {url!r}: port must be a number 1..65535") from None
        if not parts.hostname:
            raise UserError(f"broker URL {url!r}: no host name")
        tls = parts.scheme == "mqtts"
        return cls(
            host=parts.hostname,
            port=port or (DEFAULT_TLS_PORT if tls else DEFAULT_PORT),
            tls=tls,
            username=unquote(parts.username) if parts.username else None,
        )

    def __str__(self) -> str:
        user = f"{self.username}@" if self.username else ""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{'mqtts' if self.tls else 'mqtt'}://{user}{host}:{self.port}"


@dataclass(frozen=True, slots=True)
class Security:
    """Login and TLS settings. ``password`` is never printed (see ``__repr__``)."""

    username: str | None = None
    password: str | None = None
    ca_file: Path | None = None
    cert_file: Path | None = None
    key_file: Path | None = None
    insecure: bool = False  # skip host name verification (self-signed test brokers only)

    def __repr__(self) -> str:
        pw = "***" if self.password else None
        return (
            f"Security(username={self.username!r}, password={pw!r}, ca_file={self.ca_file}, "
            f"cert_file={self.cert_file}, key_file={self.key_file}, insecure={self.insecure})"
        )


def default_config_path() -> Path:
    import platformdirs

    return Path(platformdirs.user_config_dir("reptrack")) / "mqtt.toml"


def load_security(
    broker: BrokerURL,
    config_file: Path | str | None = None,
    env: Mapping[str, str] | None = None,
) -> Security:
    """Credentials and TLS files: config file, overridden by the environment, overridden by the URL's user.

    The config file is TOML with the keys ``username``, ``password``, ``ca_file``, ``cert_file``,
    ``key_file``, ``insecure`` (top level or under ``[mqtt]``). Without ``config_file`` the default
    (``~/.config/reptrack/mqtt.toml`` on Linux) is read if it exists. The environment variables are
    ``REPTRACK_MQTT_USERNAME``, ``..._PASSWORD``, ``..._CA_FILE``, ``..._CERT_FILE``, ``..._KEY_FILE``.
    """
    env = os.environ if env is None else env
    values: dict[str, Any] = {}
    path = Path(config_file) if config_file is not None else None
    if path is None and env.get(ENV_PREFIX + "CONFIG"):
        path = Path(env[ENV_PREFIX + "CONFIG"])
    explicit = path is not None
    if path is None:
        path = default_config_path()
    if path.exists() or explicit:
        values.update(_read_config(path))
    for key in CONFIG_KEYS:
        if env.get(ENV_PREFIX + key.upper()):
            values[key] = env[ENV_PREFIX + key.upper()]
    if broker.username:
        values["username"] = broker.username
    sec = Security(
        username=values.get("username") or None,
        password=values.get("password") or None,
        ca_file=Path(values["ca_file"]).expanduser() if values.get("ca_file") else None,
        cert_file=Path(values["cert_file"]).expanduser() if values.get("cert_file") else None,
        key_file=Path(values["key_file"]).expanduser() if values.get("key_file") else None,
        insecure=str(values.get("insecure", "false")).lower() in ("1", "true", "yes"),
    )
    for name in ("ca_file", "cert_file", "key_file"):
        f = getattr(sec, name)
        if f is not None and not f.is_file():
            raise UserError(f"MQTT {name.replace('_', ' ')} {f}: no such file")
    if sec.password and not sec.username:
        raise UserError(
            "an MQTT password is set but no user name (mqtt://USER@host or REPTRACK_MQTT_USERNAME)"
        )
    if (sec.ca_file or sec.cert_file) and not broker.tls:
        sec = replace(sec)  # TLS files only matter for mqtts://; kept so a warning can name them
        log.warning(
            "TLS files are configured but the broker URL is %s (not mqtts://): TLS is not used", broker
        )
    return sec


def _read_config(path: Path) -> dict[str, Any]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputFileError(path, "MQTT config file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise InputFileError(path, f"not valid TOML: {exc}") from None
    except OSError as exc:
        raise InputFileError(path, f"cannot read: {exc.strerror}") from None
    section = data.get("mqtt", data)
    if not isinstance(section, dict):
        raise InputFileError(path, "[mqtt] must be a table")
    unknown = sorted(set(section) - set(CONFIG_KEYS))
    if unknown:
        raise InputFileError(path, f"unknown key {unknown[0]!r}; expected one of {', '.join(CONFIG_KEYS)}")
    for key, value in section.items():
        if key == "insecure":
            if not isinstance(value, bool):
                raise InputFileError(path, f"key 'insecure' must be true or false, got {value!r}")
        elif not isinstance(value, str):
            raise InputFileError(path, f"key {key!r} must be a string, got {type(value).__name__}")
    if section.get("password"):
        _check_private(path)
    return dict(section)


def _check_private(path: Path) -> None:
    """A file holding a password must not be readable by every user of the machine (as ssh does
    for keys): refuse it, saying how to fix it."""
    try:
        mode = path.stat().st_mode
    except OSError:  # pragma: no cover - it was just read
        return
    if os.name == "posix" and mode & stat.S_IROTH:
        raise InputFileError(
            path,
            f"holds an MQTT password but every user can read it (mode {stat.S_IMODE(mode):04o}); "
            f"run: chmod 600 {path}",
        )


def broker_answers(host: str, port: int, timeout_s: float = 0.5) -> bool:
    """True if an MQTT broker accepts a connection there (CONNECT/CONNACK with MQTT 3.1.1)."""
    connect = (
        bytes.fromhex("101000044d5154540402001e0004") + b"rtpb"
    )  # CONNECT, clean, keepalive 30, id "rtpb"
    try:
        with socket.create_connection((host, port), timeout=timeout_s) as s:
            s.settimeout(timeout_s)
            s.sendall(connect)
            reply = s.recv(4)
            with contextlib.suppress(OSError):
                s.sendall(b"\xe0\x00")  # DISCONNECT
            return len(reply) >= 2 and reply[0] == 0x20
    except OSError:
        return False


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


class EmbeddedBroker:
    """An amqtt broker (MQTT 3.1.1) running in a background thread: nothing to install.

    Meant for the demo and for a laptop without a broker; it keeps no state across restarts.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = DEFAULT_PORT) -> None:
        self.host = host
        self.port = port or free_port(host)
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None

    @property
    def url(self) -> BrokerURL:
        return BrokerURL(self.host, self.port)

    def start(self, timeout_s: float = 10.0) -> EmbeddedBroker:
        # amqtt logs every connection (and every MQTT 5 probe it refuses); keep the output readable.
        for name in ("amqtt", "transitions"):
            logging.getLogger(name).setLevel(max(logging.CRITICAL, logging.getLogger(name).level))
        self._thread = threading.Thread(target=self._main, name="embedded-mqtt-broker", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout_s):
            raise BrokerError(f"the embedded MQTT broker did not start within {timeout_s:.0f} s")
        if self._error is not None:
            raise BrokerError(f"cannot start the embedded MQTT broker on {self.url}: {self._error}")
        return self

    def _main(self) -> None:
        asyncio.run(self._serve())

    async def _serve(self) -> None:
        from amqtt.broker import Broker

        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        config = {
            "listeners": {"default": {"type": "tcp", "bind": f"{self.host}:{self.port}"}},
            "plugins": {"amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True}},
        }
        broker = Broker(config)
        try:
            await broker.start()
        except BaseException as exc:
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        await self._stop.wait()
        with contextlib.suppress(Exception):
            await broker.shutdown()

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None and self._thread is not None:
            with contextlib.suppress(RuntimeError):
                self._loop.call_soon_threadsafe(self._stop.set)
            self._thread.join(timeout=10)
        self._thread = None

    def __enter__(self) -> EmbeddedBroker:
        return self.start() if self._thread is None else self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def resolve_broker(url: str | None, host: str = "127.0.0.1") -> tuple[BrokerURL, EmbeddedBroker | None]:
    """The broker to use: ``url`` if given; else localhost:1883 if a broker answers there; else an
    embedded broker (on 1883, or a free port when 1883 is taken by something that is no broker)."""
    if url:
        return BrokerURL.parse(url), None
    if broker_answers(host, DEFAULT_PORT):
        return BrokerURL(host, DEFAULT_PORT), None
    try:
        broker = EmbeddedBroker(host, DEFAULT_PORT).start()
    except BrokerError:
        broker = EmbeddedBroker(host, 0).start()
    return broker.url, broker
