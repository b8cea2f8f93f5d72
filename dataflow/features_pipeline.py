"""The features pipeline: logs + metric points -> per-workload 1-minute features -> scores.

``build_pipeline(p, options)`` wires the steps; ``run(argv)`` parses options and
runs it. The same graph runs on the DirectRunner (batch, JSONL files in,
DuckDB + a metric JSONL file out) and on Dataflow (streaming from Pub/Sub,
BigQuery + Cloud Monitoring out); only the options differ.

    python -m dataflow.features_pipeline --help
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import apache_beam as beam
from apache_beam import pvalue
from apache_beam.metrics import Metrics
from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions
from apache_beam.transforms import trigger, window

from anomaly_detection_model.artifact import ArtifactError, ArtifactMetadata
from anomaly_detection_model.feature_store import ROW_KEYS, DuckDBFeatureStore
from anomaly_detection_model.score_metric import point_from_score
from anomaly_detection_model.table_schema import FEATURES_TABLE, SCORES_TABLE
from dataflow.log_parser import parse_log_line
from dataflow.metric_parser import parse_metric_line
from dataflow.metric_writers import (
    make_monitoring_client,
    write_to_cloud_monitoring,
    write_to_local_store,
)
from dataflow.observations import Observation, ParseError, WorkloadKey
from dataflow.scoring import keyed_vector, load_scoring_metadata, make_model_handler, score_row
from dataflow.window_features import WindowAccumulator, feature_row

log = logging.getLogger(__name__)

DEAD_LETTER = "dead_letter"
METRICS_NAMESPACE = "features_pipeline"
# Pub/Sub attribute carrying the event time: the log sink sets the first, the exporter the second.
LOG_TIMESTAMP_ATTRIBUTE = "logging.googleapis.com/timestamp"
METRIC_TIMESTAMP_ATTRIBUTE = "timestamp"


class ConfigError(ValueError):
    """The pipeline options do not describe a runnable pipeline; the message says why."""


class FeaturesPipelineOptions(PipelineOptions):
    @classmethod
    def _add_argparse_args(cls, parser: Any) -> None:
        group = parser.add_argument_group("features pipeline")
        group.add_argument(
            "--log_input",
            default="",
            help="Batch: file pattern of LogEntry JSON lines (local path or gs://).",
        )
        group.add_argument(
            "--metric_input",
            default="",
            help="Batch: file pattern of TimeSeries JSON lines (one point each).",
        )
        group.add_argument(
            "--log_subscription",
            default="",
            help="Streaming: Pub/Sub subscription (projects/P/subscriptions/S) fed by the log sink.",
        )
        group.add_argument(
            "--metric_subscription",
            default="",
            help="Streaming: Pub/Sub subscription fed by dataflow.metrics_exporter.",
        )
        group.add_argument("--window_seconds", type=int, default=60, help="Fixed event-time window size in seconds.")
        group.add_argument(
            "--allowed_lateness_seconds",
            type=int,
            default=0,
            help="Streaming: how late (event time) a record may still update its window; a late record "
            "re-emits the window's row with everything seen so far.",
        )
        group.add_argument(
            "--features_table", default="", help="BigQuery table for feature rows: PROJECT:DATASET.TABLE."
        )
        group.add_argument("--scores_table", default="", help="BigQuery table for scores: PROJECT:DATASET.TABLE.")
        group.add_argument(
            "--bigquery_method",
            default="DEFAULT",
            choices=["DEFAULT", "STREAMING_INSERTS", "FILE_LOADS", "STORAGE_WRITE_API"],
            help="WriteToBigQuery method (DEFAULT lets Beam choose: streaming inserts when streaming).",
        )
        group.add_argument(
            "--duckdb_path",
            default="",
            help="Local: DuckDB file receiving the features and anomaly_scores tables (one writer step).",
        )
        group.add_argument(
            "--schema_dir",
            default="",
            help="Directory of the BigQuery JSON schemas (default: config/bigquery).",
        )
        group.add_argument(
            "--model_dir",
            default="",
            help="Model artifact directory (local or gs://): model.joblib + metadata.json; none: no scores.",
        )
        group.add_argument(
            "--metric_store_path",
            default="",
            help="Local: append each score point as Cloud Monitoring TimeSeries JSON lines to this file.",
        )
        group.add_argument(
            "--metric_project", default="", help="Cloud: project to write the anomaly-score custom metric to."
        )
        group.add_argument(
            "--monitoring_endpoint",
            default="",
            help="Cloud Monitoring endpoint override (127.0.0.1:PORT: plaintext gRPC, no credentials).",
        )
        group.add_argument(
            "--dead_letter_path",
            default="",
            help="Batch: output prefix for dead-letter JSON lines (local or gs://).",
        )
        group.add_argument(
            "--dead_letter_topic",
            default="",
            help="Streaming: Pub/Sub topic (projects/P/topics/T) for dead letters.",
        )


@dataclass(frozen=True)
class PipelineConfig:
    streaming: bool
    log_input: str
    metric_input: str
    log_subscription: str
    metric_subscription: str
    window_seconds: int
    allowed_lateness_seconds: int
    features_table: str
    scores_table: str
    bigquery_method: str
    duckdb_path: str
    schema_dir: str
    model_dir: str
    metric_store_path: str
    metric_project: str
    monitoring_endpoint: str
    dead_letter_path: str
    dead_letter_topic: str


def resolve_config(options: PipelineOptions) -> PipelineConfig:
    """Validate the options; every problem is reported with what to change."""
    opts = options.view_as(FeaturesPipelineOptions)
    values = {name: getattr(opts, name) for name in PipelineConfig.__dataclass_fields__ if name != "streaming"}
    files = bool(values["log_input"] or values["metric_input"])
    pubsub = bool(values["log_subscription"] or values["metric_subscription"])
    if files and pubsub:
        raise ConfigError("give either file inputs (--log_input/--metric_input) or Pub/Sub subscriptions, not both")
    if not files and not pubsub:
        raise ConfigError(
            "no input: give --log_input and/or --metric_input, or --log_subscription/--metric_subscription"
        )
    if values["window_seconds"] < 1:
        raise ConfigError(f"--window_seconds must be positive, got {values['window_seconds']}")
    if values["allowed_lateness_seconds"] < 0:
        raise ConfigError("--allowed_lateness_seconds must not be negative")
    for name in ("log_subscription", "metric_subscription"):
        if values[name] and "/subscriptions/" not in values[name]:
            raise ConfigError(f"--{name} must look like projects/PROJECT/subscriptions/NAME, got {values[name]!r}")
    if values["dead_letter_topic"] and "/topics/" not in values["dead_letter_topic"]:
        raise ConfigError("--dead_letter_topic must look like projects/PROJECT/topics/NAME")
    scoring_sinks = values["scores_table"] or values["metric_store_path"] or values["metric_project"]
    if scoring_sinks and not values["model_dir"]:
        raise ConfigError("score outputs need --model_dir (the model artifact to score with)")
    streaming = pubsub or bool(options.view_as(StandardOptions).streaming)
    if streaming and values["dead_letter_path"]:
        raise ConfigError("--dead_letter_path is for batch runs; use --dead_letter_topic when streaming")
    if streaming and (values["duckdb_path"] or values["metric_store_path"]):
        raise ConfigError("the DuckDB and local metric outputs are for batch runs")
    return PipelineConfig(streaming=streaming, **values)


class ParseRecords(beam.DoFn):
    """Parse JSON records; bad ones go to the dead-letter output with the reason, and are counted."""

    def __init__(self, source: str, parse: Callable[[str | bytes], list[Observation]]) -> None:
        self.source = source
        self.parse = parse
        self.parsed = Metrics.counter(METRICS_NAMESPACE, f"{source}_records_parsed")
        self.skipped = Metrics.counter(METRICS_NAMESPACE, f"{source}_records_without_features")
        self.dead = Metrics.counter(METRICS_NAMESPACE, f"{source}_dead_letters")

    def process(self, element: str | bytes) -> Iterable[Any]:
        try:
            observations = self.parse(element)
        except ParseError as exc:
            reason = str(exc)
        except Exception as exc:  # never let one record crash the pipeline
            reason = f"unexpected {type(exc).__name__}: {exc}"
        else:
            self.parsed.inc()
            if not observations:
                self.skipped.inc()
            for obs in observations:
                yield window.TimestampedValue(obs, obs.timestamp)
            return
        self.dead.inc()
        text = element.decode("utf-8", "replace") if isinstance(element, bytes) else element
        yield pvalue.TaggedOutput(DEAD_LETTER, {"source": self.source, "error": reason, "record": text[:10000]})


class CombineWorkloadWindow(beam.CombineFn):
    def create_accumulator(self) -> WindowAccumulator:
        return WindowAccumulator()

    def add_input(self, accumulator: WindowAccumulator, element: Observation) -> WindowAccumulator:
        return accumulator.add(element)

    def merge_accumulators(self, accumulators: Iterable[WindowAccumulator]) -> WindowAccumulator:
        merged = WindowAccumulator()
        for acc in accumulators:
            merged.merge(acc)
        return merged

    def extract_output(self, accumulator: WindowAccumulator) -> WindowAccumulator:
        return accumulator


class ToFeatureRow(beam.DoFn):
    def process(
        self,
        element: tuple[WorkloadKey, WindowAccumulator],
        win: Any = beam.DoFn.WindowParam,
    ) -> Iterable[dict[str, Any]]:
        key, acc = element
        yield feature_row(key, acc, float(win.start), float(win.end))


class AggregateWorkloadWindows(beam.PTransform):
    """Observations -> one feature row per workload per fixed event-time window."""

    def __init__(self, window_seconds: int, allowed_lateness_seconds: int = 0) -> None:
        super().__init__()
        self.window_seconds = window_seconds
        self.allowed_lateness_seconds = allowed_lateness_seconds

    def expand(self, observations: Any) -> Any:
        late: dict[str, Any] = {}
        if self.allowed_lateness_seconds:
            # a late record re-emits its window's row with everything seen so far: the latest row wins
            late = {
                "trigger": trigger.AfterWatermark(late=trigger.AfterCount(1)),
                "accumulation_mode": trigger.AccumulationMode.ACCUMULATING,
            }
        windows = window.FixedWindows(self.window_seconds)
        return (
            observations
            | "FixedWindows" >> beam.WindowInto(windows, allowed_lateness=self.allowed_lateness_seconds, **late)
            | "KeyByWorkload" >> beam.Map(lambda obs: (obs.key, obs))
            | "CombinePerWorkload" >> beam.CombinePerKey(CombineWorkloadWindow())
            | "ToFeatureRow" >> beam.ParDo(ToFeatureRow())
        )


class ScoreFeatures(beam.PTransform):
    """Feature rows -> ``anomaly_scores`` rows, scored by RunInference with the sklearn handler."""

    def __init__(self, model_dir: str, metadata: ArtifactMetadata, streaming: bool) -> None:
        super().__init__()
        self.model_dir = model_dir
        self.metadata = metadata
        self.streaming = streaming

    def expand(self, features: Any) -> Any:
        from apache_beam.ml.inference.base import RunInference

        metadata = self.metadata
        if not self.streaming:
            # Batches never cross windows: a backfill scores in the global window so that
            # RunInference can batch many minutes at once (each row keeps its window_end).
            features = features | "GlobalWindowForBatching" >> beam.WindowInto(window.GlobalWindows())
        return (
            features
            | "KeyedVector" >> beam.Map(keyed_vector, metadata.state)
            | "RunInference" >> RunInference(make_model_handler(self.model_dir, metadata))
            | "ToScoreRow"
            >> beam.MapTuple(lambda row, result: score_row(row, result.example, result.inference, metadata))
        )


class DuckDBTableWriter:
    """Writes a batch of rows to one table of the local DuckDB store (rows of the same windows are replaced)."""

    def __init__(self, path: str, table: str, schema_dir: str = "") -> None:
        self.path, self.table, self.schema_dir = path, table, schema_dir

    def __call__(self, rows: Sequence[dict[str, Any]]) -> int:
        store = DuckDBFeatureStore(Path(self.path), schema_dir=Path(self.schema_dir) if self.schema_dir else None)
        return store.append(self.table, rows, replace_on=ROW_KEYS[self.table])


class LocalMetricStoreWriter:
    """Appends the score points of a batch of score rows to the local metric JSONL file."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __call__(self, rows: Sequence[dict[str, Any]]) -> int:
        return write_to_local_store(Path(self.path), [point_from_score(r) for r in rows]).written


