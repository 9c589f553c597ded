"""Without a browser the browser tests are skipped, and the run says why (never silently)."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_without_chromium_the_browser_tests_are_skipped_with_the_reason(tmp_path):
    missing = tmp_path / "chromium"
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "tests/browser/test_learner.py", "-k", "readme",
         "-p", "no:cacheprovider"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
        env={**os.environ, "NNCOURSE_CHROMIUM": str(missing)})
    assert run.returncode == 0, run.stdout + run.stderr
    reason = f"no Chromium at {missing}"
    header = next(line for line in run.stdout.splitlines() if line.startswith("browser tests:"))
    assert reason in header  # at the top of the run (when tests/browser is run alone)
    assert "SKIPPED [1] tests/browser/test_learner.py:" in run.stdout and reason in \
        run.stdout.split("short test summary info")[1]  # and in the summary
