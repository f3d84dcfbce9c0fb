"""Plain decimal CSV rows parsed with whole-array operations, bit for bit what ``float`` gives.

A streamed replay of a generic CSV spends most of its reading time turning text into numbers;
numpy's ``loadtxt`` costs about 0.25 us a cell. Machine-written IMU logs hold only plain decimals
(``-0.98758``, ``3617.790``), and those can be converted without a per-cell parser: every cell is
read as the 8 or 16 bytes before its separator, taken as 64-bit words; the bytes are classified
(digit, ``.``, ``-``) and the digits combined into an integer with a few multiplications per word
(the "SWAR" technique: SIMD within a register), all as numpy operations over every cell at once.

Exactness: a cell of at most 16 characters whose digits make an integer ``m < 2**53`` is ``m``
over ``10**d`` (``d <= 15``). Both are exact doubles, and IEEE division rounds their quotient correctly, which is
also what ``float(text)`` (correct rounding) gives; a minus sign negates it (``-0.000`` is ``-0.0``).

:func:`parse_plain_rows` returns None for anything else (an exponent, ``nan``, spaces, ``\\r``,
quotes, a ``+`` sign, empty or ragged rows, longer numbers): the caller then uses ``np.loadtxt``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

_U = np.uint64
_ONES = _U(0x0101010101010101)
_HIGH = _U(0x8080808080808080)
_ZEROS = _U(0x3030303030303030)  # eight '0' characters
_PAD = 16
_POW10_INT = np.array([10**k for k in range(17)], dtype=np.uint64)
_POW10 = np.array([10.0**k for k in range(17)])
_EXACT = _U(1 << 53)
BATCH_ROWS = 4096


def _tables() -> dict[str, npt.NDArray[np.uint64]]:
    """Per cell length (0-16), for the word of a cell's last 8 bytes ("hi") and the 8 before
    ("lo"): which bytes are the cell's (0xFF), and where its first byte is (0x01 there, if in it)."""
    keep_hi, keep_lo, first_hi, first_lo = [], [], [], []
    for n in range(17):
        out_hi, out_lo = max(8 - n, 0), min(max(16 - n, 0), 8)
        keep_hi.append(0 if out_hi >= 8 else ~((1 << (8 * out_hi)) - 1) & (2**64 - 1))
        keep_lo.append(0 if out_lo >= 8 else ~((1 << (8 * out_lo)) - 1) & (2**64 - 1))
        first_hi.append(1 << (8 * out_hi) if 1 <= n <= 8 else 0)
        first_lo.append(1 << (8 * out_lo) if n > 8 else 0)
    return {k: np.array(v, dtype=np.uint64) for k, v in locals().items() if k.startswith(("keep", "first"))}


_T = _tables()


def _word(raw: Any, keep: Any) -> tuple[Any, Any, Any, Any, Any]:
    """One word of each cell (``keep``: its bytes), the bytes outside taken as leading '0's.

    Returns (the word's digits as a number, the digit bytes of the cell (0x01 each), its '.' and
    '-' bytes (0x01), and whether every byte is a digit, '.' or '-')."""
    w = (raw & keep) | (_ZEROS & ~keep)
    # every byte in '-' (0x2D) .. '9' (0x39): its high bit set by + (0x80 - 0x2D), not by + (0x80 - 0x3A)
    ok = ((w + _U(0x53) * _ONES) & ~(w + _U(0x46) * _ONES) & _HIGH) == _HIGH
    digit = (w >> _U(4)) & _ONES  # 0x3X: digits; 0x2D '-', 0x2E '.', 0x2F '/'
    other = digit ^ _ONES
    low, second = w & _ONES, (w >> _U(1)) & _ONES
    ok &= (other & low & second) == 0  # no '/'
    dot = other & second & ~low
    minus = other & low & ~second
    d = w & (digit * _U(0x0F))
    # the 8 digits (first character lowest) combined: pairs, quads, all eight
    d = (d * _U(10) + (d >> _U(8))) & _U(0x00FF00FF00FF00FF)
    d = (d * _U(100) + (d >> _U(16))) & _U(0x0000FFFF0000FFFF)
    d = (d * _U(10000) + (d >> _U(32))) & _U(0xFFFFFFFF)
    return d, digit & keep, dot, minus, ok


