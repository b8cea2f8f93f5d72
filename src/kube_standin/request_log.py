"""A thread-safe record of every Kubernetes API request the stand-in answered."""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass
from typing import Any

READ_VERBS = ("get", "list", "watch")


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    query: dict[str, str]
    content_type: str | None
    body: Any
    timestamp: float
    verb: str  # Kubernetes verb: get, list, watch, create, update, patch, delete, ...
    status: int

    @property
    def mutating(self) -> bool:
        return self.verb not in READ_VERBS

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "mutating": self.mutating}


class RequestLog:
    def __init__(self, limit: int = 50_000) -> None:
        self._lock = threading.Lock()
        self._items: list[RecordedRequest] = []
        self._limit = limit

    def add(self, request: RecordedRequest) -> None:
        with self._lock:
            self._items.append(request)
            if len(self._items) > self._limit:
                del self._items[: len(self._items) - self._limit]

    def all(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._items)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def mutating(self) -> list[RecordedRequest]:
        return [r for r in self.all() if r.mutating]


def verb_for(method: str, has_name: bool, watch: bool, subresource: str | None) -> str:
    method = method.upper()
    if method == "GET":
        if watch:
            return "watch"
        return "get" if has_name or subresource else "list"
    if method == "POST":
        return "create"
    if method == "PUT":
        return "update"
    if method == "PATCH":
        return "patch"
    if method == "DELETE":
        return "delete" if has_name else "deletecollection"
    return method.lower()
