"""Session time and accel/gyro pairing for sensors that stream each IMU channel on its own.

RepTrack's own packets carry accelerometer and gyroscope together, with a sequence number and
the sensor clock (tracker.protocol). Polar PMD and MetaWear send accelerometer and gyroscope as
separate notifications; this module turns such streams into :class:`Samples` on the session
clock: a profile's codec parses one notification into :class:`ChannelBlock` s, and
:class:`PairedStreamDecoder` places them in time, pairs each accelerometer sample with the
gyroscope sample taken at the same moment, and reports holes, restarts and bad notifications
as :class:`StreamNotice` s, as the RepTrack decoder does. A bad notification is dropped alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from tracker.protocol import ProtocolError, StreamNotice, StreamStats
from tracker.samples import Samples

RESTART_BACKSTEP_S = 0.5  # a sensor clock that steps back this far has restarted


@dataclass(frozen=True)
class ChannelBlock:
    """Consecutive samples of one channel from one notification.

    ``sensor_time_s`` is the sensor's own time of the *last* sample when the protocol sends one
    (Polar), else None (MetaWear: samples are counted at the configured rate).
    """

    channel: str  # "acc" (g) or "gyro" (deg/s)
    values: npt.NDArray[np.float64]  # (n, 3)
    sensor_time_s: float | None = None


class _Channel:
    """The time bookkeeping of one channel's stream."""

    def __init__(self) -> None:
        self.last_end_s: float | None = None  # session time just after the last sample
        self.last_sensor_s: float | None = None  # sensor time of the last sample
        self.last_host_s: float | None = None
        self.t: list[npt.NDArray[np.float64]] = []
        self.v: list[npt.NDArray[np.float64]] = []


