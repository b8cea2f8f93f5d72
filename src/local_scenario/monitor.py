"""The sampling loop: metrics source -> alert evaluator -> Pub/Sub, and the healer's audit trail.

Runs in a thread. Every sample interval (one aligned cloud minute of the accelerated time base)
it reads the stand-in's per-container usage, feeds the evaluator, publishes incidents as
they open and close, follows the healer's decisions and keeps the series for the report.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from local_scenario.cluster import StandinCluster
from local_scenario.evaluator import AlertEvaluator, AlertEvent, Sample, SeriesKey
from local_scenario.incidents import ClusterIdentity, incident_payload
from local_scenario.timeline import Timeline

Publish = Callable[[dict[str, Any]], str]


class Scorer(Protocol):
    def score(self, usage: dict[str, Any]) -> dict[tuple[str, str], float]: ...


@dataclass
class SeriesPoint:
    at: float
    value: float


@dataclass
class Observations:
    # (policy name, namespace, workload) -> worst aligned value per sample
    aligned: dict[tuple[str, str, str], list[SeriesPoint]] = field(default_factory=dict)
    # (namespace, workload) -> the anomaly model's score per sample
    anomaly: dict[tuple[str, str], list[SeriesPoint]] = field(default_factory=dict)
    alerts: list[AlertEvent] = field(default_factory=list)
    decisions: list[dict[str, Any]] = field(default_factory=list)


def samples_from_usage(
    usage: dict[str, Any], extra: Callable[[SeriesKey, dict[str, Any]], dict[str, float]]
) -> list[Sample]:
    samples: list[Sample] = []
    for pod in usage["pods"]:
        if not pod.get("deployment"):
            continue
        for ctr in pod["containers"]:
            key = SeriesKey(pod["namespace"], pod["deployment"], pod["pod"], ctr["name"])
            values = {
                name: float(ctr[name])
                for name in ("cpu_limit_utilization", "memory_limit_utilization", "restart_count")
                if ctr.get(name) is not None
            }
            values.update(extra(key, ctr))
            samples.append(Sample(key, values))
    return samples


class Monitor:
    def __init__(
        self,
        cluster: StandinCluster,
        evaluator: AlertEvaluator,
        identity: ClusterIdentity,
        publish: Publish,
        audit_path: Path,
        timeline: Timeline,
        on_alert: Callable[[AlertEvent], None],
        on_decision: Callable[[dict[str, Any]], None],
        scorer: Scorer | None = None,
    ) -> None:
        self.cluster = cluster
        self.evaluator = evaluator
        self.identity = identity
        self.publish = publish
        self.audit_path = audit_path
        self.timeline = timeline
        self.on_alert = on_alert
        self.on_decision = on_decision
        self.scorer = scorer
        self.observations = Observations()
        self.published: list[dict[str, Any]] = []  # every incident notification, as published
        self.errors: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="scenario-monitor", daemon=True)
        self._audit_offset = 0
        self.ticks = 0
        self._tick_done = threading.Condition()

    def start(self) -> Monitor:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def wait_ticks(self, count: int, timeout: float = 30.0) -> None:
        with self._tick_done:
            target = self.ticks + count
            self._tick_done.wait_for(lambda: self.ticks >= target, timeout=timeout)

    def _run(self) -> None:
        interval = self.evaluator.time_base.sample_interval
        next_at = time.monotonic()
        while not self._stop.is_set():
            try:
                self.tick(time.time())
            except Exception as exc:
                self.errors.append(f"{type(exc).__name__}: {exc}")
                self.timeline.add("info", f"monitor error: {type(exc).__name__}: {exc}")
            with self._tick_done:
                self.ticks += 1
                self._tick_done.notify_all()
            next_at += interval
            self._stop.wait(max(0.0, next_at - time.monotonic()))

    def tick(self, now: float) -> None:
        usage = self.cluster.usage()
        scores = self.scorer.score(usage) if self.scorer is not None else {}
        for workload, score in scores.items():
            self.observations.anomaly.setdefault(workload, []).append(SeriesPoint(now, score))

        def anomaly_score(key: SeriesKey, _ctr: dict[str, Any]) -> dict[str, float]:
            score = scores.get((key.namespace, key.workload))
            return {} if score is None else {"anomaly_score": score}

        samples = samples_from_usage(usage, anomaly_score)
        events = self.evaluator.observe(now, samples)
        self._record_aligned(now, samples)
        for event in events:
            self.observations.alerts.append(event)
            payload = incident_payload(event, self.identity)
            message_id = self.publish(payload)
            self.published.append(payload)
            verb = "opened" if event.state == "open" else "closed"
            key = event.key
            self.timeline.add(
                "alert" if event.state == "open" else "closed",
                f"{event.rule.name} {verb} on {key.namespace}/{key.workload} (pod {key.pod}, "
                f"value {event.observed:.2f} vs {event.rule.threshold:g}); incident {event.incident_id} "
                f"published as message {message_id}",
                at=event.at,
            )
            self.on_alert(event)
        self._read_audit()

    def _record_aligned(self, now: float, samples: list[Sample]) -> None:
        worst: dict[tuple[str, str, str], float] = {}
        for rule in self.evaluator.rules:
            for sample in samples:
                value = self.evaluator.aligned(rule, sample.key, now)
                if value is None:
                    continue
                key = (rule.name, sample.key.namespace, sample.key.workload)
                worst[key] = max(worst.get(key, value), value)
        for key, value in worst.items():
            self.observations.aligned.setdefault(key, []).append(SeriesPoint(now, value))

    def _read_audit(self) -> None:
        try:
            with self.audit_path.open("rb") as handle:
                handle.seek(self._audit_offset)
                chunk = handle.read()
        except FileNotFoundError:
            return
        complete = chunk[: chunk.rfind(b"\n") + 1]
        self._audit_offset += len(complete)
        for line in complete.splitlines():
            if not line.strip():
                continue
            row = json.loads(line)
            self.observations.decisions.append(row)
            self.on_decision(row)
