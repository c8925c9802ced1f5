r"""Ancestral reverse steps of uniform-state diffusion as UDLM and Duo take them (issue #38, build 4), with the exact
law: every position moves independently given the canvas, so a step with two or more noised positions samples a
product — the factorisation barrier of the paper, without a mask."""
import dataclasses

import numpy as np

from ..core import validate
from ..core.numerics import sample_categorical
from ..diffusion.uniform import token_kernel
from ..engine.uniform_chain import chain_law
from .kernels.tokens import temper
from .params import param, temperature_param
from .plans import per_call

FORMS = ("duo", "mixture")
REMOVALS = ("ancestral", "greedy", "none")


@dataclasses.dataclass(frozen=True)
class UniformAncestral:
    r"""Duo's ``generate_samples`` with ``sampler: ancestral`` (s-sahoo/duo 7c9b498, ``trainer_base.py``
    ``Diffusion._ancestral_update`` and ``algo.py`` ``DUO_BASE._posterior_from_x0``; UDLM's sampler is the same
    formula): from a uniformly random canvas, ``steps`` calls at the times ``linspace(1, eps, steps + 1)[:-1]``, each
    drawing every position from

    .. math::  q_\theta(x_s^i = v \mid z) = \frac{V\alpha_t\mu_v[v = z_i] + (\alpha_{t|s} - \alpha_t)[v = z_i]
               + (\alpha_s - \alpha_t)\mu_v + (1 - \alpha_{t|s})(1 - \alpha_s)/V}{V\alpha_t\mu_{z_i} + 1 - \alpha_t}

    with :math:`\mu = \mu_i(z)` the model's answer and :math:`\alpha(t) = 1 - (1 - \epsilon_n)t` (Duo's
    ``LogLinear``, ``noise_eps`` :math:`\epsilon_n` = 1e-3, so :math:`\alpha(1) = 10^{-3}`, not 0).  Then
    ``noise_removal``: ``"ancestral"`` (Duo's default) one more call at t = ``eps`` with :math:`\alpha_s = 1`;
    ``"greedy"`` one more call and its argmax (first token on ties); ``"none"`` the canvas as it is.

    ``form="duo"`` is that formula: the posterior of :math:`x_s` when :math:`\mu` is read as a prior on
    :math:`x_0^i` and :math:`z_i` as evidence — the exact per-position reverse step when :math:`\mu` is the
    leave-one-out posterior the uniform NELBO trains (:func:`refimpl.diffusion.uniform_elbo.loo_oracle`).
    ``form="mixture"`` is :math:`\sum_u \mu_u\,q(x_s \mid z, x_0 = u)`: the exact per-position step when :math:`\mu`
    already reads :math:`z_i`, as a cross-entropy-trained model does
    (:func:`refimpl.diffusion.uniform_oracles.uniform_oracle`).  Feeding one its other model counts :math:`z_i`
    twice or not at all.  ``temperature`` (not in Duo) tempers :math:`\mu` before the step; 1 is Duo.

    Not modelled: Duo's ``p_nucleus`` < 1 and guidance (their defaults are off), ``ancestral_cache`` (the same law
    with fewer calls, MDLM only), the psi and analytic samplers.  Duo draws by a Gumbel race with 1e-10 guards
    (``sample_categorical``): the same law up to those guards.

    Examples
    --------
    >>> import refimpl
    >>> from refimpl.diffusion.uniform_elbo import loo_oracle
    >>> from refimpl.samplers.uniform_ancestral import UniformAncestral
    >>> p = refimpl.datasets.product([[0.9, 0.1], [0.2, 0.8]])
    >>> sampler = UniformAncestral(3, noise_eps=0.0)
    >>> law = sampler.exact_law([loo_oracle(p, a) for a in sampler.alphas()], 2, 2)
    >>> bool(abs(law - p.table).max() < 1e-12)     # exact on a product law, at any number of steps
    True
    """

    steps: int = param(1000, help="ancestral steps before the noise removal (Duo's sampling.steps)")
    eps: float = param(1e-5, help="where Duo's time grid ends")
    noise_eps: float = param(1e-3, help="Duo's log-linear schedule: alpha(t) = 1 - (1 - this) t")
    noise_removal: str = param("ancestral", help="Duo's last call", choices=REMOVALS, cli=False)
    form: str = param("duo", help="the step as Duo's formula or as the mixture over x_0", choices=FORMS)
    temperature: float = temperature_param(1.0)

    def __post_init__(self):
        object.__setattr__(self, "steps", validate.integer(self.steps, "UniformAncestral steps", 1))
        object.__setattr__(self, "eps", validate.probability(self.eps, "UniformAncestral eps", open_high=True))
        object.__setattr__(self, "noise_eps", validate.probability(self.noise_eps, "UniformAncestral noise_eps",
                                                                   open_high=True))
        object.__setattr__(self, "noise_removal", validate.choice(self.noise_removal, REMOVALS, "noise_removal"))
        object.__setattr__(self, "form", validate.choice(self.form, FORMS, "UniformAncestral form"))
        object.__setattr__(self, "temperature", validate.temperature(self.temperature, "UniformAncestral temperature"))

    def times(self):
        """The times of the calls: ``linspace(1, eps, steps + 1)``'s first ``steps``, then ``eps`` for the noise
        removal's call (if any)."""
        grid = np.linspace(1.0, self.eps, self.steps + 1)
        return grid if self.noise_removal != "none" else grid[:-1]

    def alpha(self, t):
        """Duo's log-linear schedule, :math:`1 - (1 - \\epsilon_n) t`."""
        return 1.0 - (1.0 - self.noise_eps) * np.asarray(t, dtype=np.float64)

    def alphas(self):
        """alpha_t at each call (the argument a model told the time is built for, e.g. ``loo_oracle(p, a)``)."""
        return [float(a) for a in self.alpha(self.times())]

    def expected_calls(self):
        """``steps`` calls, plus one for the noise removal unless it is ``"none"``."""
        return float(len(self.times()))

    def factors(self, k):
        """Call k as ``(mu (N, L, V), z (N, L))`` -> the law of every position's next token (N, L, V)."""
        grid = np.linspace(1.0, self.eps, self.steps + 1)
        alpha_t = float(self.alpha(grid[k]))
        if k == self.steps:  # the noise removal
            if self.noise_removal == "greedy":
                return lambda mu, z: temper(mu, 0.0)
            alpha_s = 1.0
        else:
            alpha_s = float(self.alpha(grid[k + 1]))
        return self._step(alpha_t, alpha_s)

    def _step(self, alpha_t, alpha_s):
        def step(mu, z):
            vocab_size = mu.shape[-1]
            mu = temper(mu, self.temperature)
            to_t = token_kernel(alpha_t / alpha_s, vocab_size)[:, z].transpose(1, 2, 0)  # q(z_i | x_s = v), (N, L, V)
            from_0 = token_kernel(alpha_s, vocab_size)  # q(x_s = v | x_0 = u), (u, v)
            if self.form == "duo":  # mu as the prior of x_0, then z_i as evidence
                joint = to_t * (mu @ from_0)
                return joint / joint.sum(axis=-1, keepdims=True)
            each = to_t[..., None, :] * from_0  # (N, L, u, v): q(z_i | v) q(v | u), normalised over v per u
            return np.einsum("nlu,nluv->nlv", mu, each / each.sum(axis=-1, keepdims=True))

        return step

    def _models(self, denoiser):
        return per_call(denoiser, len(self.times()))

    def exact_law(self, denoiser, vocab_size, length):
        """The law of the output canvas, a table (V,)*L; ``denoiser`` one model (not told the time) or a list of one
        per call (build them at :meth:`alphas`)."""
        return chain_law(self._models(denoiser), [self.factors(k) for k in range(len(self.times()))], vocab_size,
                         length)

    def exact_law_and_calls(self, denoiser, vocab_size, length):
        """(:meth:`exact_law`, :meth:`expected_calls`): every run makes every call."""
        return self.exact_law(denoiser, vocab_size, length), self.expected_calls()

    def sample(self, denoiser, n, rng, vocab_size, length):
        """refimpl's own draws of Duo's loop (n, L), through the same per-position laws."""
        rng = validate.generator(rng)
        vocab_size, length = validate.space(vocab_size, length)
        z = rng.integers(0, vocab_size, size=(validate.integer(n, "n", 1), length))
        for k, model in enumerate(self._models(denoiser)):
            z = sample_categorical(self.factors(k)(np.asarray(model(z), dtype=np.float64), z), rng)
        return z