class PairedStreamDecoder:
    """Feeds notifications of one sensor in arrival order; yields paired samples and notices.

    Subclasses implement :meth:`parse` (one notification -> channel blocks, ProtocolError when
    malformed, [] for a notification that carries no samples) and set ``rate_hz``.
    """

    codec_name = "paired"

    def __init__(self, rate_hz: float, has_gyro: bool = True) -> None:
        if rate_hz <= 0:
            raise ValueError(f"rate must be positive, got {rate_hz}")
        self.rate_hz = float(rate_hz)
        self.has_gyro = has_gyro
        self.stats = StreamStats()
        self._channels = {"acc": _Channel(), "gyro": _Channel()}
        self._origin_sensor_s: float | None = None  # sensor time of session time 0
        self._offset_s = 0.0  # session time = sensor time - origin + offset (after restarts)
        # Streams without sensor time: where both channels (re)start after the stream was started
        # again (a reconnect); None until the first channel's next block places it.
        self._segment_start_s: float | None = None
        self._segment_pending = {"acc": True, "gyro": True}
        self._paired_until_s = -np.inf
        self._gyro_start_s: float | None = None  # session time of the first gyroscope sample

    @property
    def period_s(self) -> float:
        return 1.0 / self.rate_hz

    def parse(self, notification: bytes) -> list[ChannelBlock]:  # pragma: no cover - abstract
        raise NotImplementedError

    def codec_spec(self) -> str:  # pragma: no cover - abstract
        raise NotImplementedError

    # -- feeding ---------------------------------------------------------------------------------

    def feed(
        self, packets: Sequence[bytes], host_times_s: Sequence[float] | None = None
    ) -> tuple[Samples, list[StreamNotice]]:
        notices: list[StreamNotice] = []
        for i, packet in enumerate(packets):
            host = None if host_times_s is None else float(host_times_s[i])
            if host is not None and np.isnan(host):
                host = None
            try:
                blocks = self.parse(bytes(packet))
            except ProtocolError as exc:
                self.stats.corrupt += 1
                notices.append(
                    StreamNotice(
                        "corrupt", self._now_s(), packets=1, detail=f"{self.codec_name} notification: {exc}"
                    )
                )
                continue
            if not blocks:
                continue
            self.stats.packets += 1
            for block in blocks:
                if block.values.shape[0]:
                    self._place(block, host, notices)
        return self._pair(notices), notices

    def skip(self, channel: str, n: int) -> None:
        """``n`` samples of ``channel`` were in a notification that could not be read: their time
        passes all the same, so the channels stay paired (streams without sensor time)."""
        ch = self._channels[channel]
        if ch.last_end_s is not None:
            ch.last_end_s += n * self.period_s

    def _now_s(self) -> float:
        ends = [c.last_end_s for c in self._channels.values() if c.last_end_s is not None]
        return max(ends) if ends else 0.0

    def _place(self, block: ChannelBlock, host: float | None, notices: list[StreamNotice]) -> None:
        """Session times of a block's samples; holes and restarts become notices."""
        ch = self._channels[block.channel]
        n = block.values.shape[0]
        period = self.period_s
        if block.sensor_time_s is not None:
            first_s = self._from_sensor_time(block, ch, host, notices)
            if first_s is None:
                return
        else:
            first_s = self._from_count(block.channel, ch, n, host, notices)
        t = np.asarray(first_s + np.arange(n) * period, dtype=np.float64)
        ch.t.append(t)
        ch.v.append(np.asarray(block.values, dtype=np.float64))
        ch.last_end_s = float(t[-1] + period)
        ch.last_host_s = host if host is not None else ch.last_host_s
        if block.channel == "acc" or not self.has_gyro:
            self.stats.samples += n

    def _from_sensor_time(
        self, block: ChannelBlock, ch: _Channel, host: float | None, notices: list[StreamNotice]
    ) -> float | None:
        n = block.values.shape[0]
        assert block.sensor_time_s is not None
        sensor_first = block.sensor_time_s - (n - 1) * self.period_s
        if self._origin_sensor_s is None:
            self._origin_sensor_s = sensor_first
        if ch.last_sensor_s is not None and block.sensor_time_s <= ch.last_sensor_s:
            if ch.last_sensor_s - block.sensor_time_s < RESTART_BACKSTEP_S:
                self.stats.duplicates += 1
                notices.append(
                    StreamNotice("duplicate", self._now_s(), packets=1, detail=f"{block.channel} frame again")
                )
                return None
            self._restart(block.channel, ch, host, sensor_first, n, notices)
        first_s = sensor_first - self._origin_sensor_s + self._offset_s
        if ch.last_end_s is not None and first_s > ch.last_end_s + 0.5 * self.period_s:
            self._gap(block.channel, ch.last_end_s, first_s, notices)
        ch.last_sensor_s = block.sensor_time_s
        return first_s

    def _restart(
        self,
        channel: str,
        ch: _Channel,
        host: float | None,
        sensor_first: float,
        n: int,
        notices: list[StreamNotice],
    ) -> None:
        """The sensor clock went back (a reboot): place the new clock from the host's arrival time."""
        assert ch.last_end_s is not None and self._origin_sensor_s is not None
        at_s = ch.last_end_s
        if host is not None and ch.last_host_s is not None:
            at_s = max(at_s, ch.last_end_s + (host - ch.last_host_s) - n * self.period_s)
        self._offset_s = at_s - (sensor_first - self._origin_sensor_s)
        self.stats.restarts += 1
        notices.append(StreamNotice("restart", at_s, detail=f"{channel} clock restarted"))
        for other in self._channels.values():
            other.last_sensor_s = None

    def restart_segment(self) -> None:
        """The sensor was started again (a reconnect): both channels' next samples start a new
        segment, placed from the host's arrival time (streams without sensor time only)."""
        self._segment_start_s = None
        self._segment_pending = {"acc": True, "gyro": True}

    def _from_count(
        self, channel: str, ch: _Channel, n: int, host: float | None, notices: list[StreamNotice]
    ) -> float:
        """No sensor time: the next sample follows the last, except at the start of a segment."""
        if not self._segment_pending[channel]:
            assert ch.last_end_s is not None or self._segment_start_s is not None
            return ch.last_end_s if ch.last_end_s is not None else float(self._segment_start_s or 0.0)
        self._segment_pending[channel] = False
        if self._segment_start_s is None:
            self._segment_start_s = self._place_segment(n, host, notices)
        return self._segment_start_s

    def _place_segment(self, n: int, host: float | None, notices: list[StreamNotice]) -> float:
        """Where a restarted stream's first block goes: after the last sample, plus the time the
        host saw pass (the sensor was away), minus the block's own duration."""
        ends = [c.last_end_s for c in self._channels.values() if c.last_end_s is not None]
        if not ends:
            return 0.0
        last_end = max(ends)
        hosts = [c.last_host_s for c in self._channels.values() if c.last_host_s is not None]
        at_s = last_end
        if host is not None and hosts:
            at_s = max(last_end, last_end + (host - max(hosts)) - n * self.period_s)
        self.stats.restarts += 1
        notices.append(StreamNotice("restart", at_s, detail="stream started again"))
        if at_s > last_end + 0.5 * self.period_s:
            self._gap("acc", last_end, at_s, notices)
        return at_s

    def _gap(self, channel: str, from_s: float, to_s: float, notices: list[StreamNotice]) -> None:
        if channel != "acc" and self.has_gyro:
            return  # one notice per hole: the accelerometer's
        lost = max(0, round((to_s - from_s) * self.rate_hz))
        self.stats.lost_samples += lost
        self.stats.lost_packets += 1
        notices.append(
            StreamNotice(
                "gap",
                from_s,
                packets=1,
                samples=lost,
                detail=f"{lost} samples missing ({to_s - from_s:.2f} s)",
            )
        )

    # -- pairing ---------------------------------------------------------------------------------

    def _pair(self, notices: list[StreamNotice]) -> Samples:
        """Accelerometer samples with the gyroscope sample of the same moment (half a period).

        An accelerometer sample without a partner (its gyroscope frame was lost) is dropped with a
        ``gap`` notice; one from before the gyroscope stream began (one stream starts a moment
        before the other) is dropped silently."""
        acc = self._channels["acc"]
        t_acc = np.concatenate(acc.t) if acc.t else np.zeros(0)
        if not t_acc.size:
            return Samples.empty(with_gyro=self.has_gyro)
        v_acc = np.concatenate(acc.v)
        if not self.has_gyro:
            acc.t, acc.v = [], []
            return Samples(t_acc, v_acc, None)
        gyro = self._channels["gyro"]
        t_gyro = np.concatenate(gyro.t) if gyro.t else np.zeros(0)
        if not t_gyro.size:
            acc.t, acc.v = [t_acc], [v_acc]
            return Samples.empty(with_gyro=True)
        v_gyro = np.concatenate(gyro.v)
        tol = 0.5 * self.period_s
        horizon = min(float(t_acc[-1]), float(t_gyro[-1])) + tol
        ready = t_acc <= horizon
        j = np.clip(np.searchsorted(t_gyro, t_acc[ready]), 1, max(1, t_gyro.size - 1))
        left = j - 1
        right = np.minimum(j, t_gyro.size - 1)
        nearest = np.where(
            np.abs(t_gyro[left] - t_acc[ready]) <= np.abs(t_gyro[right] - t_acc[ready]), left, right
        )
        matched = np.abs(t_gyro[nearest] - t_acc[ready]) <= tol
        keep_acc = ~ready
        acc.t, acc.v = [t_acc[keep_acc]], [v_acc[keep_acc]]
        keep_gyro = t_gyro > horizon
        gyro.t, gyro.v = [t_gyro[keep_gyro]], [v_gyro[keep_gyro]]
        if self._gyro_start_s is None:
            self._gyro_start_s = float(t_gyro[0])
        orphans = t_acc[ready][~matched]
        orphans = orphans[orphans >= self._gyro_start_s - tol]  # not the start-up, before GYRO ran
        unmatched = int(orphans.size)
        if unmatched:
            first = float(orphans[0])
            self.stats.lost_samples += unmatched
            notices.append(
                StreamNotice("gap", first, samples=unmatched, detail=f"{unmatched} samples without gyroscope")
            )
        t_ready = t_acc[ready][matched]
        order_ok = t_ready > self._paired_until_s
        t_out = t_ready[order_ok]
        if t_out.size:
            self._paired_until_s = float(t_out[-1])
        return Samples(t_out, v_acc[ready][matched][order_ok], v_gyro[nearest[matched]][order_ok])


def parse_codec_spec(spec: str) -> tuple[str, dict[str, float]]:
    """``"polar-pmd rate_hz=104 acc_factor=0.244"`` -> ("polar-pmd", {...})."""
    name, *fields = spec.split()
    params: dict[str, float] = {}
    for f in fields:
        key, sep, value = f.partition("=")
        try:
            params[key] = float(value)
        except ValueError:
            raise ValueError(f"codec {spec!r}: {f!r} is not key=number") from None
        if not sep:
            raise ValueError(f"codec {spec!r}: {f!r} is not key=number")
    return name, params


def format_codec_spec(name: str, params: dict[str, float]) -> str:
    return " ".join([name, *(f"{k}={float(v)!r}" for k, v in params.items())])
