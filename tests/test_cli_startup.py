"""`reptrack` and `firmware-sim` load only the subcommand they run: `record`, `scan` and `serve`
start without scipy, the pipeline or calibration (seconds of imports on a small machine)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.paths import REPO_ROOT

pytestmark = pytest.mark.process

HEAVY = ("scipy", "tracker.pipeline", "calibration", "paho", "tracker.cli.run")


def _modules_after(main: str, *argv: str) -> tuple[list[str], str]:
    """Which of HEAVY a fresh interpreter has imported after ``main(argv)``, and what it printed."""
    code = (
        f"import sys\nfrom {main} import main\n"
        f"try:\n    main({list(argv)!r})\nexcept SystemExit:\n    pass\n"
        f"print('LOADED', sorted(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO_ROOT, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    head, _, loaded = proc.stdout.rpartition("LOADED ")
    return eval(loaded), head + proc.stderr


@pytest.mark.parametrize(
    ("main", "argv"),
    [
        ("tracker.cli", ("record", "--help")),
        ("tracker.cli", ("-v", "scan", "--help")),
        ("firmware_sim.cli", ("serve", "--help")),
    ],
)
def test_a_subcommand_starts_without_the_other_commands_libraries(main: str, argv: tuple[str, ...]) -> None:
    loaded, out = _modules_after(main, *argv)
    assert loaded == []
    assert "--transport" in out  # its own options are all there


def test_top_level_help_still_lists_every_command() -> None:
    from tracker.cli import COMMANDS

    _, out = _modules_after("tracker.cli", "--help")
    listed = [line.split()[0] for line in out.splitlines() if line.startswith("    ") and line[4] != " "]
    assert listed == list(COMMANDS)
    assert all(f"    {name} " in out for name in COMMANDS)  # each with its one-line help


def test_an_unknown_command_is_named_with_the_choices(capsys: pytest.CaptureFixture[str]) -> None:
    from tracker.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(["recrod", "x.rtrk"])
    assert exit_info.value.code == 2
    assert "invalid choice: 'recrod'" in capsys.readouterr().err
