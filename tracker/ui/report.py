"""The session report: one self-contained HTML file of a recording (docs/report.md).

The recording goes through the same pipeline as ``reptrack replay``; the thigh angle drawn is the
pipeline's own orientation stage run over the whole session with the mounting the pipeline found
(or the calibration's), so the curve and the reps marked on it come from one measurement. With a
plan (``--plan``, or the one ``reptrack run --plan --record`` noted in the recording), the sets
are followed against it exactly as live (:class:`tracker.plan.PlanFollower`). Figures are drawn
by matplotlib (its object API, no pyplot state) and embedded as PNG.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from tracker.errors import UserError
from tracker.events import Event, SetEvent, WobbleEvent
from tracker.plan import Plan, PlanFollower, exercise_title, load_plan
from tracker.samples import FloatArray, Samples

SET_COLOURS = ("#2b6cb0", "#c05621", "#2f855a", "#6b46c1", "#b83280", "#2c7a7b", "#975a16", "#4a5568")
DPI = 96


@dataclass
class SessionAnalysis:
    """A recording with everything the report shows."""

    source: str
    meta: Any
    duration_s: float
    sets: list[SetEvent]
    balance_losses: list[WobbleEvent]
    t_s: FloatArray
    pitch_deg: FloatArray
    plan: Plan | None = None
    plan_progress: dict[str, Any] | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def total_reps(self) -> int:
        return sum(len(s.reps) for s in self.sets)


def thigh_pitch(samples: Samples, pipeline: Any) -> tuple[FloatArray, FloatArray]:
    """The thigh angle over the whole session, from the pipeline's own orientation stage with the
    mounting it ended up with (empty when it never found one: a recording too short or too still)."""
    from tracker.pipeline.core import thigh_frame
    from tracker.pipeline.orientation import OrientationFilter

    rot = pipeline.R_thigh_from_sensor
    if rot is None or pipeline.rate_hz is None or len(samples) == 0:
        return np.zeros(0), np.zeros(0)
    if pipeline.calibration is not None:
        samples = pipeline.calibration(samples)
    thigh = thigh_frame(samples, rot)
    roll_sign = -1.0 if pipeline.sensor_leg == "right" else 1.0
    angles = OrientationFilter(pipeline.config, pipeline.rate_hz, roll_sign).feed(thigh)
    return angles.t_s, angles.pitch_deg


def analyse(
    path: Path,
    *,
    plan: str | None = None,
    calibration: Path | None = None,
    accel_unit: str = "g",
    gyro_unit: str = "deg/s",
) -> SessionAnalysis:
    """Run the pipeline over ``path`` and gather what the report shows."""
    from tracker.cli.replay import calibration_for
    from tracker.io.load import load_session
    from tracker.pipeline import Pipeline

    if not path.exists():
        raise UserError(f"{path}: no such file")
    session = load_session(path, accel_unit=accel_unit, gyro_unit=gyro_unit)
    cal, note = calibration_for(session.meta, calibration)
    pipeline = Pipeline(calibration=cal, sensor_leg=session.meta.sensor_leg)
    events: list[Event] = pipeline.feed(session.samples) + pipeline.finish()
    warnings = list(session.warnings) + ([note] if note else [])
    plan_spec = plan or session.meta.extra.get("plan")
    the_plan: Plan | None = None
    progress = None
    if plan_spec:
        try:
            the_plan = load_plan(str(plan_spec))
        except UserError as exc:
            if plan:
                raise
            warnings.append(f"the recording names the plan {plan_spec!r}, which cannot be read: {exc}")
    if the_plan is not None:
        follower = PlanFollower(the_plan)
        events = follower.follow_all(events)
        follower.finish()
        progress = follower.progress()
    t_s, pitch = thigh_pitch(session.samples, pipeline)
    return SessionAnalysis(
        source=str(path),
        meta=session.meta,
        duration_s=session.samples.duration_s,
        sets=sorted((e for e in events if isinstance(e, SetEvent)), key=lambda s: s.index),
        balance_losses=[e for e in events if isinstance(e, WobbleEvent) and e.balance_loss],
        t_s=t_s,
        pitch_deg=pitch,
        plan=the_plan,
        plan_progress=progress,
        warnings=warnings,
    )


# --- figures ---------------------------------------------------------------------------------


def _set_name(s: SetEvent) -> str:
    return exercise_title(s.exercise, s.leg)


def session_figure(an: SessionAnalysis) -> Figure:
    """The thigh angle over the session, each set shaded and numbered, each rep's bottom marked."""
    fig = Figure(figsize=(12, 3.8), dpi=DPI, layout="constrained")
    ax = fig.add_subplot()
    ax.plot(an.t_s, an.pitch_deg, color="#4a5568", lw=0.6, label="thigh angle")
    top = float(np.nanmax(an.pitch_deg)) if an.pitch_deg.size else 90.0
    for s in an.sets:
        colour = SET_COLOURS[(s.index - 1) % len(SET_COLOURS)]
        ax.axvspan(s.start_s, s.end_s, color=colour, alpha=0.15, lw=0)
        ax.text((s.start_s + s.end_s) / 2, top + 8, str(s.index), ha="center", color=colour, weight="bold")
        bottoms = [r.t_bottom_s for r in s.reps]
        ax.plot(bottoms, _pitch_at(an, bottoms), "v", color=colour, ms=5)
    for b in an.balance_losses:
        ax.plot([b.t_s], _pitch_at(an, [b.t_s]), "x", color="#e53e3e", ms=9, mew=2)
    ax.set_xlim(0, max(an.duration_s, 1.0))
    ax.set_ylim(min(-40.0, float(np.nanmin(an.pitch_deg)) - 5 if an.pitch_deg.size else -40.0), top + 18)
    ax.set_xlabel("session time (s)")
    ax.set_ylabel("thigh angle from vertical (deg)")
    ax.set_title(
        "Thigh angle over the session: sets shaded and numbered, ▼ each rep's bottom, ✕ balance losses"
    )
    ax.grid(alpha=0.3)
    return fig


