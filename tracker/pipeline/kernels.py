"""The compiled numeric kernels the pipeline uses, without importing ``scipy.signal``/``ndimage``.

Why: ``import scipy.signal`` costs 1.5-2 s of CPU with SciPy 1.17 (it parses the docstring of
every public function at import) and ``scipy.ndimage`` 0.5 s: more than the pipeline needs to
process an hour of data. The pipeline only needs second-order Butterworth designs, their
steady-state initial conditions, the two IIR filter loops and a running min/max. The loops are
SciPy's own compiled cores (the same code ``scipy.signal.lfilter``/``sosfilt`` and
``scipy.ndimage.maximum_filter1d`` run, so the same bits), loaded from their extension modules
without the packages' ``__init__``. The designs are the textbook bilinear-transform formulas for
a second-order Butterworth section (tests check them against ``scipy.signal.butter``).

State is passed explicitly, as with ``scipy.signal``: streaming equals batch.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import importlib.util
import math
from functools import cache
from pathlib import Path
from types import ModuleType

import numpy as np

from tracker.samples import FloatArray


@cache
def _scipy_core(package: str, name: str) -> ModuleType:
    """Load ``scipy/<package>/<name>`` (a compiled extension that needs only numpy) by itself."""
    import scipy  # the bare package is cheap; scipy.signal is what costs

    folder = Path(scipy.__path__[0]) / package
    full = f"scipy.{package}.{name}"
    for suffix in importlib.machinery.EXTENSION_SUFFIXES:
        path = folder / f"{name}{suffix}"
        if path.exists():
            loader = importlib.machinery.ExtensionFileLoader(full, str(path))
            spec = importlib.util.spec_from_file_location(full, path, loader=loader)
            if spec is None:  # pragma: no cover
                break
            module = importlib.util.module_from_spec(spec)
            loader.exec_module(module)
            return module
    return importlib.import_module(full)  # pragma: no cover - a SciPy build laid out differently


def lfilter(
    b: FloatArray, a: FloatArray, x: FloatArray, axis: int, zi: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """``scipy.signal.lfilter(b, a, x, axis, zi)`` for float64 ``b``, ``a`` (``len(a) > 1``),
    ``x`` and a ``zi`` of exactly the expected shape: the same compiled loop, without the checks."""
    out, zf = _scipy_core("signal", "_sigtools")._linear_filter(b, a, x, axis, zi)
    return out, zf


def sosfilt_rows(sos: FloatArray, x: FloatArray, zi: FloatArray) -> tuple[FloatArray, FloatArray]:
    """``scipy.signal.sosfilt(sos, x, axis=0, zi=zi)`` for float64 ``x`` of shape (n, k) and ``zi``
    of shape (sections, 2, k): the same compiled loop, without the checks."""
    rows = np.array(x.T, dtype=np.float64, order="C")  # (k, n), filtered in place
    state = np.ascontiguousarray(np.moveaxis(zi, (0, 1), (1, 2)))  # (k, sections, 2)
    _scipy_core("signal", "_sosfilt")._sosfilt(sos, rows, state)
    return rows.T, np.moveaxis(state, (1, 2), (0, 1))


def butter2_lowpass_sos(cutoff_hz: float, rate_hz: float) -> FloatArray:
    """Second-order Butterworth low-pass as one section ``[[b0, b1, b2, 1, a1, a2]]`` (bilinear
    transform with the cutoff pre-warped, as ``scipy.signal.butter(2, cutoff_hz, fs=rate_hz,
    output="sos")`` designs it)."""
    k, gain, a1, a2 = _butter2_poles(cutoff_hz, rate_hz)
    b0 = k * k * gain
    return np.array([[b0, 2.0 * b0, b0, 1.0, a1, a2]])


def butter2_highpass_ba(cutoff_hz: float, rate_hz: float) -> tuple[FloatArray, FloatArray]:
    """Second-order Butterworth high-pass ``(b, a)``, as ``scipy.signal.butter(2, cutoff_hz,
    btype="highpass", fs=rate_hz)`` designs it."""
    _k, gain, a1, a2 = _butter2_poles(cutoff_hz, rate_hz)
    return np.array([gain, -2.0 * gain, gain]), np.array([1.0, a1, a2])


def _butter2_poles(cutoff_hz: float, rate_hz: float) -> tuple[float, float, float, float]:
    if not 0.0 < cutoff_hz < rate_hz / 2.0:
        raise ValueError(f"cutoff {cutoff_hz} Hz must lie between 0 and half the rate {rate_hz} Hz")
    k = math.tan(math.pi * cutoff_hz / rate_hz)  # pre-warped analog cutoff (for fs = 1/2)
    gain = 1.0 / (1.0 + math.sqrt(2.0) * k + k * k)
    return k, gain, 2.0 * (k * k - 1.0) * gain, (1.0 - math.sqrt(2.0) * k + k * k) * gain


def lfilter_zi(b: FloatArray, a: FloatArray) -> FloatArray:
    """The state of ``lfilter`` after a long run of ones (its step response has settled)."""
    a = np.asarray(a, dtype=np.float64) / a[0]
    b = np.asarray(b, dtype=np.float64) / a[0]
    n = max(len(a), len(b))
    a = np.concatenate([a, np.zeros(n - len(a))])
    b = np.concatenate([b, np.zeros(n - len(b))])
    # zi = A zi + B with A the companion matrix of a (transposed direct form II)
    i_minus_a = np.eye(n - 1)
    i_minus_a[:, 0] += a[1:]
    i_minus_a[np.arange(n - 2), np.arange(1, n - 1)] -= 1.0
    return np.asarray(np.linalg.solve(i_minus_a, b[1:] - a[1:] * b[0]))


def sosfilt_zi(sos: FloatArray) -> FloatArray:
    """Per-section settled states of ``sosfilt`` for a step of one: shape (sections, 2)."""
    zi = np.empty((sos.shape[0], 2))
    scale = 1.0
    for s, section in enumerate(sos):
        b, a = section[:3], section[3:]
        zi[s] = scale * lfilter_zi(b, a)
        scale *= b.sum() / a.sum()  # the step response's level after this section
    return zi


REFLECT = 2  # scipy.ndimage's code for its default boundary mode ("reflect")


def running_max(x: FloatArray, size: int, origin: int) -> FloatArray:
    """``scipy.ndimage.maximum_filter1d(x, size, origin=origin)`` for a 1-D float64 ``x``."""
    out = np.empty_like(x)
    _scipy_core("ndimage", "_nd_image").min_or_max_filter1d(x, size, 0, out, REFLECT, 0.0, origin, 0)
    return out


def running_min(x: FloatArray, size: int, origin: int) -> FloatArray:
    """``scipy.ndimage.minimum_filter1d(x, size, origin=origin)`` for a 1-D float64 ``x``."""
    out = np.empty_like(x)
    _scipy_core("ndimage", "_nd_image").min_or_max_filter1d(x, size, 0, out, REFLECT, 0.0, origin, 1)
    return out
