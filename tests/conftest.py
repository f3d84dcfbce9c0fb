"""Shared test fixtures and the test tiers (README "Tests", docs/architecture.md "Test tiers")."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.paths import CMU_THIGH_DIR, REPO_ROOT, SHARED_DATA_DIR

REAL_DATA_DIR = CMU_THIGH_DIR
__all__ = ["REAL_DATA_DIR", "REPO_ROOT", "SHARED_DATA_DIR"]

TIERS = ("unit", "integration", "process")

# Every test is in one tier. A test marked with a tier keeps it; otherwise it gets its module's
# tier from this table, and a module not named here is `unit`.
#   unit:        in one process, no broker, radio or network: functions, files, `main([...])`
#   integration: real parts in this process: an MQTT broker, the virtual BLE radio, live links
#   process:     RepTrack's own commands started as child processes (exit codes, signals, stdout)
MODULE_TIERS = {
    "test_ble_link": "integration",
    "test_ble_profiles": "integration",  # its codec properties run anywhere; its serve test is `process`
    "test_ble_radio": "integration",
    "test_calibration_ble": "integration",
    "test_mqtt_broker": "integration",  # two of its tests are `process`, marked where they are
    "test_mqtt_dashboard": "integration",
    "test_service_e2e": "integration",  # its Ctrl-C test is `process`, marked where it is
    "test_bad_input_topics": "integration",
    "test_web": "integration",  # its card tests are `unit`, its `reptrack web` test `process`
    "test_ble_serve": "process",
    "test_service_replay": "process",
    "test_bad_input_cli": "process",
    "test_bad_input_cut": "process",
    "test_cli_startup": "process",
    "test_scaleout": "process",  # its packet-queue test is `unit`, marked where it is
    "test_scaleout_snapshot": "unit",
    "test_counting_starts": "unit",
}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if not any(item.get_closest_marker(tier) for tier in TIERS):
            module = item.nodeid.split("::", 1)[0].rsplit("/", 1)[-1].removesuffix(".py")
            item.add_marker(getattr(pytest.mark, MODULE_TIERS.get(module, "unit")))


@pytest.fixture(scope="session")
def real_data_dir() -> Path:
    """The real thigh recordings (../shared/data/cmu-thigh), read in place, never copied."""
    if not REAL_DATA_DIR.is_dir():
        pytest.skip(f"real recordings not found at {REAL_DATA_DIR}")
    return REAL_DATA_DIR


@pytest.fixture(autouse=True, scope="session")
def _private_config_dir(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Tests never read or write the user's own calibrations: an empty config dir unless a test
    sets its own (child processes inherit it)."""
    os.environ["REPTRACK_CONFIG_DIR"] = str(tmp_path_factory.mktemp("reptrack-config"))
