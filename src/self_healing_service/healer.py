"""From incident to decision to action: the healer's core flow.

routes (main.py) -> Healer.handle (this module: policy guards, ladder, ledger)
  -> actions (plans over the gateway) -> kube (the only `kubernetes` import)

Every decision, taken or refused, is one structured log line, one ledger record and one
audit row; decisions worth telling a human are sent to ChatOps.
"""

from __future__ import annotations

import fnmatch
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from healing_contract.control import ControlTarget
from healing_contract.notification import DecisionInfo, TargetInfo
from self_healing_service import actions as act
from self_healing_service import evidence
from self_healing_service import metrics as m
from self_healing_service.audit import AuditSink, NullAudit
from self_healing_service.errors import (
    DryRunViolation,
    KubeError,
    KubeNotFound,
    KubeUnavailable,
    NotifyFailed,
    TransientError,
)
from self_healing_service.incident import Incident
from self_healing_service.kube import ClusterConnector, ClusterRef, KubeGateway
from self_healing_service.ledger import BudgetRule, Ledger
from self_healing_service.notifier import ChatOpsNotifier, build_notification
from self_healing_service.policy import Policy, Rule, Step
from self_healing_service.settings import Settings

log = logging.getLogger("self_healing_service.decisions")

OPT_OUT_ANNOTATION = "healer.selfheal.dev/opt-out"
OPT_IN_ANNOTATION = "healer.selfheal.dev/enabled"
DESTRUCTIVE = ("restart", "delete_pod", "rollback", "drain_node", "raise_memory")
# Outcomes a human hears about. "ignored" (no policy for this kind) is recorded only.
NOTIFY_OUTCOMES = ("acted", "dry_run", "refused", "held_for_approval", "failed", "verified", "escalated", "closed")


@dataclass(frozen=True)
class Target:
    cluster: ClusterRef
    namespace: str = ""
    deployment: str = ""
    pod: str = ""
    container: str = ""
    node: str = ""
    controller_kind: str = ""
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)

    @property
    def kind(self) -> str:
        if self.deployment:
            return "Deployment"
        if self.node:
            return "Node"
        return "Pod" if self.pod else ""

    @property
    def name(self) -> str:
        return self.deployment or self.node or self.pod

    def key(self) -> str:
        return "/".join((self.cluster.name or "*", self.namespace or "-", self.name or "-"))

    def info(self) -> TargetInfo:
        return TargetInfo(
            project_id=self.cluster.project_id,
            location=self.cluster.location,
            cluster=self.cluster.name,
            namespace=self.namespace,
            kind=self.kind,
            name=self.name,
            pod=self.pod,
            container=self.container,
            node=self.node,
            labels=dict(self.labels),
        )

    def action_target(self) -> act.ActionTarget:
        return act.ActionTarget(self.namespace, self.deployment, self.pod, self.container, self.node)


class IncidentInProgress(TransientError):
    """A `closed` arrived while the `open` is still being acted on: Pub/Sub redelivers it shortly."""


@dataclass
class Result:
    """What handling one delivery came to; the route maps it to a status code."""

    status: str  # handled | duplicate | ignored | test
    decisions: list[DecisionInfo] = field(default_factory=list)


def is_protected(namespace: str, patterns: tuple[str, ...]) -> bool:
    return any(fnmatch.fnmatchcase(namespace, pattern) for pattern in patterns)


