import os

from hypothesis import HealthCheck, settings

# "ci" keeps the suite within its time budget and derandomised (same examples every run);
# "long" explores new random examples, for local runs:
#   HYPOTHESIS_PROFILE=long python -m pytest
settings.register_profile("ci", max_examples=40, deadline=None, derandomize=True,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("long", max_examples=1000, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
