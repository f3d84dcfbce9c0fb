"""The one in-memory form of IMU data that every stage passes along.

A :class:`Samples` block holds N samples in the sensor's own axes: time in seconds, specific force
in g (gravity included, so a sensor at rest reads 1 g) and angular rate in deg/s. Decoders,
importers and the simulator produce it; calibration and the pipeline consume it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class Samples:
    """A block of IMU samples, oldest first.

    ``gyro_dps`` is ``None`` for sources without a gyroscope (some CSV exports); everything
    downstream must then work from the accelerometer alone.
    """

    t_s: FloatArray
    accel_g: FloatArray
    gyro_dps: FloatArray | None = None

    def __post_init__(self) -> None:
        n = self.t_s.shape[0]
        if self.t_s.ndim != 1:
            raise ValueError(f"t_s must be 1-D, got shape {self.t_s.shape}")
        if self.accel_g.shape != (n, 3):
            raise ValueError(f"accel_g must have shape ({n}, 3), got {self.accel_g.shape}")
        if self.gyro_dps is not None and self.gyro_dps.shape != (n, 3):
            raise ValueError(f"gyro_dps must have shape ({n}, 3), got {self.gyro_dps.shape}")

    @classmethod
    def empty(cls, with_gyro: bool = True) -> Samples:
        return cls(
            np.zeros(0, dtype=np.float64),
            np.zeros((0, 3), dtype=np.float64),
            np.zeros((0, 3), dtype=np.float64) if with_gyro else None,
        )

    @classmethod
    def from_arrays(
        cls,
        t_s: npt.ArrayLike,
        accel_g: npt.ArrayLike,
        gyro_dps: npt.ArrayLike | None = None,
    ) -> Samples:
        """Build a block from array-likes, converting to contiguous float64."""
        return cls(
            np.ascontiguousarray(t_s, dtype=np.float64),
            np.ascontiguousarray(accel_g, dtype=np.float64).reshape(-1, 3),
            None if gyro_dps is None else np.ascontiguousarray(gyro_dps, dtype=np.float64).reshape(-1, 3),
        )

    def __len__(self) -> int:
        return int(self.t_s.shape[0])

    @property
    def has_gyro(self) -> bool:
        return self.gyro_dps is not None

    @property
    def duration_s(self) -> float:
        return float(self.t_s[-1] - self.t_s[0]) if len(self) > 1 else 0.0

    def slice(self, start: int, stop: int) -> Samples:
        return Samples(
            self.t_s[start:stop],
            self.accel_g[start:stop],
            None if self.gyro_dps is None else self.gyro_dps[start:stop],
        )

    def chunks(self, size: int) -> Iterator[Samples]:
        """Split into consecutive blocks of at most ``size`` samples (for streaming)."""
        if size < 1:
            raise ValueError("chunk size must be at least 1")
        for i in range(0, len(self), size):
            yield self.slice(i, i + size)

    @staticmethod
    def concat(blocks: Iterable[Samples]) -> Samples:
        """Join blocks end to end. All blocks must agree on whether they carry a gyroscope."""
        items = [b for b in blocks if len(b)]
        if not items:
            return Samples.empty()
        with_gyro = {b.has_gyro for b in items}
        if len(with_gyro) != 1:
            raise ValueError("cannot join blocks with and without gyroscope data")
        return Samples(
            np.concatenate([b.t_s for b in items]),
            np.concatenate([b.accel_g for b in items]),
            np.concatenate([b.gyro_dps for b in items if b.gyro_dps is not None])
            if items[0].has_gyro
            else None,
        )

    def estimated_rate_hz(self) -> float:
        """Median sample rate; 0.0 when it cannot be told (fewer than two samples)."""
        if len(self) < 2:
            return 0.0
        dt = np.diff(self.t_s)
        dt = dt[dt > 0]
        return float(1.0 / np.median(dt)) if dt.size else 0.0


def rechunk(blocks: Iterable[Samples], size: int) -> Iterator[Samples]:
    """The samples of ``blocks`` in packets of ``size`` (the last may be shorter), wherever the
    blocks end: the same packets as ``Samples.concat(blocks).chunks(size)``. A packet that would
    join samples with and without gyroscope is cut where the gyroscope starts or stops."""
    carry: Samples | None = None
    for block in blocks:
        if carry is not None:
            if carry.has_gyro != block.has_gyro:
                yield carry
            else:
                block = Samples.concat([carry, block])
            carry = None
        whole = len(block) - len(block) % size
        yield from block.slice(0, whole).chunks(size)
        if whole < len(block):
            carry = block.slice(whole, len(block))
    if carry is not None:
        yield carry
