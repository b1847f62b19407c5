"""The chaos workload's smoke mode (bench/chaos, docs/chaos.md) still runs and checks.

A few hundred operations without faults, against ``ewallet serve --workers 2`` on a
throw-away PostgreSQL cluster: the harness must set everything up through the API, settle,
and find no violation. ``make chaos`` is the real run (10,000 operations with faults).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _initdb_available() -> bool:
    return bool(list(Path("/usr/lib/postgresql").glob("*/bin/initdb"))) or bool(
        shutil.which("initdb")
    )


@pytest.mark.slow
@pytest.mark.skipif(not _initdb_available(), reason="PostgreSQL server binaries not installed")
def test_smoke_mode_runs_and_finds_no_violation() -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.chaos",
            "--operations",
            "300",
            "--clients",
            "8",
            "--no-faults",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.stdout, result.stderr[-3000:]
    report = json.loads(result.stdout)
    assert "error" not in report, report
    operations = report["operations"]
    assert operations["load"] >= 300
    kinds = operations["outcomes_by_kind"]
    assert {"transfer", "payment", "topup", "withdrawal"} <= set(kinds)
    assert all(entry["gave_up"] == 0 for entry in kinds.values())
    assert report["commands"]["ledger_verify"]["exit"] == 0
    assert report["commands"]["audit_verify"]["exit"] == 0
    assert report["fault_windows"] == []
    assert report["violations"] == [], json.dumps(report["violations"], indent=1)[:4000]
    assert result.returncode == 0
