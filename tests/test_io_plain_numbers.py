"""The whole-array CSV number parser (tracker/io/plain_numbers.py) gives exactly what ``float``
gives, or declines (None) so that ``np.loadtxt`` reads the block; it never guesses."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from tracker.io.plain_numbers import parse_plain_rows

# plain decimals of up to 14 digits (16 characters with a sign and a point): always parsed here
plain_cells = st.builds(
    lambda sign, digits, dot: (
        sign
        + (digits if dot is None else digits[: min(dot, len(digits))] + "." + digits[min(dot, len(digits)) :])
    ),
    st.sampled_from(["", "-"]),
    st.text("0123456789", min_size=1, max_size=14),
    st.one_of(st.none(), st.integers(0, 14)),
)
formatted_cells = st.builds(  # as loggers write them (printf's %.5f)
    lambda x, k: f"{x:.{k}f}",
    st.floats(-99_999, 99_999, allow_nan=False),
    st.integers(0, 9),
)
# anything a CSV cell may hold instead: float() reads some of these, but not as plain decimals
odd_cells = st.sampled_from(
    ["1e5", "-2.5E-3", "nan", "inf", "-inf", " 1", "1 ", "+1", "1.2.3", "--1", "1-", "-", ".", "", "0x1",
     "1_000", "\r", '"1"', "١", "12345678901234567", "9007199254740993", "0.0000000000000001"]
)  # fmt: skip


def _float_rows(rows: list[list[str]]) -> np.ndarray | None:
    try:
        return np.array([[float(c) for c in row] for row in rows], dtype=np.float64)
    except ValueError:
        return None


def _text(rows: list[list[str]]) -> bytes:
    return "".join(",".join(row) + "\n" for row in rows).encode()


@settings(max_examples=100, deadline=None)
@given(
    st.integers(1, 8).flatmap(
        lambda w: st.lists(
            st.lists(st.one_of(plain_cells, formatted_cells), min_size=w, max_size=w), min_size=1, max_size=50
        )
    )
)
def test_plain_decimals_are_read_bit_for_bit_as_float_reads_them(rows: list[list[str]]) -> None:
    got = parse_plain_rows(_text(rows), len(rows[0]))
    want = _float_rows(rows)
    assert got is not None and want is not None
    assert got.shape == want.shape
    assert np.array_equal(got.view(np.uint64), want.view(np.uint64))  # -0.0 included


@settings(max_examples=100, deadline=None)
@given(
    st.integers(1, 6).flatmap(
        lambda w: st.lists(
            st.lists(st.one_of(plain_cells, formatted_cells, odd_cells), min_size=w, max_size=w),
            min_size=1,
            max_size=8,
        )
    ),
    st.integers(-1, 1),
)
def test_anything_else_is_declined_never_misread(rows: list[list[str]], width_error: int) -> None:
    width = len(rows[0]) + width_error
    got = parse_plain_rows(_text(rows), width)
    if got is None:
        return
    want = _float_rows(rows)
    assert width_error == 0 and want is not None
    assert np.array_equal(got.view(np.uint64), want.view(np.uint64))


def test_a_ragged_row_or_a_missing_last_newline_is_declined() -> None:
    assert parse_plain_rows(b"1,2\n3\n", 2) is None
    assert parse_plain_rows(b"1,2\n3,4,5\n", 2) is None
    assert parse_plain_rows(b"1,2\n3,4", 2) is None
    assert parse_plain_rows(b"1,2\n\n3,4\n", 2) is None
    assert parse_plain_rows(b"1,2\r\n3,4\r\n", 2) is None
    assert np.array_equal(parse_plain_rows(b"1,2\n3,4\n", 2), [[1.0, 2.0], [3.0, 4.0]])  # type: ignore[arg-type]