def _pitch_at(an: SessionAnalysis, times: Iterable[float]) -> FloatArray:
    t = np.asarray(list(times), dtype=float)
    if not an.t_s.size:
        return np.zeros(len(t))
    return np.interp(t, an.t_s, an.pitch_deg)


def set_figure(an: SessionAnalysis, s: SetEvent) -> Figure:
    """One set: the thigh angle with each rep numbered; depth, tempo and wobble per rep."""
    colour = SET_COLOURS[(s.index - 1) % len(SET_COLOURS)]
    fig = Figure(figsize=(11, 5.2), dpi=DPI, layout="constrained")
    grid = fig.add_gridspec(2, 3, height_ratios=(1.1, 1))
    ax = fig.add_subplot(grid[0, :])
    lo, hi = s.start_s - 4.0, s.end_s + 4.0
    window = (an.t_s >= lo) & (an.t_s <= hi)
    ax.plot(an.t_s[window], an.pitch_deg[window], color="#4a5568", lw=0.9)
    for r in s.reps:
        ax.axvspan(r.t_start_s, r.t_end_s, color=colour, alpha=0.12, lw=0)
        y = float(_pitch_at(an, [r.t_bottom_s])[0])
        ax.annotate(
            str(r.n),
            (r.t_bottom_s, y),
            xytext=(0, 6),
            textcoords="offset points",
            ha="center",
            color=colour,
            weight="bold",
        )
    for b in an.balance_losses:
        if lo <= b.t_s <= hi:
            ax.plot([b.t_s], _pitch_at(an, [b.t_s]), "x", color="#e53e3e", ms=10, mew=2)
    ax.set_xlim(lo, hi)
    ax.margins(y=0.18)
    ax.set_ylabel("thigh angle (deg)")
    ax.set_xlabel("session time (s)")
    ax.grid(alpha=0.3)
    n = [r.n for r in s.reps]
    ax_depth = fig.add_subplot(grid[1, 0])
    ax_depth.bar(n, [r.depth_deg for r in s.reps], color=colour)
    ax_depth.set_title("depth per rep (deg)", fontsize=10)
    ax_tempo = fig.add_subplot(grid[1, 1])
    down = np.array([r.descent_s for r in s.reps])
    hold = np.array([r.bottom_s for r in s.reps])
    up = np.array([r.ascent_s for r in s.reps])
    ax_tempo.bar(n, down, color="#3182ce", label="down")
    ax_tempo.bar(n, hold, bottom=down, color="#a0aec0", label="hold")
    ax_tempo.bar(n, up, bottom=down + hold, color="#dd6b20", label="up")
    ax_tempo.set_title("tempo per rep (s)", fontsize=10)
    ax_tempo.set_ylim(0, 1.35 * float(np.max(down + hold + up)) if len(n) else 1.0)
    ax_tempo.legend(fontsize=8, ncols=3, loc="upper center")
    ax_wob = fig.add_subplot(grid[1, 2])
    wob = [np.nan if not r.wobble else r.wobble.get("rms_deg", np.nan) for r in s.reps]
    ax_wob.plot(n, wob, "o-", color=colour)
    ax_wob.set_ylim(bottom=0)
    ax_wob.set_title("wobble per rep (sway RMS, deg)", fontsize=10)
    for a in (ax_depth, ax_tempo, ax_wob):
        a.set_xlabel("rep")
        a.set_xticks(n)
        a.grid(alpha=0.3, axis="y")
    return fig


