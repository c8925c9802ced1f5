"""The README opens with the two set-up commands, .ci/run runs exactly the test command, and the
README's copy of ``refimpl paper``'s output is what the command prints (slow: run by the benchmarks)."""
import os
import pathlib
import re
import subprocess
import sys
import tempfile

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent


def readme_commands():
    text = (ROOT / "README.md").read_text()
    block = re.search(r"```(?:sh|bash)?\n(.*?)```", text, re.S).group(1)
    return [line.strip() for line in block.splitlines() if line.strip() and not line.startswith("#")]


def test_readme_opens_with_two_pip_install_commands():
    main_job, tests = readme_commands()[:2]
    assert main_job.startswith("pip install ") and main_job.endswith("&& refimpl paper")
    assert tests.startswith("pip install ") and "&& python -m pytest" in tests


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert readme_commands()[1] in [line.strip() for line in ci]


@pytest.mark.slow
def test_readme_quotes_refimpl_paper_verbatim():
    """Every number of the paper experiments in the README as ``refimpl paper`` prints it today (about 35 s).

    The trained-MLP numbers move in their last digits whenever the training arithmetic changes order;
    this catches the README falling behind."""
    text = (ROOT / "README.md").read_text()
    quoted = re.search(r"```text\n\$ refimpl paper\n(.*?)```", text, re.S).group(1)
    done = subprocess.run([sys.executable, "-m", "refimpl", "paper"], cwd=ROOT, capture_output=True, text=True,
                          timeout=900)
    assert done.returncode == 0, done.stderr[-2000:]
    assert [line.rstrip() for line in done.stdout.strip().splitlines()] == \
        [line.rstrip() for line in quoted.strip().splitlines()]


@pytest.mark.slow
def test_readme_quotes_the_frontier_benchmark_verbatim():
    """The README's copy of ``python -m benchmarks.frontier`` (exact numbers, no timings; about 15 s)
    is what the benchmark prints today, below its machine line."""
    text = (ROOT / "README.md").read_text()
    quoted = re.search(r"```text\n\$ python -m benchmarks.frontier\n(.*?)```", text, re.S).group(1)
    done = subprocess.run([sys.executable, "-m", "benchmarks.frontier"], cwd=ROOT, capture_output=True, text=True,
                          timeout=900, env=dict(os.environ, REFIMPL_BENCH_RESULTS=tempfile.mkdtemp()))
    assert done.returncode == 0, done.stderr[-2000:]
    printed = done.stdout.strip().splitlines()
    assert printed[0].startswith("machine: ")
    assert [line.rstrip() for line in printed[1:]] == [line.rstrip() for line in quoted.strip().splitlines()]
