"""A fixed-capacity sliding window kept in sorted order, for O(log n) empirical tail counts."""

from __future__ import annotations

from bisect import bisect_left, bisect_right, insort
from collections import deque


class SlidingSorted:
    """The last `capacity` values added, both in arrival order and in sorted order."""

    __slots__ = ("_arrivals", "_capacity", "values")

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self._capacity = capacity
        self._arrivals: deque[float] = deque()
        self.values: list[float] = []

    def __len__(self) -> int:
        return len(self.values)

    def add(self, value: float) -> None:
        """Add a value, evicting the oldest one when full."""
        insort(self.values, value)
        self._arrivals.append(value)
        if len(self._arrivals) > self._capacity:
            oldest = self._arrivals.popleft()
            del self.values[bisect_left(self.values, oldest)]

    def at_most(self, value: float) -> int:
        """How many stored values are <= value."""
        return bisect_right(self.values, value)

    def at_least(self, value: float) -> int:
        """How many stored values are >= value."""
        return len(self.values) - bisect_left(self.values, value)
