"""The local end-to-end scenario: bring everything up on loopback, inject faults, judge, tear down.

emulators (gcloud) -> stand-in cluster + sample app -> Slack/Teams receivers -> ChatOps and
healer (gunicorn) -> topic, push subscription, dead letters -> monitor (metrics -> alert
evaluator -> Pub/Sub) -> faults one after another -> summary, HTML report, exit code.
"""

from __future__ import annotations

import contextlib
import json
import secrets
import signal
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import FrameType
from typing import Any

import requests

from local_scenario.alert_rules import TimeBase, load_rules
from local_scenario.anomaly import LiveScorer, ModelUnavailable, train_or_reuse
from local_scenario.chat_receivers import ChatMessage, ChatReceivers
from local_scenario.cluster import ClusterError, StandinCluster
from local_scenario.emulators import Emulator, gcloud_path, start_emulator
from local_scenario.evaluator import AlertEvaluator, AlertEvent
from local_scenario.faults import FAULTS, FaultSpec, clear, inject
from local_scenario.history import workload_fingerprint, write_history
from local_scenario.incidents import ClusterIdentity
from local_scenario.monitor import Monitor, Observations
from local_scenario.outcome import FaultRecord, Verdict, judge
from local_scenario.pubsub_wiring import IncidentPublisher, create_alert_path, dead_lettered
from local_scenario.report import write_report
from local_scenario.sample_app import PROTECTED, WORKLOADS
from local_scenario.services import Service, spawn_gunicorn, wait_healthy
from local_scenario.timeline import Timeline

PROJECT = "demo-project"
IDENTITY = ClusterIdentity(PROJECT, "local", "standin")


class GcloudMissing(RuntimeError):
    """The Google Cloud CLI (with its emulators) is not installed."""


class Interrupted(BaseException):
    """SIGINT or SIGTERM arrived; unwinds through every teardown."""


@dataclass(frozen=True)
class ScenarioOptions:
    out_dir: Path
    rules_path: Path
    policy_path: Path
    routing_path: Path
    faults: tuple[str, ...]
    dry_run: bool = False
    speed: float = 240.0  # cloud seconds per demo second: one aligned minute every 0.25 s
    fault_timeout_seconds: float = 30.0
    child_env: dict[str, str] = field(default_factory=dict)  # PATH, HOME, ... handed to the services
    quiet: bool = False
    rounds: int = 1  # how many times the whole fault list is injected
    anomaly: bool = True  # train (or reuse) the anomaly model and score the live series


@dataclass
class ScenarioResult:
    verdict: Verdict
    records: list[FaultRecord]
    observations: Observations
    messages: list[ChatMessage]
    time_base: TimeBase
    report_path: Path | None
    mutating_calls: int
    protected_mutations: int
    dead_letters: int
    timeline: Timeline


def _decided_at(row: dict[str, Any]) -> float:
    value = row.get("decided_at")
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            return datetime.fromisoformat(value).timestamp()
    return time.time()


class _Tracker:
    """Routes alerts, healer decisions and chat messages to the fault being exercised."""

    def __init__(self, timeline: Timeline) -> None:
        self.timeline = timeline
        self.lock = threading.Lock()
        self.active: FaultRecord | None = None

    def on_alert(self, event: AlertEvent) -> None:
        with self.lock:
            record = self.active
            if record is None or (event.key.namespace, event.key.workload) != (
                record.spec.namespace,
                record.spec.workload,
            ):
                return
            if event.rule.kind != record.spec.rule_kind:
                if event.rule.kind == "anomaly" and event.state == "open" and record.anomaly_alert_at is None:
                    record.anomaly_alert_at = event.at
                return
            if event.state == "open" and record.alert_at is None:
                record.alert_at, record.incident_id, record.alert_policy = event.at, event.incident_id, event.rule.name
            elif event.state == "closed" and event.incident_id == record.incident_id:
                record.closed_at = event.at

    def on_decision(self, row: dict[str, Any]) -> None:
        detail = str(row.get("detail") or "")
        target = f"{row.get('namespace')}/{row.get('target_name')}"
        with self.lock:
            record = self.active
            fault = record.label if record and row.get("incident_id") == record.incident_id else ""
            if fault and record is not None:
                if row.get("incident_state") == "open" and record.decision_at is None:
                    record.decision_at, record.decision = _decided_at(row), row
                elif row.get("incident_state") == "closed":
                    record.closed_decision = row
        action = row.get("action") or "-"
        self.timeline.add(
            "decision",
            f"{row.get('outcome')} {action} on {target} ({row.get('incident_state')} incident): {detail}",
            fault,
            at=_decided_at(row),
        )

    def on_message(self, message: ChatMessage) -> None:
        with self.lock:
            record = self.active
            fault = ""
            if record is not None and record.spec.workload in str(message.payload):
                record.messages.append(message)
                fault = record.label
        self.timeline.add("chat", f"{message.channel:<5} <- {message.headline}", fault, at=message.at)


