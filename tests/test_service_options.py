"""`reptrack run --device` takes the same Bluetooth options as `scan` and `record`."""

from __future__ import annotations

import pytest

from tracker.ble.live import DeviceSource
from tracker.cli import build_parser
from tracker.cli.run import build_sources
from tracker.errors import UserError


def _args(*argv: str):  # type: ignore[no-untyped-def]
    return build_parser("reptrack", "tracker.cli", ("run",), "test").parse_args(["run", *argv])


def test_device_source_uses_the_bluetooth_options() -> None:
    args = _args(
        "--device", "RepTrack-1A2B", "--backend", "bumble", "--transport", "tcp-client:127.0.0.1:9001",
        "--connect-timeout", "3", "--scan-timeout", "4",
    )  # fmt: skip
    (source,) = build_sources(args)
    assert isinstance(source, DeviceSource)
    assert source.config.device == "RepTrack-1A2B"
    assert source.config.backend == "bumble"
    assert source.config.transport == "tcp-client:127.0.0.1:9001"
    assert source.config.connect_timeout_s == 3.0 and source.config.scan_timeout_s == 4.0


def test_no_source_is_a_clear_error() -> None:
    with pytest.raises(UserError, match="no source"):
        build_sources(_args())
