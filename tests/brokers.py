"""Helpers for the MQTT tests: a real broker, schema validation, synthetic events.

A real MQTT broker for tests, on a free port: Mosquitto when installed, amqtt otherwise.

``RealBroker`` runs the broker as a child process so a test can kill it (SIGKILL) and start it
again on the same port. Mosquitto persists sessions (saved on every change) so a subscriber's
persistent session survives the restart; amqtt keeps nothing, which is the harder case for the
publisher's outage buffer. Run as a script, it serves amqtt: ``python tests/brokers.py PORT [PWFILE]``.
"""

from __future__ import annotations

import contextlib
import getpass
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

from tracker.events import Rep, RepEvent, SetEvent, WobbleEvent

MOSQUITTO = shutil.which("mosquitto") or (
    "/usr/sbin/mosquitto" if Path("/usr/sbin/mosquitto").exists() else None
)


def free_port() -> int:
    from tracker.mqtt.broker import free_port as _free

    return _free()


def _port_open(port: int) -> bool:
    import socket

    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def wait_for_broker(port: int, up: bool = True, timeout_s: float = 10.0, tls: bool = False) -> None:
    from tracker.mqtt.broker import broker_answers

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        answers = _port_open(port) if tls else broker_answers("127.0.0.1", port, timeout_s=0.5)
        if answers == up:
            return
        time.sleep(0.05)
    raise TimeoutError(f"broker on port {port} did not {'start' if up else 'stop'} within {timeout_s} s")


class RealBroker:
    """A broker process on 127.0.0.1:<free port>; ``kind`` is "mosquitto" or "amqtt"."""

    def __init__(
        self, kind: str | None = None, users: dict[str, str] | None = None, tls: TestPKI | None = None
    ) -> None:
        self.kind = kind or os.environ.get("REPTRACK_TEST_BROKER") or ("mosquitto" if MOSQUITTO else "amqtt")
        if self.kind == "mosquitto" and not MOSQUITTO:
            raise RuntimeError("mosquitto is not installed")
        self.port = free_port()
        self.users = users
        self.tls = tls  # serve TLS with this PKI; mosquitto also requires a client certificate
        self.dir = Path(tempfile.mkdtemp(prefix="reptrack-broker-"))
        self.proc: subprocess.Popen[bytes] | None = None
        self._prepare()

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def _prepare(self) -> None:
        pwfile = self.dir / "passwd"
        if self.kind == "mosquitto":
            lines = [
                f"listener {self.port} 127.0.0.1",
                f"allow_anonymous {'false' if self.users else 'true'}",
                "persistence true",
                f"persistence_location {self.dir}/",
                "autosave_interval 1",
                "autosave_on_changes true",
                "max_queued_messages 100000",
                f"user {getpass.getuser()}",
            ]
            if self.users:
                pwfile.write_text("")
                for user, pw in self.users.items():
                    subprocess.run(["mosquitto_passwd", "-b", str(pwfile), user, pw], check=True)
                lines.append(f"password_file {pwfile}")
            if self.tls:
                lines += [
                    f"cafile {self.tls.ca}",
                    f"certfile {self.tls.server_cert}",
                    f"keyfile {self.tls.server_key}",
                    "require_certificate true",
                ]
            (self.dir / "mosquitto.conf").write_text("\n".join(lines) + "\n")
        elif self.users:
            from pwdlib import PasswordHash
            from pwdlib.hashers.argon2 import Argon2Hasher

            hasher = PasswordHash((Argon2Hasher(),))
            pwfile.write_text("".join(f"{u}:{hasher.hash(p)}\n" for u, p in self.users.items()))

    def start(self) -> RealBroker:
        if self.kind == "mosquitto":
            assert MOSQUITTO is not None
            cmd = [MOSQUITTO, "-c", str(self.dir / "mosquitto.conf")]
        else:
            cmd = [sys.executable, __file__, str(self.port), str(self.dir / "passwd") if self.users else "-"]
            if self.tls:
                cmd += [str(self.tls.ca), str(self.tls.server_cert), str(self.tls.server_key)]
        log = open(self.dir / "broker.log", "ab")  # noqa: SIM115 (lives as long as the process)
        self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
        wait_for_broker(self.port, True, tls=self.tls is not None)
        return self

    def kill(self) -> None:
        """SIGKILL: the broker gets no chance to say goodbye (a crash or a power cut)."""
        if self.proc is not None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)
            self.proc = None
        wait_for_broker(self.port, False, tls=self.tls is not None)

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
            self.proc = None
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> RealBroker:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


SCHEMA_DIR = Path(__file__).resolve().parent.parent / "docs" / "schemas"
LEAF_SCHEMA = {
    "status": "status",
    "state": "state",
    "telemetry": "telemetry",
    "event/rep": "rep",
    "event/set": "set",
    "event/wobble": "wobble",
    "plan": "plan",
}


