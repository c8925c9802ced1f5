r"""Wainwright's Bernoulli-subset unmasking sampler on any grid of reveal times, with its initial and completion
terms (issue #39, build 2; statement W1 of ../shared/THEORY.md, read in Wainwright, *The data geometry of masking
diffusion*, arXiv 2608.13520, (8)-(14b))."""
import dataclasses

import numpy as np

from ..core import validate
from ..core.errors import InvalidParameterError
from .params import documented, param
from .plans import as_eligible
from .steps import IndependentStep

ENDS = ("exact", "step")


def _grid(text):
    """``"0.1,0.5,0.9"`` -> (0.1, 0.5, 0.9)."""
    try:
        return tuple(float(t) for t in str(text).split(",") if t.strip())
    except ValueError:
        raise InvalidParameterError(f"the times must look like 0.1,0.5,0.9, got {text!r}") from None


@documented
@dataclasses.dataclass(frozen=True)
class Bernoulli:
    r"""Reveal times :math:`0 \le t_0 < t_1 < \dots < t_N \le 1` (``times``).  The start :math:`\hat X^0 \sim Q_{t_0}`:
    ``init="exact"`` is the true reveal-process law :math:`P_{t_0}` (each position revealed independently with
    probability :math:`t_0`, its value from p — realised as one position at a time, each revealed with probability
    :math:`t_0` from its exact conditional), ``init="step"`` one frozen product step from the all-masked sequence
    (every position with probability :math:`t_0`, from the oracle's marginals at once: :math:`KL(P_{t_0} \| Q_{t_0})
    = \Gamma(0, t_0)`).  Step j = 0 .. N-1 reveals each masked position independently with probability
    :math:`\beta_j = (t_{j+1} - t_j)/(1 - t_j)`, every revealed value drawn independently from the oracle's
    conditional marginal given the positions known before the step (W's (9a)-(11b)).  Then the completion
    :math:`C_T` at :math:`T = t_N`: ``"exact"`` fills what is left one position at a time (sequential-exact,
    :math:`\Gamma_C = 0`), ``"step"`` in one frozen product step (:math:`\Gamma_C = \Gamma(T, 1)`).

    With :math:`t_0 = 0`, :math:`t_N = 1` and :math:`t_j = j/N` it is ``Ancestral(Linear(), steps=N,
    grid="float64")`` (tests/limits/test_bernoulli.py).  Every step is one model call (the exact init and
    completion one per position), whether or not it reveals anything.

    Examples
    --------
    >>> import refimpl
    >>> from refimpl.samplers.bernoulli import Bernoulli
    >>> p = refimpl.datasets.coupled_pairs()
    >>> q = refimpl.exact_law(refimpl.oracle_denoiser(p), Bernoulli((0.2, 0.6, 0.9)), 2, 4)
    >>> round(float(refimpl.kl(p, q)), 4)        # two frozen steps between exact ends
    0.1335
    """

    times: tuple = param((0.0, 0.5, 1.0), help="the reveal times t_0 < ... < t_N in [0, 1], e.g. 0.1,0.5,0.9",
                         convert=_grid)
    init: str = param("exact", help="the start at t_0: the true reveal law, or one product step", choices=ENDS)
    completion: str = param("exact", help="what is left at t_N: filled one at a time, or in one product step",
                            choices=ENDS)

    def __post_init__(self):
        try:
            grid = tuple(float(t) for t in self.times)
        except (TypeError, ValueError):
            raise InvalidParameterError(f"the times must be a sequence of reveal times, got {self.times!r}") from None
        if len(grid) < 2:
            raise InvalidParameterError(f"the grid needs t_0 < t_1 at least (N >= 1 steps), got {grid!r}")
        if not all(np.isfinite(t) and 0.0 <= t <= 1.0 for t in grid):
            raise InvalidParameterError(f"every reveal time must lie in [0, 1], got {grid!r}")
        if not all(a < b for a, b in zip(grid[:-1], grid[1:])):
            raise InvalidParameterError(f"the grid must be strictly increasing, got {grid!r}")
        object.__setattr__(self, "times", grid)
        object.__setattr__(self, "init", validate.choice(self.init, ENDS, "Bernoulli init"))
        object.__setattr__(self, "completion", validate.choice(self.completion, ENDS, "Bernoulli completion"))

    def betas(self):
        """The reveal probability of each of the N steps."""
        return [(b - a) / (1.0 - a) for a, b in zip(self.times[:-1], self.times[1:])]

    def plan(self, masked, region):
        eligible = as_eligible(region)
        positions = [i for i in range(len(region)) if region[i]]

        def at(chance, where=None):
            return IndependentStep(eligible, tuple(chance if (where is None and region[i]) or i == where else 0.0
                                                   for i in range(len(region))))

        start, end = self.times[0], self.times[-1]
        plan = []
        if start > 0:
            plan += [at(start, i) for i in positions] if self.init == "exact" else [at(start)]
        plan += [at(beta) for beta in self.betas()]
        if end < 1:
            plan += [at(1.0, i) for i in positions] if self.completion == "exact" else [at(1.0)]
        return plan


