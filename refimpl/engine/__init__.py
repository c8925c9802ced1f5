"""The exact-law engine under every sampler.

One entrance: :func:`problem` validates a sampler's run and builds its plan once; :func:`run` computes, in one
pass over the plan, the exact law, the model calls of every step and, when asked, the reveal statistics and
the tie probability (:class:`Result`); :func:`draw` draws Monte Carlo outputs of the same plan.  The functions
of the interop contract — :func:`exact_law`, :func:`expected_calls`, :func:`tie_probability`, :func:`sample` —
are views of these.  Steps follow :mod:`refimpl.engine.protocol`.
"""
from .calls import exact_law_and_calls, expected_calls
from .exact import exact_law, tie_probability
from .problem import Problem, problem
from .runner import EngineStats, Result, run
from .sample import Draws, draw, sample

__all__ = ["Draws", "EngineStats", "Problem", "Result", "draw", "exact_law", "exact_law_and_calls", "expected_calls",
           "problem", "run", "sample", "tie_probability"]
