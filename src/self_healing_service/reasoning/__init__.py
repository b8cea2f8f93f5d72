"""Optional, off-by-default reasoning layer: analyzer -> reasoner (Gemini on Vertex AI) -> enforcer.

The healer builds an :class:`IncidentContext`, calls :meth:`Reasoner.reason`, and gets a
:class:`ReasoningOutcome`: either a validated :class:`Plan` with a :class:`Disposition`, whose
steps it runs through its usual guards, or a :class:`Fallback` with a reason code, after which
it uses its rules-based ladder. See README.md in this folder.
"""

from self_healing_service.reasoning.actions import ACTION_NAMES
from self_healing_service.reasoning.analyzer import IncidentSummary, fingerprint, summarise
from self_healing_service.reasoning.context import (
    ContainerSpec,
    ContextError,
    EventRecord,
    IncidentContext,
    PodStatus,
    RolloutRevision,
)
from self_healing_service.reasoning.kube_context import build_incident_context
from self_healing_service.reasoning.outcome import (
    Disposition,
    Fallback,
    FallbackReason,
    Plan,
    PlanStep,
    ReasoningOutcome,
)
from self_healing_service.reasoning.policy import PolicyError, ReasoningPolicy, policy_from_mapping
from self_healing_service.reasoning.reasoner import Reasoner

__all__ = [
    "ACTION_NAMES",
    "ContainerSpec",
    "ContextError",
    "Disposition",
    "EventRecord",
    "Fallback",
    "FallbackReason",
    "IncidentContext",
    "IncidentSummary",
    "Plan",
    "PlanStep",
    "PodStatus",
    "PolicyError",
    "Reasoner",
    "ReasoningOutcome",
    "ReasoningPolicy",
    "RolloutRevision",
    "build_incident_context",
    "fingerprint",
    "policy_from_mapping",
    "summarise",
]
