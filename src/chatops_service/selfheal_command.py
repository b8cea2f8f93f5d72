"""Parse the text of the ``/selfheal`` slash command. Pure.

    /selfheal status
    /selfheal pause <namespace>/<deployment> <duration>      e.g. 30m, 2h, 1h30m, 1d (max 7d)
    /selfheal resume <namespace>/<deployment>
    /selfheal history <namespace>/<deployment> [count]
    /selfheal help

A target may name its cluster too: ``<cluster>/<namespace>/<deployment>``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from healing_contract.control import MAX_DURATION_SECONDS, ControlTarget

USAGE = (
    "Usage: `/selfheal status` · `/selfheal pause <namespace>/<deployment> <duration>` (e.g. 30m, 2h, 1d) · "
    "`/selfheal resume <namespace>/<deployment>` · `/selfheal history <namespace>/<deployment> [count]`"
)
_DURATION = re.compile(r"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")
_NAME = re.compile(r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")


class CommandSyntaxError(ValueError):
    """The command text is wrong; the message says how, followed by the usage."""


@dataclass(frozen=True)
class SelfhealCommand:
    verb: str  # status | pause | resume | history | help
    target: ControlTarget | None = None
    duration_seconds: int = 0
    limit: int = 10


def parse_duration(text: str) -> int:
    match = _DURATION.match(text.strip().lower())
    if not text.strip() or match is None or not any(match.groups()):
        raise CommandSyntaxError(f"{text!r} is not a duration; use forms like 30m, 2h, 1h30m, 1d")
    days, hours, minutes, seconds = (int(g or 0) for g in match.groups())
    total = days * 86400 + hours * 3600 + minutes * 60 + seconds
    if total <= 0:
        raise CommandSyntaxError("the duration must be longer than zero")
    if total > MAX_DURATION_SECONDS:
        raise CommandSyntaxError("the duration may be at most 7 days")
    return total


def format_duration(seconds: int) -> str:
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if seconds >= size:
            parts.append(f"{seconds // size}{unit}")
            seconds %= size
    return "".join(parts) or "0s"


def parse_target(text: str) -> ControlTarget:
    parts = text.strip().split("/")
    if len(parts) == 2:
        cluster, namespace, name = "", parts[0], parts[1]
    elif len(parts) == 3:
        cluster, namespace, name = parts
    else:
        raise CommandSyntaxError(f"{text!r} is not <namespace>/<deployment>")
    for label, value in (("namespace", namespace), ("deployment", name)):
        if not _NAME.match(value) or len(value) > 253:
            raise CommandSyntaxError(f"{value!r} is not a valid Kubernetes {label} name")
    return ControlTarget(namespace=namespace, name=name, cluster=cluster)


def parse_selfheal(text: str) -> SelfhealCommand:
    words = text.split()
    if not words or words[0].lower() in ("help", "-h", "--help"):
        return SelfhealCommand("help")
    verb, args = words[0].lower(), words[1:]
    try:
        if verb == "status":
            if args:
                raise CommandSyntaxError("`status` takes no arguments")
            return SelfhealCommand("status")
        if verb == "pause":
            if len(args) != 2:
                raise CommandSyntaxError("`pause` needs <namespace>/<deployment> and a duration")
            return SelfhealCommand("pause", parse_target(args[0]), parse_duration(args[1]))
        if verb == "resume":
            if len(args) != 1:
                raise CommandSyntaxError("`resume` needs exactly <namespace>/<deployment>")
            return SelfhealCommand("resume", parse_target(args[0]))
        if verb == "history":
            if len(args) not in (1, 2):
                raise CommandSyntaxError("`history` needs <namespace>/<deployment> and optionally a count")
            limit = 10
            if len(args) == 2:
                if not args[1].isdigit() or not 1 <= int(args[1]) <= 50:
                    raise CommandSyntaxError("the history count must be a whole number from 1 to 50")
                limit = int(args[1])
            return SelfhealCommand("history", parse_target(args[0]), limit=limit)
    except CommandSyntaxError as exc:
        raise CommandSyntaxError(f"{exc}. {USAGE}") from exc
    raise CommandSyntaxError(f"unknown subcommand {verb!r}. {USAGE}")
