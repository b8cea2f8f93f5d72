"""The routing file: which notifications go to which chat destinations, and who may act there.

Pure: :func:`parse_routing` takes the decoded YAML and a mapping of environment
variables (to resolve the *names* of secret variables the file refers to) and
returns a validated :class:`RoutingConfig`, or raises :class:`RoutingError`
listing every problem with its location in the file. Secrets never live in the
file itself.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

from healing_contract.notification import OUTCOMES, SEVERITIES, Notification

DESTINATION_KINDS = ("slack_webhook", "slack_bot", "teams_workflow")
CHAT_ACTIONS = ("acknowledge", "silence", "approve", "undo")
_SECRET_KEYS = {
    "slack_webhook": "webhook_url_env",
    "slack_bot": "bot_token_env",
    "teams_workflow": "workflow_url_env",
}
_DEST_KEYS = {"type", "channel", "allowed_users", "allowed_groups", "actions", *_SECRET_KEYS.values()}
_MATCH_KEYS = {"severity", "cluster", "namespace", "deployment", "labels", "outcome"}


class RoutingError(ValueError):
    """The routing file is invalid; the message lists what is wrong and where."""


@dataclass(frozen=True)
class Destination:
    name: str
    kind: str  # slack_webhook | slack_bot | teams_workflow
    secret_env: str  # the environment variable holding the webhook URL or bot token
    secret: str = field(repr=False, default="")
    channel: str = ""  # Slack channel ID (required for slack_bot; optional for webhooks, used by /selfheal)
    allowed_users: tuple[str, ...] = ()
    allowed_groups: tuple[str, ...] = ()
    actions: tuple[str, ...] = CHAT_ACTIONS

    @property
    def is_slack(self) -> bool:
        return self.kind.startswith("slack")


@dataclass(frozen=True)
class Match:
    severity: tuple[str, ...] = ()
    cluster: tuple[str, ...] = ()
    namespace: tuple[str, ...] = ()
    deployment: tuple[str, ...] = ()
    outcome: tuple[str, ...] = ()
    labels: tuple[tuple[str, str], ...] = ()

    def matches(self, notification: Notification) -> bool:
        target = notification.target
        labels = {**notification.incident.user_labels, **target.labels}
        checks = (
            (self.severity, notification.incident.severity),
            (self.cluster, target.cluster),
            (self.namespace, target.namespace),
            (self.deployment, target.name),
            (self.outcome, notification.decision.outcome),
        )
        for patterns, value in checks:
            if patterns and not any(fnmatch.fnmatchcase(value, p) for p in patterns):
                return False
        return all(key in labels and fnmatch.fnmatchcase(labels[key], pattern) for key, pattern in self.labels)


@dataclass(frozen=True)
class Route:
    name: str
    match: Match
    destinations: tuple[str, ...]


@dataclass(frozen=True)
class RoutingConfig:
    destinations: Mapping[str, Destination] = field(default_factory=dict)
    routes: tuple[Route, ...] = ()
    default: tuple[str, ...] = ()

    def destinations_for(self, notification: Notification) -> list[Destination]:
        """Every destination of every matching route, in file order; ``default`` when none match."""
        names: list[str] = []
        for route in self.routes:
            if route.match.matches(notification):
                names.extend(n for n in route.destinations if n not in names)
        if not names:
            names = list(self.default)
        return [self.destinations[n] for n in names]

    def slack_destinations_for_channel(self, channel_id: str) -> list[Destination]:
        return [d for d in self.destinations.values() if d.is_slack and d.channel and d.channel == channel_id]


def load_routing_file(path: str, environ: Mapping[str, str]) -> RoutingConfig:
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except OSError as exc:
        raise RoutingError(f"cannot read the file: {exc.strerror or exc}") from exc
    return load_routing_text(text, environ)


def load_routing_text(text: str, environ: Mapping[str, str]) -> RoutingConfig:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise RoutingError(f"not valid YAML: {exc}") from exc
    return parse_routing(data, environ)


def parse_routing(data: object, environ: Mapping[str, str]) -> RoutingConfig:
    problems: list[str] = []
    if not isinstance(data, Mapping):
        raise RoutingError("the file must be a mapping with 'version', 'destinations', 'routes' and 'default'")
    unknown = set(data) - {"version", "destinations", "routes", "default"}
    if unknown:
        problems.append(f"unknown top-level keys: {', '.join(sorted(map(str, unknown)))}")
    if data.get("version") != 1:
        problems.append(f"version: expected 1, got {data.get('version')!r}")

    destinations: dict[str, Destination] = {}
    raw_dests = data.get("destinations")
    if not isinstance(raw_dests, Mapping) or not raw_dests:
        problems.append("destinations: required, a mapping of destination name -> settings")
        raw_dests = {}
    for name, raw in raw_dests.items():
        dest = _parse_destination(str(name), raw, environ, problems)
        if dest is not None:
            destinations[dest.name] = dest

    routes: list[Route] = []
    raw_routes = data.get("routes") or []
    if not isinstance(raw_routes, list):
        problems.append("routes: expected a list")
        raw_routes = []
    for index, raw in enumerate(raw_routes):
        route = _parse_route(index, raw, raw_dests, problems)
        if route is not None:
            routes.append(route)

    default = _names(data.get("default"), "default", raw_dests, problems)
    if not default:
        problems.append("default: required, at least one destination for notifications no route matches")
    if problems:
        raise RoutingError("\n  - " + "\n  - ".join(problems))
    return RoutingConfig(destinations=destinations, routes=tuple(routes), default=default)


def _strings(value: object, where: str, problems: list[str]) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        return (str(value),)
    if isinstance(value, list) and all(isinstance(v, str | int | float) for v in value):
        return tuple(str(v) for v in value)
    problems.append(f"{where}: expected a string or a list of strings")
    return ()


def _names(value: object, where: str, known: Mapping[Any, Any], problems: list[str]) -> tuple[str, ...]:
    names = _strings(value, where, problems)
    for name in names:
        if name not in known:
            problems.append(f"{where}: unknown destination {name!r}")
    return tuple(n for n in names if n in known)


def _parse_destination(name: str, raw: object, environ: Mapping[str, str], problems: list[str]) -> Destination | None:
    where = f"destinations.{name}"
    if not isinstance(raw, Mapping):
        problems.append(f"{where}: expected a mapping")
        return None
    kind = raw.get("type")
    if kind not in DESTINATION_KINDS:
        problems.append(f"{where}.type: expected one of {', '.join(DESTINATION_KINDS)}, got {kind!r}")
        return None
    unknown = set(raw) - _DEST_KEYS
    secret_key = _SECRET_KEYS[kind]
    unknown |= {k for k in _SECRET_KEYS.values() if k in raw and k != secret_key}
    if unknown:
        problems.append(f"{where}: unknown or misplaced keys for type {kind}: {', '.join(sorted(map(str, unknown)))}")
    for key in ("webhook_url", "bot_token", "workflow_url", "url", "token", "signing_secret"):
        if key in raw:
            problems.append(f"{where}.{key}: secrets must not be in this file; name an environment variable instead")
    secret_env = raw.get(secret_key)
    secret = ""
    if not isinstance(secret_env, str) or not secret_env.strip():
        problems.append(f"{where}.{secret_key}: required, the name of the environment variable holding the secret")
        secret_env = ""
    else:
        secret = environ.get(secret_env, "").strip()
        if not secret:
            problems.append(f"{where}.{secret_key}: environment variable {secret_env} is not set")
        elif kind != "slack_bot" and not secret.startswith(("https://", "http://")):
            problems.append(f"{where}.{secret_key}: {secret_env} does not hold an http(s) URL")
    channel = raw.get("channel", "")
    if not isinstance(channel, str):
        problems.append(f"{where}.channel: expected a Slack channel ID string")
        channel = ""
    if kind == "slack_bot" and not channel:
        problems.append(f"{where}.channel: required for slack_bot (the channel ID, e.g. C0123ALERTS)")
    if kind == "teams_workflow" and channel:
        problems.append(f"{where}.channel: Teams Workflows choose the channel in the flow, not here")
    users = _strings(raw.get("allowed_users"), f"{where}.allowed_users", problems)
    groups = _strings(raw.get("allowed_groups"), f"{where}.allowed_groups", problems)
    if kind == "teams_workflow" and (users or groups):
        problems.append(f"{where}: allowed_users/allowed_groups are Slack IDs; Teams links carry no identity")
    if groups and kind != "slack_bot":
        problems.append(f"{where}.allowed_groups: needs type slack_bot (its token reads group membership)")
    for user in users:
        if user[:1] not in ("U", "W"):
            problems.append(f"{where}.allowed_users: {user!r} is not a Slack user ID (U... or W...)")
    for group in groups:
        if not group.startswith("S"):
            problems.append(f"{where}.allowed_groups: {group!r} is not a Slack user-group ID (S...)")
    actions = _strings(raw.get("actions"), f"{where}.actions", problems) if "actions" in raw else CHAT_ACTIONS
    for action in actions:
        if action not in CHAT_ACTIONS:
            problems.append(f"{where}.actions: {action!r} is not one of {', '.join(CHAT_ACTIONS)}")
    return Destination(
        name=name,
        kind=str(kind),
        secret_env=str(secret_env),
        secret=secret,
        channel=channel,
        allowed_users=users,
        allowed_groups=groups,
        actions=tuple(a for a in actions if a in CHAT_ACTIONS),
    )


def _parse_route(index: int, raw: object, known: Mapping[Any, Any], problems: list[str]) -> Route | None:
    where = f"routes[{index}]"
    if not isinstance(raw, Mapping):
        problems.append(f"{where}: expected a mapping with 'match' and 'destinations'")
        return None
    name = str(raw.get("name") or where)
    where = f"routes[{index}] ({name})"
    unknown = set(raw) - {"name", "match", "destinations"}
    if unknown:
        problems.append(f"{where}: unknown keys: {', '.join(sorted(map(str, unknown)))}")
    match_raw = raw.get("match") or {}
    if not isinstance(match_raw, Mapping):
        problems.append(f"{where}.match: expected a mapping")
        match_raw = {}
    unknown = set(match_raw) - _MATCH_KEYS
    if unknown:
        problems.append(f"{where}.match: unknown keys: {', '.join(sorted(map(str, unknown)))}")
    severity = tuple(s.lower() for s in _strings(match_raw.get("severity"), f"{where}.match.severity", problems))
    for sev in severity:
        if sev not in SEVERITIES:
            problems.append(f"{where}.match.severity: {sev!r} is not one of {', '.join(SEVERITIES)}")
    outcome = _strings(match_raw.get("outcome"), f"{where}.match.outcome", problems)
    for out in outcome:
        if out not in OUTCOMES:
            problems.append(f"{where}.match.outcome: {out!r} is not one of {', '.join(OUTCOMES)}")
    labels_raw = match_raw.get("labels") or {}
    labels: tuple[tuple[str, str], ...] = ()
    if not isinstance(labels_raw, Mapping):
        problems.append(f"{where}.match.labels: expected a mapping of label -> value (glob allowed)")
    else:
        labels = tuple((str(k), str(v)) for k, v in labels_raw.items())
    destinations = _names(raw.get("destinations"), f"{where}.destinations", known, problems)
    if not raw.get("destinations"):
        problems.append(f"{where}.destinations: required, at least one destination name")
    return Route(
        name=name,
        match=Match(
            severity=severity,
            cluster=_strings(match_raw.get("cluster"), f"{where}.match.cluster", problems),
            namespace=_strings(match_raw.get("namespace"), f"{where}.match.namespace", problems),
            deployment=_strings(match_raw.get("deployment"), f"{where}.match.deployment", problems),
            outcome=outcome,
            labels=labels,
        ),
        destinations=destinations,
    )