def _install_signal_handlers() -> dict[int, Any]:
    def handler(signum: int, _frame: FrameType | None) -> None:
        raise Interrupted(signal.Signals(signum).name)

    previous: dict[int, Any] = {}
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            previous[sig] = signal.signal(sig, handler)
    return previous


def _restore_signal_handlers(previous: dict[int, Any]) -> None:
    for sig, old in previous.items():
        signal.signal(sig, old)


def _start_emulators(workdir: Path) -> tuple[Emulator, Emulator]:
    (workdir / "pubsub").mkdir(parents=True, exist_ok=True)
    (workdir / "pubsub" / "pubsub-data").mkdir(exist_ok=True)
    (workdir / "firestore").mkdir(parents=True, exist_ok=True)
    with ThreadPoolExecutor(2) as pool:
        pubsub_future = pool.submit(start_emulator, "pubsub", workdir / "pubsub")
        firestore_future = pool.submit(start_emulator, "firestore", workdir / "firestore")
        started: list[Emulator] = []
        errors: list[BaseException] = []
        for future in (pubsub_future, firestore_future):
            try:
                started.append(future.result())
            except BaseException as exc:
                errors.append(exc)
    if errors:
        for emulator in started:
            emulator.stop()
        raise errors[0]
    return started[0], started[1]


@contextlib.contextmanager
def _stopping(stop: Any) -> Iterator[None]:
    try:
        yield
    finally:
        stop()


