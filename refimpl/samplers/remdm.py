r"""ReMDM: remasking discrete diffusion (Wang et al. 2025, "Remasking discrete diffusion models with
inference-time scaling", kuleshov-group/remdm ``diffusion.py``, ``_ddpm_caching_update``)."""
import dataclasses

import numpy as np

from ..core import validate
from ..core.errors import InvalidParameterError
from ..core.float32 import F32, bfloat16, categorical_share, mdlm_times32
from ..diffusion.schedules import Linear, check_schedule
from .params import LENGTH, documented, grid_param, param, schedule_param
from .plans import GRIDS, as_eligible, move_chances32
from .steps import ALWAYS, IF_CHANGED, ConfidenceRemaskStep, IndependentStep, RemaskStep

REMASKING = ("cap", "rescale", "conf", "loop")
CONF_SIGMAS = ("max", "cap", "rescale")  # the sigma_t that ReMDM-conf's weights share out
ROUNDING = 1e-12  # an unmasking probability this far outside [0, 1] is rounding, and clipped


@documented
@dataclasses.dataclass(frozen=True)
class ReMDM:
    r"""ReMDM's sampler on refimpl's noise schedules: MDLM's ancestral step, and every clean token masked again
    with probability :math:`\sigma_t`.

    On the grid ``linspace(1, eps, steps + 1)`` from t to s, with :math:`\alpha_t, \alpha_s` the schedule's,
    each masked position is revealed with probability
    :math:`(\alpha_s - (1 - \sigma_t)\alpha_t) / (1 - \alpha_t)`, its token drawn from the denoiser, and each
    generated clean position is masked again with probability :math:`\sigma_t` — both from one model call,
    so the mask of a sequence may grow.  ``remasking`` picks :math:`\sigma_t` as ReMDM's code does:

    - ``cap``: :math:`\min(\eta, (1 - \alpha_s)/\alpha_t)` (``remdm-cap``; :math:`\eta` where
      :math:`\alpha_t = 0`);
    - ``rescale``: :math:`\eta\,\sigma_{\max}`, :math:`\sigma_{\max} = \min(1, (1 - \alpha_s)/\alpha_t)`
      (``remdm-rescale``; 1 where :math:`\alpha_t = 0`);
    - ``conf``: (``remdm-conf``) position j is masked again with probability :math:`\eta_j\,\sigma_t`,
      :math:`\eta_j = e^{-c_j}/\sum_k e^{-c_k}` over the generated clean positions, :math:`c_j` the model's
      probability of j's token at the step that revealed it (so :math:`\sigma_t` tokens per step in
      expectation, the least confident most likely).  ``conf_sigma="max"`` (default): :math:`\sigma_t =
      \sigma_{\max}`, as the code computes it (``eta`` is not read); ``"cap"`` or ``"rescale"``: that
      schedule's :math:`\sigma_t`, as the ReMDM paper and blog describe the confidence schedule ("in
      conjunction with the two strategies above") — the code has no such setting.  And, as the code
      computes its unmasking probability with the per-position :math:`\sigma`, which is 0 at a masked
      position, a masked position is revealed with MDLM's :math:`(\alpha_s - \alpha_t)/(1 - \alpha_t)`.
      The state carries the scores (:class:`refimpl.samplers.steps.ConfidenceRemaskStep`,
      :mod:`refimpl.engine.scored`): its exact law enumerates (sequence, scores) states, for small problems;
    - ``loop``: (``remdm-loop``) the noise schedule runs from :math:`\alpha = 0` at t = 1 to ``alpha_on`` at
      ``t_on`` with MDLM's step, holds :math:`\alpha = ` ``alpha_on`` from ``t_on`` to ``t_off`` while
      remasking with :math:`\sigma = \eta` and revealing with probability
      :math:`\eta\,\alpha_{on}/(1 - \alpha_{on})`, then runs to 1 at t = 0 with MDLM's step.  ReMDM's code
      writes both ramps linear in t (its log-linear schedule); refimpl runs each ramp on ``schedule``:
      :math:`\alpha = \alpha_{on}\,\alpha_{sched}(\tau)`, :math:`\tau = (t - t_{on})/(1 - t_{on})`, before
      ``t_on`` and :math:`\alpha = \alpha_{on} + (1 - \alpha_{on})\,\alpha_{sched}(t / t_{off})` after
      ``t_off`` — the code's ramps exactly for :class:`refimpl.schedules.Linear`.  The phase of a step is
      that of its t (``t > t_on``, ``t <= t_off``), as in the code; on a step from t > t_on to s < t_on the
      code extends its first ramp past ``alpha_on``, refimpl stops it there (the two agree when ``t_on`` is
      a grid point).

    :math:`\sigma = 0` (``eta = 0``) is MDLM's ancestral sampler (:class:`Ancestral`, ``cache=True``).
    ReMDM always runs MDLM's ``ddpm_cache`` loop: a step that changes nothing reuses the model's answer
    (``calls``: IF_CHANGED; the first call always happens).  ``eps`` and ``noise_removal`` as in
    :class:`Ancestral`.  Only positions masked in the prompt are generated, so only they are ever masked
    again (ReMDM generates unconditionally; a prompt's tokens are given).

    ``grid="float32"`` (default): the probabilities as ReMDM's code computes its coefficients
    (``_ddpm_caching_update``): the float32 times and move chances of MDLM's loop
    (:func:`refimpl.samplers.ancestral.move_chances32`), :math:`\alpha_t` = ``(1 - move_chance_t).item()`` in
    float32, :math:`\sigma` and the coefficients of ``q_xs`` and ``q_xs_2`` in Python floats, stored in float32
    tensors — and for ``conf`` the coefficients of ``q_xs_2`` in bfloat16, as its bfloat16 :math:`\sigma` tensor
    makes them (relative 2^-9) — each probability the share of its coefficient
    (:func:`refimpl.core.float32.categorical_share`; the model's probabilities exact).  ``loop`` on
    :class:`Linear`: the code's float32 ramps, the step that crosses ``t_on`` extended as the code extends it;
    on another schedule refimpl's ramps at the float32 times.  ``grid="float64"``: refimpl's ideal float64
    grid (before issue #22).

    Draws: ReMDM's ``_sample_categorical`` casts q to float64 before its Gumbel noise, so its draws are the
    ideal ones refimpl's laws hold (MDLM's in float32: :class:`Ancestral`'s ``precision``).

    Where refimpl differs: ReMDM's scripts add nucleus sampling (``nucleus_p``), not modelled here; the
    code asserts the log-linear schedule, refimpl takes any.  ``conf``: the code keeps its scores in bfloat16
    (``confident_score``) and takes their softmax in bfloat16; refimpl keeps them in float64 (a relative
    difference in each remasking probability of the order of :math:`2^{-8}`; issue #22 is about such precision).  Where no
    generated token holds a score the code's softmax of all :math:`-\infty` is NaN, but only at clean positions
    without a score (a prompt's tokens, which the loop keeps): the same law.

    Examples
    --------
    >>> import refimpl
    >>> from refimpl import samplers
    >>> p = refimpl.datasets.coupled_pairs()                 # V = 4, L = 2: only AB and CD
    >>> oracle = refimpl.oracle_denoiser(p)
    >>> q = refimpl.exact_law(oracle, samplers.ReMDM(4, "cap", eta=0.3), 2, 4)
    >>> round(float(refimpl.kl(p, q)), 4), round(refimpl.expected_calls(oracle, samplers.ReMDM(4, "cap", eta=0.3), 2, 4), 4)
    (0.1562, 2.875)
    """

    steps: int = param(10, help="steps on the grid linspace(1, eps, steps + 1)", cli_default=LENGTH)
    remasking: str = param("cap", help="how sigma_t, the chance a clean token is masked again, is set", choices=REMASKING,
                           aliases=("--remdm",))
    eta: float = param(0.02, help="remasking strength")
    schedule: object = schedule_param()
    eps: float = param(0.0, help="where the time grid ends")
    noise_removal: bool = param(False, help="MDLM's final step: every remaining mask takes its argmax token")
    t_on: float = param(0.55, help="loop: where the loop starts")
    t_off: float = param(0.05, help="loop: where it ends")
    alpha_on: float = param(0.9, help="loop: the alpha held inside the loop")
    conf_sigma: str = param("max", help="conf: the sigma its weights share out: sigma_max as the code, or the cap or "
                                         "rescale schedule's with eta, as the paper describes it", choices=CONF_SIGMAS)
    grid: str = grid_param()

    def __post_init__(self):
        validate.integer(self.steps, "ReMDM steps", 1)
        validate.choice(self.grid, GRIDS, "ReMDM grid")
        validate.choice(self.remasking, REMASKING, "ReMDM remasking")
        validate.choice(self.conf_sigma, CONF_SIGMAS, "ReMDM conf_sigma")
        if self.conf_sigma != "max" and self.remasking != "conf":
            raise InvalidParameterError(f"ReMDM conf_sigma applies to remasking='conf' only, not {self.remasking!r}")
        object.__setattr__(self, "eta", validate.probability(self.eta, "ReMDM eta"))
        check_schedule(self.schedule)
        object.__setattr__(self, "eps", validate.probability(self.eps, "ReMDM eps", open_high=True))
        object.__setattr__(self, "noise_removal", validate.flag(self.noise_removal, "ReMDM noise_removal"))
        if self.remasking == "loop":
            t_on = validate.probability(self.t_on, "ReMDM t_on", open_low=True, open_high=True)
            t_off = validate.probability(self.t_off, "ReMDM t_off", open_low=True, open_high=True)
            alpha_on = validate.probability(self.alpha_on, "ReMDM alpha_on", open_low=True, open_high=True)
            if not t_off < t_on:
                raise InvalidParameterError(f"ReMDM loop needs t_off < t_on, got t_on={t_on}, t_off={t_off}")
            limit = (1.0 - alpha_on) / alpha_on
            if self.eta > limit:
                raise InvalidParameterError(
                    f"ReMDM loop: eta={self.eta} is more than (1 - alpha_on)/alpha_on = {limit:.6g}, where its unmasking "
                    f"probability eta alpha_on/(1 - alpha_on) exceeds 1; lower eta or alpha_on")
        last = self.rates()[-1]  # (refuses a grid on which the remasking schedule is not defined)
        if last[0] < 1.0 and not self.noise_removal and self.remasking == "loop" and self.eps == 0:
            final = float(mdlm_times32(self.steps, 0.0)[0][-1]) if self.grid == "float32" else 1.0 / self.steps
            raise InvalidParameterError(
                f"ReMDM loop: the last step (from t = {final:.10g}{' in float32' * (self.grid == 'float32')}) lies after "
                f"t_off = {self.t_off} with alpha held at alpha_on, so tokens stay masked; pick t_off >= {final:.10g}, "
                f"more steps, or noise_removal=True")
        grid = np.linspace(1.0, self.eps, self.steps + 1)
        last_alpha = self.step_alphas(float(grid[-2]), float(grid[-1]))[0]
        # (where alpha_t = 0 every generated position is masked — the step keeps the forward marginal —
        # so its sigma masks nothing)
        if (last[0] < 1.0 or (last[1] > 0.0 and last_alpha > 0)) and not self.noise_removal:
            end = 1.0 - float(self.schedule.mask_prob(self.eps))
            raise InvalidParameterError(
                f"ReMDM: the grid ends at alpha({self.eps}) = {end:.10g} < 1, so its last step leaves tokens masked "
                f"(unmasked with probability {last[0]:.6g}, masked again with {last[1]:.6g}); set noise_removal=True "
                f"(MDLM's final argmax){' or eps=0' if self.eps > 0 else ''}")

    def step_alphas(self, t, s):
        """(alpha_t, alpha_s, sigma) of the step from t to s."""
        alpha = lambda u: 1.0 - float(self.schedule.mask_prob(u))  # noqa: E731
        if self.remasking != "loop":
            return self._sigma(alpha(t), alpha(s))
        on, t_on, t_off = self.alpha_on, self.t_on, self.t_off
        if t > t_on:  # the first ramp, ended at alpha_on (ReMDM's code extrapolates it on a step that crosses t_on)
            ramp = lambda u: on * alpha(max(u - t_on, 0.0) / (1.0 - t_on))  # noqa: E731
            return ramp(t), ramp(s), 0.0
        if t <= t_off:
            return on + (1.0 - on) * alpha(t / t_off), on + (1.0 - on) * alpha(s / t_off), 0.0
        return on, on, self.eta

    def _sigma(self, a_t, a_s):
        """(alpha_t, alpha_s, sigma) of a step outside the loop, sigma by the remasking rule."""
        sigma_max = min(1.0, (1.0 - a_s) / a_t) if a_t > 0 else 1.0
        rule = self.conf_sigma if self.remasking == "conf" else self.remasking  # conf shares out this sigma
        if rule == "cap":
            sigma = min(self.eta, (1.0 - a_s) / a_t) if a_t > 0 else self.eta
        elif rule == "max":  # the code's remdm-conf
            sigma = sigma_max
        else:
            sigma = self.eta * sigma_max
        return a_t, a_s, sigma

    def rates(self):
        """[(unmask, remask)] per step of the grid, the ReMDM probabilities (``grid``); refuses a step where they are
        not defined on the ideal grid (the schedule reaches alpha = 1 before the step's end, or a probability
        leaves [0, 1])."""
        ideal = self._rates64()
        return self._rates32() if self.grid == "float32" else ideal

    def _rates64(self):
        grid = np.linspace(1.0, self.eps, self.steps + 1)
        out = []
        for t, s in zip(grid[:-1].tolist(), grid[1:].tolist()):
            a_t, a_s, sigma = self.step_alphas(t, s)
            if a_t >= 1.0:
                raise InvalidParameterError(
                    f"ReMDM: the schedule {self.schedule!r} reaches alpha = 1 at t = {t:.6g}, before the last step; "
                    f"the unmasking probability (alpha_s - (1 - sigma_t) alpha_t)/(1 - alpha_t) is not defined there")
            unmask = (a_s - (1.0 - (0.0 if self.remasking == "conf" else sigma)) * a_t) / (1.0 - a_t)
            if not -ROUNDING <= unmask <= 1.0 + ROUNDING:
                raise InvalidParameterError(
                    f"ReMDM {self.remasking}: at t = {t:.6g} the unmasking probability is {unmask:.6g}, outside [0, 1] "
                    f"(alpha_t={a_t:.6g}, alpha_s={a_s:.6g}, sigma={sigma:.6g}); this remasking schedule is not "
                    f"defined for {self.schedule!r} on this grid")
            out.append((min(max(unmask, 0.0), 1.0), sigma))
        return out

    def _rates32(self):
        """The code's coefficients (class docstring, ``grid``) and their shares."""
        times, _ = mdlm_times32(self.steps, self.eps)
        dt = F32((1.0 - self.eps) / self.steps)
        out = []
        for t, (move_t, move_s) in zip(times, move_chances32(self.schedule, self.steps, self.eps)):
            if self.remasking == "loop" and (float(t) > self.t_on or float(t) <= self.t_off):
                move_t, move_s = self._ramps32(t, dt, move_t, move_s)
                out.append((categorical_share(F32(move_t - move_s), move_s), 0.0))
                continue
            if self.remasking == "loop":
                a_t = a_s = self.alpha_on
                sigma = self.eta
            else:
                a_t, a_s = float(F32(1.0) - move_t), float(F32(1.0) - move_s)
                if a_t >= 1.0:
                    raise InvalidParameterError(f"ReMDM: alpha_t rounds to 1 in float32 at t = {float(t):.6g}")
                _, _, sigma = self._sigma(a_t, a_s)
            if self.remasking == "conf":  # sigma is 0 at a masked position, and a bfloat16 tensor
                scaled = bfloat16(F32(bfloat16(F32(a_s)) - bfloat16(F32(a_t))))
                reveal = bfloat16(F32(scaled / F32(1.0 - a_t)))
                stay = bfloat16(F32(bfloat16(F32(1.0 - a_s)) / F32(1.0 - a_t)))
                if reveal <= 0 and stay <= 0:
                    raise InvalidParameterError(
                        f"ReMDM conf on the code's grid: at t = {float(t):.10g} both coefficients of a masked position "
                        f"round to 0 in bfloat16 (alpha_t = {a_t:.10g} and alpha_s = {a_s:.10g} round alike), and the "
                        f"code's argmax of that all-zero row writes token 0 at every mask left; refimpl does not "
                        f"model that: use eps > 0 with noise_removal=True (the code's eps is 1e-5), fewer steps, or "
                        f"grid='float64'")
                out.append((categorical_share(reveal, stay), sigma))
                continue
            reveal = F32((a_s - (1.0 - sigma) * a_t) / (1.0 - a_t))
            stay = F32((1.0 - a_s - sigma * a_t) / (1.0 - a_t))
            out.append((categorical_share(reveal, stay), categorical_share(F32(sigma), F32(1.0 - sigma))))
        return out

    def _ramps32(self, t, dt, move_t, move_s):
        """The loop's MDLM phases: the code's float32 ramps on :class:`Linear`, else the schedule's at the
        float32 times."""
        on, t_on, t_off = self.alpha_on, self.t_on, self.t_off
        if not isinstance(self.schedule, Linear):
            a_t, a_s, _ = self.step_alphas(float(t), max(float(t - dt), 0.0))
            return F32(1.0 - a_t), F32(1.0 - a_s)
        one = F32(1.0)
        if float(t) > t_on:
            ramp = lambda u: one - F32(F32(u * F32(on)) / F32(1.0 - t_on))  # noqa: E731
            return ramp(one - t), ramp(F32(one - t) + dt)
        return F32(F32(t * F32(1.0 - on)) / F32(t_off)), F32(F32(F32(t - dt) * F32(1.0 - on)) / F32(t_off))

    def plan(self, masked, region):
        generated = as_eligible(np.asarray(masked) & np.asarray(region))
        plan = []
        for unmask, remask in self.rates():
            calls = IF_CHANGED if plan else ALWAYS  # MDLM's ddpm_cache: the cache starts empty
            if self.remasking == "conf":
                plan.append(ConfidenceRemaskStep(generated, unmask, remask, calls))
            else:
                plan.append(RemaskStep(generated, unmask, remask, calls))
        if self.noise_removal and self.remasking == "conf":
            plan.append(ConfidenceRemaskStep(generated, 1.0, 0.0, ALWAYS, greedy=True))
        elif self.noise_removal:
            plan.append(IndependentStep(generated, tuple(1.0 if g else 0.0 for g in generated), temperature=0.0))
        return plan