class WriteInOneStep(beam.PTransform):
    """Gather a PCollection on one key and hand it to ``write`` in one call per window.

    In batch runs everything is re-windowed into the global window first, so the
    whole output is written once, by a single writer (DuckDB allows one).
    """

    def __init__(self, write: Callable[[Sequence[Any]], int], streaming: bool) -> None:
        super().__init__()
        self.write = write
        self.streaming = streaming

    def expand(self, pcoll: Any) -> Any:
        if not self.streaming:
            pcoll = pcoll | "GlobalWindow" >> beam.WindowInto(window.GlobalWindows())
        write = self.write
        return (
            pcoll
            | "OneKey" >> beam.Map(lambda element: (None, element))
            | "Gather" >> beam.GroupByKey()
            | "Write" >> beam.MapTuple(lambda _, elements: write(list(elements)))
        )


class WriteScoreMetric(beam.DoFn):
    """Writes score points to Cloud Monitoring in requests of at most 200 series."""

    def __init__(self, project: str, endpoint: str = "") -> None:
        self.project = project
        self.endpoint = endpoint
        self.client: Any = None
        self.written = Metrics.counter(METRICS_NAMESPACE, "metric_points_written")
        self.failed = Metrics.counter(METRICS_NAMESPACE, "metric_points_failed")

    def setup(self) -> None:
        self.client = make_monitoring_client(self.endpoint)

    def process(self, rows: Sequence[dict[str, Any]]) -> Iterable[int]:
        result = write_to_cloud_monitoring(self.client, self.project, [point_from_score(r) for r in rows])
        self.written.inc(result.written)
        self.failed.inc(result.failed)
        yield result.written


