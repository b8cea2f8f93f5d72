"""The report renders in a real headless Chromium without script or policy errors.

Skipped when no ``chromium`` binary is on PATH (install Debian's ``chromium`` package).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from fleet_insight.analysis import ReportOptions, build_report
from fleet_insight.nodes import parse_node_conditions
from fleet_insight.report import SECTIONS, render_html
from fleet_insight.source import DuckDBSource
from fleet_insight.synthetic import SyntheticHistory

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no chromium binary on PATH (apt-get install chromium)")

_CONSOLE = re.compile(r":CONSOLE[:(]")


def _dump_dom(page: Path, profile: Path) -> tuple[str, list[str]]:
    """(DOM after scripts ran, console messages Chromium logged)."""
    assert CHROMIUM is not None
    result = subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            f"--user-data-dir={profile}",
            "--enable-logging=stderr",
            "--v=0",
            "--dump-dom",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout, [line for line in result.stderr.splitlines() if _CONSOLE.search(line)]


def test_console_capture_sees_script_errors(tmp_path: Path) -> None:
    """Control: a broken page does produce console lines, so an empty list below means something."""
    page = tmp_path / "broken.html"
    page.write_text("<!DOCTYPE html><html><body><script>undefinedFunction();</script></body></html>")
    _, console = _dump_dom(page, tmp_path / "profile")
    assert any("undefinedFunction" in line for line in console)


def test_report_renders_without_errors(tmp_path: Path, fleet_db: Path, history: SyntheticHistory) -> None:
    source = DuckDBSource(fleet_db)
    try:
        report = build_report(
            source,
            ReportOptions(
                history.start,
                history.end,
                deployments=history.deployments,
                node_conditions=parse_node_conditions(history.node_conditions),
            ),
        )
    finally:
        source.close()
    page = tmp_path / "report.html"
    page.write_text(render_html(report), encoding="utf-8")
    dom, console = _dump_dom(page, tmp_path / "profile")
    assert console == []  # no script errors, no Content-Security-Policy violations
    assert 'data-report-check="ok"' in dom  # the inline check ran and found every section
    charts = re.search(r'data-chart-count="(\d+)"', dom)
    assert charts is not None and int(charts.group(1)) >= 4
    for section_id, _ in SECTIONS:
        assert f'id="{section_id}"' in dom


def test_check_script_reports_a_missing_section(tmp_path: Path, fleet_db: Path, history: SyntheticHistory) -> None:
    """Control: the in-page marker is not hard-wired to "ok"."""
    source = DuckDBSource(fleet_db)
    try:
        html = render_html(build_report(source, ReportOptions(history.start, history.end)))
    finally:
        source.close()
    page = tmp_path / "cut.html"
    page.write_text(html.replace('<section id="recurring">', '<section id="gone">'), encoding="utf-8")
    dom, console = _dump_dom(page, tmp_path / "profile")
    assert console == []
    assert 'data-report-check="missing:recurring"' in dom


def test_hostile_names_render_as_text(tmp_path: Path) -> None:
    """Names with markup from the cluster neither run nor get blocked: they are plain text."""
    from fleet_insight.synthetic import WorkloadSpec, generate_history, write_duckdb

    from .conftest import START

    hostile = "<script>document.title='pwned'</script>"
    history = generate_history(START, hours=2, fleet=(WorkloadSpec(hostile, 'x"><img src=x onerror=1>', "flapping"),))
    db = tmp_path / "hostile.duckdb"
    write_duckdb(db, history)
    source = DuckDBSource(db)
    try:
        html = render_html(build_report(source, ReportOptions(history.start, history.end)))
    finally:
        source.close()
    page = tmp_path / "hostile.html"
    page.write_text(html, encoding="utf-8")
    dom, console = _dump_dom(page, tmp_path / "profile")
    assert console == []  # an injected script or image would show up as a policy violation here
    assert 'data-report-check="ok"' in dom
    assert "pwned" not in dom.split("<body", 1)[0]  # the title was not rewritten
    assert "&lt;script&gt;document.title" in dom
