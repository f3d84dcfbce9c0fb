"""`reptrack --help`/`--version` import no command module; a command imports only its own."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tracker.cli import COMMANDS, _load, main

HEAVY = ("scipy", "bleak", "bumble", "paho", "rich", "numpy")


def imported_by(*argv: str) -> set[str]:
    """Top-level packages the CLI imports for ``argv`` (from ``python -X importtime``)."""
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "tracker.cli", *argv], capture_output=True, text=True
    )
    names = set()
    for line in proc.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            names.add(line.rsplit("|", 1)[1].strip().split(".")[0])
    return names


@pytest.mark.parametrize("flag", ["--help", "--version"])
def test_help_and_version_import_nothing_heavy(flag: str) -> None:
    assert not imported_by(flag) & set(HEAVY)


def test_help_lists_every_command_with_its_own_help_line(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    out = " ".join(capsys.readouterr().out.split())
    for name in COMMANDS:
        assert f"{name} {' '.join(str(_load('tracker.cli', name).HELP).split())}" in out


def test_a_replay_imports_no_radio_broker_or_screen_library(tmp_path: Path) -> None:
    csv = tmp_path / "still.csv"
    csv.write_text("t,ax,ay,az\n" + "".join(f"{i / 100},0,0,1\n" for i in range(300)))
    assert not imported_by("replay", str(csv), "--json") & {"bleak", "bumble", "paho", "rich"}


def test_a_command_still_gets_its_own_arguments(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["-v", "replay", "--help"])
    assert "--chunk N" in capsys.readouterr().out
