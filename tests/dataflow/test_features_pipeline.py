from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import apache_beam as beam
import pytest
from apache_beam.metrics.metric import MetricsFilter
from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.testing.test_pipeline import TestPipeline as BeamTestPipeline  # not collected by pytest
from apache_beam.testing.util import assert_that, equal_to

from anomaly_detection_model.artifact import build_artifact, save_artifact
from anomaly_detection_model.feature_store import DuckDBFeatureStore
from anomaly_detection_model.score_metric import METRIC_TYPE, read_points
from anomaly_detection_model.synthetic_features import healthy_feature_rows
from anomaly_detection_model.workload_model import TrainingParams, train
from dataflow.features_pipeline import ConfigError, build_pipeline, resolve_config

POD_A = "checkout-6d9f7b5c8d-x2kq9"
POD_B = "checkout-6d9f7b5c8d-b7wqz"
CART_POD = "cart-7c5d8f9b6d-pl4mz"


def _at(entry: dict[str, Any], when: str) -> dict[str, Any]:
    entry = copy.deepcopy(entry)
    entry["timestamp"] = when
    return entry


def _metric(template: dict[str, Any], pod: str, when: str, value: float) -> dict[str, Any]:
    series = copy.deepcopy(template)
    series["resource"]["labels"]["pod_name"] = pod
    series["points"] = [{"interval": {"startTime": when, "endTime": when}, "value": {"doubleValue": value}}]
    return series


def _write_jsonl(path: Path, records: list[Any]) -> str:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records), encoding="utf-8")
    return str(path)


def _options(**flags: str) -> PipelineOptions:
    return PipelineOptions([f"--{k}={v}" for k, v in flags.items()])


def test_windowing_and_aggregation_per_workload(tmp_path: Path, sample) -> None:
    cpu = sample("monitoring/cpu_limit_utilization.json")
    memory = sample("monitoring/memory_limit_utilization.json")
    restarts = sample("monitoring/restart_count_delta.json")
    restarts["resource"]["labels"]["pod_name"] = POD_B
    restarts["resource"]["labels"]["container_name"] = "checkout"
    restarts["metadata"]["systemLabels"]["top_level_controller_name"] = "checkout"
    metrics = [
        _metric(cpu, POD_A, "2026-03-02T10:15:10Z", 0.4),
        _metric(cpu, POD_B, "2026-03-02T10:15:20Z", 0.6),
        _metric(cpu, POD_A, "2026-03-02T10:16:10Z", 0.2),
        _metric(memory, POD_A, "2026-03-02T10:15:10Z", 0.5),
        restarts,  # DELTA 10:15:00-10:16:00, value 3
    ]
    error = sample("logging/container_stderr_error.json")
    logs = [
        error,  # 10:15:03
        _at(error, "2026-03-02T10:15:59.999Z"),
        sample("logging/container_json_warning.json"),  # 10:15:41
        sample("logging/event_pod_backoff.json"),  # 10:15:20, warning
        sample("logging/container_stdout_info.json"),  # not a feature
        sample("logging/event_pod_oomkilled.json"),  # cart: OOM + warning
        sample("logging/event_node_oomkilling.json"),  # not attributable
    ]
    options = _options(
        log_input=_write_jsonl(tmp_path / "logs.jsonl", logs),
        metric_input=_write_jsonl(tmp_path / "metrics.jsonl", metrics),
    )
    base = {
        "project_id": "acme-prod",
        "location": "europe-west1",
        "cluster": "prod-cluster",
        "namespace": "shop",
        "controller_kind": "Deployment",
    }
    expected = [
        {
            **base,
            "window_start": "2026-03-02T10:15:00Z",
            "window_end": "2026-03-02T10:16:00Z",
            "controller_name": "checkout",
            "cpu_utilization_mean": 0.5,
            "cpu_utilization_max": 0.6,
            "memory_utilization_mean": 0.5,
            "memory_utilization_max": 0.5,
            "restart_delta": 3,
            "oom_killed_count": 0,
            "error_log_count": 2,
            "warning_log_count": 2,
            "pod_count": 2,
            "sample_count": 8,
            "last_pod_name": POD_A,
            "last_container_name": "checkout",
        },
        {
            **base,
            "window_start": "2026-03-02T10:16:00Z",
            "window_end": "2026-03-02T10:17:00Z",
            "controller_name": "checkout",
            "cpu_utilization_mean": 0.2,
            "cpu_utilization_max": 0.2,
            "memory_utilization_mean": None,
            "memory_utilization_max": None,
            "restart_delta": 0,
            "oom_killed_count": 0,
            "error_log_count": 0,
            "warning_log_count": 0,
            "pod_count": 1,
            "sample_count": 1,
            "last_pod_name": POD_A,
            "last_container_name": "checkout",
        },
        {
            **base,
            "window_start": "2026-03-02T10:15:00Z",
            "window_end": "2026-03-02T10:16:00Z",
            "controller_name": "cart",
            "cpu_utilization_mean": None,
            "cpu_utilization_max": None,
            "memory_utilization_mean": None,
            "memory_utilization_max": None,
            "restart_delta": 0,
            "oom_killed_count": 1,
            "error_log_count": 0,
            "warning_log_count": 1,
            "pod_count": 1,
            "sample_count": 2,
            "last_pod_name": CART_POD,
            "last_container_name": "cart",
        },
    ]
    with BeamTestPipeline(options=options) as p:
        outputs = build_pipeline(p, options)
        assert outputs.scores is None
        assert_that(outputs.features, equal_to(expected), label="CheckFeatures")
        assert_that(outputs.dead_letters, equal_to([]), label="CheckNoDeadLetters")


