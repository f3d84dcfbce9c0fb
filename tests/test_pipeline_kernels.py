"""The pipeline's compiled kernels (tracker.pipeline.kernels) against scipy.signal / scipy.ndimage.

The filter loops are scipy's own compiled code, so their output must be bitwise the same; the
Butterworth designs are our closed form, equal to scipy's to rounding.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import ndimage, signal

from tracker.pipeline import kernels

rates = st.floats(min_value=20.0, max_value=400.0)


@settings(max_examples=60, deadline=None)
@given(rate_hz=rates, fraction=st.floats(min_value=0.002, max_value=0.45))
def test_butterworth_designs_match_scipy(rate_hz: float, fraction: float) -> None:
    cutoff = fraction * rate_hz
    np.testing.assert_allclose(
        kernels.butter2_lowpass_sos(cutoff, rate_hz),
        signal.butter(2, cutoff, fs=rate_hz, output="sos"),
        rtol=1e-12,
        atol=1e-15,
    )
    b, a = kernels.butter2_highpass_ba(cutoff, rate_hz)
    ref_b, ref_a = signal.butter(2, cutoff, btype="highpass", fs=rate_hz)
    np.testing.assert_allclose(b, ref_b, rtol=1e-12)
    np.testing.assert_allclose(a, ref_a, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(kernels.lfilter_zi(b, a), signal.lfilter_zi(ref_b, ref_a), rtol=1e-11)
    sos = signal.butter(2, cutoff, fs=rate_hz, output="sos")
    np.testing.assert_allclose(kernels.sosfilt_zi(sos), signal.sosfilt_zi(sos), rtol=1e-11, atol=1e-15)


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 300), seed=st.integers(0, 2**31), split=st.integers(0, 300))
def test_filter_loops_are_scipys_bit_for_bit(n: int, seed: int, split: int) -> None:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3)) * 100
    sos = signal.butter(2, 2.0, fs=100.0, output="sos")
    zi = signal.sosfilt_zi(sos)[:, :, None] * x[0][None, None, :]
    want, want_z = signal.sosfilt(sos, x, axis=0, zi=zi)
    k = min(split, n)  # in two parts, the state carried: the same bits as in one
    head, z = kernels.sosfilt_rows(sos, x[:k], zi)
    tail, got_z = kernels.sosfilt_rows(sos, x[k:], z)
    assert np.array_equal(np.concatenate([head, tail]), want) and np.array_equal(got_z, want_z)
    b, a = signal.butter(2, 0.3, btype="highpass", fs=100.0)
    zi2 = signal.lfilter_zi(b, a)[:, None] * x[0, :2][None, :]
    want2, want2_z = signal.lfilter(b, a, x[:, :2], axis=0, zi=zi2)
    got2, got2_z = kernels.lfilter(b, a, x[:, :2], 0, zi2)
    assert np.array_equal(got2, want2) and np.array_equal(got2_z, want2_z)
    one, lag = np.array([1.0]), np.array([1.0, -0.93])
    want3, want3_z = signal.lfilter(one, lag, x[:, :2], axis=0, zi=np.zeros((1, 2)))
    got3, got3_z = kernels.lfilter(one, lag, x[:, :2], 0, np.zeros((1, 2)))
    assert np.array_equal(got3, want3) and np.array_equal(got3_z, want3_z)


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 200), w=st.integers(1, 60), seed=st.integers(0, 2**31))
def test_running_extremes_are_ndimages(n: int, w: int, seed: int) -> None:
    x = np.random.default_rng(seed).normal(size=n)
    origin = (w - 1) // 2
    assert np.array_equal(kernels.running_max(x, w, origin), ndimage.maximum_filter1d(x, w, origin=origin))
    assert np.array_equal(kernels.running_min(x, w, origin), ndimage.minimum_filter1d(x, w, origin=origin))


@pytest.mark.process  # a child Python: the only way to see what a fresh process imports
def test_the_pipeline_runs_without_importing_scipy_signal_or_ndimage() -> None:
    code = (
        "import sys, numpy as np\n"
        "from tracker.pipeline import Pipeline\n"
        "from tracker.samples import Samples\n"
        "t = np.arange(3000) / 100.0\n"
        "a = np.column_stack([np.sin(t) * 0.5, 0 * t, np.cos(t) * 0.5 + 0.5])\n"
        "p = Pipeline(); p.feed(Samples.from_arrays(t, a, np.zeros((3000, 3)))); p.finish()\n"
        "print(sorted(m for m in ('scipy.signal', 'scipy.ndimage') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.floats(0.0, 0.2, allow_nan=False) | st.sampled_from([0.01, 0.04, float("nan"), float("inf")]),
        min_size=0,
        max_size=60,
    )
)
def test_the_naming_features_median_interval_is_numpys_median_bit_for_bit(steps: list[float]) -> None:
    # rep_physics' fast median (tracker/pipeline/naming.py) must not change a single rep's name
    from tracker.pipeline.naming import median_step

    t = np.concatenate([[0.0], np.cumsum(steps)]) if steps else np.zeros(1)
    with np.errstate(invalid="ignore"):  # (inf - inf in the steps)
        want = float(np.median(np.diff(t))) if len(t) > 1 else 0.0
        got = median_step(t)
    assert got == want or (np.isnan(got) and np.isnan(want))
