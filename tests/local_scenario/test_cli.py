"""The demo's command line: clear messages for a missing gcloud and for malformed options."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _run(args: list[str], path: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "local_scenario", *args],
        cwd=REPO,
        env={"PATH": path},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_missing_gcloud_is_one_clear_line_with_the_install_hint_and_exit_2(tmp_path: Path) -> None:
    result = _run(["--out", str(tmp_path / "demo")], path=str(tmp_path))  # a PATH without gcloud

    assert result.returncode == 2
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    assert len(lines) == 1
    assert "gcloud is not installed" in lines[0]
    assert "gcloud components install pubsub-emulator" in lines[0]
    assert not (tmp_path / "demo").exists() or not any((tmp_path / "demo").rglob("*.log"))


def test_unknown_fault_is_rejected_with_the_known_ones_listed(tmp_path: Path) -> None:
    result = _run(["--faults", "cpu_hog,disk_full"], path=str(tmp_path))

    assert result.returncode == 2
    assert "unknown fault(s) disk_full" in result.stderr
    assert "bad_rollout" in result.stderr


def test_speed_out_of_range_is_rejected(tmp_path: Path) -> None:
    result = _run(["--speed", "5"], path=str(tmp_path))

    assert result.returncode == 2
    assert "--speed" in result.stderr and "between 60 and 1200" in result.stderr
