"""refimpl's pytest plugin (registered through the ``pytest11`` entry point, so installing refimpl makes
it available to every suite; it imports neither hypothesis nor anything heavy).

Fixtures: ``refimpl_rng`` — a ``numpy.random.Generator`` seeded from the test's node id (the same test
gets the same stream on every run and machine; ``--refimpl-seed`` shifts every seed; a sampling assertion called
without ``seed`` draws from the same test seed, :func:`refimpl.testing.next_seed`);
``refimpl_small_law`` — a Dirichlet(0.5) law over V = 3, L = 3 (27 sequences, coupled);
``refimpl_coupled_law`` — the paper's coupled pairs: "AB" or "CD", each with probability 1/2.
Option: ``--refimpl-mc-scale F`` multiplies the default sample size of every refimpl.testing sampling
assertion (1 by default; for example 10 for a nightly run); the environment variable REFIMPL_MC_SCALE
does the same.
"""
import numpy as np
import pytest

from . import settings


def pytest_addoption(parser):
    group = parser.getgroup("refimpl", "refimpl.testing")
    group.addoption("--refimpl-mc-scale", default=None, metavar="F",
                    help="multiply refimpl.testing's default Monte Carlo sizes by F (default 1, or $REFIMPL_MC_SCALE)")
    group.addoption("--refimpl-seed", default=0, type=int, metavar="S",
                    help="added to every refimpl_rng seed (default 0): re-roll every seeded check at once")


def pytest_configure(config):
    value = config.getoption("--refimpl-mc-scale")
    settings.set_scale(value if value is not None else None)


def pytest_unconfigure(config):
    settings.set_scale(None)


def pytest_report_header(config):
    return f"refimpl.testing: Monte Carlo scale {settings.scale():g}, seed offset {config.getoption('--refimpl-seed')}"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    """While a test runs, refimpl.testing's seedless sampling assertions draw from its seed."""
    settings.start_test(settings.node_seed(item.nodeid, item.config.getoption("--refimpl-seed")))
    try:
        yield
    finally:
        settings.start_test(None)


@pytest.fixture
def refimpl_rng(request):
    """A Generator seeded from the test's node id (crc32) plus --refimpl-seed."""
    return np.random.default_rng(settings.node_seed(request.node.nodeid, request.config.getoption("--refimpl-seed")))


@pytest.fixture
def refimpl_small_law():
    """A Dirichlet(0.5) law table over V = 3, L = 3, the same in every run."""
    from ..laws import datasets
    return datasets.dirichlet(3, 3, np.random.default_rng(20251203), concentration=0.5).table


@pytest.fixture
def refimpl_coupled_law():
    """The paper's coupled pairs over V = 4, L = 2: "AB" or "CD", each with probability 1/2."""
    from ..laws import datasets
    return datasets.coupled_pairs().table
