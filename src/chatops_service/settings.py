"""Settings of the ChatOps service: one frozen dataclass, read from the environment once.

Nothing else in the service reads ``os.environ``. Secrets named by the routing
file (webhook URLs, bot tokens) are resolved here too, from the same mapping,
so a missing secret stops the service at start-up with a message naming it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from chatops_service.routing import RoutingConfig, RoutingError, load_routing_file

GOOGLE_CERTS_URL = "https://www.googleapis.com/oauth2/v1/certs"
ROUTE_GROUPS = ("notify", "interactions", "all")
STATE_BACKENDS = ("memory", "firestore")


class SettingsError(ValueError):
    """The environment does not describe a runnable service; the message says what to fix."""


@dataclass(frozen=True)
class Settings:
    routes: str = "all"
    routing: RoutingConfig = field(default_factory=RoutingConfig)
    notify_audience: str = ""
    healer_service_accounts: tuple[str, ...] = ()
    auth_disabled: bool = False
    oidc_certs_url: str = GOOGLE_CERTS_URL
    healer_url: str = ""
    healer_audience: str = ""
    healer_auth_disabled: bool = False
    healer_timeout_seconds: float = 2.0
    public_url: str = ""
    link_signing_key: str = field(default="", repr=False)
    link_ttl_seconds: int = 12 * 3600
    slack_signing_secret: str = field(default="", repr=False)
    slack_api_base_url: str = "https://slack.com/api/"
    state_backend: str = "memory"
    firestore_project: str = ""
    firestore_collection_prefix: str = "chatops"
    delivery_attempts: int = 4
    backoff_base_seconds: float = 0.5
    backoff_max_seconds: float = 8.0
    retry_after_max_seconds: float = 20.0
    delivery_wait_budget_seconds: float = 25.0
    http_timeout_seconds: float = 5.0
    project_id: str = ""

    @property
    def serves_notify(self) -> bool:
        return self.routes in ("notify", "all")

    @property
    def serves_interactions(self) -> bool:
        return self.routes in ("interactions", "all")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Build settings from ``environ`` (default: the process environment) and validate them."""
        env = dict(os.environ if environ is None else environ)
        reader = _Reader(env)
        routing_file = reader.text("CHATOPS_ROUTING_FILE")
        if not routing_file:
            raise SettingsError("CHATOPS_ROUTING_FILE: required (path to the routing YAML file)")
        try:
            routing = load_routing_file(routing_file, env)
        except RoutingError as exc:
            raise SettingsError(f"CHATOPS_ROUTING_FILE ({routing_file}): {exc}") from exc
        settings = cls(
            routes=reader.choice("CHATOPS_ROUTES", ROUTE_GROUPS, "all"),
            routing=routing,
            notify_audience=reader.text("CHATOPS_NOTIFY_AUDIENCE"),
            healer_service_accounts=reader.csv("CHATOPS_HEALER_SERVICE_ACCOUNTS"),
            auth_disabled=reader.flag("CHATOPS_AUTH_DISABLED"),
            oidc_certs_url=reader.text("CHATOPS_OIDC_CERTS_URL") or GOOGLE_CERTS_URL,
            healer_url=reader.text("CHATOPS_HEALER_URL").rstrip("/"),
            healer_audience=reader.text("CHATOPS_HEALER_AUDIENCE"),
            healer_auth_disabled=reader.flag("CHATOPS_HEALER_AUTH_DISABLED"),
            healer_timeout_seconds=reader.number("CHATOPS_HEALER_TIMEOUT_SECONDS", 2.0, minimum=0.1),
            public_url=reader.text("CHATOPS_PUBLIC_URL").rstrip("/"),
            link_signing_key=reader.text("CHATOPS_LINK_SIGNING_KEY"),
            link_ttl_seconds=int(reader.number("CHATOPS_LINK_TTL_SECONDS", 12 * 3600, minimum=60)),
            slack_signing_secret=reader.text("SLACK_SIGNING_SECRET"),
            slack_api_base_url=(reader.text("SLACK_API_BASE_URL") or "https://slack.com/api").rstrip("/") + "/",
            state_backend=reader.choice("CHATOPS_STATE", STATE_BACKENDS, "memory"),
            firestore_project=reader.text("CHATOPS_FIRESTORE_PROJECT") or reader.text("GOOGLE_CLOUD_PROJECT"),
            firestore_collection_prefix=reader.text("CHATOPS_FIRESTORE_COLLECTION_PREFIX") or "chatops",
            delivery_attempts=int(reader.number("CHATOPS_DELIVERY_ATTEMPTS", 4, minimum=1, maximum=10)),
            backoff_base_seconds=reader.number("CHATOPS_BACKOFF_BASE_SECONDS", 0.5, minimum=0.0),
            backoff_max_seconds=reader.number("CHATOPS_BACKOFF_MAX_SECONDS", 8.0, minimum=0.0),
            retry_after_max_seconds=reader.number("CHATOPS_RETRY_AFTER_MAX_SECONDS", 20.0, minimum=0.0),
            delivery_wait_budget_seconds=reader.number("CHATOPS_DELIVERY_WAIT_BUDGET_SECONDS", 25.0, minimum=0.0),
            http_timeout_seconds=reader.number("CHATOPS_HTTP_TIMEOUT_SECONDS", 5.0, minimum=0.1),
            project_id=reader.text("GOOGLE_CLOUD_PROJECT") or reader.text("CHATOPS_PROJECT_ID"),
        )
        settings.validate()
        return settings

    def validate(self) -> None:
        """Raise :class:`SettingsError` listing every problem at once."""
        problems: list[str] = []
        if self.routes not in ROUTE_GROUPS:
            problems.append(f"CHATOPS_ROUTES: expected one of {', '.join(ROUTE_GROUPS)}, got {self.routes!r}")
        if self.state_backend not in STATE_BACKENDS:
            problems.append(f"CHATOPS_STATE: expected one of {', '.join(STATE_BACKENDS)}")
        if self.serves_notify and not self.auth_disabled:
            if not self.notify_audience:
                problems.append("CHATOPS_NOTIFY_AUDIENCE: required to verify the healer's ID token on /notify")
            if not self.healer_service_accounts:
                problems.append("CHATOPS_HEALER_SERVICE_ACCOUNTS: required (comma-separated caller emails)")
        has_teams = any(d.kind == "teams_workflow" for d in self.routing.destinations.values())
        has_slack = any(d.kind.startswith("slack") for d in self.routing.destinations.values())
        if has_teams:
            if not self.link_signing_key:
                problems.append("CHATOPS_LINK_SIGNING_KEY: required because a Teams destination is configured")
            elif len(self.link_signing_key) < 16:
                problems.append("CHATOPS_LINK_SIGNING_KEY: use at least 16 characters")
            if self.serves_notify and not self.public_url.startswith(("https://", "http://")):
                problems.append("CHATOPS_PUBLIC_URL: required (http(s) base URL) to build signed Teams links")
        if self.serves_interactions:
            if has_slack and not self.slack_signing_secret:
                problems.append("SLACK_SIGNING_SECRET: required to verify Slack interactions and commands")
            if not self.healer_url:
                problems.append("CHATOPS_HEALER_URL: required so clicks and commands reach the healer")
            if self.healer_url and not self.healer_auth_disabled and not self.healer_audience:
                problems.append("CHATOPS_HEALER_AUDIENCE: required (or CHATOPS_HEALER_AUTH_DISABLED=true locally)")
        if self.state_backend == "firestore" and not self.firestore_project:
            problems.append("CHATOPS_FIRESTORE_PROJECT (or GOOGLE_CLOUD_PROJECT): required for CHATOPS_STATE=firestore")
        if self.backoff_max_seconds < self.backoff_base_seconds:
            problems.append("CHATOPS_BACKOFF_MAX_SECONDS: must be >= CHATOPS_BACKOFF_BASE_SECONDS")
        if problems:
            raise SettingsError("invalid settings:\n  - " + "\n  - ".join(problems))


