r"""MDLM's ancestral sampler and the first-hitting sampler."""
import dataclasses

import numpy as np

from ..core import validate
from ..core.errors import InvalidParameterError
from ..core.float32 import F32, categorical_share
from ..diffusion.schedules import check_schedule
from .kernels.precision import PRECISIONS
from .params import LENGTH, documented, grid_param, param, precision_param, schedule_param
from .plans import GRIDS, as_eligible, move_chances32
from .steps import ALWAYS, IF_CHANGED, FixedCount, IndependentStep, UniformKStep


@documented
@dataclasses.dataclass(frozen=True)
class Ancestral:
    r"""MDLM's reverse process on a T-step grid (Sahoo et al. 2024, ``_ddpm_update``).

    Grid ``linspace(1, eps, steps + 1)``; from t to s each masked position is revealed independently
    with probability :math:`(\alpha_s - \alpha_t)/(1 - \alpha_t)` with a token drawn from the denoiser,
    and clean positions are carried over.  With ``eps = 0`` the last step reaches :math:`\alpha = 1`
    and reveals everything left.  MDLM's own grid stops at ``eps > 0`` and finishes with
    ``noise_removal``: one last step filling every remaining mask with the argmax token.

    ``cache`` is MDLM's ``ddpm_cache`` sampler (``_ddpm_caching_update``): the same law, but the model's
    answer is reused until a step reveals something, so a step that changes nothing costs no model call
    (:func:`refimpl.engine.calls.expected_calls`; per sequence — MDLM tests for a change over its whole batch).
    Without it (``ddpm``) every step calls the model.  Noise removal always calls it once more.

    ``grid="float32"`` (default): the move chances as MDLM's code computes them (:func:`move_chances32`), and
    the reveal probability the share of ``q = p_x0 (t - s)`` against ``s`` on the mask with ``t - s`` in float32
    (:func:`refimpl.core.float32.categorical_share`; the model's probabilities exact, summing to 1).
    ``grid="float64"``: the ideal ``(t - s)/t`` of the schedule's move chances on the float64 grid ``linspace(1,
    eps, steps + 1)`` (refimpl's before issue #22).
    The two differ by float32 rounding (relative 1e-7).  MDLM's ``ddpm`` loop (``_ddpm_update``) computes
    its move chances as ``1 - exp(-sigma)`` of its log-linear noise in float32 (torch's float32 ``exp`` and
    ``log1p``); refimpl does not reproduce those roundings.

    ``precision``: the draw ``_sample_categorical(q)`` with q = (p_x0 (t - s), s) held and drawn in that dtype
    (:func:`refimpl.samplers.kernels.precision.categorical_law`: the token and whether it stays masked, exactly);
    "float64" (default) is the ideal draw, which ReMDM's copy of the function makes by casting q to float64.
    Exact laws in "float32" enumerate 2^24 uniform values per distinct row (seconds each): for tiny problems.

    Examples
    --------
    >>> import refimpl
    >>> from refimpl import samplers
    >>> p = refimpl.datasets.coupled_pairs()                 # V = 4, L = 2: only AB and CD
    >>> oracle = refimpl.oracle_denoiser(p)
    >>> q = refimpl.exact_law(oracle, samplers.Ancestral(steps=2), 2, 4)
    >>> round(float(refimpl.kl(p, q)), 4)                    # a step that reveals both loses ln 2, with probability 1/4
    0.2877
    >>> refimpl.expected_calls(oracle, samplers.Ancestral(steps=4, cache=True), 2, 4)   # none after a step revealing nothing
    2.3125
    """

    schedule: object = schedule_param()
    steps: int = param(10, help="reverse steps on the grid linspace(1, eps, steps + 1)", cli_default=LENGTH)
    eps: float = param(0.0, help="where the time grid ends (MDLM's eps; noise_removal fills what is left)")
    noise_removal: bool = param(False, help="MDLM's final step: every remaining mask takes its argmax token")
    cache: bool = param(False, help="MDLM's ddpm_cache: no model call after a step that changed nothing (same law)")
    grid: str = grid_param()
    precision: str = precision_param("MDLM's _sample_categorical in this dtype, its law exact (float64: the ideal)")

    def __post_init__(self):
        check_schedule(self.schedule)
        validate.choice(self.grid, GRIDS, "Ancestral grid")
        validate.choice(self.precision, PRECISIONS, "Ancestral precision")
        validate.integer(self.steps, "Ancestral steps", 1)
        for flag in ("noise_removal", "cache"):
            if not isinstance(getattr(self, flag), (bool, np.bool_)):
                raise InvalidParameterError(f"Ancestral {flag} must be True or False, got {getattr(self, flag)!r}")
        validate.probability(self.eps, "Ancestral eps", open_high=True)
        if not self.noise_removal and float(self.schedule.mask_prob(self.eps)) > 0.0:
            raise InvalidParameterError(
                f"Ancestral with eps={self.eps} stops at alpha({self.eps}) < 1 and leaves tokens masked; "
                f"set noise_removal=True (MDLM's final argmax){' or eps=0' if self.eps > 0 else ''}")

    def coefficients(self):
        """[(t - s, s)] per step: the weights MDLM's q gives the tokens (times p_x0) and the mask."""
        if self.grid == "float32":
            return [(F32(t - s), s) for t, s in move_chances32(self.schedule, self.steps, self.eps)]
        move = self.schedule.mask_prob(np.linspace(1.0, self.eps, self.steps + 1))
        return list(zip((move[:-1] - move[1:]).tolist(), move[1:].tolist()))

    def unmask_probs(self):
        """The probability that a masked position is revealed, per step of the grid (noise removal aside)."""
        if self.grid == "float32":
            return [categorical_share(scale, mask) for scale, mask in self.coefficients()]
        move = self.schedule.mask_prob(np.linspace(1.0, self.eps, self.steps + 1))  # (T+1,) 1 - alpha
        return [float((t - s) / t) if t > 0 else 1.0 for t, s in zip(move[:-1], move[1:])]

    def plan(self, masked, region):
        eligible = as_eligible(region)
        plan = []
        weights = self.coefficients()
        for i, unmask_prob in enumerate(self.unmask_probs()):
            calls = IF_CHANGED if self.cache and plan else ALWAYS  # the cache starts empty
            categorical = None
            if self.precision != "float64":  # MDLM's _sample_categorical in that dtype
                scale, mask = weights[i]
                categorical = (float(scale), max(float(mask), 0.0), self.precision)
            plan.append(IndependentStep(eligible, tuple(np.where(region, unmask_prob, 0.0)), calls=calls,
                                        categorical=categorical))
        if self.noise_removal:
            plan.append(IndependentStep(eligible, tuple(np.where(region, 1.0, 0.0)), temperature=0.0))
        return plan


@documented
@dataclasses.dataclass(frozen=True)
class FirstHitting:
    r"""One uniformly chosen masked position per step, its token from the denoiser (Zheng et al. 2024's
    first-hitting sampler: the exact jump chain of the continuous-time reverse process).

    Examples
    --------
    >>> import refimpl
    >>> from refimpl import samplers
    >>> p = refimpl.datasets.coupled_pairs()                 # V = 4, L = 2: only AB and CD
    >>> oracle = refimpl.oracle_denoiser(p)
    >>> float(refimpl.kl(p, refimpl.exact_law(oracle, samplers.FirstHitting(), 2, 4)))   # one token at a time: exact
    0.0
    """

    def plan(self, masked, region):
        count = int(np.sum(masked & region))
        return [UniformKStep(as_eligible(region), FixedCount(1)) for _ in range(count)]