def validators() -> dict[str, Draft202012Validator]:
    out = {}
    for path in SCHEMA_DIR.glob("*.schema.json"):
        schema = json.loads(path.read_text())
        Draft202012Validator.check_schema(schema)
        out[path.name.split(".")[0]] = Draft202012Validator(schema)
    return out


VALIDATORS = validators()


def validate(leaf: str, payload: Any) -> None:
    """Raise if ``payload`` does not follow the JSON Schema of its topic (docs/schemas/)."""
    VALIDATORS[LEAF_SCHEMA[leaf]].validate(payload)


def rep(n: int, t_end: float = 0.0, depth: float = 80.0) -> Rep:
    t_end = t_end or 3.0 * n
    return Rep(n, t_end - 2.0, t_end - 1.0, t_end, depth, 0.9, 0.2, 0.9, 120.0, {"roll_rms_deg": 2.5})


def rep_event(set_index: int, n: int, exercise: str = "squat") -> RepEvent:
    r = rep(n, t_end=100.0 * set_index + 3.0 * n)
    return RepEvent(t_s=r.t_end_s + 0.15, set_index=set_index, exercise=exercise, leg="both", rep=r)


def set_event(index: int, reps: int, exercise: str = "squat") -> SetEvent:
    rs = tuple(rep(i, 100.0 * index + 3.0 * i) for i in range(1, reps + 1))
    return SetEvent(
        t_s=rs[-1].t_end_s + 5.0,
        index=index,
        exercise=exercise,
        leg="both",
        start_s=rs[0].t_start_s,
        end_s=rs[-1].t_end_s,
        reps=rs,
        wobble={"roll_rms_deg": 3.0},
        summary={"mean_depth_deg": 80.0},
    )


def wobble_event(set_index: int) -> WobbleEvent:
    return WobbleEvent(t_s=50.0, set_index=set_index, level=4.2, baseline=1.5, balance_loss=True)


def wait_until(cond: Callable[[], bool], timeout_s: float = 10.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if cond():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")


@dataclass(frozen=True)
class TestPKI:
    """A throwaway CA, a server certificate for 127.0.0.1/localhost and a client certificate."""

    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path


def make_test_pki(folder: Path) -> TestPKI:
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.UTC)

    def name(cn: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])

    def write_key(key: ec.EllipticCurvePrivateKey, path: Path) -> Path:
        path.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        return path

    def issue(
        cn: str,
        key: ec.EllipticCurvePrivateKey,
        issuer_key: ec.EllipticCurvePrivateKey,
        ca: bool,
        san: list[x509.GeneralName] | None = None,
    ) -> x509.Certificate:
        builder = (
            x509.CertificateBuilder()
            .subject_name(name(cn))
            .issuer_name(name("reptrack test CA"))
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        )
        if san:
            builder = builder.add_extension(x509.SubjectAlternativeName(san), critical=False)
        return builder.sign(issuer_key, hashes.SHA256())

    folder.mkdir(parents=True, exist_ok=True)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_cert = issue("reptrack test CA", ca_key, ca_key, True)
    server_key = ec.generate_private_key(ec.SECP256R1())
    server_cert = issue(
        "localhost",
        server_key,
        ca_key,
        False,
        [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))],
    )
    client_key = ec.generate_private_key(ec.SECP256R1())
    client_cert = issue("gateway-1", client_key, ca_key, False)
    pem = serialization.Encoding.PEM
    (folder / "ca.pem").write_bytes(ca_cert.public_bytes(pem))
    (folder / "server.pem").write_bytes(server_cert.public_bytes(pem))
    (folder / "client.pem").write_bytes(client_cert.public_bytes(pem))
    return TestPKI(
        folder / "ca.pem",
        folder / "server.pem",
        write_key(server_key, folder / "server.key"),
        folder / "client.pem",
        write_key(client_key, folder / "client.key"),
    )


def _serve_amqtt(port: int, password_file: str | None, tls: list[str]) -> None:
    import asyncio

    from amqtt.broker import Broker

    plugins: dict[str, dict[str, object]] = {
        "amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": password_file is None},
    }
    if password_file:
        plugins["amqtt.plugins.authentication.FileAuthPlugin"] = {"password_file": password_file}
    listener: dict[str, object] = {"type": "tcp", "bind": f"127.0.0.1:{port}"}
    if tls:
        listener.update(ssl=True, cafile=tls[0], certfile=tls[1], keyfile=tls[2])
    config = {"listeners": {"default": listener}, "plugins": plugins}

    async def main() -> None:
        broker = Broker(config)
        await broker.start()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
        with contextlib.suppress(Exception):
            await broker.shutdown()

    asyncio.run(main())


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    _serve_amqtt(int(sys.argv[1]), None if sys.argv[2] == "-" else sys.argv[2], sys.argv[3:])