def _byte_of(bit: Any) -> Any:
    """Which byte (0-7) holds the one bit ``0x01 << 8 k`` of each word (k; any value for 0): a
    power of two converts to a double exactly, and ``frexp`` gives its exponent 8 k + 1."""
    return np.frexp(bit.astype(np.float64))[1] // 8


def parse_plain_rows(data: bytes, width: int) -> npt.NDArray[np.float64] | None:
    """The rows of ``data`` (whole lines, each ending in ``\\n``, ``width`` comma-separated plain
    decimals) as a (rows, width) float array; None when any cell or line is not that plain."""
    if not data or data[-1:] != b"\n" or width < 1:
        return None
    buf = np.frombuffer(b"\n" * _PAD + data, np.uint8)
    if bool((buf >= 0x80).any()):
        return None
    cut = np.flatnonzero(buf <= 0x2C)  # ',' is 0x2C; '\n' and every other byte that is no number
    kind = buf[cut]
    newline = kind == 0x0A
    if not bool((newline | (kind == 0x2C)).all()):
        return None  # spaces, tabs, '\r', quotes, '+', '#'
    cut, newline = cut[_PAD - 1 :], newline[_PAD:]  # the last padding newline opens the first cell
    ends = cut[1:]
    rows = int(np.count_nonzero(newline))
    if ends.size != rows * width or rows == 0:
        return None
    if not bool(newline[width - 1 :: width].all()):
        return None  # a row with more or fewer cells
    lens = ends - cut[:-1] - 1
    if int(lens.min()) < 1 or int(lens.max()) > 16:
        return None
    words = np.ndarray((buf.size - 7,), dtype="<u8", buffer=buf, offset=0, strides=(1,))
    out = np.empty(ends.size)
    step = width * BATCH_ROWS  # cells at a time: their temporaries stay small (and in cache)
    for k in range(0, ends.size, step):
        if not _cells(words, ends[k : k + step], lens[k : k + step], out[k : k + step]):
            return None
    return out.reshape(rows, width)


def _cells(
    words: Any, ends: npt.NDArray[np.intp], lens: npt.NDArray[np.intp], out: npt.NDArray[np.float64]
) -> bool:
    """Parse the cells ending at ``ends`` (``lens`` bytes long, 1-16) into ``out``; False when one
    is not a plain decimal whose digits make an integer below 2**53."""
    value, digit, dot, minus, ok = _word(words[ends - 8], _T["keep_hi"][lens])
    ok &= (minus == 0) | (minus == _T["first_hi"][lens])  # (none in this word if the cell is longer)
    dec = 7 - _byte_of(dot)
    wide = np.flatnonzero(lens > 8)  # the few cells of 9-16 bytes: their 8 bytes before, too
    if wide.size:
        n = lens[wide]
        lo_value, lo_digit, lo_dot, lo_minus, lo_ok = _word(words[ends[wide] - 16], _T["keep_lo"][n])
        ok[wide] &= (
            lo_ok & ((lo_minus == 0) | (lo_minus == _T["first_lo"][n])) & ((lo_dot == 0) | (dot[wide] == 0))
        )
        dec[wide] = np.where(lo_dot != 0, 15 - _byte_of(lo_dot), dec[wide])
        dot[wide] |= lo_dot
        digit[wide] |= lo_digit
        minus[wide] |= lo_minus
        value[wide] += lo_value * _U(100_000_000)
    ok &= (digit != 0) & ((dot & (dot - _U(1))) == 0)  # a digit; at most one '.'
    if not bool(ok.all()):
        return False
    with_dot = dot != 0
    dec = np.where(with_dot, dec, 0).astype(np.intp)
    p = _POW10_INT[dec]
    mant = np.where(with_dot, (value // (p * _U(10))) * p + value % p, value)
    if not bool((mant < _EXACT).all()):
        return False
    np.divide(mant.astype(np.float64), _POW10[dec], out=out)
    np.negative(out, out=out, where=minus != 0)
    return True
