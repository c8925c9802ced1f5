"""The README opens with the two set-up commands, .ci/run runs exactly the test command, the README's examples run
and its table is what refimpl computes, and docs/findings.md's copies of ``refimpl paper``'s and the frontier
benchmark's output are what the commands print (slow: run by the benchmarks)."""
import pathlib
import re
import subprocess
import sys
import tempfile

import pytest

from tests.helpers import user_environment

ROOT = pathlib.Path(__file__).resolve().parent.parent


def readme_commands():
    text = (ROOT / "README.md").read_text()
    block = re.search(r"```(?:sh|bash)?\n(.*?)```", text, re.S).group(1)
    return [line.strip() for line in block.splitlines() if line.strip() and not line.startswith("#")]


def test_the_readme_is_a_front_door():
    """Under 200 lines, the two commands first, and a link to every document it maps."""
    text = (ROOT / "README.md").read_text()
    assert len(text.splitlines()) < 200 and text.index("pip install") < text.index("## ")
    for target in ("docs/findings.md", "docs/library.md", "docs/testing.md", "docs/DESIGN.md", "docs/PERFORMANCE.md",
                   "CONTRIBUTING.md"):
        assert f"]({target})" in text and (ROOT / target).exists()


def test_the_readme_python_example_runs():
    """Its ``>>>`` lines, as doctests (what they print is what refimpl returns)."""
    import doctest

    result = doctest.testfile(str(ROOT / "README.md"), module_relative=False, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted >= 8 and result.failed == 0


def test_the_readme_table_is_what_the_frontier_computes():
    """Each row of "What parallel decoding loses": the sampler of its first cell on the toy set with the oracle,
    its expected calls, KL and incoherent mass recomputed and shown at the table's precision."""
    import numpy as np
    import refimpl
    from refimpl import samplers
    from refimpl.experiments import toy
    from refimpl.experiments.frontier import frontier_rows

    text = (ROOT / "README.md").read_text()
    section = text[text.index("## What parallel decoding loses"):text.index("## Where to read on")]
    rows = [line.strip("|").split("|") for line in section.splitlines() if line.startswith("| `")]
    assert len(rows) >= 8
    table = np.asarray(refimpl.datasets.empirical(toy.toy_sequences(), vocab_size=5))
    names = {entry.cls.__name__: entry.cls for entry in samplers.FAMILIES.values()}
    shown = [eval(cells[0].strip().strip("`"), {}, names) for cells in rows]  # noqa: S307 (our own README)
    computed = frontier_rows(table, refimpl.oracle_denoiser(table), shown, ties=False)

    def fmt(value):
        return "0" if abs(value) < 1e-12 else f"{value:.4g}" if abs(value - round(value)) > 1e-12 else f"{round(value)}"

    for cells, row in zip(rows, computed):
        calls, kl, incoherent = (cell.strip() for cell in cells[1:4])
        assert calls == fmt(row["expected_calls"])
        assert kl == ("0" if abs(row["kl_p_q"]) < 1e-12 else f"{row['kl_p_q']:.3f}")
        assert incoherent == ("0" if row["incoherent_mass"] < 1e-12 else f"{row['incoherent_mass']:.3g}")
    assert f"{refimpl.total_correlation(table):.3f}" == "2.595"


def test_readme_opens_with_two_pip_install_commands():
    main_job, tests = readme_commands()[:2]
    assert main_job.startswith("pip install ") and main_job.endswith("&& refimpl paper")
    assert tests.startswith("pip install ") and "&& python -m pytest" in tests


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert readme_commands()[1] in [line.strip() for line in ci]


def test_ci_installs_the_torch_extra_before_the_test_command():
    """So that the torch cross-checks run in CI instead of skipping (the suite's last line counts the skips)."""
    lines = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()]
    torch = next(k for k, line in enumerate(lines) if line.startswith("pip install") and "torch" in line)
    assert ".[test,torch,diffusers]" in lines[torch] and torch < lines.index(readme_commands()[1])  # and the
    # diffusers extra, so that docs/testing.md's BlockRefinementScheduler example runs too


@pytest.mark.slow
def test_readme_quotes_refimpl_paper_verbatim():
    """Every number of the paper experiments in docs/findings.md as ``refimpl paper`` prints it today (about 35 s).

    The trained-MLP numbers move in their last digits whenever the training arithmetic changes order;
    this catches the findings falling behind."""
    text = (ROOT / "docs" / "findings.md").read_text()
    quoted = re.search(r"```text\n\$ refimpl paper\n(.*?)```", text, re.S).group(1)
    done = subprocess.run([sys.executable, "-m", "refimpl", "paper"], cwd=ROOT, capture_output=True, text=True,
                          timeout=900, env=user_environment())
    assert done.returncode == 0, done.stderr[-2000:]
    assert [line.rstrip() for line in done.stdout.strip().splitlines()] == \
        [line.rstrip() for line in quoted.strip().splitlines()]


@pytest.mark.slow
def test_readme_quotes_the_frontier_benchmark_verbatim():
    """docs/findings.md's copy of ``python -m benchmarks.frontier`` (exact numbers, no timings; about 15 s)
    is what the benchmark prints today, below its machine line."""
    text = (ROOT / "docs" / "findings.md").read_text()
    quoted = re.search(r"```text\n\$ python -m benchmarks.frontier\n(.*?)```", text, re.S).group(1)
    done = subprocess.run([sys.executable, "-m", "benchmarks.frontier"], cwd=ROOT, capture_output=True, text=True,
                          timeout=900, env=dict(user_environment(), REFIMPL_BENCH_RESULTS=tempfile.mkdtemp()))
    assert done.returncode == 0, done.stderr[-2000:]
    printed = done.stdout.strip().splitlines()
    assert printed[0].startswith("machine: ")
    assert [line.rstrip() for line in printed[1:]] == [line.rstrip() for line in quoted.strip().splitlines()]
