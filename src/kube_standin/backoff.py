"""When a crash-looping container crashes: a fixed interval, or CrashLoopBackOff's doubling delay."""

from __future__ import annotations

from dataclasses import dataclass

BACKOFF_MODES = ("fixed", "exponential")
MAX_BACKOFF_FACTOR = 30  # the kubelet doubles 10 s up to 300 s: 30 times the first delay


@dataclass(frozen=True)
class CrashSchedule:
    crashes: int  # crashes so far, counting the first one at offset 0
    last: float  # offset of the latest crash from the first
    next: float  # offset of the next crash

    @property
    def delay(self) -> float:
        return self.next - self.last


def crash_schedule(mode: str, interval: float, elapsed: float) -> CrashSchedule:
    """Crash offsets for a container that first crashed `elapsed` seconds ago."""
    elapsed = max(0.0, elapsed)
    if mode == "fixed":
        count = int(elapsed / interval)
        return CrashSchedule(count + 1, count * interval, (count + 1) * interval)
    offset, count = 0.0, 0
    while True:
        delay = interval * min(2**count, MAX_BACKOFF_FACTOR)
        if offset + delay > elapsed:
            return CrashSchedule(count + 1, offset, offset + delay)
        offset += delay
        count += 1