def test_bad_records_are_counted_and_dead_lettered_without_stopping(tmp_path: Path, sample) -> None:
    good_log = sample("logging/container_stderr_error.json")
    cpu = sample("monitoring/cpu_limit_utilization.json")
    bad_cpu = _metric(cpu, POD_A, "2026-03-02T10:15:10Z", 0.4)
    bad_cpu["points"][0]["value"] = {"doubleValue": "high"}
    logs = ["this is not json", json.dumps({"resource": {}}), json.dumps(good_log)]
    metrics = [json.dumps(bad_cpu), "[1]", json.dumps(_metric(cpu, POD_A, "2026-03-02T10:15:10Z", 0.4))]
    options = _options(
        log_input=_write_jsonl(tmp_path / "logs.jsonl", logs),
        metric_input=_write_jsonl(tmp_path / "metrics.jsonl", metrics),
        dead_letter_path=str(tmp_path / "dead" / "letters"),
    )
    p = BeamTestPipeline(options=options)
    outputs = build_pipeline(p, options)
    summary = outputs.dead_letters | beam.Map(lambda d: (d["source"], d["error"].split(":")[0], d["record"][:8]))
    assert_that(
        summary,
        equal_to(
            [
                ("logs", "not JSON", "this is "),
                ("logs", "LogEntry has no resource.type", '{"resour'),
                ("metrics", "points[0].value.doubleValue is not a number", '{"metric'),
                ("metrics", "a TimeSeries must be a JSON object, got list", "[1]"),
            ]
        ),
        label="CheckDeadLetters",
    )
    rows = outputs.features | beam.Map(lambda r: (r["controller_name"], r["error_log_count"], r["cpu_utilization_max"]))
    assert_that(rows, equal_to([("checkout", 1, 0.4)]), label="GoodRecordsStillAggregate")
    result = p.run()
    result.wait_until_finish()

    def counter(name: str) -> int:
        found = result.metrics().query(MetricsFilter().with_name(name))["counters"]
        return sum(c.committed for c in found)

    assert counter("logs_dead_letters") == 2
    assert counter("metrics_dead_letters") == 2
    assert counter("logs_records_parsed") == 1
    assert counter("metrics_records_parsed") == 1
    written = [json.loads(line) for f in (tmp_path / "dead").glob("letters*") for line in f.read_text().splitlines()]
    assert sorted(d["source"] for d in written) == ["logs", "logs", "metrics", "metrics"]


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    frame = healthy_feature_rows(["shop/checkout", "shop/cart"], datetime(2026, 3, 1, tzinfo=UTC), 1440, seed=3)
    model = train(frame, TrainingParams(n_estimators=100))
    artifact = build_artifact(model, frame, {"start": "2026-03-01T00:00:00Z", "end": "2026-03-02T00:00:00Z"})
    return save_artifact(artifact, tmp_path_factory.mktemp("artifact") / artifact.metadata.version)


