"""Exports GKE container metric points to Pub/Sub for the features pipeline.

Run on a schedule (Cloud Scheduler -> Cloud Run job, or cron), e.g. every
minute. Each run reads ``kubernetes.io/container/*`` series with
``list_time_series`` over ``[now - delay - lookback, now - delay)`` and
publishes **one message per point**: the TimeSeries JSON exactly as
``TimeSeries.to_json`` renders what the API returned (enum names, ``int64Value``
as a string, ``metadata.systemLabels``), cut down to that single point, with
the Pub/Sub attribute ``timestamp`` (the point's end time, RFC 3339) that the
pipeline uses as event time.

* CPU and memory limit utilisation: the raw GAUGE points.
* ``restart_count``: aligned with ``ALIGN_DELTA`` over 60 s, so every point
  says how many restarts happened in that minute.

GKE system metrics arrive with a few minutes of latency, hence ``delay``
(default 180 s). The lookback should equal the schedule period so that each
point is exported once.

    python -m dataflow.metrics_exporter --project acme-prod --topic projects/acme-prod/topics/gke-metrics
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from anomaly_detection_model.score_metric import rfc3339
from dataflow.metric_parser import CPU_METRIC, MEMORY_METRIC, RESTART_METRIC

log = logging.getLogger(__name__)

Publish = Callable[[bytes, Mapping[str, str]], None]


@dataclass(frozen=True)
class ExporterSettings:
    project: str
    topic: str
    lookback_seconds: int = 60
    delay_seconds: int = 180
    cluster: str = ""  # only this cluster when set
    monitoring_endpoint: str = ""  # 127.0.0.1:PORT: a local stand-in (plaintext gRPC, no credentials)

    def __post_init__(self) -> None:
        if not self.project:
            raise ValueError("project is required")
        if not self.topic.startswith("projects/") or "/topics/" not in self.topic:
            raise ValueError(f"topic must look like projects/PROJECT/topics/NAME, got {self.topic!r}")
        if self.lookback_seconds < 60:
            raise ValueError("lookback_seconds must be at least 60")
        if self.delay_seconds < 0:
            raise ValueError("delay_seconds must not be negative")


def series_filter(metric_type: str, cluster: str = "") -> str:
    text = f'metric.type = "{metric_type}" AND resource.type = "k8s_container"'
    if cluster:
        text += f' AND resource.labels.cluster_name = "{cluster}"'
    return text


def list_requests(settings: ExporterSettings, now: datetime) -> list[dict[str, Any]]:
    """The three ``list_time_series`` requests of one run (dicts in the client's request shape)."""
    end = now - timedelta(seconds=settings.delay_seconds)
    start = end - timedelta(seconds=settings.lookback_seconds)
    interval = {"start_time": start, "end_time": end}
    requests = []
    for metric in (CPU_METRIC, MEMORY_METRIC, RESTART_METRIC):
        request: dict[str, Any] = {
            "name": f"projects/{settings.project}",
            "filter": series_filter(metric, settings.cluster),
            "interval": interval,
            "view": "FULL",
        }
        if metric == RESTART_METRIC:
            request["aggregation"] = {"alignment_period": {"seconds": 60}, "per_series_aligner": "ALIGN_DELTA"}
        requests.append(request)
    return requests


def split_points(series_json: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One TimeSeries JSON with n points -> n TimeSeries JSON objects with one point each."""
    points = series_json.get("points") or []
    return [{**series_json, "points": [point]} for point in points]


def messages_for(series: Iterable[Any]) -> Iterable[tuple[bytes, dict[str, str]]]:
    """TimeSeries protos (as list_time_series yields them) -> (message body, attributes)."""
    from google.cloud import monitoring_v3

    for item in series:
        as_json = json.loads(monitoring_v3.TimeSeries.to_json(item, use_integers_for_enums=False))
        for single in split_points(as_json):
            end_time = single["points"][0]["interval"]["endTime"]
            attributes = {"timestamp": end_time, "metric_type": single["metric"]["type"]}
            yield json.dumps(single, separators=(",", ":")).encode("utf-8"), attributes


def export_once(client: Any, publish: Publish, settings: ExporterSettings, now: datetime | None = None) -> int:
    """One export run; returns the number of messages published."""
    now = now or datetime.now(UTC)
    published = 0
    for request in list_requests(settings, now):
        for body, attributes in messages_for(client.list_time_series(request=request)):
            publish(body, attributes)
            published += 1
    log.info("exported %d metric points ending %s", published, rfc3339(now))
    return published


def pubsub_publisher(topic: str) -> tuple[Publish, Callable[[], None]]:
    """A publish function for ``topic`` and a flush that waits for every publish to complete."""
    from google.cloud import pubsub_v1  # type: ignore[attr-defined]

    client = pubsub_v1.PublisherClient()
    futures: list[Any] = []

    def publish(body: bytes, attributes: Mapping[str, str]) -> None:
        futures.append(client.publish(topic, body, **attributes))

    def flush() -> None:
        for future in futures:
            future.result(timeout=60)
        futures.clear()

    return publish, flush


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Export GKE container metric points to Pub/Sub.")
    parser.add_argument("--project", required=True, help="project whose GKE metrics are read")
    parser.add_argument("--topic", required=True, help="projects/PROJECT/topics/NAME to publish to")
    parser.add_argument("--lookback-seconds", type=int, default=60, help="window length; equal the schedule period")
    parser.add_argument("--delay-seconds", type=int, default=180, help="how far behind now the window ends")
    parser.add_argument("--cluster", default="", help="only this GKE cluster")
    parser.add_argument(
        "--monitoring-endpoint", default="", help="gRPC endpoint override HOST:PORT (plaintext, local stand-ins)"
    )
    args = parser.parse_args(argv)
    try:
        settings = ExporterSettings(
            project=args.project,
            topic=args.topic,
            lookback_seconds=args.lookback_seconds,
            delay_seconds=args.delay_seconds,
            cluster=args.cluster,
            monitoring_endpoint=args.monitoring_endpoint,
        )
    except ValueError as exc:
        parser.error(str(exc))
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    from dataflow.metric_writers import make_monitoring_client

    publish, flush = pubsub_publisher(settings.topic)
    count = export_once(make_monitoring_client(settings.monitoring_endpoint), publish, settings)
    flush()
    print(json.dumps({"published": count}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