class PipelineOutputs(NamedTuple):
    features: Any
    scores: Any
    dead_letters: Any


def _read(p: Any, name: str, pattern: str, subscription: str, timestamp_attribute: str) -> Any:
    if subscription:
        return p | f"Read{name}PubSub" >> beam.io.ReadFromPubSub(
            subscription=subscription, timestamp_attribute=timestamp_attribute
        )
    return p | f"Read{name}Files" >> beam.io.ReadFromText(pattern)


def _matches_files(pattern: str) -> bool:
    from apache_beam.io.filesystems import FileSystems

    try:
        return any(result.metadata_list for result in FileSystems.match([pattern]))
    except Exception:  # an unreachable file system: let the read report it
        return True


def _bigquery_sink(table: str, method: str) -> Any:
    kwargs: dict[str, Any] = {
        "create_disposition": beam.io.BigQueryDisposition.CREATE_NEVER,  # Terraform creates the tables
        "write_disposition": beam.io.BigQueryDisposition.WRITE_APPEND,
    }
    if method != "DEFAULT":
        kwargs["method"] = getattr(beam.io.WriteToBigQuery.Method, method)
    return beam.io.WriteToBigQuery(table, **kwargs)


def build_pipeline(p: Any, options: PipelineOptions) -> PipelineOutputs:
    """Add the features pipeline to ``p``; returns its features, scores and dead-letter PCollections."""
    config = resolve_config(options)
    if config.streaming:  # Pub/Sub input: sinks (BigQuery) choose their streaming variants
        for opts in (options, p.options):
            opts.view_as(StandardOptions).streaming = True
    metadata: ArtifactMetadata | None = None
    if config.model_dir:
        try:
            metadata = load_scoring_metadata(config.model_dir)
        except (ArtifactError, OSError, ValueError) as exc:
            raise ConfigError(f"--model_dir {config.model_dir!r}: {exc}") from exc

    for flag, pattern in (("--log_input", config.log_input), ("--metric_input", config.metric_input)):
        if pattern and not _matches_files(pattern):
            raise ConfigError(f"{flag}: no files match {pattern!r}")

    sources = []
    dead = []
    if config.log_input or config.log_subscription:
        parsed = _read(
            p, "Logs", config.log_input, config.log_subscription, LOG_TIMESTAMP_ATTRIBUTE
        ) | "ParseLogEntries" >> beam.ParDo(ParseRecords("logs", parse_log_line)).with_outputs(
            DEAD_LETTER, main="observations"
        )
        sources.append(parsed.observations)
        dead.append(parsed[DEAD_LETTER])
    if config.metric_input or config.metric_subscription:
        parsed = _read(
            p, "Metrics", config.metric_input, config.metric_subscription, METRIC_TIMESTAMP_ATTRIBUTE
        ) | "ParseTimeSeries" >> beam.ParDo(ParseRecords("metrics", parse_metric_line)).with_outputs(
            DEAD_LETTER, main="observations"
        )
        sources.append(parsed.observations)
        dead.append(parsed[DEAD_LETTER])

    observations = tuple(sources) | "MergeObservations" >> beam.Flatten()
    dead_letters = tuple(dead) | "MergeDeadLetters" >> beam.Flatten()
    features = observations | "AggregateWorkloadWindows" >> AggregateWorkloadWindows(
        config.window_seconds, config.allowed_lateness_seconds
    )

    if config.dead_letter_path:
        _ = (
            dead_letters
            | "DeadLetterJson" >> beam.Map(lambda d: json.dumps(d, sort_keys=True))
            | "WriteDeadLetterFiles" >> beam.io.WriteToText(config.dead_letter_path, file_name_suffix=".jsonl")
        )
    if config.dead_letter_topic:
        _ = (
            dead_letters
            | "DeadLetterBytes" >> beam.Map(lambda d: json.dumps(d, sort_keys=True).encode("utf-8"))
            | "PublishDeadLetters" >> beam.io.WriteToPubSub(config.dead_letter_topic)
        )
    if config.features_table:
        _ = features | "WriteFeaturesBigQuery" >> _bigquery_sink(config.features_table, config.bigquery_method)
    if config.duckdb_path:
        _ = features | "WriteFeaturesDuckDB" >> WriteInOneStep(
            DuckDBTableWriter(config.duckdb_path, FEATURES_TABLE, config.schema_dir), config.streaming
        )

    scores = None
    if metadata is not None:
        scores = features | "ScoreFeatures" >> ScoreFeatures(config.model_dir, metadata, config.streaming)
        if config.scores_table:
            _ = scores | "WriteScoresBigQuery" >> _bigquery_sink(config.scores_table, config.bigquery_method)
        if config.duckdb_path:
            _ = scores | "WriteScoresDuckDB" >> WriteInOneStep(
                DuckDBTableWriter(config.duckdb_path, SCORES_TABLE, config.schema_dir), config.streaming
            )
        if config.metric_store_path:
            _ = scores | "WriteScoreMetricLocal" >> WriteInOneStep(
                LocalMetricStoreWriter(config.metric_store_path), config.streaming
            )
        if config.metric_project:
            _ = (
                scores
                | "BatchScorePoints" >> beam.BatchElements(min_batch_size=1, max_batch_size=200)
                | "WriteScoreMetricCloud"
                >> beam.ParDo(WriteScoreMetric(config.metric_project, config.monitoring_endpoint))
            )
    return PipelineOutputs(features=features, scores=scores, dead_letters=dead_letters)


def run(argv: Sequence[str] | None = None) -> Any:
    options = PipelineOptions(list(argv) if argv is not None else sys.argv[1:])
    config = resolve_config(options)
    if config.streaming:
        options.view_as(StandardOptions).streaming = True
    pipeline = beam.Pipeline(options=options)
    build_pipeline(pipeline, options)
    result = pipeline.run()
    if not config.streaming:
        result.wait_until_finish()
    return result


def main(argv: Sequence[str] | None = None) -> int:
    args = list(argv) if argv is not None else sys.argv[1:]
    if "--help" in args or "-h" in args:
        import argparse

        parser = argparse.ArgumentParser(
            prog="python -m dataflow.features_pipeline",
            description="Per-workload 1-minute features and anomaly scores from GKE logs and metrics. "
            "Beam's own options (--runner, --project, --region, --temp_location, ...) apply too.",
        )
        FeaturesPipelineOptions._add_argparse_args(parser)
        parser.print_help()
        return 0
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        run(args)
    except ConfigError as exc:
        print(f"features_pipeline: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
