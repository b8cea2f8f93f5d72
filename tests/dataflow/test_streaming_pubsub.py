"""The streaming pipeline on the DirectRunner, fed through the Pub/Sub emulator.

Log entries and metric points are published the way the log sink and the exporter publish
them; scores come out through create_time_series (gRPC stand-in of Cloud Monitoring) and bad
records through the dead-letter topic. The DirectRunner's Pub/Sub watermark follows the wall
clock, so the records are a few minutes old and arrive late but within the allowed lateness:
each late firing emits the window's row at once. Records without features are published
meanwhile so that both reads keep returning (the runner's pulls wait up to 30 s when empty,
and the merged watermark waits for both).
"""

from __future__ import annotations

import copy
import json
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import apache_beam as beam
import pytest
from apache_beam.options.pipeline_options import PipelineOptions

from anomaly_detection_model.artifact import build_artifact, save_artifact
from anomaly_detection_model.score_metric import METRIC_TYPE, rfc3339
from anomaly_detection_model.synthetic_features import healthy_feature_rows
from anomaly_detection_model.workload_model import TrainingParams, train
from dataflow.features_pipeline import LOG_TIMESTAMP_ATTRIBUTE, METRIC_TIMESTAMP_ATTRIBUTE, build_pipeline


@pytest.fixture()
def model_dir(tmp_path: Path) -> Path:
    frame = healthy_feature_rows(["shop/checkout"], datetime(2026, 3, 1, tzinfo=UTC), 600, seed=3)
    artifact = build_artifact(train(frame, TrainingParams(n_estimators=30)), frame, {"start": "a", "end": "b"})
    return save_artifact(artifact, tmp_path / artifact.metadata.version)


@pytest.mark.emulator
def test_streaming_from_pub_sub_writes_scores_and_dead_letters(
    pubsub_emulator, fake_monitoring, sample, model_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from google.cloud import pubsub_v1

    monkeypatch.setenv("PUBSUB_EMULATOR_HOST", pubsub_emulator.host_port)
    suffix = uuid.uuid4().hex[:8]
    publisher, subscriber = pubsub_v1.PublisherClient(), pubsub_v1.SubscriberClient()
    names = {}
    for feed in ("logs", "metrics", "dead"):
        topic = f"projects/acme-prod/topics/{feed}-{suffix}"
        publisher.create_topic(name=topic)
        names[feed] = (topic, f"projects/acme-prod/subscriptions/{feed}-{suffix}")
        subscriber.create_subscription(name=names[feed][1], topic=topic)

    options = PipelineOptions(
        [
            f"--log_subscription={names['logs'][1]}",
            f"--metric_subscription={names['metrics'][1]}",
            f"--model_dir={model_dir}",
            "--metric_project=acme-prod",
            f"--monitoring_endpoint={fake_monitoring.endpoint}",
            f"--dead_letter_topic={names['dead'][0]}",
            "--allowed_lateness_seconds=3600",
        ]
    )
    when = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=5)
    stamp = rfc3339(when + timedelta(seconds=30))
    cpu = sample("monitoring/cpu_limit_utilization.json")
    cpu["points"] = [{"interval": {"startTime": stamp, "endTime": stamp}, "value": {"doubleValue": 0.4}}]
    error = copy.deepcopy(sample("logging/container_stderr_error.json"))
    error["timestamp"] = stamp
    publisher.publish(names["metrics"][0], json.dumps(cpu).encode(), **{METRIC_TIMESTAMP_ATTRIBUTE: stamp}).result()
    publisher.publish(names["logs"][0], json.dumps(error).encode(), **{LOG_TIMESTAMP_ATTRIBUTE: stamp}).result()
    publisher.publish(names["logs"][0], b"not a log entry", **{LOG_TIMESTAMP_ATTRIBUTE: stamp}).result()

    info = json.dumps(sample("logging/container_stdout_info.json")).encode()
    other = copy.deepcopy(cpu)
    other["metric"]["type"] = "kubernetes.io/container/uptime"
    other_metric = json.dumps(other).encode()

    # published before the pipeline starts: its first pulls find them waiting
    p = beam.Pipeline(options=options)
    build_pipeline(p, options)
    result = p.run()
    try:
        deadline = time.monotonic() + 90
        dead = []
        while time.monotonic() < deadline and not (fake_monitoring.created and dead):
            # records without features keep both reads returning (the runner's empty pulls wait 30 s)
            now = rfc3339(datetime.now(UTC))
            publisher.publish(names["logs"][0], info, **{LOG_TIMESTAMP_ATTRIBUTE: now})
            publisher.publish(names["metrics"][0], other_metric, **{METRIC_TIMESTAMP_ATTRIBUTE: now})
            if not dead:  # an empty pull waits about 30 s in the emulator
                answer = subscriber.pull(subscription=names["dead"][1], max_messages=10, timeout=2)
                dead += [json.loads(m.message.data) for m in answer.received_messages]
            time.sleep(0.5)
    finally:
        cancelling = threading.Thread(target=result.cancel)
        cancelling.start()
        while cancelling.is_alive():  # wake the runner's blocked pulls so that it can stop
            publisher.publish(names["logs"][0], info)
            publisher.publish(names["metrics"][0], other_metric)
            cancelling.join(timeout=0.5)

    assert [d["error"].split(":")[0] for d in dead] == ["not JSON"]
    written = [s for body in fake_monitoring.created_json() for s in body["timeSeries"]]
    assert written, "no score point reached Cloud Monitoring"
    first = written[0]
    assert first["metric"]["type"] == METRIC_TYPE
    assert first["metric"]["labels"]["controller_name"] == "checkout"
    assert first["resource"]["labels"]["pod_name"] == "checkout-6d9f7b5c8d-x2kq9"
    assert first["points"][0]["interval"]["endTime"] == rfc3339(when + timedelta(minutes=1))
