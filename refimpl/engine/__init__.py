"""The exact-law engine under every sampler: exact laws, Monte Carlo sampling, expected model calls."""
from .calls import exact_law_and_calls, expected_calls
from .exact import EngineStats, exact_law, sample

__all__ = ["EngineStats", "exact_law", "exact_law_and_calls", "expected_calls", "sample"]
