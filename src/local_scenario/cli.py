"""`python -m local_scenario`: the local end-to-end demo."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from local_scenario.emulators import INSTALL_HINT, EmulatorUnavailable, gcloud_path
from local_scenario.faults import DEFAULT_FAULTS, parse_fault_list

EXIT_OK, EXIT_FAILED, EXIT_UNAVAILABLE, EXIT_INTERRUPTED = 0, 1, 2, 130
GCLOUD_MISSING = f"gcloud is not installed, so the Pub/Sub and Firestore emulators cannot run: {INSTALL_HINT}."
CHILD_ENV_KEYS = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT")


def _speed(text: str) -> float:
    try:
        value = float(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected a number of cloud seconds per demo second, got {text!r}") from exc
    if not 60 <= value <= 1200:
        raise argparse.ArgumentTypeError(
            f"must be between 60 and 1200 (one aligned minute every 1 s .. 50 ms), got {value:g}"
        )
    return value


def _rounds(text: str) -> int:
    try:
        value = int(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from exc
    if not 1 <= value <= 5:
        raise argparse.ArgumentTypeError(f"must be between 1 and 5 (the demo policy's per-target budget), got {value}")
    return value


def _faults(text: str) -> tuple[str, ...]:
    try:
        return parse_fault_list(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m local_scenario",
        description="Bring the self-healing system up on loopback, inject faults, print a live timeline, "
        "write an HTML report, tear everything down; exit 0 only if every fault was handled and notified.",
    )
    parser.add_argument("--out", type=Path, default=Path("out/demo"), help="output directory (default out/demo)")
    parser.add_argument("--dry-run", action="store_true", help="the healer decides but makes no mutating call")
    parser.add_argument(
        "--faults",
        type=_faults,
        default=DEFAULT_FAULTS,
        help=f"comma-separated faults to inject (default {','.join(DEFAULT_FAULTS)})",
    )
    parser.add_argument(
        "--speed",
        type=_speed,
        default=240.0,
        help="accelerated time base: cloud seconds per demo second (default 240: one aligned minute every 250 ms)",
    )
    parser.add_argument(
        "--rounds",
        type=_rounds,
        default=3,
        help="inject the whole fault list this many times, one fault after another (default 3)",
    )
    parser.add_argument(
        "--no-anomaly",
        action="store_true",
        help="skip the anomaly model (it is trained once through the local pipeline and reused from OUT/model)",
    )
    parser.add_argument("--rules", type=Path, default=Path("config/alert_rules.yaml"), help="alert rules file")
    parser.add_argument("--policy", type=Path, default=Path("config/demo/healer_policy.yaml"), help="healer policy")
    parser.add_argument(
        "--routing", type=Path, default=Path("config/demo/chatops_routing.yaml"), help="ChatOps routing file"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    for label, path in (("--rules", args.rules), ("--policy", args.policy), ("--routing", args.routing)):
        if not path.is_file():
            print(f"{label}: no such file: {path} (run from the repository root or pass the path)", file=sys.stderr)
            return EXIT_UNAVAILABLE
    if gcloud_path() is None:
        print(GCLOUD_MISSING)
        return EXIT_UNAVAILABLE
    # Imported here so that a missing gcloud or a bad option is reported at once.
    from local_scenario.alert_rules import AlertRulesError
    from local_scenario.anomaly import ModelUnavailable
    from local_scenario.cluster import ClusterError
    from local_scenario.scenario import GcloudMissing, Interrupted, ScenarioOptions, run_scenario
    from local_scenario.services import ServiceFailed
    from local_scenario.summary import summary_table

    options = ScenarioOptions(
        out_dir=args.out,
        rules_path=args.rules,
        policy_path=args.policy,
        routing_path=args.routing,
        faults=args.faults,
        dry_run=args.dry_run,
        speed=args.speed,
        anomaly=not args.no_anomaly,
        rounds=args.rounds,
        child_env={k: v for k, v in os.environ.items() if k in CHILD_ENV_KEYS},
    )
    try:
        result = run_scenario(options)
    except GcloudMissing:
        print(GCLOUD_MISSING)
        return EXIT_UNAVAILABLE
    except EmulatorUnavailable as exc:
        print(f"an emulator could not start: {exc}")
        return EXIT_UNAVAILABLE
    except AlertRulesError as exc:
        print(f"the alert rules are malformed: {exc}")
        return EXIT_UNAVAILABLE
    except (ServiceFailed, ClusterError, ModelUnavailable) as exc:
        print(f"the scenario could not run: {exc}")
        return EXIT_FAILED
    except Interrupted as exc:
        print(f"interrupted ({exc}); everything started was stopped")
        return EXIT_INTERRUPTED
    print()
    print(summary_table(result.records, options.dry_run))
    print()
    print(
        f"time base: {result.time_base.speed:g} cloud s per demo s, sampling interval "
        f"{result.time_base.sample_interval * 1000:.0f} ms (= one aligned cloud minute)"
    )
    for line in result.verdict.lines:
        print(line)
    if result.report_path is not None:
        print(f"report: {result.report_path} (incidents and chat payloads as JSON lines beside it)")
    print("RESULT: " + ("PASS" if result.verdict.ok else "FAIL"))
    return EXIT_OK if result.verdict.ok else EXIT_FAILED
