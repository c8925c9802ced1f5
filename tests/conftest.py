import os

import pytest

# The suite runs on every core (pytest-xdist workers, started after this file is read): one BLAS thread per worker,
# as two workers with two spinning BLAS threads each on two cores slow the MLP trainings threefold
# (refimpl.experiments.executors.single_threaded_pool).  Only the trained models' last digits depend on it.
if "OPENBLAS_NUM_THREADS" not in os.environ:
    os.environ["OPENBLAS_NUM_THREADS"] = "1"
    os.environ["REFIMPL_TESTS_SET_BLAS"] = "1"  # tests/helpers.py's user_environment() takes both back out
from hypothesis import HealthCheck, settings

# "ci" keeps the suite within its time budget and derandomised (same examples every run);
# "long" explores new random examples, for local runs:
#   HYPOTHESIS_PROFILE=long python -m pytest
settings.register_profile("ci", max_examples=40, deadline=None, derandomize=True,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("long", max_examples=1000, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))



PAPER_TRAINING_STEPS = 100  # the suite's paper run: every exact number is the paper's, the MLPs barely trained


@pytest.fixture(scope="session")
def paper_run():
    """``run_paper``'s reports and trained models with every MLP trained for ``PAPER_TRAINING_STEPS`` steps (about 4
    s instead of a minute), computed once for the session (by one xdist worker: the modules that read them are one
    xdist_group): the experiments' tests read them, and the CLI's ``refimpl paper --json`` prints them.  Every exact
    number is the paper's; the tests check the trained models' numbers against independent computations that hold
    for any model, never against the bytes.  What needs the paper's trainings — the toy model's marginals within
    0.05 — reads :func:`paper_run_full` (slow, tests/tiers.py), and the slow README check runs the whole default
    command."""
    return _paper(PAPER_TRAINING_STEPS)


@pytest.fixture(scope="session")
def paper_run_full():
    """As :func:`paper_run`, with the paper's trainings (about a minute on the 2-core machine)."""
    return _paper(None)


def _paper(training_steps):
    from refimpl.experiments.paper import run_paper

    models = {}
    workers = 1 if os.environ.get("PYTEST_XDIST_WORKER") else 2  # (under xdist the other cores run other tests)
    reports = run_paper(progress=lambda message: None, models=models, workers=workers, training_steps=training_steps)
    return reports, models


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """The tests tests/tiers.py lists are ``slow`` (before ``-m`` deselects them): run from the benchmarks.  An entry
    whose file was collected but that matches none of its tests is an error (a renamed test or parameter)."""
    from tests.tiers import unmatched

    marks, stale = unmatched([item.nodeid for item in items])
    for item, slow in zip(items, marks):
        if slow:
            item.add_marker(pytest.mark.slow)
    if stale:
        raise pytest.UsageError(f"tests/tiers.py names tests that were not collected: {stale}")


def pytest_terminal_summary(terminalreporter):
    """One line after the summary: whether torch is installed and how many torch cross-checks were skipped for want of
    it (README, "Tests"; .ci/run installs the torch extra so that none is)."""
    import importlib.metadata
    import importlib.util

    skipped = [report for report in terminalreporter.stats.get("skipped", []) if "torch" in str(report.longrepr)]
    if importlib.util.find_spec("torch") is None:
        installed = "torch not installed (pip install 'refimpl[torch]' runs them)"
    else:
        installed = f"torch {importlib.metadata.version('torch')}"
    terminalreporter.write_line(f"torch cross-checks: {installed}; {len(skipped)} skipped for want of torch")
    if importlib.util.find_spec("diffusers") is None:
        terminalreporter.write_line("diffusers not installed: docs/testing.md's BlockRefinementScheduler example is "
                                    "skipped (pip install 'refimpl[diffusers]' runs it)")
    else:
        terminalreporter.write_line(f"diffusers {importlib.metadata.version('diffusers')}: docs/testing.md's "
                                    f"BlockRefinementScheduler example runs")