def test_run_inference_scores_windows_and_writes_every_output(
    tmp_path: Path, sample, model_dir: Path, fake_monitoring
) -> None:
    cpu = sample("monitoring/cpu_limit_utilization.json")
    memory = sample("monitoring/memory_limit_utilization.json")

    def workload_metrics(name: str, pods: list[str], cpu_value: float, memory_value: float) -> list[dict[str, Any]]:
        out = []
        for pod in pods:
            for template, value in ((cpu, cpu_value), (memory, memory_value)):
                series = _metric(template, pod, "2026-03-02T10:15:30Z", value)
                series["metadata"]["systemLabels"]["top_level_controller_name"] = name
                series["resource"]["labels"]["container_name"] = name
                out.append(series)
        return out

    metrics = workload_metrics("checkout", [POD_A, POD_B], 0.33, 0.47)
    metrics += workload_metrics("cart", [CART_POD, "cart-7c5d8f9b6d-zz9qw"], 0.97, 0.99)
    error = sample("logging/container_stderr_error.json")
    cart_error = copy.deepcopy(error)
    cart_error["resource"]["labels"].update(pod_name=CART_POD, container_name="cart")
    logs = [_at(cart_error, f"2026-03-02T10:15:{s:02d}Z") for s in range(40)]
    logs += [sample("logging/event_pod_oomkilled.json"), error]
    duckdb_path = tmp_path / "local.duckdb"
    metric_path = tmp_path / "metrics" / "anomaly_score.jsonl"
    options = _options(
        log_input=_write_jsonl(tmp_path / "logs.jsonl", logs),
        metric_input=_write_jsonl(tmp_path / "metrics.jsonl", metrics),
        model_dir=str(model_dir),
        duckdb_path=str(duckdb_path),
        metric_store_path=str(metric_path),
        metric_project="acme-prod",
        monitoring_endpoint=fake_monitoring.endpoint,
    )
    with BeamTestPipeline(options=options) as p:
        outputs = build_pipeline(p, options)
        verdicts = outputs.scores | beam.Map(lambda s: (s["controller_name"], s["is_anomaly"], s["pod_name"]))
        assert_that(verdicts, equal_to([("checkout", False, POD_A), ("cart", True, CART_POD)]))

    store = DuckDBFeatureStore(duckdb_path)
    features = store.read_table("features")
    scores = store.read_table("anomaly_scores").set_index("controller_name")
    assert sorted(features["controller_name"]) == ["cart", "checkout"]
    assert scores.loc["cart", "score"] > 0.8 >= scores.loc["checkout", "score"]
    assert scores.loc["cart", "model_version"] == model_dir.name
    top = [f["feature"] for f in json.loads(scores.loc["cart", "top_features"])]
    assert "error_log_count" in top

    points = list(read_points(metric_path))
    assert len(points) == 2
    by_controller = {p.metric_labels["controller_name"]: p for _, p in points}
    cart = by_controller["cart"]
    assert cart.value == pytest.approx(scores.loc["cart", "score"])
    assert cart.resource_labels == {
        "project_id": "acme-prod",
        "location": "europe-west1",
        "cluster_name": "prod-cluster",
        "namespace_name": "shop",
        "pod_name": CART_POD,
        "container_name": "cart",
    }
    assert cart.metric_labels == {
        "model_version": model_dir.name,
        "controller_name": "cart",
        "controller_kind": "Deployment",
    }
    assert cart.end_time == datetime(2026, 3, 2, 10, 16, tzinfo=UTC) - timedelta(0)
    # the same points through create_time_series (gRPC stand-in of Cloud Monitoring)
    written = [series for body in fake_monitoring.created_json() for series in body["timeSeries"]]
    assert {s["metric"]["labels"]["controller_name"] for s in written} == {"cart", "checkout"}
    assert all(body["name"] == "projects/acme-prod" for body in fake_monitoring.created_json())
    cloud_cart = next(s for s in written if s["metric"]["labels"]["controller_name"] == "cart")
    assert cloud_cart["resource"]["labels"] == cart.resource_labels
    assert cloud_cart["points"][0]["value"]["doubleValue"] == pytest.approx(cart.value)
    line = json.loads(metric_path.read_text().splitlines()[0])
    assert line["metric"]["type"] == METRIC_TYPE
    assert (line["metricKind"], line["valueType"], line["resource"]["type"]) == ("GAUGE", "DOUBLE", "k8s_container")
    assert list(line["points"][0]) == ["interval", "value"]

    # the same input again: the DuckDB rows of those windows are replaced, not duplicated
    with BeamTestPipeline(options=options) as p:
        build_pipeline(p, options)
    assert len(store.read_table("features")) == 2
    assert len(store.read_table("anomaly_scores")) == 2
    assert len(list(read_points(metric_path))) == 4  # the metric store is an append-only log


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        ({}, "no input"),
        ({"log_input": "a", "log_subscription": "projects/p/subscriptions/s"}, "not both"),
        ({"log_input": "a", "window_seconds": "0"}, "window_seconds"),
        ({"log_subscription": "logs"}, "projects/PROJECT/subscriptions"),
        ({"log_input": "a", "metric_store_path": "m.jsonl"}, "--model_dir"),
        ({"log_subscription": "projects/p/subscriptions/s", "duckdb_path": "x"}, "batch"),
        ({"log_subscription": "projects/p/subscriptions/s", "dead_letter_path": "x"}, "dead_letter_topic"),
    ],
)
def test_options_are_validated_with_clear_messages(flags: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        resolve_config(_options(**flags))


def test_missing_input_files_are_reported(tmp_path: Path) -> None:
    options = _options(log_input=str(tmp_path / "absent-*.jsonl"))
    with pytest.raises(ConfigError, match="--log_input: no files match"):
        build_pipeline(beam.Pipeline(), options)


def test_missing_model_artifact_is_reported(tmp_path: Path) -> None:
    options = _options(log_input="logs.jsonl", model_dir=str(tmp_path / "nothing"))
    with pytest.raises(ConfigError, match=r"metadata\.json"):
        build_pipeline(beam.Pipeline(), options)


def test_streaming_graph_for_dataflow_has_a_label_on_every_step(tmp_path: Path, model_dir: Path) -> None:
    options = _options(
        log_subscription="projects/acme-prod/subscriptions/gke-logs",
        metric_subscription="projects/acme-prod/subscriptions/gke-metrics",
        features_table="acme-prod:healer.features",
        scores_table="acme-prod:healer.anomaly_scores",
        model_dir=str(model_dir),
        metric_project="acme-prod",
        dead_letter_topic="projects/acme-prod/topics/features-dead-letters",
        allowed_lateness_seconds="120",
    )
    assert resolve_config(options).streaming
    p = beam.Pipeline(options=options)
    build_pipeline(p, options)
    names = [t.unique_name for t in p.to_runner_api().components.transforms.values()]
    top_level = {name.split("/")[0] for name in names}
    expected = {
        "ReadLogsPubSub",
        "ReadMetricsPubSub",
        "ParseLogEntries",
        "ParseTimeSeries",
        "AggregateWorkloadWindows",
        "ScoreFeatures",
        "WriteFeaturesBigQuery",
        "WriteScoresBigQuery",
        "WriteScoreMetricCloud",
        "PublishDeadLetters",
    }
    assert expected <= top_level
    composites = {"AggregateWorkloadWindows", "ScoreFeatures"}
    ours = [n for n in names if "/" not in n or (n.count("/") == 1 and n.split("/")[0] in composites)]
    assert "ScoreFeatures/RunInference" in ours and "AggregateWorkloadWindows/CombinePerWorkload" in ours
    assert not [n for n in ours if "<lambda>" in n or "Map(" in n], "every step of ours has a label"


def test_late_records_re_emit_their_window_with_everything_seen_so_far() -> None:
    from apache_beam.options.pipeline_options import StandardOptions
    from apache_beam.testing.test_stream import TestStream
    from apache_beam.transforms.window import TimestampedValue

    from dataflow.features_pipeline import AggregateWorkloadWindows
    from dataflow.observations import ERROR_LOG, Observation

    key = ("acme-prod", "europe-west1", "prod-cluster", "shop", "Deployment", "checkout")

    def error_at(second: int) -> TimestampedValue:
        return TimestampedValue(Observation(key, POD_A, "checkout", float(second), ERROR_LOG, 1.0), second)

    stream = (
        TestStream()
        .advance_watermark_to(0)
        .add_elements([error_at(10), error_at(20)])
        .advance_watermark_to(70)  # window [0, 60) fires on time with 2 errors
        .add_elements([error_at(30)])  # late, within the allowed lateness
        .advance_watermark_to(200)
        .add_elements([error_at(40)])  # too late: window expired at 60 + 120
        .advance_watermark_to_infinity()
    )
    options = PipelineOptions()
    options.view_as(StandardOptions).streaming = True
    with BeamTestPipeline(options=options) as p:
        rows = (
            p
            | stream
            | AggregateWorkloadWindows(60, allowed_lateness_seconds=120)
            | beam.Map(lambda r: (r["window_start"], r["error_log_count"]))
        )
        assert_that(rows, equal_to([("1970-01-01T00:00:00Z", 2), ("1970-01-01T00:00:00Z", 3)]))


def test_cli_help_and_input_errors(capsys: pytest.CaptureFixture[str]) -> None:
    from dataflow.features_pipeline import main

    assert main(["--help"]) == 0
    assert "--metric_store_path" in capsys.readouterr().out
    assert main(["--log_input=a.jsonl", "--window_seconds=0"]) == 2
    assert "--window_seconds must be positive" in capsys.readouterr().err
