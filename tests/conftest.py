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
    """``run_paper``'s reports and trained models, computed once for the session (about 25 s): the experiments'
    tests read them, and the CLI's ``refimpl paper --json`` prints them."""
    from refimpl.experiments.paper import run_paper

    models = {}
    reports = run_paper(progress=lambda message: None, models=models)
    return reports, models
