"""What a notification says to an on-call engineer, independent of the chat product.

Pure: :func:`describe` turns a :class:`Notification` into :class:`MessageContent`
(headline, target, what was observed, what the healer decided and why, what to do
next, links). The Slack and Teams renderers only lay this out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from healing_contract.notification import Notification

SEVERITY_LABEL = {
    "critical": "CRITICAL",
    "error": "ERROR",
    "warning": "WARNING",
    "info": "INFO",
    "unknown": "NO SEVERITY",
}
SEVERITY_EMOJI = {
    "critical": ":red_circle:",
    "error": ":large_orange_circle:",
    "warning": ":large_yellow_circle:",
    "info": ":large_blue_circle:",
    "unknown": ":white_circle:",
}
OUTCOME_EMOJI = {
    "acted": ":hammer_and_wrench:",
    "dry_run": ":test_tube:",
    "refused": ":no_entry:",
    "held_for_approval": ":raised_hand:",
    "failed": ":x:",
    "verified": ":white_check_mark:",
    "escalated": ":rotating_light:",
    "closed": ":heavy_check_mark:",
    "ignored": ":grey_question:",
}
STATE_LABEL = {
    "acted": "Action taken, waiting for verification",
    "dry_run": "Dry run: nothing changed",
    "refused": "Healer refused to act",
    "held_for_approval": "Waiting for approval",
    "failed": "Action failed",
    "verified": "Recovered after the action",
    "escalated": "Escalated: a human is needed",
    "closed": "Incident closed",
    "ignored": "No healing policy matched",
}
# (infinitive, past tense) per healer action.
_ACTION_VERBS = {
    "restart": (
        "restart Deployment {name} (rollout restart)",
        "restarted Deployment {name} (rollout restart)",
    ),
    "delete_pod": ("delete pod {pod}", "deleted pod {pod}"),
    "scale_out": ("scale out Deployment {name}", "scaled out Deployment {name}"),
    "rollback": ("roll back Deployment {name} to its previous revision", "rolled back Deployment {name}"),
    "raise_memory": ("raise the memory limit of {name}", "raised the memory limit of {name}"),
    "drain_node": ("drain node {node}", "drained node {node}"),
    "cleanup": ("clean up {name}", "cleaned up {name}"),
}
_NEXT_STEP = {
    "acted": "Watch this thread for verification. If the change made things worse, press *Undo*.",
    "dry_run": (
        "Nothing was changed (dry-run mode). If this action is right, do it by hand or take the healer out "
        "of dry-run; otherwise investigate with the links below."
    ),
    "refused": "The healer will not act on this. Investigate with the links below and act by hand if needed.",
    "held_for_approval": (
        "Review the proposed action, then press *Approve* to let the healer do it, or *Silence target 1h* to stop it."
    ),
    "failed": ("The action did not complete. Check the logs; the healer may try its next step, otherwise act by hand."),
    "verified": "No action needed. The target recovered after the healer's action.",
    "escalated": "Take over now: the healer has no further actions for this target and will not try again.",
    "closed": "No action needed: Cloud Monitoring closed the incident.",
    "ignored": "No healing policy matched this alert. Handle it by hand if it matters.",
}


@dataclass(frozen=True)
class MessageContent:
    severity: str
    severity_label: str
    outcome: str
    headline: str  # plain text, no markup
    state_label: str
    target_display: str
    target_facts: tuple[tuple[str, str], ...]
    observed: str
    decision: str  # what the healer did or refused, one or two sentences
    reason: str  # why, in words (detail) with the reason code
    next_step: str
    links: tuple[tuple[str, str], ...]  # (label, url)
    documentation: str
    parameters: str  # the action's parameters, "k=v, ..." (small print)
    incident_id: str
    incident_state: str
    dry_run: bool
    needs_human: bool
    context: str  # small print: policy, condition, time, healer instance


def _fmt_number(value: float) -> str:
    return f"{value:.4g}"


def _fmt_observed(metric_type: str, value: float) -> str:
    if "utilization" in metric_type and 0 <= value <= 10:
        return f"{value * 100:.0f}%"
    return _fmt_number(value)


def observed_text(n: Notification) -> str:
    inc = n.incident
    parts: list[str] = []
    if inc.anomaly_score is not None:
        model = f" (model {inc.model_version})" if inc.model_version else ""
        parts.append(f"Anomaly score {_fmt_number(inc.anomaly_score)}{model}")
        if inc.threshold_value is not None:
            parts[-1] += f", alert threshold {_fmt_number(inc.threshold_value)}"
    elif inc.observed_value is not None:
        observed = _fmt_observed(inc.metric_type, inc.observed_value)
        text = f"observed {observed}"
        if inc.threshold_value is not None:
            text += f" vs threshold {_fmt_observed(inc.metric_type, inc.threshold_value)}"
        parts.append(f"{inc.metric_type or 'metric'}: {text}")
    elif inc.metric_type:
        parts.append(inc.metric_type)
    if inc.summary:
        parts.append(inc.summary)
    return " — ".join(parts) or "No metric details were sent with this alert."


def _action_phrase(n: Notification, *, past: bool) -> str:
    target = n.target
    template = _ACTION_VERBS.get(n.decision.action)
    if template is None:
        verb = n.decision.action.replace("_", " ") or "act"
        return f"{verb}{'ed' if past and not verb.endswith('ed') else ''} on {target.display()}".strip()
    return template[1 if past else 0].format(
        name=target.name or target.pod or "(unknown)",
        pod=target.pod or target.name or "(unknown pod)",
        node=target.node or "(unknown node)",
    )


def headline(n: Notification) -> str:
    where = n.target.display()
    outcome = n.decision.outcome
    if outcome == "acted":
        text = f"Healer {_action_phrase(n, past=True)} in {where}"
    elif outcome == "dry_run":
        text = f"Dry run: healer would {_action_phrase(n, past=False)} in {where}"
    elif outcome == "refused":
        why = n.decision.reason.replace("_", " ") if n.decision.reason else "policy"
        text = f"Healer did not act on {where} ({why})"
    elif outcome == "held_for_approval":
        text = f"Approval needed: healer wants to {_action_phrase(n, past=False)} in {where}"
    elif outcome == "failed":
        text = f"Healer tried to {_action_phrase(n, past=False)} in {where} and it failed"
    elif outcome == "verified":
        text = f"Recovered: {where} is healthy again"
    elif outcome == "escalated":
        text = f"Needs a human: healer has no more actions for {where}"
    elif outcome == "closed":
        text = f"Resolved: incident closed for {where}"
    else:
        text = f"Alert on {where}: no healing policy matched"
    return f"[{SEVERITY_LABEL.get(n.severity, 'NO SEVERITY')}] {text}"


def decision_text(n: Notification) -> str:
    dec = n.decision
    outcome = dec.outcome
    if outcome == "acted":
        text = f"The healer {_action_phrase(n, past=True)}."
    elif outcome == "dry_run":
        text = f"Dry-run mode: the healer would {_action_phrase(n, past=False)}. No change was made."
    elif outcome == "refused":
        text = "The healer refused to act."
    elif outcome == "held_for_approval":
        text = f"The healer wants to {_action_phrase(n, past=False)} and is waiting for a human to approve."
    elif outcome == "failed":
        text = f"The healer tried to {_action_phrase(n, past=False)}, and the attempt failed."
    elif outcome == "verified":
        action = f" after it {_action_phrase(n, past=True)}" if dec.action else ""
        text = f"The healer verified that the target recovered{action}."
    elif outcome == "escalated":
        text = "The healer's action ladder is exhausted; it will not act again on this incident."
    elif outcome == "closed":
        text = "Cloud Monitoring closed the incident."
    else:
        text = "The healer did not act: no healing policy applies to this alert."
    if dec.step:
        text += f" (step {dec.step + 1} of the policy's action ladder)"
    return text


def parameters_text(n: Notification) -> str:
    params = n.decision.parameters
    return ", ".join(f"{k}={v}" for k, v in sorted(params.items())) if params else ""


def next_step(n: Notification) -> str:
    """What the on-call engineer should do now; refusals say what lifts them."""
    dec, target = n.decision, n.target
    if dec.outcome != "refused":
        return _NEXT_STEP.get(dec.outcome, "")
    reason = dec.reason
    # next steps are rendered as markup: keep only characters a Kubernetes name can have
    where = re.sub(r"[^a-z0-9./-]", "", f"{target.namespace}/{target.name}".lower())
    if not (target.namespace and target.name):
        where = "the target"
    if reason in ("silenced", "paused"):
        return (
            f"Someone silenced or paused {where}. To let the healer act again: `/selfheal resume {where}`. "
            "Until then, handle the alert by hand."
        )
    if reason.startswith("cooldown"):
        return (
            "The healer changed this target recently and is waiting out its cooldown. "
            "If the problem is getting worse, act by hand."
        )
    if reason.startswith("budget"):
        return "The healer has used its action budget (it limits how many changes it makes). Act by hand if needed."
    if reason == "maintenance_window":
        return "A maintenance window is active; the healer stays out until it ends. Act by hand if needed."
    if reason in ("protected_namespace", "opted_out", "not_opted_in", "unsupported_target"):
        return "By policy the healer never acts on this target. Handle the alert by hand."
    return _NEXT_STEP["refused"]


def reason_text(n: Notification) -> str:
    dec = n.decision
    detail = dec.detail.strip()
    code = f"reason: {dec.reason}" if dec.reason else ""
    if detail and code:
        return f"{detail} ({code})"
    return detail or code or "The healer gave no reason."


_CONTROL_CHARS = {c: None for c in range(32) if chr(c) not in "\n\t"} | {127: None}


def clean(text: str) -> str:
    """Drop control characters (they render as garbage in chat and waste the size budget)."""
    return text.translate(_CONTROL_CHARS)


def describe(n: Notification) -> MessageContent:
    content = _describe(n)
    return replace(
        content,
        headline=clean(content.headline),
        target_display=clean(content.target_display),
        target_facts=tuple((k, clean(v)) for k, v in content.target_facts),
        observed=clean(content.observed),
        decision=clean(content.decision),
        reason=clean(content.reason),
        documentation=clean(content.documentation),
        parameters=clean(content.parameters),
        context=clean(content.context),
    )


def _describe(n: Notification) -> MessageContent:
    target = n.target
    facts = [
        ("Cluster", target.cluster),
        ("Namespace", target.namespace),
        (target.kind or "Deployment", target.name),
        ("Pod", target.pod),
        ("Container", target.container),
        ("Node", target.node),
    ]
    links = [
        ("Incident", n.links.incident or n.incident.url),
        ("Logs", n.links.logs),
        ("Evidence", n.links.evidence),
        ("Runbook", n.links.runbook),
    ]
    context_parts = [f"incident {n.incident.incident_id} ({n.incident.state})"]
    if n.incident.policy_name:
        context_parts.append(f"policy {n.incident.policy_name}")
    if n.incident.started_at:
        started = datetime.fromtimestamp(n.incident.started_at, tz=UTC).strftime("%Y-%m-%d %H:%M UTC")
        context_parts.append(f"started {started}")
    if n.healer_instance:
        context_parts.append(f"healer {n.healer_instance}")
    return MessageContent(
        severity=n.severity,
        severity_label=SEVERITY_LABEL.get(n.severity, "NO SEVERITY"),
        outcome=n.decision.outcome,
        headline=headline(n),
        state_label=STATE_LABEL.get(n.decision.outcome, n.decision.outcome),
        target_display=target.display(),
        target_facts=tuple((k, v) for k, v in facts if v),
        observed=observed_text(n),
        decision=decision_text(n),
        reason=reason_text(n),
        next_step=next_step(n),
        parameters=parameters_text(n),
        links=tuple((label, url) for label, url in links if url),
        documentation=n.incident.documentation.strip(),
        incident_id=n.incident.incident_id,
        incident_state=n.incident.state,
        dry_run=n.decision.dry_run or n.decision.outcome == "dry_run",
        needs_human=n.decision.needs_human or n.decision.outcome in ("escalated", "held_for_approval"),
        context=" · ".join(context_parts),
    )


def truncate(text: str, limit: int, marker: str = "…") -> str:
    """Cut ``text`` to at most ``limit`` characters, marking the cut."""
    if len(text) <= limit:
        return text
    return text[: max(0, limit - len(marker))] + marker