def _wait(predicate: Any, timeout: float, interval: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return bool(predicate())


def run_scenario(options: ScenarioOptions, emulators: tuple[Emulator, Emulator] | None = None) -> ScenarioResult:
    """Run the whole scenario. `emulators` (Pub/Sub, Firestore) lets a caller share running ones."""
    if gcloud_path() is None:
        raise GcloudMissing("gcloud is not installed")
    previous = _install_signal_handlers()
    try:
        return _run(options, emulators)
    finally:
        _restore_signal_handlers(previous)


def _run(options: ScenarioOptions, emulators: tuple[Emulator, Emulator] | None) -> ScenarioResult:
    time_base = TimeBase(options.speed)
    rules = load_rules(options.rules_path)
    out = options.out_dir.resolve()  # children (emulators, pipeline stages) run in other directories
    workdir = out / "run"
    workdir.mkdir(parents=True, exist_ok=True)
    audit_path = workdir / "healing_actions.jsonl"
    audit_path.unlink(missing_ok=True)
    timeline = Timeline(quiet=options.quiet)
    run_id = secrets.token_hex(3)
    tracker = _Tracker(timeline)
    specs = [FAULTS[name] for name in options.faults]
    timeline.note(
        f"time base: {options.speed:g} cloud seconds per demo second; one sample (one aligned cloud minute) "
        f"every {time_base.sample_interval * 1000:.0f} ms; {'DRY RUN' if options.dry_run else 'healing enabled'}"
    )
    with contextlib.ExitStack() as stack:
        cluster = StandinCluster(
            ready_delay_seconds=time_base.sample_interval,
            crash_restart_interval_seconds=time_base.demo_seconds(60),
        ).start()
        stack.callback(cluster.stop)
        cluster.seed_sample_app()
        kubeconfig = cluster.write_kubeconfig(workdir / "kubeconfig.json")
        if not _wait(lambda: all(cluster.workload_healthy(w.namespace, w.name) for w in WORKLOADS), 15):
            raise ClusterError("the sample application did not become ready on the stand-in cluster")
        timeline.add(
            "setup",
            f"stand-in cluster on {cluster.url}: "
            + ", ".join(f"{w.namespace}/{w.name}x{w.replicas}" for w in WORKLOADS)
            + f" ({PROTECTED} is protected)",
        )
        with ThreadPoolExecutor(1) as pool:
            started = None
            if emulators is None:
                timeline.add("setup", "starting the Pub/Sub and Firestore emulators (gcloud)")
                started = pool.submit(_start_emulators, workdir)
            try:
                scorer = _anomaly_scorer(options, cluster, timeline) if options.anomaly else None
            finally:
                if started is not None:
                    pubsub, firestore = started.result()
                    stack.callback(firestore.stop)
                    stack.callback(pubsub.stop)
        if emulators is not None:
            pubsub, firestore = emulators
        timeline.add("setup", f"Pub/Sub emulator on {pubsub.host_port}, Firestore emulator on {firestore.host_port}")

        receivers = ChatReceivers(tracker.on_message).start()
        stack.callback(receivers.stop)
        chatops = _spawn_chatops(options, workdir, receivers)
        stack.callback(chatops.stop)
        healer = _spawn_healer(options, workdir, kubeconfig, firestore, chatops, audit_path, run_id)
        stack.callback(healer.stop)
        wait_healthy(chatops)
        wait_healthy(healer)
        timeline.add("setup", f"healer on {healer.url}, ChatOps on {chatops.url} (gunicorn, 1 worker, 8 threads)")
        _warm_up(healer)

        path = create_alert_path(pubsub.host_port, PROJECT, healer.url + "/", prefix=f"healer-alerts-{run_id}")
        publisher = IncidentPublisher(pubsub.host_port, path.topic)
        timeline.add("setup", f"topic {path.topic} -> push {path.subscription} -> healer; dead letters to "
                     f"{path.dead_letter_topic}")  # fmt: skip

        monitor = Monitor(
            cluster,
            AlertEvaluator(rules, time_base),
            IDENTITY,
            publisher.publish,
            audit_path,
            timeline,
            tracker.on_alert,
            tracker.on_decision,
            scorer,
        ).start()
        stack.callback(monitor.stop)
        monitor.wait_ticks(4)

        records: list[FaultRecord] = []
        plan = [(round_, spec) for round_ in range(1, options.rounds + 1) for spec in specs]
        for index, (round_, spec) in enumerate(plan, 1):
            label = spec.name if options.rounds == 1 else f"{spec.name}#{round_}"
            timeline.note(f"--- fault {index}/{len(plan)}: {label}: {spec.description} ---")
            records.append(_exercise(spec, label, cluster, monitor, tracker, timeline, options))

        mutations = list(cluster.healer_log.mutating())
        protected = [m for m in mutations if f"/namespaces/{PROTECTED}/" in m.path]
        dead = dead_lettered(pubsub.host_port, path.dead_letter_subscription)
        verdict = judge(
            records,
            dry_run=options.dry_run,
            protected_mutations=len(protected),
            mutating_calls=len(mutations),
            dead_letters=len(dead),
        )
        if monitor.errors:
            verdict = Verdict(
                False, (*verdict.lines, f"FAIL monitor errors: {monitor.errors[:3]}"), verdict.recovery_p95
            )
        _write_jsonl(out / "incidents.jsonl", monitor.published)
        _write_jsonl(
            out / "chat_messages.jsonl",
            [
                {"channel": m.channel, "at": m.at, "headline": m.headline, "payload": m.payload}
                for m in receivers.snapshot()
            ],
        )
        report_path = write_report(
            out / "report.html",
            records=records,
            rules=rules,
            aligned=monitor.observations.aligned,
            anomaly=monitor.observations.anomaly,
            verdict=verdict,
            time_base=time_base,
            dry_run=options.dry_run,
            events=timeline.events,
        )
        fleet_path = _fleet_report(out, audit_path, timeline)
        if fleet_path is not None:
            _link_fleet_report(report_path, fleet_path)
        result = ScenarioResult(
            verdict=verdict,
            records=records,
            observations=monitor.observations,
            messages=receivers.snapshot(),
            time_base=time_base,
            report_path=report_path,
            mutating_calls=len(mutations),
            protected_mutations=len(protected),
            dead_letters=len(dead),
            timeline=timeline,
        )
        timeline.add("setup", "tearing down: monitor, healer, ChatOps, receivers, stand-in cluster, emulators")
    return result


def _exercise(
    spec: FaultSpec,
    label: str,
    cluster: StandinCluster,
    monitor: Monitor,
    tracker: _Tracker,
    timeline: Timeline,
    options: ScenarioOptions,
) -> FaultRecord:
    record = FaultRecord(spec, label)
    with tracker.lock:
        tracker.active = record
    record.injected_at = time.time()
    record.injection_note = inject(cluster, spec)
    timeline.add("inject", record.injection_note, label, at=record.injected_at)
    deadline = time.monotonic() + options.fault_timeout_seconds
    expect_action = spec.expect == "heal" and not options.dry_run

    def remaining() -> float:
        return max(0.0, deadline - time.monotonic())

    if not _wait(lambda: record.decision_at is not None, remaining()):
        record.problems.append("no healer decision within the time limit")
    if expect_action and record.decision.get("outcome") == "acted":
        healthy = _wait(lambda: cluster.workload_healthy(spec.namespace, spec.workload), remaining(), 0.02)
        if healthy:
            record.recovered_at = time.time()
            timeline.add(
                "recovered",
                f"{spec.namespace}/{spec.workload} healthy again "
                f"({record.recovered_at - record.injected_at:.2f}s after injection)",
                label,
                at=record.recovered_at,
            )
    prefix = f"/namespaces/{spec.namespace}/"
    mutations = [m for m in cluster.healer_log.mutating() if prefix in m.path and m.timestamp >= record.injected_at]
    if mutations:
        record.first_mutation_at = min(m.timestamp for m in mutations)
    _wait(lambda: record.notified_at is not None, min(remaining(), 10.0))
    if not expect_action or record.recovered_at is None:
        clear(cluster, spec)
        record.cleared_by_operator_at = time.time()
        timeline.add("info", f"operator removes the fault from {spec.namespace}/{spec.workload}", label)
        if not _wait(lambda: cluster.workload_healthy(spec.namespace, spec.workload), 15):
            record.problems.append("the workload did not settle after the operator removed the fault")
    _wait(lambda: record.closed_at is not None, max(remaining(), 5.0))
    if record.closed_at is not None:
        _wait(lambda: bool(record.closed_decision), 5.0)
    monitor.wait_ticks(2)
    with tracker.lock:
        tracker.active = None
    return record


def _write_jsonl(path: Path, rows: list[dict[str, Any]]) -> None:
    with path.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, separators=(",", ":"), default=str) + "\n")


