"""The healer's settings: one frozen dataclass, read from the environment once."""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field

GOOGLE_CERTS_URL = "https://www.googleapis.com/oauth2/v1/certs"
DEFAULT_PROTECTED_NAMESPACES = ("kube-system", "kube-public", "kube-node-lease", "gke-*", "istio-system")


class SettingsError(ValueError):
    """A setting is missing or malformed; the message names the variable."""


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise SettingsError(f"{name}: expected true or false, got {raw!r}")


def _float(env: Mapping[str, str], name: str, default: float, *, minimum: float = 0.0) -> float:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = float(raw)
    except ValueError as exc:
        raise SettingsError(f"{name}: expected a number, got {raw!r}") from exc
    if value < minimum:
        raise SettingsError(f"{name}: must be >= {minimum}, got {value}")
    return value


def _int(env: Mapping[str, str], name: str, default: int, *, minimum: int = 0) -> int:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise SettingsError(f"{name}: expected a whole number, got {raw!r}") from exc
    if value < minimum:
        raise SettingsError(f"{name}: must be >= {minimum}, got {value}")
    return value


def _list(env: Mapping[str, str], name: str, default: tuple[str, ...] = ()) -> tuple[str, ...]:
    raw = env.get(name)
    if raw is None:
        return default
    return tuple(item.strip() for item in raw.split(",") if item.strip())


def _choice(env: Mapping[str, str], name: str, default: str, choices: tuple[str, ...]) -> str:
    value = (env.get(name) or default).strip().lower()
    if value not in choices:
        raise SettingsError(f"{name}: expected one of {', '.join(choices)}, got {value!r}")
    return value


@dataclass(frozen=True)
class Settings:
    # --- authentication of Pub/Sub push and of the control API
    push_audience: str = ""
    push_service_accounts: tuple[str, ...] = ()
    control_service_accounts: tuple[str, ...] = ()
    auth_disabled: bool = False
    oidc_certs_url: str = GOOGLE_CERTS_URL
    # --- behaviour
    dry_run: bool = False
    protected_namespaces: tuple[str, ...] = DEFAULT_PROTECTED_NAMESPACES
    opt_in_mode: bool = False
    policy_file: str = ""
    # --- state
    ledger: str = "memory"  # memory | firestore
    firestore_project: str = ""
    firestore_database: str = "(default)"
    firestore_collection_prefix: str = "healer"
    claim_lease_seconds: float = 90.0
    # --- Kubernetes
    kube_mode: str = "kubeconfig"  # kubeconfig | gke
    kubeconfig: str = ""
    kube_context: str = ""
    kube_request_timeout_seconds: float = 10.0
    # --- ChatOps
    chatops_url: str = ""
    chatops_audience: str = ""
    chatops_id_token: bool = True  # mint a Google ID token for ChatOps; off for local runs
    notify_attempts: int = 3
    notify_backoff_seconds: float = 0.5
    notify_timeout_seconds: float = 5.0
    # --- evidence and audit
    evidence_location: str = ""  # gs://bucket/prefix or a local directory
    actions_table: str = ""  # project.dataset.table (BigQuery) or duckdb:PATH
    # --- verification after an action
    verify_timeout_seconds: float = 30.0
    verify_poll_seconds: float = 0.5
    # --- misc
    instance_id: str = field(default_factory=socket.gethostname)
    log_level: str = "INFO"
    logs_url_template: str = (
        "https://console.cloud.google.com/logs/query;query=resource.labels.namespace_name%3D%22{namespace}%22"
        "%0Aresource.labels.pod_name%3D%22{pod}%22?project={project_id}"
    )

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        auth_disabled = _bool(env, "HEALER_AUTH_DISABLED", False)
        push_audience = env.get("HEALER_PUSH_AUDIENCE", "").strip()
        push_accounts = _list(env, "HEALER_PUSH_SERVICE_ACCOUNTS")
        if not auth_disabled and (not push_audience or not push_accounts):
            raise SettingsError(
                "HEALER_PUSH_AUDIENCE and HEALER_PUSH_SERVICE_ACCOUNTS are required unless "
                "HEALER_AUTH_DISABLED=true (local runs only)"
            )
        settings = cls(
            push_audience=push_audience,
            push_service_accounts=push_accounts,
            control_service_accounts=_list(env, "HEALER_CONTROL_SERVICE_ACCOUNTS"),
            auth_disabled=auth_disabled,
            oidc_certs_url=env.get("HEALER_OIDC_CERTS_URL", GOOGLE_CERTS_URL).strip() or GOOGLE_CERTS_URL,
            dry_run=_bool(env, "HEALER_DRY_RUN", False),
            protected_namespaces=_list(env, "HEALER_PROTECTED_NAMESPACES", DEFAULT_PROTECTED_NAMESPACES),
            opt_in_mode=_bool(env, "HEALER_OPT_IN_MODE", False),
            policy_file=env.get("HEALER_POLICY_FILE", "").strip(),
            ledger=_choice(env, "HEALER_LEDGER", "memory", ("memory", "firestore")),
            firestore_project=(env.get("GOOGLE_CLOUD_PROJECT") or env.get("HEALER_FIRESTORE_PROJECT") or "").strip(),
            firestore_database=env.get("HEALER_FIRESTORE_DATABASE", "(default)").strip() or "(default)",
            firestore_collection_prefix=env.get("HEALER_FIRESTORE_COLLECTION_PREFIX", "healer").strip() or "healer",
            claim_lease_seconds=_float(env, "HEALER_CLAIM_LEASE_SECONDS", 90.0, minimum=1.0),
            kube_mode=_choice(env, "HEALER_KUBE_MODE", "kubeconfig", ("kubeconfig", "gke")),
            kubeconfig=env.get("HEALER_KUBECONFIG", "").strip(),
            kube_context=env.get("HEALER_KUBE_CONTEXT", "").strip(),
            kube_request_timeout_seconds=_float(env, "HEALER_KUBE_TIMEOUT_SECONDS", 10.0, minimum=0.1),
            chatops_url=env.get("HEALER_CHATOPS_URL", "").strip().rstrip("/"),
            chatops_audience=env.get("HEALER_CHATOPS_AUDIENCE", "").strip(),
            chatops_id_token=_bool(env, "HEALER_CHATOPS_ID_TOKEN", True),
            notify_attempts=_int(env, "HEALER_NOTIFY_ATTEMPTS", 3, minimum=1),
            notify_backoff_seconds=_float(env, "HEALER_NOTIFY_BACKOFF_SECONDS", 0.5),
            notify_timeout_seconds=_float(env, "HEALER_NOTIFY_TIMEOUT_SECONDS", 5.0, minimum=0.1),
            evidence_location=env.get("HEALER_EVIDENCE_BUCKET", "").strip(),
            actions_table=env.get("HEALER_ACTIONS_TABLE", "").strip(),
            verify_timeout_seconds=_float(env, "HEALER_VERIFY_TIMEOUT_SECONDS", 30.0),
            verify_poll_seconds=_float(env, "HEALER_VERIFY_POLL_SECONDS", 0.5, minimum=0.01),
            instance_id=env.get("K_REVISION", "") + ":" + socket.gethostname()
            if env.get("K_REVISION")
            else socket.gethostname(),
            log_level=env.get("HEALER_LOG_LEVEL", "INFO").upper(),
        )
        if settings.ledger == "firestore" and not settings.firestore_project:
            raise SettingsError("GOOGLE_CLOUD_PROJECT is required when HEALER_LEDGER=firestore")
        return settings
