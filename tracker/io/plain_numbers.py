"""Plain decimal CSV rows parsed with whole-array operations, bit for bit what ``float`` gives.

A streamed replay of a generic CSV spends most of its reading time turning text into numbers;
numpy's ``loadtxt`` costs about 0.25 us a cell. Machine-written IMU logs hold only plain decimals
(``-0.98758``, ``3617.790``), and those can be converted without a per-cell parser: every cell is
read as the 8 or 16 bytes before its separator, taken as 64-bit words; the bytes are classified
(digit, ``.``, ``-``) and the digits combined into an integer with a few multiplications per word
(the "SWAR" technique: SIMD within a register), all as numpy operations over every cell at once.

Exactness: a cell of at most 15 significant digits is an integer ``m < 2**53`` over ``10**d``
(``d <= 15``). Both are exact doubles, and IEEE division rounds their quotient correctly, which is
also what ``float(text)`` (correct rounding) gives; a minus sign negates it (``-0.000`` is ``-0.0``).

:func:`parse_plain_rows` returns None for anything else (an exponent, ``nan``, spaces, ``\\r``,
quotes, a ``+`` sign, empty or ragged rows, longer numbers): the caller then uses ``np.loadtxt``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

_ONES = np.uint64(0x0101010101010101)
_HIGH = np.uint64(0x8080808080808080)
_LOW7 = np.uint64(0x7F7F7F7F7F7F7F7F)
_PAD = 16
_POW10_INT = np.array([10**k for k in range(17)], dtype=np.uint64)
_POW10 = np.array([10.0**k for k in range(17)])
_EXACT = np.uint64(1 << 53)
BATCH_ROWS = 4096


def _zero_bytes(v: Any) -> Any:
    """The high bit of every byte of ``v`` that is zero (exact, no borrow between bytes)."""
    return ~(((v & _LOW7) + _LOW7) | v) & _HIGH


def _byte_of(bit: Any) -> Any:
    """Which byte (0-7) holds the one high bit ``0x80 << 8 k`` of each word (k; any value for 0):
    a power of two converts to a double exactly, and ``frexp`` gives its exponent 8 k + 8."""
    return np.frexp(bit.astype(np.float64))[1] // 8 - 1


def _word(words: Any, at: npt.NDArray[np.intp], outside: npt.NDArray[np.intp]) -> tuple[Any, ...]:
    """The 8 bytes starting at ``at`` as a little-endian word, with its ``outside`` lowest bytes
    (not part of the cell) zeroed; returns (digit value of the word's digits, the high bit of its
    digit / dot / minus / cell bytes)."""
    w = words[at]
    shift = (np.minimum(outside, 7) * 8).astype(np.uint64)
    keep = np.where(outside >= 8, np.uint64(0), ~((np.uint64(1) << shift) - np.uint64(1)))
    w &= keep
    digit = ((w + np.uint64(0x50) * _ONES) & ~(w + np.uint64(0x46) * _ONES)) & _HIGH  # '0' <= b <= '9'
    dot = _zero_bytes(w ^ (np.uint64(0x2E) * _ONES))
    minus = _zero_bytes(w ^ (np.uint64(0x2D) * _ONES))
    cell = keep & _HIGH
    digit_bytes = (digit >> np.uint64(7)) * np.uint64(0xFF)
    d = (w & digit_bytes) - ((np.uint64(0x30) * _ONES) & digit_bytes)
    # combine the 8 digit bytes (first character lowest) into one number: pairs, quads, all eight
    d = (d * np.uint64(10) + (d >> np.uint64(8))) & np.uint64(0x00FF00FF00FF00FF)
    d = (d * np.uint64(100) + (d >> np.uint64(16))) & np.uint64(0x0000FFFF0000FFFF)
    d = (d * np.uint64(10000) + (d >> np.uint64(32))) & np.uint64(0xFFFFFFFF)
    return d, digit, dot, minus, cell, w


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
    is not a plain decimal of at most 15 significant digits."""
    wide = int(lens.max()) > 8
    value, digit, dot, minus, cell, _ = _word(words, ends - 8, np.maximum(8 - lens, 0))
    many_dots = (dot & (dot - np.uint64(1))) != 0
    dec = np.where(dot != 0, 7 - _byte_of(dot), 0)
    ok = (digit | dot | minus) == cell
    has_digit = digit != 0
    first = np.where(
        lens <= 8, np.uint64(0x80) << (np.maximum(8 - lens, 0) * 8).astype(np.uint64), np.uint64(0)
    )
    ok &= (minus == 0) | (minus == first)
    if wide:
        lo_value, lo_digit, lo_dot, lo_minus, lo_cell, _ = _word(words, ends - 16, np.clip(16 - lens, 0, 8))
        ok &= (lo_digit | lo_dot | lo_minus) == lo_cell
        lo_first = np.where(
            lens > 8, np.uint64(0x80) << (np.clip(16 - lens, 0, 7) * 8).astype(np.uint64), np.uint64(0)
        )
        ok &= (lo_minus == 0) | (lo_minus == lo_first)
        ok &= (lo_minus == 0) | (minus == 0)
        many_dots |= ((lo_dot & (lo_dot - np.uint64(1))) != 0) | ((lo_dot != 0) & (dot != 0))
        dec = np.where(lo_dot != 0, 15 - _byte_of(lo_dot), dec)
        dot |= lo_dot  # (only whether there is one counts from here)
        has_digit |= lo_digit != 0
        value = lo_value * np.uint64(100_000_000) + value
    minus_any = minus != 0
    if wide:
        minus_any |= lo_minus != 0
    if not (bool(ok.all()) and bool(has_digit.all())) or bool(many_dots.any()):
        return False
    dec = dec.astype(np.intp)
    with_dot = dot != 0
    p = _POW10_INT[dec]
    mant = np.where(with_dot, (value // (p * np.uint64(10))) * p + value % p, value)
    if not bool((mant < _EXACT).all()):
        return False
    np.divide(mant.astype(np.float64), _POW10[dec], out=out)
    np.negative(out, out=out, where=minus_any)
    return True