class Healer:
    def __init__(
        self,
        settings: Settings,
        policy: Policy,
        ledger: Ledger,
        connector: ClusterConnector,
        notifier: ChatOpsNotifier,
        audit: AuditSink | None = None,
        clock: Callable[[], float] = time.time,
        reasoner: Any = None,
    ) -> None:
        self.settings = settings
        self.policy = policy
        self.ledger = ledger
        self.connector = connector
        self.notifier = notifier
        self.audit = audit or NullAudit()
        self.clock = clock
        self.reasoner = reasoner  # reasoning.Reasoner when the policy enables model-proposed plans

    def _claim_owner(self) -> str:
        """Unique per delivery: concurrent copies in one process must not share a claim."""
        return f"{self.settings.instance_id}:{uuid.uuid4().hex[:12]}"

    # ------------------------------------------------------------------ entry
    def handle(self, incident: Incident, trace: str = "", raw_data: bytes = b"") -> Result:
        m.INCIDENTS.labels(incident.kind, incident.state).inc()
        gw = self.connector.gateway(self._cluster(incident)).snapshot_view()
        target = self.resolve_target(incident, gw)
        if incident.state == "closed":
            return self._handle_closed(incident, target, trace)
        return self._handle_open(incident, target, trace, raw_data, gw)

    def _cluster(self, incident: Incident) -> ClusterRef:
        labels = incident.resource_labels
        return ClusterRef(incident.project_id, labels.get("location", ""), labels.get("cluster_name", ""))

    # ------------------------------------------------------------------ target resolution
    def resolve_target(self, incident: Incident, gw: KubeGateway) -> Target:
        labels = incident.resource_labels
        cluster = self._cluster(incident)
        if incident.resource_type == "k8s_node":
            return Target(cluster=cluster, node=labels.get("node_name", ""))
        namespace = labels.get("namespace_name", "")
        pod = labels.get("pod_name", "")
        container = labels.get("container_name", "")
        controller, controller_kind = incident.controller_name, incident.controller_type
        deployment = controller if controller_kind == "Deployment" else ""
        if not deployment and pod and controller_kind in ("", "ReplicaSet", "Pod"):
            deployment = self._deployment_of_pod(gw, namespace, pod)
        target = Target(cluster, namespace, deployment, pod, container, controller_kind=controller_kind or "")
        if deployment and not is_protected(namespace, self.settings.protected_namespaces):
            try:
                meta = gw.read_deployment(namespace, deployment).get("metadata") or {}
            except KubeNotFound:
                return Target(cluster, namespace, "", pod, container, controller_kind="")
            target = Target(
                cluster,
                namespace,
                deployment,
                pod,
                container,
                controller_kind="Deployment",
                labels=dict(meta.get("labels") or {}),
                annotations=dict(meta.get("annotations") or {}),
            )
        return target

    @staticmethod
    def _deployment_of_pod(gw: KubeGateway, namespace: str, pod: str) -> str:
        """pod -> ReplicaSet -> Deployment through ownerReferences."""
        try:
            manifest = gw.read_pod(namespace, pod)
        except KubeNotFound:
            return ""
        for ref in (manifest.get("metadata") or {}).get("ownerReferences") or []:
            if ref.get("kind") == "ReplicaSet":
                try:
                    rs = gw.read_replica_set(namespace, ref.get("name", ""))
                except KubeNotFound:
                    return ""
                for owner in (rs.get("metadata") or {}).get("ownerReferences") or []:
                    if owner.get("kind") == "Deployment":
                        return str(owner.get("name", ""))
        return ""

    # ------------------------------------------------------------------ guards
    def _refusal(self, incident: Incident, target: Target, rule: Rule | None) -> tuple[str, str] | None:
        if target.namespace and is_protected(target.namespace, self.settings.protected_namespaces):
            return "protected_namespace", f"namespace {target.namespace} is protected; the healer never touches it"
        if incident.resource_type != "k8s_node" and not target.deployment and rule is not None:
            needs_deployment = {"restart", "scale_out", "rollback", "raise_memory"}
            if all(step.action in needs_deployment for step in rule.ladder):
                kind = target.controller_kind or "no controller"
                return "unsupported_target", f"the pod is not owned by a Deployment ({kind}); nothing safe to do"
        if target.annotations.get(OPT_OUT_ANNOTATION, "").lower() == "true":
            return "opted_out", f"deployment {target.deployment} opted out ({OPT_OUT_ANNOTATION}=true)"
        if (
            self.settings.opt_in_mode
            and target.deployment
            and target.annotations.get(OPT_IN_ANNOTATION, "").lower() != "true"
        ):
            return "not_opted_in", f"opt-in mode: deployment {target.deployment} lacks {OPT_IN_ANNOTATION}=true"
        now = self.clock()
        for key in self._silence_keys(target):
            silence = self.ledger.active_silence(key, now)
            if silence is not None:
                until = datetime.fromtimestamp(silence.until, tz=UTC).strftime("%H:%M UTC")
                return "silenced", f"silenced by {silence.actor} until {until} ({silence.reason or 'no reason given'})"
        window = self.policy.in_maintenance(datetime.fromtimestamp(now, tz=UTC))
        if window is not None:
            return "maintenance_window", "a maintenance window is in progress; the healer does not act during it"
        return None

    @staticmethod
    def _silence_keys(target: Target) -> list[str]:
        """A silence names the cluster, or any cluster ("*"): the keys ChatOps' control commands use."""
        return [
            ControlTarget(target.namespace, target.name, cluster=target.cluster.name).key(),
            ControlTarget(target.namespace, target.name).key(),
        ]

    def _budget_rules(self, target: Target) -> list[BudgetRule]:
        d = self.policy.defaults
        cluster = target.cluster.key()
        return [
            BudgetRule(
                f"target:{target.key()}",
                d.per_target.limit,
                d.per_target.window_seconds,
                "budget_target",
                f"{d.per_target.limit} actions per target per {int(d.per_target.window_seconds // 60)} min",
            ),
            BudgetRule(
                f"namespace:{cluster}/{target.namespace}",
                d.per_namespace.limit,
                d.per_namespace.window_seconds,
                "budget_namespace",
                f"{d.per_namespace.limit} actions per namespace per {int(d.per_namespace.window_seconds // 60)} min",
            ),
            BudgetRule(
                f"cluster:{cluster}",
                d.per_cluster.limit,
                d.per_cluster.window_seconds,
                "budget_cluster",
                f"{d.per_cluster.limit} actions per cluster per {int(d.per_cluster.window_seconds // 60)} min",
            ),
            BudgetRule(
                f"breaker:{cluster}",
                d.circuit_breaker.limit,
                d.circuit_breaker.window_seconds,
                "circuit_breaker",
                f"circuit breaker open: {d.circuit_breaker.limit} actions in the cluster "
                f"within {int(d.circuit_breaker.window_seconds // 60)} min; all actions in it are stopped",
            ),
        ]

    # ------------------------------------------------------------------ open incidents
    def _key(self, incident: Incident, target: Target, attempt: int) -> str:
        return f"{incident.incident_id}|{incident.state}|{target.key()}|a{attempt}"

    def _handle_open(self, incident: Incident, target: Target, trace: str, raw_data: bytes, gw: KubeGateway) -> Result:
        cluster_name = target.cluster.name
        rule = self.policy.rule_for(incident.kind, cluster_name, target.namespace, target.labels)
        attempt, start_step = 0, 0
        while True:
            key = self._key(incident, target, attempt)
            owner = self._claim_owner()
            claim = self.ledger.claim(key, owner, self.clock(), self.settings.claim_lease_seconds)
            if claim.status == "in_progress":
                m.DUPLICATES.labels("in_progress").inc()
                return Result("duplicate")
            if claim.status == "done":
                record = claim.record
                if self._should_escalate(record, rule):
                    attempt += 1
                    start_step = int(record.get("step", 0)) + 1
                    continue
                self._retry_notification(key, record, incident, target, trace)
                m.DUPLICATES.labels("done").inc()
                return Result("duplicate")
            break
        try:
            decision, evidence_uri = self._decide(incident, target, rule, start_step, attempt, raw_data, gw)
        except TransientError:
            self.ledger.release(key, owner)
            raise
        return Result(
            "handled" if decision.outcome != "ignored" else "ignored",
            [self._finish(key, incident, target, decision, trace, evidence_uri)],
        )

    def _should_escalate(self, record: dict[str, Any], rule: Rule | None) -> bool:
        """A repeated `open` long after we acted means the fix did not hold: next step."""
        if rule is None or record.get("outcome") not in ("acted", "failed"):
            return False
        if int(record.get("step", 0)) + 1 >= len(rule.ladder):
            return (
                record.get("outcome") == "acted"
                and self.clock() - float(record.get("decided_at", 0)) >= rule.recheck_after_seconds
                and not record.get("exhausted")
            )
        return self.clock() - float(record.get("decided_at", 0)) >= rule.recheck_after_seconds

    def _decide(
        self,
        incident: Incident,
        target: Target,
        rule: Rule | None,
        start_step: int,
        attempt: int,
        raw_data: bytes,
        gw: KubeGateway,
    ) -> tuple[DecisionInfo, str]:
        if rule is None:
            return self._decision(
                "ignored", reason="no_policy", detail=f"no policy rule for incident kind {incident.kind!r}"
            ), ""
        refusal = self._refusal(incident, target, rule)
        if refusal is not None:
            return self._decision("refused", reason=refusal[0], detail=refusal[1], step=start_step), ""
        if start_step >= len(rule.ladder):
            return self._exhausted(incident, target, rule, attempt), ""
        reasoning: dict[str, Any] | None = None
        if self.reasoner is not None and start_step == 0 and target.deployment:
            planned, reasoning = self._model_plan(incident, target, rule, gw, raw_data)
            if planned is not None:
                return planned
        decision, uri = self._ladder(incident, target, rule, start_step, attempt, raw_data, gw)
        if reasoning is not None:
            decision = replace(decision, parameters={**decision.parameters, "reasoning": reasoning})
        return decision, uri

    def _ladder(
        self,
        incident: Incident,
        target: Target,
        rule: Rule,
        start_step: int,
        attempt: int,
        raw_data: bytes,
        gw: KubeGateway,
    ) -> tuple[DecisionInfo, str]:
        now = self.clock()
        skipped: list[str] = []
        for index in range(start_step, len(rule.ladder)):
            step = rule.ladder[index]
            try:
                plan = act.PLANNERS[step.action](gw, target.action_target(), self._params(step, rule), now)
            except act.NotApplicable as exc:
                skipped.append(f"{step.action}: {exc}")
                continue
            except KubeUnavailable:
                raise
            except KubeError as exc:
                return self._decision(
                    "failed", step.action, "kube_error", f"planning {step.action} failed: {exc}", step=index
                ), ""
            return self._run_step(incident, target, rule, step, index, plan, raw_data, skipped)
        if start_step > 0:
            return self._exhausted(incident, target, rule, attempt, skipped), ""
        return self._decision(
            "refused",
            reason="no_applicable_action",
            detail="no action on the ladder applies: " + "; ".join(skipped),
            step=start_step,
        ), ""

    def _model_plan(
        self, incident: Incident, target: Target, rule: Rule, gw: KubeGateway, raw_data: bytes
    ) -> tuple[tuple[DecisionInfo, str] | None, dict[str, Any] | None]:
        """Ask the optional reasoner; a valid, allowed plan's first step runs through the same guards.

        Returns (decision, None) when the plan was used, or (None, fallback record) when the ladder runs.
        """
        from self_healing_service.reasoning import Disposition, build_incident_context

        try:
            deployment = gw.read_deployment(target.namespace, target.deployment)
            pods = gw.list_pods(target.namespace)
            logs = {target.pod: gw.read_pod_log(target.namespace, target.pod, tail_lines=40)} if target.pod else {}
            ctx = build_incident_context(
                incident_id=incident.incident_id,
                kind=incident.kind,
                deployment=deployment,
                replica_sets=gw.list_replica_sets(target.namespace),
                pods=pods,
                events=gw.list_events(target.namespace),
                logs=logs,
                cluster=target.cluster.name,
                pod=target.pod,
                container=target.container,
                metric_type=incident.metric_type,
                observed_value=incident.observed_value,
                threshold_value=incident.threshold_value,
            )
        except KubeUnavailable:
            raise
        except (KubeError, ValueError) as exc:
            return None, {"source": "reasoner", "fallback": {"reason": "context_unavailable", "detail": str(exc)}}
        outcome = self.reasoner.reason(ctx)
        if outcome.plan is None:
            return None, outcome.to_record()
        first = outcome.steps[0]
        step, step_target = self._step_from_plan(first, target)
        if step.action == "scale_out":  # the model names a count; the policy's own bound still applies
            bound = min([int(s.params.get("max_replicas", 10)) for s in rule.ladder if s.action == "scale_out"] or [10])
            step = replace(step, params={**step.params, "max_replicas": min(bound, int(step.params["max_replicas"]))})
        approval = outcome.disposition is not Disposition.AUTO_RUN
        step = replace(step, approval=approval or step.approval)
        try:
            plan = act.PLANNERS[step.action](gw, step_target.action_target(), dict(step.params), self.clock())
        except act.NotApplicable as exc:
            return None, {**outcome.to_record(), "not_applicable": str(exc)}
        decision, uri = self._run_step(incident, step_target, rule, step, 0, plan, raw_data, [])
        fields = outcome.decision_fields()
        params = {**decision.parameters, **fields.get("parameters", {}), "reasoning": outcome.to_record()}
        detail = f"{decision.detail}\n{outcome.chat_detail()}"
        return (replace(decision, parameters=params, detail=detail), uri), None

    @staticmethod
    def _step_from_plan(step: Any, target: Target) -> tuple[Step, Target]:
        """Map a validated plan step onto the healer's own action parameters and target."""
        params = dict(step.parameters)
        if step.action == "delete_pod":
            return Step("delete_pod"), replace(target, pod=str(params["pod"]))
        if step.action == "raise_memory":
            return Step("raise_memory", {"factor": float(params["factor"])}), replace(
                target, container=str(params["container"])
            )
        if step.action == "drain_node":
            return Step("drain_node"), replace(target, node=str(params["node"]))
        if step.action == "rollback":
            return Step("rollback", {"to_revision": int(params.get("to_revision", 0))}), target
        if step.action == "scale_out":
            return Step("scale_out", {"max_replicas": int(params["replicas"]), "step": 1000}), target
        return Step(step.action), target

    @staticmethod
    def _params(step: Step, rule: Rule) -> dict[str, Any]:
        return dict(step.params)

    def _run_step(
        self,
        incident: Incident,
        target: Target,
        rule: Rule,
        step: Step,
        index: int,
        plan: act.Plan,
        raw_data: bytes,
        skipped: list[str],
        *,
        approved_by: str = "",
    ) -> tuple[DecisionInfo, str]:
        now = self.clock()
        dry_run = self.settings.dry_run or self.policy.defaults.dry_run or bool(step.dry_run)
        note = (" (skipped: " + "; ".join(skipped) + ")") if skipped else ""
        if (step.approval or self.policy.defaults.approval) and not approved_by and not dry_run:
            self.ledger.put_state(
                "approvals",
                incident.incident_id,
                {
                    "incident_id": incident.incident_id,
                    "target_key": target.key(),
                    "step": index,
                    "action": step.action,
                    "summary": plan.summary,
                    "raw": raw_data.decode("utf-8", "replace"),
                    "held_at": now,
                },
            )
            return self._decision(
                "held_for_approval",
                step.action,
                "approval_required",
                f"{plan.summary} is held until someone approves it in chat{note}",
                step=index,
                parameters=plan.parameters,
            ), ""
        cooldown = step.cooldown_seconds if step.cooldown_seconds is not None else self.policy.defaults.cooldown_seconds
        reservation = self.ledger.reserve(target.key(), incident.incident_id, cooldown, self._budget_rules(target), now)
        if not reservation.ok:
            return self._decision(
                "refused", step.action, reservation.reason, reservation.detail, step=index, parameters=plan.parameters
            ), ""
        if dry_run:
            log.info(
                "Healing action would be triggered for %s/%s (deployment %s)",
                target.namespace,
                target.pod or target.node or "-",
                target.deployment or "-",
            )
            return self._decision(
                "dry_run",
                step.action,
                "dry_run",
                f"dry-run: would {plan.summary}{note}",
                step=index,
                parameters=plan.parameters,
                dry_run=True,
            ), ""
        gw = self.connector.gateway(target.cluster)
        evidence_uri = ""
        if step.action in DESTRUCTIVE and target.pod and self.settings.evidence_location:
            doc = evidence.collect(gw, target.namespace, target.pod, target.deployment)
            doc.update({"incident_id": incident.incident_id, "action": step.action, "summary": plan.summary})
            try:
                evidence_uri = evidence.store(self.settings.evidence_location, incident.incident_id, step.action, doc)
            except Exception as exc:
                log.error("evidence capture failed: %s", exc)
        started = time.perf_counter()
        try:
            plan.apply(gw)
        except KubeUnavailable:
            raise
        except (KubeError, DryRunViolation) as exc:
            return self._decision(
                "failed",
                step.action,
                "kube_error",
                f"{plan.summary} failed: {exc}",
                step=index,
                parameters=plan.parameters,
            ), evidence_uri
        duration_ms = (time.perf_counter() - started) * 1000
        self.ledger.save_change(
            target.key(),
            {
                "action": step.action,
                "undo": plan.undo,
                "incident_id": incident.incident_id,
                "at": now,
                "summary": plan.summary,
            },
        )
        params = {**plan.parameters, "action_duration_ms": round(duration_ms, 1)}
        if approved_by:
            params["approved_by"] = approved_by
        verdict = ""
        if plan.verify_rollout and target.deployment:
            ready, verdict = self._wait_rollout(gw, target, rule)
            params["rollout_ready"] = ready
            if not ready:
                return self._decision(
                    "failed",
                    step.action,
                    "rollout_not_ready",
                    f"{plan.summary} done, but the rollout did not become ready: {verdict}",
                    step=index,
                    parameters=params,
                ), evidence_uri
        detail = f"{plan.summary}{'; ' + verdict if verdict else ''}{note}"
        return self._decision(
            "acted", step.action, "policy:" + rule.name, detail, step=index, parameters=params
        ), evidence_uri

    def _wait_rollout(self, gw: KubeGateway, target: Target, rule: Rule) -> tuple[bool, str]:
        deadline = time.monotonic() + min(self.settings.verify_timeout_seconds, rule.verify_timeout_seconds)
        verdict = "not checked"
        while True:
            try:
                ready, verdict = act.rollout_ready(gw.read_deployment(target.namespace, target.deployment))
            except KubeError as exc:
                ready, verdict = False, f"cannot read the deployment: {exc}"
            if ready or time.monotonic() >= deadline:
                return ready, verdict
            time.sleep(self.settings.verify_poll_seconds)

    def _exhausted(
        self, incident: Incident, target: Target, rule: Rule, attempt: int, skipped: list[str] | None = None
    ) -> DecisionInfo:
        detail = f"every action on the '{rule.name}' ladder was tried and the incident is still open; a human is needed"
        if skipped:
            detail += " (" + "; ".join(skipped) + ")"
        params: dict[str, Any] = {}
        if rule.on_exhausted == "undo" and not (self.settings.dry_run or self.policy.defaults.dry_run):
            outcome = self.undo_last_change(target, actor="healer")
            params["undo"] = outcome
            detail += f"; undo of the healer's own change: {outcome}"
        return self._decision(
            "escalated", "", "ladder_exhausted", detail, step=len(rule.ladder), parameters=params, needs_human=True
        )

    def undo_last_change(self, target: Target, actor: str) -> str:
        change = self.ledger.last_change(target.key())
        if not change:
            return "nothing to undo: the healer has not changed this target"
        gw = self.connector.gateway(target.cluster, read_only=self.settings.dry_run)
        try:
            plan = act.plan_undo(gw, target.action_target(), change)
            if self.settings.dry_run:
                return f"dry-run: would {plan.summary}"
            plan.apply(self.connector.gateway(target.cluster))
        except act.NotApplicable as exc:
            return f"not undone: {exc}"
        except KubeUnavailable:
            raise
        except KubeError as exc:
            return f"undo failed: {exc}"
        self.ledger.save_change(
            target.key(), {"action": "undo", "undo": {}, "at": self.clock(), "actor": actor, "summary": plan.summary}
        )
        return plan.summary

    # ------------------------------------------------------------------ closed incidents
    def _handle_closed(self, incident: Incident, target: Target, trace: str) -> Result:
        key = self._key(incident, target, 0)
        owner = self._claim_owner()
        claim = self.ledger.claim(key, owner, self.clock(), self.settings.claim_lease_seconds)
        if claim.status == "in_progress":
            return Result("duplicate")
        if claim.status == "done":
            self._retry_notification(key, claim.record, incident, target, trace)
            return Result("duplicate")
        try:
            decision = self._closed_decision(incident, target)
        except TransientError:
            self.ledger.release(key, owner)
            raise
        return Result("handled", [self._finish(key, incident, target, decision, trace, "")])

    def _closed_decision(self, incident: Incident, target: Target) -> DecisionInfo:
        acted: dict[str, Any] | None = None
        attempt = 0
        while True:
            record = self.ledger.get_record(f"{incident.incident_id}|open|{target.key()}|a{attempt}")
            if record is None:
                break
            if record.get("status") == "claimed" and float(record.get("lease_until", 0)) > self.clock():
                # the open incident is still being handled (e.g. its rollout check): judge it afterwards
                raise IncidentInProgress(f"incident {incident.incident_id} is still being handled; retry the close")
            if record.get("outcome") == "acted":
                acted = record
            attempt += 1
        if attempt == 0 or (
            acted is None
            and self.policy.rule_for(incident.kind, target.cluster.name, target.namespace, target.labels) is None
        ):
            return self._decision("ignored", reason="closed_without_action", detail="incident closed")
        self.ledger.delete_state("approvals", incident.incident_id)
        if acted is None:
            return self._decision("closed", reason="closed", detail="the incident closed; the healer took no action")
        recovered = None
        if incident.started_at:
            recovered = float((incident.ended_at or self.clock()) - incident.started_at)
        params: dict[str, Any] = {"time_to_recover_s": recovered, "healed_by": acted.get("action")}
        detail = f"healed: the incident closed after {acted.get('action')}"
        scale = acted.get("parameters") or {}
        if acted.get("action") == "scale_out" and scale.get("scale_back_on_close") and target.deployment:
            params["scale_back"] = self._scale_back(target, int(scale.get("from", 1)))
            detail += f"; {params['scale_back']}"
        return self._decision(
            "verified",
            str(acted.get("action") or ""),
            "incident_closed",
            detail,
            step=int(acted.get("step", 0)),
            parameters=params,
        )

    def _scale_back(self, target: Target, replicas: int) -> str:
        if self.settings.dry_run:
            return f"dry-run: would scale back to {replicas}"
        try:
            plan = act.plan_scale_to(
                self.connector.gateway(target.cluster, read_only=True), target.action_target(), replicas
            )
            plan.apply(self.connector.gateway(target.cluster))
            return plan.summary
        except act.NotApplicable as exc:
            return f"no scale back: {exc}"
        except KubeError as exc:
            return f"scale back failed: {exc}"

    # ------------------------------------------------------------------ recording and telling
    def _decision(
        self,
        outcome: str,
        action: str = "",
        reason: str = "",
        detail: str = "",
        *,
        step: int = 0,
        parameters: dict[str, Any] | None = None,
        dry_run: bool = False,
        needs_human: bool = False,
    ) -> DecisionInfo:
        return DecisionInfo(
            outcome=outcome,
            action=action,
            reason=reason,
            detail=detail,
            dry_run=dry_run or self.settings.dry_run,
            decided_at=self.clock(),
            parameters=parameters or {},
            step=step,
            needs_human=needs_human,
        )

    def _record(self, incident: Incident, target: Target, decision: DecisionInfo, evidence_uri: str) -> dict[str, Any]:
        params = decision.parameters
        return {
            "decided_at": decision.decided_at,
            "incident_id": incident.incident_id,
            "incident_state": incident.state,
            "incident_kind": incident.kind,
            "policy_name": incident.policy_name,
            "project_id": target.cluster.project_id,
            "location": target.cluster.location,
            "cluster": target.cluster.name,
            "namespace": target.namespace,
            "target_kind": target.kind,
            "target_name": target.name,
            "target_key": target.key(),
            "pod": target.pod,
            "action": decision.action,
            "outcome": decision.outcome,
            "reason": decision.reason,
            "detail": decision.detail,
            "dry_run": decision.dry_run,
            "step": decision.step,
            "parameters": params,
            "action_duration_ms": params.get("action_duration_ms"),
            "time_to_recover_s": params.get("time_to_recover_s"),
            "healed": True if decision.outcome == "verified" else None,
            "evidence_uri": evidence_uri,
            "actor": params.get("approved_by") or "healer",
            "healer_instance": self.settings.instance_id,
        }

    def _finish(
        self, key: str, incident: Incident, target: Target, decision: DecisionInfo, trace: str, evidence_uri: str
    ) -> DecisionInfo:
        record = self._record(incident, target, decision, evidence_uri)
        m.DECISIONS.labels(decision.outcome, decision.action or "-", decision.reason or "-").inc()
        if "action_duration_ms" in decision.parameters:
            m.ACTION_SECONDS.labels(decision.action).observe(float(decision.parameters["action_duration_ms"]) / 1000)
        wants_notify = decision.outcome in NOTIFY_OUTCOMES and self.notifier.enabled
        # While this delivery is still sending, a concurrent copy must not send the same message again.
        s = self.settings
        budget = s.notify_attempts * (s.notify_timeout_seconds + s.notify_backoff_seconds * 2**s.notify_attempts)
        record.update(
            {
                "notify": wants_notify,
                "notified": False,
                "notify_attempts": 0,
                "notify_lease_until": self.clock() + budget,
            }
        )
        self.ledger.complete(key, record)
        self.ledger.append_decision(record)
        self.audit.write(record)
        log.log(
            logging.WARNING if decision.outcome in ("failed", "escalated") else logging.INFO,
            "healer decision: %s %s on %s: %s",
            decision.outcome,
            decision.action or "-",
            target.key(),
            decision.detail,
            extra={
                "fields": {
                    "decision": {k: v for k, v in record.items() if k != "parameters"},
                    "parameters": decision.parameters,
                }
            },
        )
        if wants_notify:
            self._notify(key, incident, target, decision, trace, evidence_uri)
        return decision

    def _notify(
        self, key: str, incident: Incident, target: Target, decision: DecisionInfo, trace: str, evidence_uri: str
    ) -> None:
        notification = build_notification(
            incident, target.info(), decision, settings=self.settings, evidence_url=evidence_uri
        )
        try:
            attempts = self.notifier.send(notification, trace)
        except NotifyFailed as exc:
            m.NOTIFICATIONS.labels("failed").inc()
            self.ledger.update_record(key, {"notified": False, "notify_error": str(exc), "notify_lease_until": 0})
            log.error(
                "notification not delivered (Pub/Sub will redeliver; the action will not repeat): %s",
                exc,
                extra={"fields": {"incident_id": incident.incident_id, "ledger_key": key}},
            )
            raise
        m.NOTIFICATIONS.labels("delivered").inc()
        self.ledger.update_record(key, {"notified": True, "notify_attempts": attempts, "notify_error": ""})

    def _retry_notification(
        self, key: str, record: dict[str, Any], incident: Incident, target: Target, trace: str
    ) -> None:
        """On redelivery of a decided incident, retry only the notification, never the action."""
        if not record.get("notify") or record.get("notified"):
            return
        if float(record.get("notify_lease_until") or 0) > self.clock():
            return  # the first delivery is still sending it
        decision = DecisionInfo(
            outcome=str(record.get("outcome")),
            action=str(record.get("action") or ""),
            reason=str(record.get("reason") or ""),
            detail=str(record.get("detail") or ""),
            dry_run=bool(record.get("dry_run")),
            decided_at=float(record.get("decided_at") or 0),
            parameters=dict(record.get("parameters") or {}),
            step=int(record.get("step") or 0),
            needs_human=record.get("outcome") == "escalated",
        )
        self._notify(key, incident, target, decision, trace, str(record.get("evidence_uri") or ""))

    # ------------------------------------------------------------------ approvals (control API)
    def approve(self, incident_id: str, actor: str, parse: Callable[[bytes], Any]) -> DecisionInfo | None:
        held = self.ledger.get_state("approvals", incident_id)
        if held is None:
            return None
        if not self.ledger.delete_state("approvals", incident_id):
            return None
        incident = parse(str(held["raw"]).encode())
        gw = self.connector.gateway(self._cluster(incident), read_only=True)
        target = self.resolve_target(incident, gw)
        rule = self.policy.rule_for(incident.kind, target.cluster.name, target.namespace, target.labels)
        if rule is None:
            return None
        index = int(held["step"])
        step = rule.ladder[index]
        key = f"{incident.incident_id}|open|{target.key()}|approved{index}"
        claim = self.ledger.claim(key, self._claim_owner(), self.clock(), self.settings.claim_lease_seconds)
        if claim.status != "new":
            return None
        refusal = self._refusal(incident, target, rule)
        if refusal is not None:
            decision = self._decision("refused", step.action, refusal[0], refusal[1], step=index)
            return self._finish(key, incident, target, decision, "", "")
        try:
            plan = act.PLANNERS[step.action](gw, target.action_target(), dict(step.params), self.clock())
            decision, uri = self._run_step(incident, target, rule, step, index, plan, b"", [], approved_by=actor)
        except act.NotApplicable as exc:
            decision, uri = self._decision("refused", step.action, "not_applicable", str(exc), step=index), ""
        # the approved action continues the open incident's ladder: record it as that attempt
        return self._finish(key, incident, target, decision, "", uri)