def geometric_times(start: float, end: float, steps: int) -> tuple:
    r"""Wainwright's Geo(rho) grid (Corollary 1, (20)): reveal odds :math:`\psi(t) = t/(1-t)` growing by
    :math:`1 + \rho` per step from ``start`` to ``end``, :math:`\rho = (\psi(T)/\psi(t_0))^{1/N} - 1`: N + 1 times.

    Examples
    --------
    >>> from refimpl.samplers.bernoulli import geometric_times
    >>> [round(t, 4) for t in geometric_times(0.1, 0.9, 2)]      # odds 1/9, 1, 9
    [0.1, 0.5, 0.9]
    """
    steps = validate.integer(steps, "steps", 1)
    if not 0.0 < float(start) < float(end) < 1.0:
        raise InvalidParameterError(f"the Geo grid needs 0 < start < end < 1, got {start} and {end}")
    low, high = start / (1 - start), end / (1 - end)
    odds = [min(low * (high / low) ** (j / steps), high) for j in range(steps + 1)]
    return tuple([start] + [o / (1 + o) for o in odds[1:-1]] + [end])


def cardinality_sizes(points, length: int) -> list:
    r"""Wainwright's fixed-cardinality sampler on the d-aligned grid :math:`t_j = a_j/d` (``points`` = the
    :math:`a_j`, 1 <= a_0 < ... < a_N <= d - 1) with exact ends, as random-order step sizes for
    :class:`refimpl.samplers.RandomK`: :math:`a_0` single steps (the exact start), the gaps, then single steps to d.

    Examples
    --------
    >>> from refimpl.samplers.bernoulli import cardinality_sizes
    >>> cardinality_sizes([1, 3, 4], 6)
    [1, 2, 1, 1, 1]
    """
    length = validate.integer(length, "length", 2)
    points = [validate.integer(a, "a_j", 1) for a in points]
    if not points or points[-1] > length - 1 or any(a >= b for a, b in zip(points[:-1], points[1:])):
        raise InvalidParameterError(f"the grid must satisfy 1 <= a_0 < ... < a_N <= d - 1 = {length - 1}, got {points}")
    return [1] * points[0] + [b - a for a, b in zip(points[:-1], points[1:])] + [1] * (length - points[-1])


def cardinality_geometric(start: int, end: int, steps: int, length: int) -> list:
    r"""Corollary 1's cardinality analogue: from :math:`a_0` = ``start``, :math:`a_{j+1}` the largest integer in
    :math:`a_j + 1 .. A` (A = ``end``) with :math:`\psi(a_{j+1}/d) \le (1+\rho)\psi((a_j+1)/d)`,
    :math:`\rho = (\psi(A/d)/\psi((a_0+1)/d))^{1/N} - 1`; returns the :math:`a_j`.

    Examples
    --------
    >>> from refimpl.samplers.bernoulli import cardinality_geometric
    >>> cardinality_geometric(1, 7, 3, 8)
    [1, 3, 5, 7]
    """
    length, steps = validate.integer(length, "length", 3), validate.integer(steps, "steps", 1)
    if not 1 <= start < end <= length - 1:
        raise InvalidParameterError(f"the grid needs 1 <= start < end <= d - 1, got {start}, {end} at d = {length}")
    psi = lambda a: a / (length - a)  # noqa: E731 (t/(1 - t) at t = a/d)
    rho = (psi(end) / psi(start + 1)) ** (1 / steps) - 1
    points = [start]
    while points[-1] < end:
        limit = (1 + rho) * psi(points[-1] + 1) * (1 + 1e-12)
        points.append(max([a for a in range(points[-1] + 1, end + 1) if psi(a) <= limit], default=points[-1] + 1))
    return points