def _anomaly_scorer(options: ScenarioOptions, cluster: StandinCluster, timeline: Timeline) -> LiveScorer | None:
    """Train (or reuse) the anomaly model; without one the scenario goes on with the threshold rules."""
    try:
        model = train_or_reuse(
            options.out_dir.resolve() / "model",
            workload_fingerprint(cluster),
            lambda directory, start, minutes: write_history(cluster, IDENTITY, directory, start, minutes),
            options.rules_path.resolve().parent / "bigquery",
            {**options.child_env, "PYTHONUNBUFFERED": "1"},
            lambda text: timeline.add("setup", text),
        )
        scorer = LiveScorer(model.artifact_dir)
    except (ModelUnavailable, OSError, ValueError) as exc:
        timeline.add("info", f"anomaly model unavailable, going on with the threshold rules only: {exc}")
        return None
    how = "reused" if model.reused else f"trained in {model.seconds:.0f}s"
    timeline.add("setup", f"anomaly model {model.version} ({how}) scores every workload once per sample")
    return scorer


def _warm_up(healer: Service) -> None:
    """Let the healer open its Firestore client before the first incident (as a warm Cloud Run instance has)."""
    with contextlib.suppress(requests.RequestException):
        requests.get(healer.url + "/control/v1/status", timeout=10)


