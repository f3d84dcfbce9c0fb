"""Simulated versus real thigh signals, on the same figures (docs/simulator.md, "Realism").

Measures every cycle (rep or stride) of the real CMU thigh recordings (../shared/data/cmu-thigh,
read in place) and of simulated sessions of the same movements, with the same code
(firmware_sim.realism), and prints a Markdown table: real min-median-max, simulated
min-median-max, and whether the simulated median falls inside the real range. Writes
bench/results/realism.json.

    python bench/realism.py [--seeds N] [--data DIR]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import write_results
from firmware_sim.realism import FIGURES, REAL_FILES, real_figures, sim_figures, summarise

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "cmu-thigh"
LABELS = {
    "angle_range_deg": "thigh angle range (deg)",
    "peak_rate_dps": "peak angular rate (deg/s)",
    "acc_min_g": "min accel magnitude (g)",
    "acc_max_g": "max accel magnitude (g)",
    "acc_centroid_hz": "accel magnitude spectral centroid (Hz)",
    "acc_hf_share": "share of accel magnitude variance above 5 Hz",
    "duration_s": "cycle duration (s)",
}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", type=int, default=6, help="simulated sessions per movement (default 6)")
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    args = ap.parse_args()
    if not args.data.is_dir():
        print(f"real recordings not found at {args.data}; nothing to compare", file=sys.stderr)
        return 1
    results: dict[str, dict[str, object]] = {}
    print(
        "| movement | figure | real min / median / max | simulated min / median / max | sim median inside |"
    )
    print("| --- | --- | --- | --- | --- |")
    for movement in REAL_FILES:
        real = summarise(real_figures(args.data, movement))
        sim = summarise(sim_figures(movement, range(args.seeds)))
        results[movement] = {"real": real, "sim": sim, "inside": {}}
        for k in FIGURES:
            r, s = real[k], sim[k]
            inside = r["min"] <= s["median"] <= r["max"]
            results[movement]["inside"][k] = inside  # type: ignore[index]
            fmt = "{:.2f}" if k.startswith("acc") else "{:.0f}" if k != "duration_s" else "{:.2f}"
            rr = " / ".join(fmt.format(r[q]) for q in ("min", "median", "max"))
            ss = " / ".join(fmt.format(s[q]) for q in ("min", "median", "max"))
            print(
                f"| {movement} (n={r['n']} real, {s['n']} sim) | {LABELS[k]} | {rr} | {ss} | {'yes' if inside else 'NO'} |"
            )
    path = write_results("realism", results)
    print(f"\nwrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