def png_bytes(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI)
    return buf.getvalue()


# --- the HTML --------------------------------------------------------------------------------

CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; margin: 0 auto;
       max-width: 1180px; padding: 16px; color: #1a202c; }
h1 { margin-bottom: 4px; } h2 { margin-top: 36px; border-bottom: 2px solid #e2e8f0; padding-bottom: 4px; }
.meta { color: #4a5568; margin-top: 0; }
table { border-collapse: collapse; margin: 8px 0 16px; font-variant-numeric: tabular-nums; }
th, td { padding: 4px 10px; border-bottom: 1px solid #e2e8f0; text-align: right; }
th:first-child, td:first-child, td.text, th.text { text-align: left; }
th { background: #f7fafc; }
img { max-width: 100%; height: auto; }
.done { color: #2f855a; } .missed, .loss { color: #c53030; } .offplan { color: #b7791f; }
.note { color: #4a5568; font-size: 0.9em; }
.warn { background: #fffbeb; border-left: 4px solid #d69e2e; padding: 6px 10px; }
"""


def _fmt(value: Any, digits: int = 1, unit: str = "") -> str:
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return "-"
    return f"{value:.{digits}f}{unit}"


def _table(head: list[str], rows: Iterable[list[str]], text_cols: int = 1) -> str:
    """An HTML table; cells are escaped here, so callers pass plain text."""

    def cell(tag: str, i: int, v: str) -> str:
        cls = ' class="text"' if i < text_cols else ""
        return f"<{tag}{cls}>{html.escape(v)}</{tag}>"

    out = ["<table><tr>" + "".join(cell("th", i, h) for i, h in enumerate(head)) + "</tr>"]
    out += ["<tr>" + "".join(cell("td", i, v) for i, v in enumerate(r)) + "</tr>" for r in rows]
    return "\n".join(out) + "</table>"


def _img(png: bytes, alt: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    return f'<img src="data:image/png;base64,{data}" alt="{html.escape(alt)}">'


def _mean(values: Iterable[float]) -> float | None:
    vals = [v for v in values if v is not None and np.isfinite(v)]
    return float(np.mean(vals)) if vals else None


def _losses_in(an: SessionAnalysis, s: SetEvent) -> int:
    return sum(1 for b in an.balance_losses if b.set_index == s.index)


def summary_table(an: SessionAnalysis) -> str:
    rows = []
    for s in an.sets:
        r = s.reps
        rows.append(
            [
                str(s.index),
                _set_name(s),
                str(len(r)),
                f"{s.start_s:.0f}-{s.end_s:.0f} s",
                _fmt(_mean(x.depth_deg for x in r), 0, "°"),
                "/".join(
                    _fmt(_mean(getattr(x, k) for x in r)) for k in ("descent_s", "bottom_s", "ascent_s")
                ),
                _fmt(_mean(x.duration_s for x in r), 1, " s"),
                _fmt((s.wobble or {}).get("rms_deg"), 1, "°"),
                str(_losses_in(an, s)),
            ]
        )
    head = [
        "set",
        "exercise",
        "reps",
        "time",
        "mean depth",
        "tempo down/hold/up s",
        "rep time",
        "wobble",
        "balance losses",
    ]
    return _table(head, rows, text_cols=2)


def reps_table(s: SetEvent) -> str:
    rows = [
        [
            str(r.n),
            f"{r.t_start_s:.1f} s",
            _fmt(r.depth_deg, 1, "°"),
            _fmt(r.descent_s, 2),
            _fmt(r.bottom_s, 2),
            _fmt(r.ascent_s, 2),
            _fmt(r.duration_s, 2, " s"),
            _fmt(r.peak_velocity_dps, 0, "°/s"),
            _fmt((r.wobble or {}).get("rms_deg"), 2, "°"),
            _fmt((r.wobble or {}).get("ml_rms_deg"), 2, "°"),
        ]
        for r in s.reps
    ]
    head = [
        "rep",
        "start",
        "depth",
        "down s",
        "hold s",
        "up s",
        "duration",
        "peak speed",
        "wobble",
        "side-to-side",
    ]
    return _table(head, rows)


def plan_section(an: SessionAnalysis) -> str:
    """The session against its plan: each planned set's target, what was done, and sets off-plan."""
    progress = an.plan_progress
    if progress is None or an.plan is None:
        return ""
    rows = []
    for e in progress["sets"]:
        named = e["named_by"] or "-"
        if named == "plan":
            named = f"plan (detector unsure: {exercise_title(e['detected_exercise'], e['detected_leg'])})"
        rows.append(
            [
                str(e["number"]),
                exercise_title(e["exercise"], e["leg"]),
                e["target"],
                "-" if e["status"] == "missed" else str(e["reps"]),
                e["status"] + ("" if e["status"] != "done" or e["on_target"] else ", off target"),
                "-" if e["set_index"] is None else str(e["set_index"]),
                named,
            ]
        )
    parts = [
        f"<h2>Against the plan: {html.escape(an.plan.name)}</h2>",
        f"<p class='meta'>{progress['sets_done']} of {progress['sets_total']} planned sets done. "
        f"{html.escape(an.plan.description)}</p>",
        _table(["planned", "exercise", "target", "reps", "status", "detected set", "named by"], rows, 2),
    ]
    if progress["off_plan"]:
        off = [
            [str(o["set_index"]), exercise_title(o["exercise"], o["leg"]), str(o["reps"])]
            for o in progress["off_plan"]
        ]
        parts += [
            "<p class='offplan'>Sets done off the plan:</p>",
            _table(["set", "exercise", "reps"], off, 2),
        ]
    if progress["untracked"]:
        core = ", ".join(f"{exercise_title(u['exercise'])} {u['target']}" for u in progress["untracked"])
        parts.append(
            f"<p class='note'>Also planned, not counted by the thigh sensor: {html.escape(core)}.</p>"
        )
    return "\n".join(parts)


def render_html(an: SessionAnalysis, figures: dict[str, bytes]) -> str:
    name = Path(an.source).name
    meta = an.meta
    facts = [
        f"{an.duration_s / 60:.1f} min",
        f"{an.total_reps} reps in {len(an.sets)} sets",
        f"{len(an.balance_losses)} balance losses",
    ]
    if getattr(meta, "start_time", ""):
        facts.insert(0, f"recorded {meta.start_time}")
    if getattr(meta, "sensor_leg", "unknown") in ("left", "right"):
        facts.append(f"sensor on the {meta.sensor_leg} thigh")
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        f"<title>RepTrack session report: {html.escape(name)}</title><style>{CSS}</style></head><body>",
        f"<h1>Session report: {html.escape(name)}</h1>",
        f"<p class='meta'>{html.escape(' · '.join(facts))}</p>",
    ]
    parts += [f"<p class='warn'>{html.escape(w)}</p>" for w in an.warnings]
    parts += ["<h2>Summary</h2>", summary_table(an) if an.sets else "<p>No sets found.</p>"]
    parts.append(plan_section(an))
    if "session" in figures:
        parts += ["<h2>The session</h2>", _img(figures["session"], "thigh angle over the session")]
    for s in an.sets:
        title = f"Set {s.index}: {_set_name(s)}, {len(s.reps)} reps"
        parts += [f"<h2 id='set-{s.index}'>{html.escape(title)}</h2>"]
        if f"set-{s.index}" in figures:
            parts.append(_img(figures[f"set-{s.index}"], title))
        parts.append(reps_table(s))
    if an.balance_losses:
        rows = [[f"{b.t_s:.1f} s", str(b.set_index), _fmt(b.level, 2, " g")] for b in an.balance_losses]
        parts += ["<h2>Balance losses</h2>", _table(["time", "set", "jolt"], rows)]
    parts.append(
        "<p class='note'>Depth: the thigh's flexion from the still moment before the rep. Tempo: seconds "
        "down, held at the bottom, up. Wobble: RMS of the thigh's sway above 1 Hz (docs/pipeline.md). "
        "A balance loss: the free foot touching down in single-leg work. Made by RepTrack "
        "<code>reptrack report</code>.</p></body></html>"
    )
    return "\n".join(parts)


def figures_of(an: SessionAnalysis) -> dict[str, bytes]:
    """Every figure of the report as PNG: ``session`` and ``set-N``."""
    if not an.t_s.size:
        return {}
    out = {"session": png_bytes(session_figure(an))}
    for s in an.sets:
        out[f"set-{s.index}"] = png_bytes(set_figure(an, s))
    return out


def write_report(an: SessionAnalysis, out: Path, png_dir: Path | None = None) -> list[Path]:
    """Write the HTML (and the figures as PNG files into ``png_dir``); returns the files written."""
    figures = figures_of(an)
    written = []
    try:
        out.write_text(render_html(an, figures), encoding="utf-8")
        written.append(out)
        if png_dir is not None:
            png_dir.mkdir(parents=True, exist_ok=True)
            for key, png in figures.items():
                path = png_dir / f"{key}.png"
                path.write_bytes(png)
                written.append(path)
    except OSError as exc:
        raise UserError(f"cannot write the report: {exc}") from None
    return written
