r"""MDLM's ancestral sampler and the first-hitting sampler."""
import dataclasses

import numpy as np

from ..core import validate
from ..core.errors import InvalidParameterError
from ..diffusion.schedules import Linear, check_schedule
from .base import as_eligible
from .steps import ALWAYS, IF_CHANGED, FixedCount, IndependentStep, UniformKStep


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
    """

    schedule: object = Linear()
    steps: int = 10
    eps: float = 0.0
    noise_removal: bool = False
    cache: bool = False

    def __post_init__(self):
        check_schedule(self.schedule)
        validate.integer(self.steps, "Ancestral steps", 1)
        for flag in ("noise_removal", "cache"):
            if not isinstance(getattr(self, flag), (bool, np.bool_)):
                raise InvalidParameterError(f"Ancestral {flag} must be True or False, got {getattr(self, flag)!r}")
        validate.probability(self.eps, "Ancestral eps", open_high=True)
        if not self.noise_removal and float(self.schedule.mask_prob(self.eps)) > 0.0:
            raise InvalidParameterError(
                f"Ancestral with eps={self.eps} stops at alpha({self.eps}) < 1 and leaves tokens masked; "
                f"set noise_removal=True (MDLM's final argmax){' or eps=0' if self.eps > 0 else ''}")

    def plan(self, masked, region):
        grid = np.linspace(1.0, self.eps, self.steps + 1)
        move = self.schedule.mask_prob(grid)  # (T+1,) 1 - alpha
        eligible = as_eligible(region)
        plan = []
        for t, s in zip(move[:-1], move[1:]):
            unmask_prob = (t - s) / t if t > 0 else 1.0
            calls = IF_CHANGED if self.cache and plan else ALWAYS  # the cache starts empty
            plan.append(IndependentStep(eligible, tuple(np.where(region, unmask_prob, 0.0)), calls=calls))
        if self.noise_removal:
            plan.append(IndependentStep(eligible, tuple(np.where(region, 1.0, 0.0)), temperature=0.0))
        return plan


@dataclasses.dataclass(frozen=True)
class FirstHitting:
    r"""One uniformly chosen masked position per step, its token from the denoiser (Zheng et al. 2024's
    first-hitting sampler: the exact jump chain of the continuous-time reverse process)."""

    def plan(self, masked, region):
        count = int(np.sum(masked & region))
        return [UniformKStep(as_eligible(region), FixedCount(1)) for _ in range(count)]
