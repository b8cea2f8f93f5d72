"""python -m kube_standin: serve the stand-in cluster until SIGTERM or SIGINT.

    python -m kube_standin --port 8001 --fixture cluster.yaml --kubeconfig-out .local/kubeconfig

Prints "kube-standin serving <url>" once ready. Exit codes: 0 after a signal, 2 for bad arguments
or a malformed fixture.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

from kube_standin.cluster import StandinCluster
from kube_standin.controller import SimulationSettings
from kube_standin.fault_ops import FaultError
from kube_standin.fixture import FixtureError


@dataclass(frozen=True)
class StandinOptions:
    port: int
    fixture: Path | None
    kubeconfig_out: Path | None
    context: str
    namespace: str
    token: str | None
    seed: int | None
    settings: SimulationSettings


def _non_negative_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from exc
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, not {value}")
    return value


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from exc
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"port must be between 0 and 65535, not {value}")
    return value


def parse_options(argv: list[str] | None = None) -> StandinOptions:
    parser = argparse.ArgumentParser(prog="kube_standin", description="Serve a stand-in Kubernetes API on loopback.")
    parser.add_argument("--port", type=_port, default=0, help="port on 127.0.0.1 (0 = any free port)")
    parser.add_argument("--fixture", type=Path, help="YAML fixture with the initial cluster state")
    parser.add_argument("--kubeconfig-out", type=Path, help="write a kubeconfig for this server here")
    parser.add_argument("--context", default="standin", help="context name in the kubeconfig")
    parser.add_argument("--namespace", default="default", help="default namespace in the kubeconfig")
    parser.add_argument("--token", help="require this bearer token (kubectl sends none over plain http)")
    parser.add_argument("--seed", type=int, help="seed for names and uids (reproducible runs)")
    parser.add_argument(
        "--ready-delay", type=_non_negative_float, default=0.2, help="seconds before a started pod turns Ready"
    )
    parser.add_argument(
        "--restart-interval",
        type=_non_negative_float,
        default=1.0,
        help="seconds between restarts of a crash-looping container",
    )
    parser.add_argument(
        "--schedule-by-requests",
        action="store_true",
        help="leave pods Pending when their cpu/memory requests fit on no node",
    )
    parser.add_argument(
        "--crash-backoff",
        choices=("fixed", "exponential"),
        default="fixed",
        help="crash every restart interval, or double the delay like the kubelet (up to 30x)",
    )
    parser.add_argument(
        "--termination-seconds",
        type=_non_negative_float,
        default=0.0,
        help="how long deleted pods stay Terminating (0 = removed at once)",
    )
    parser.add_argument(
        "--not-ready-eviction-seconds",
        type=_non_negative_float,
        default=300.0,
        help="evict pods from a node NotReady for this long",
    )
    args = parser.parse_args(argv)
    if args.restart_interval <= 0:
        parser.error("--restart-interval must be > 0")
    if args.not_ready_eviction_seconds <= 0:
        parser.error("--not-ready-eviction-seconds must be > 0")
    if args.fixture is not None and not args.fixture.is_file():
        parser.error(f"--fixture: no such file: {args.fixture}")
    return StandinOptions(
        port=args.port,
        fixture=args.fixture,
        kubeconfig_out=args.kubeconfig_out,
        context=args.context,
        namespace=args.namespace,
        token=args.token,
        seed=args.seed,
        settings=SimulationSettings(
            ready_delay_seconds=args.ready_delay,
            crash_restart_interval_seconds=args.restart_interval,
            crash_backoff=args.crash_backoff,
            pod_termination_seconds=args.termination_seconds,
            not_ready_eviction_seconds=args.not_ready_eviction_seconds,
            schedule_by_requests=args.schedule_by_requests,
        ),
    )


def main(argv: list[str] | None = None) -> int:
    options = parse_options(argv)
    try:
        cluster = StandinCluster(
            options.fixture, token=options.token, port=options.port, settings=options.settings, seed=options.seed
        )
    except (FixtureError, FaultError) as exc:
        print(f"kube_standin: bad fixture: {exc}", file=sys.stderr)
        return 2
    stop = threading.Event()

    def on_signal(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        cluster.start()
    except OSError as exc:
        print(f"kube_standin: cannot listen on 127.0.0.1:{options.port}: {exc}", file=sys.stderr)
        return 2
    try:
        if options.kubeconfig_out is not None:
            cluster.write_kubeconfig(options.kubeconfig_out, options.context, options.namespace)
        print(f"kube-standin serving {cluster.url}", flush=True)
        while not stop.wait(0.5):
            pass
    finally:
        cluster.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
