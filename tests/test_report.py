"""`reptrack report`: one self-contained HTML file showing every set and rep of a recording."""

from __future__ import annotations

import base64
import io
import re
from pathlib import Path

import pytest

from tests.brokers import RealBroker
from tests.test_plan import SHORT_PLAN, short_recording
from tracker.cli import main as reptrack
from tracker.cli.replay import replay_file

pytestmark = pytest.mark.timeout(180)


@pytest.fixture(scope="module")
def recording(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return short_recording(tmp_path_factory.mktemp("report"))


def _images(page: str) -> list[bytes]:
    return [
        base64.b64decode(m) for m in re.findall(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)
    ]


def _rows(table_html: str) -> list[list[str]]:
    return [
        re.findall(r"<td[^>]*>(.*?)</td>", row) for row in re.findall(r"<tr>(.*?)</tr>", table_html, re.S)
    ][1:]


def test_report_shows_every_set_and_rep_in_one_self_contained_file(
    recording: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from PIL import Image

    plan = tmp_path / "plan.toml"
    plan.write_text(SHORT_PLAN)
    out, figures = tmp_path / "report.html", tmp_path / "figures"
    argv = ["report", str(recording), "--out", str(out), "--png", str(figures), "--plan", str(plan)]
    assert reptrack(argv) == 0
    assert capsys.readouterr().out.startswith(f"{out}: 11 reps in 2 sets, 2 of 3 planned sets done")
    page = out.read_text()
    # self-contained: nothing fetched from elsewhere, every picture embedded
    assert not re.search(r"""(src|href)=["'](?!data:|#)""", page)
    assert "<script" not in page and "<link" not in page
    images = _images(page)
    assert len(images) == 3  # the session, then one per set
    for png in images:
        assert Image.open(io.BytesIO(png)).size[0] >= 1000
    assert sorted(p.name for p in figures.iterdir()) == ["session.png", "set-1.png", "set-2.png"]
    assert (figures / "session.png").read_bytes() == images[0]

    # the same sets and reps as `reptrack replay`, each rep's depth and tempo
    summary = replay_file(recording)
    sections = re.split(r"<h2 id='set-\d+'>", page)[1:]
    assert len(sections) == len(summary["sets"]) == 2
    for section, st in zip(sections, summary["sets"], strict=True):
        rows = _rows(section[section.index("<table>") :])
        assert [int(r[0]) for r in rows] == list(range(1, st["reps"] + 1))
        assert [r[2] for r in rows] == [f"{d['depth_deg']:.1f}°" for d in st["reps_detail"]]
        assert [r[3] for r in rows] == [f"{d['descent_s']:.2f}" for d in st["reps_detail"]]
    summary_rows = _rows(page[page.index("<h2>Summary</h2>") :].split("</table>")[0])
    assert [(r[1], r[2]) for r in summary_rows] == [("single-leg squat (left)", "5"), ("squat", "6")]

    # against the plan: what was planned, what was done, what was missed
    plan_rows = _rows(page[page.index("Against the plan: two-sets") :].split("</table>")[0])
    assert [(r[1], r[2], r[3], r[4]) for r in plan_rows] == [
        ("single-leg squat (left)", "6", "5", "done, off target"),
        ("squat", "5-8", "6", "done"),
        ("single-leg deadlift (right)", "8", "-", "missed"),
    ]


@pytest.mark.integration
def test_report_finds_the_plan_a_live_recording_was_made_with(recording: Path, tmp_path: Path) -> None:
    recorded = tmp_path / "live.rtrk"
    with RealBroker() as broker:
        argv = ["run", "--replay", str(recording), "--speed", "0", "--quiet", "--broker", broker.url]
        assert reptrack([*argv, "--plan", "builtin:runner-strength", "--record", str(recorded)]) == 0
    out = tmp_path / "live.html"
    assert reptrack(["report", str(recorded), "--out", str(out)]) == 0
    page = out.read_text()
    assert "Against the plan: runner-strength" in page
    assert "2 of 6 planned sets done" in page  # single-leg squats (left, 5 of 8-12) and squats


def test_a_file_that_is_no_recording_is_one_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "notes.csv"
    bad.write_text("hello,world\n1,2\n")
    assert reptrack(["report", str(bad), "--out", str(tmp_path / "x.html")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"reptrack report: error: {bad}") and "\n" not in err
    assert not (tmp_path / "x.html").exists()
