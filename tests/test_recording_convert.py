"""`reptrack convert`: what a user runs to move recordings between formats."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.paths import CMU_THIGH_DIR
from tracker.cli import main
from tracker.io.load import load_session
from tracker.io.native import RecordingReader, RecordingWriter
from tracker.io.session import RecordingMeta
from tracker.protocol import Packetizer

CMU = CMU_THIGH_DIR


def _csv(path: Path) -> Path:
    t = (np.arange(300) / 100.0).tolist()
    rows = [f"{ti!r},{0.1 * np.sin(ti).item()!r},0.0,{1.0 - 0.01 * ti!r},0.5,{-3.0 * ti!r},0.25" for ti in t]
    path.write_text("# device_id: dev-1\nt,ax,ay,az,gx,gy,gz\n" + "\n".join(rows) + "\n")
    return path


def test_csv_to_native_to_csv_through_the_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = _csv(tmp_path / "in.csv")
    assert main(["convert", str(src), str(tmp_path / "a.rtrk")]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert out == [
        f"wrote {tmp_path / 'a.rtrk'} (native recording): 300 samples, 2.99 s, accel+gyro, from csv {src}"
    ]
    assert main(["convert", str(tmp_path / "a.rtrk"), str(tmp_path / "b.csv")]) == 0
    assert "300 samples" in capsys.readouterr().out
    a, b = load_session(src), load_session(tmp_path / "b.csv")
    np.testing.assert_array_equal(a.samples.t_s, b.samples.t_s)
    np.testing.assert_array_equal(a.samples.accel_g, b.samples.accel_g)
    np.testing.assert_array_equal(a.samples.gyro_dps, b.samples.gyro_dps)
    assert b.meta.device_id == "dev-1"


def test_native_to_native_keeps_packets_byte_for_byte(tmp_path: Path) -> None:
    t = np.arange(200)
    packets = Packetizer().encode(t * 10_000, np.tile([0.0, 0.0, 1.0], (200, 1)), np.zeros((200, 3)))
    with RecordingWriter.create(tmp_path / "a.rtrk", RecordingMeta(device_id="s1")) as w:
        w.write_packets(packets[:10], [float(i) for i in range(10)])
        w.write_note("disconnect")
        w.write_packets(packets[12:])
    assert main(["convert", str(tmp_path / "a.rtrk"), str(tmp_path / "b.rtrk")]) == 0
    a, b = RecordingReader.open(tmp_path / "a.rtrk"), RecordingReader.open(tmp_path / "b.rtrk")
    assert a.data == b.data[: len(a.data)] or [type(r) for r in a.records] == [type(r) for r in b.records]
    assert [getattr(r, "packets", None) for r in a.records] == [
        getattr(r, "packets", None) for r in b.records
    ]
    assert load_session(tmp_path / "b.rtrk").notices[0].kind == "gap"


def test_user_errors_are_one_line_without_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = _csv(tmp_path / "in.csv")
    assert main(["convert", str(src), str(tmp_path / "out.txt")]) == 2
    assert "must end in .rtrk" in capsys.readouterr().err
    (tmp_path / "exists.csv").write_text("x")
    assert main(["convert", str(src), str(tmp_path / "exists.csv")]) == 2
    assert "--force" in capsys.readouterr().err
    assert main(["convert", str(src), str(tmp_path / "exists.csv"), "--force"]) == 0
    ms2 = tmp_path / "ms2.csv"
    ms2.write_text("t,ax,ay,az\n" + "\n".join(f"{i / 100},0,0,9.81" for i in range(100)) + "\n")
    assert main(["convert", str(ms2), str(tmp_path / "x.rtrk")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(ms2) in err and "--accel-unit m/s2" in err and "Traceback" not in err
    assert main(["convert", str(ms2), str(tmp_path / "x.rtrk"), "--accel-unit", "m/s2"]) == 0
    assert not (tmp_path / "nothing.rtrk").exists()


@pytest.mark.skipif(not CMU.is_dir(), reason=f"real recordings not found at {CMU}")
def test_converts_a_real_recording(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = CMU / "SqDL_LeftThigh.csv"
    assert main(["convert", str(src), str(tmp_path / "sq.rtrk")]) == 0
    assert "1741 samples, 17.40 s" in capsys.readouterr().out
    np.testing.assert_array_equal(
        load_session(tmp_path / "sq.rtrk").samples.accel_g, load_session(src).samples.accel_g
    )
