import os

import pytest
from hypothesis import HealthCheck, settings

# "ci" keeps the suite within its time budget and derandomised (same examples every run);
# "long" explores new random examples, for local runs:
#   HYPOTHESIS_PROFILE=long python -m pytest
settings.register_profile("ci", max_examples=40, deadline=None, derandomize=True,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("long", max_examples=1000, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))



@pytest.fixture(scope="session")
def paper_run():
    """``run_paper``'s reports and trained models, computed once for the session: the experiments' tests read them,
    and the CLI's ``refimpl paper --json`` prints them.  The four trainings run side by side on two processes
    (``workers=2``, one BLAS thread each: 37 s instead of 54 s on the 2-core machine), so the trained models'
    numbers differ from the default run's in their last digits; the tests check them against independent
    computations, never against the bytes (the slow README check runs the whole default command)."""
    from refimpl.experiments.paper import run_paper

    models = {}
    reports = run_paper(progress=lambda message: None, models=models, workers=2)
    return reports, models
