"""Watch streams: newline-delimited JSON events, resumable from a resourceVersion."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

from kube_standin.errors import ApiError, bad_request
from kube_standin.resources import ResourceType
from kube_standin.selectors import FieldSelector, LabelSelector, labels_match
from kube_standin.store import Store

Obj = dict[str, Any]
WAKE_SECONDS = 0.5


class Watch:
    def __init__(
        self,
        store: Store,
        resource: ResourceType,
        namespace: str | None,
        label_selector: LabelSelector,
        field_selector: FieldSelector,
        closed: Callable[[], bool],
    ) -> None:
        self.store = store
        self.resource = resource
        self.namespace = namespace
        self.label_selector = label_selector
        self.field_selector = field_selector
        self.closed = closed

    def matches(self, obj: Obj) -> bool:
        meta = obj["metadata"]
        if self.namespace is not None and meta.get("namespace") != self.namespace:
            return False
        return labels_match(self.label_selector, meta.get("labels")) and self.field_selector(obj)

    def _line(self, change_type: str, obj: Obj) -> bytes:
        return json.dumps({"type": change_type, "object": self.resource.serve(obj)}).encode() + b"\n"

    def stream(self, since: str | None, timeout_seconds: float) -> Iterator[bytes]:
        """Without `since` (or "0"): ADDED for every current match, then changes. With it: the changes
        after that version, or a 410 Expired ERROR event when the change log no longer reaches back."""
        with self.store.lock:
            if since in (None, "", "0"):
                initial = [
                    self._line("ADDED", obj)
                    for obj in self.store.select(self.resource.plural, self.namespace)
                    if self.matches(obj)
                ]
                cursor = self.store.resource_version
            else:
                try:
                    cursor = int(str(since))
                except ValueError as exc:
                    raise bad_request(f"invalid resourceVersion {since!r}") from exc
                _, complete = self.store.changes_after(cursor)
                if not complete:
                    gone = ApiError(410, f"too old resource version: {since}", reason="Expired").status()
                    return iter([json.dumps({"type": "ERROR", "object": gone}).encode() + b"\n"])
                initial = []
        return self._follow(initial, cursor, time.monotonic() + timeout_seconds)

    def _follow(self, initial: list[bytes], cursor: int, deadline: float) -> Iterator[bytes]:
        yield from initial
        while not self.closed() and time.monotonic() < deadline:
            with self.store.lock:
                changes, _ = self.store.changes_after(cursor)
                if not changes:
                    self.store.changed.wait(timeout=min(WAKE_SECONDS, max(0.0, deadline - time.monotonic())))
                    if self.store.closed:
                        return
                    continue
                cursor = changes[-1].resource_version
                lines = [
                    self._line(c.type, c.obj)
                    for c in changes
                    if c.resource == self.resource.plural and self.matches(c.obj)
                ]
            yield from lines