def _spawn_chatops(options: ScenarioOptions, workdir: Path, receivers: ChatReceivers) -> Service:
    from local_scenario.emulators import free_port

    port = free_port()
    env = {
        **options.child_env,
        "CHATOPS_ROUTING_FILE": str(options.routing_path.resolve()),
        "CHATOPS_ROUTES": "notify",
        "CHATOPS_AUTH_DISABLED": "true",
        "CHATOPS_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "CHATOPS_LINK_SIGNING_KEY": secrets.token_urlsafe(32),
        "CHATOPS_DELIVERY_ATTEMPTS": "3",
        "CHATOPS_BACKOFF_BASE_SECONDS": "0.1",
        "CHATOPS_BACKOFF_MAX_SECONDS": "0.5",
        "GOOGLE_CLOUD_PROJECT": PROJECT,
        "DEMO_SLACK_WEBHOOK_URL": receivers.slack.url + "/services/T0DEMO/B0DEMO/demo",
        "DEMO_TEAMS_WORKFLOW_URL": receivers.teams.url + "/workflows/demo/triggers/manual/paths/invoke",
        "PYTHONUNBUFFERED": "1",
    }
    return spawn_gunicorn("chatops", "chatops_service.main:app", env, workdir, port=port)


def _spawn_healer(
    options: ScenarioOptions,
    workdir: Path,
    kubeconfig: Path,
    firestore: Emulator,
    chatops: Service,
    audit_path: Path,
    run_id: str,
) -> Service:
    evidence = workdir / "evidence"
    evidence.mkdir(exist_ok=True)
    env = {
        **options.child_env,
        "HEALER_AUTH_DISABLED": "true",
        "HEALER_KUBE_MODE": "kubeconfig",
        "HEALER_KUBECONFIG": str(kubeconfig),
        "HEALER_LEDGER": "firestore",
        "GOOGLE_CLOUD_PROJECT": PROJECT,
        "FIRESTORE_EMULATOR_HOST": firestore.host_port,
        "HEALER_FIRESTORE_COLLECTION_PREFIX": f"healer-{run_id}",
        "HEALER_CHATOPS_URL": chatops.url,
        "HEALER_CHATOPS_ID_TOKEN": "false",
        "HEALER_DRY_RUN": "true" if options.dry_run else "false",
        "HEALER_POLICY_FILE": str(options.policy_path.resolve()),
        "HEALER_ACTIONS_TABLE": f"jsonl:{audit_path}",
        "HEALER_EVIDENCE_BUCKET": str(evidence),
        "HEALER_VERIFY_TIMEOUT_SECONDS": "10",
        "HEALER_VERIFY_POLL_SECONDS": "0.05",
        "HEALER_NOTIFY_BACKOFF_SECONDS": "0.2",
        "PYTHONUNBUFFERED": "1",
    }
    return spawn_gunicorn("healer", "self_healing_service.main:app", env, workdir)


def _fleet_report(out: Path, audit_path: Path, timeline: Timeline) -> Path | None:
    """The fleet health report over this run: the healer's audit rows plus the model's feature history."""
    from datetime import UTC, timedelta

    from fleet_insight.report import write_report as write_fleet_report

    features = out / "model" / "features.duckdb"
    end = datetime.now(UTC) + timedelta(minutes=1)
    path = out / "fleet-report.html"
    try:
        write_fleet_report(
            path,
            end - timedelta(hours=13),
            end,
            duckdb_files=[features] if features.exists() else [],
            healing_actions_jsonl=audit_path if audit_path.exists() else None,
            allow_missing=["features", "anomaly_scores"] if not features.exists() else ["anomaly_scores"],
        )
    except Exception as exc:  # the demo's verdict does not depend on the fleet report
        timeline.note(f"fleet health report not written: {exc}")
        return None
    timeline.note(f"fleet health report: {path}")
    return path


def _link_fleet_report(report_path: Path, fleet_path: Path) -> None:
    text = report_path.read_text(encoding="utf-8")
    link = f'<p><a href="{fleet_path.name}">Fleet health report for this run</a> (health scores, what was healed and how fast, resource advice)</p>'
    report_path.write_text(text.replace("</h1>", "</h1>\n" + link, 1), encoding="utf-8")
