"""The benchmark runner's --quick mode runs and writes its result files (timings are never asserted)."""
import json
import os
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent


def test_quick_runner_runs_and_records_the_machine(tmp_path):
    env = dict(os.environ, REFIMPL_BENCH_RESULTS=str(tmp_path))
    done = subprocess.run([sys.executable, "-m", "benchmarks", "--quick"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "== targets ==" in done.stdout and ("PASS" in done.stdout or "MISS" in done.stdout)
    for name in ("oracle", "samplers", "stages", "families", "training"):
        result = json.loads((tmp_path / f"{name}.json").read_text())
        assert result["quick"] is True and result["machine"]["cores"] >= 1 and result["machine"]["numpy"]
        assert result["cases"]
