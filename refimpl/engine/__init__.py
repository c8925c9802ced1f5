"""The exact-law engine under every sampler: exact laws, Monte Carlo sampling, expected model calls, and
the step protocol samplers follow (:mod:`refimpl.engine.protocol`)."""
from .calls import exact_law_and_calls, expected_calls
from .exact import EngineStats, exact_law
from .sample import sample

__all__ = ["EngineStats", "exact_law", "exact_law_and_calls", "expected_calls", "sample"]