class _Reader:
    def __init__(self, env: Mapping[str, str]) -> None:
        self._env = env

    def text(self, name: str) -> str:
        return self._env.get(name, "").strip()

    def csv(self, name: str) -> tuple[str, ...]:
        return tuple(part.strip() for part in self.text(name).split(",") if part.strip())

    def flag(self, name: str) -> bool:
        raw = self.text(name).lower()
        if raw in ("", "0", "false", "no", "off"):
            return False
        if raw in ("1", "true", "yes", "on"):
            return True
        raise SettingsError(f"{name}: expected true or false, got {raw!r}")

    def choice(self, name: str, options: tuple[str, ...], default: str) -> str:
        raw = self.text(name).lower() or default
        if raw not in options:
            raise SettingsError(f"{name}: expected one of {', '.join(options)}, got {raw!r}")
        return raw

    def number(self, name: str, default: float, *, minimum: float, maximum: float | None = None) -> float:
        raw = self.text(name)
        if not raw:
            return float(default)
        try:
            value = float(raw)
        except ValueError as exc:
            raise SettingsError(f"{name}: {raw!r} is not a number") from exc
        if value < minimum or (maximum is not None and value > maximum):
            bounds = f">= {minimum}" if maximum is None else f"between {minimum} and {maximum}"
            raise SettingsError(f"{name}: must be {bounds}, got {raw}")
        return value
