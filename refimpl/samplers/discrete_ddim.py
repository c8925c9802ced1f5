r"""diffusers' ``DiscreteDDIMScheduler`` (0.42.1, ``schedulers/scheduling_discrete_ddim.py``; rule R9 of
SAMPLERS-2026.md) on a model without a mask, with its exact law (issue #38, build 4)."""
import dataclasses

import numpy as np

from ..core import validate
from ..core.errors import InvalidParameterError
from ..core.numerics import sample_categorical
from ..engine.uniform_chain import chain_law
from .kernels.tokens import temper


@dataclasses.dataclass(frozen=True)
class DiscreteDDIM:
    r"""Ancestral steps of the uniform corruption process as diffusers' ``DiscreteDDIMScheduler.step`` takes them,
    ``steps`` of them (its ``num_inference_steps``; the pipeline passes 48, the scheduler's default is 32), from a
    uniformly random canvas, one model call each.

    Step k = 0..N-1 has :math:`\alpha_t = k/N`, :math:`\alpha_s = (k+1)/N`, a = :math:`\alpha_t/\alpha_s`,
    b = :math:`\alpha_s`.  Every position draws :math:`\hat x_i` — the argmax at ``temperature`` 0 (first on ties),
    else from softmax(logits / T) — and then a route with probabilities proportional to clean
    :math:`b(1-a)/V + ab[z_i = \hat x_i]`, stay :math:`a(1-b)/V`, noise :math:`(1-a)(1-b)/V`: clean takes
    :math:`\hat x_i`, stay keeps :math:`z_i`, noise a uniform token.  That is the posterior
    :math:`q(x_s \mid x_t, x_0 = \hat x)` (:func:`refimpl.diffusion.uniform.posterior`); the last step (b = 1)
    commits :math:`\hat x`.  The output is the canvas after the last step.

    Not modelled here: the corrector (``step_correct``) and the pipeline's adaptive stop (``confidence_threshold``:
    the pipeline's default None runs every step, as here).  diffusers forms the route probabilities in float32;
    refimpl's are float64.

    Examples
    --------
    >>> import refimpl
    >>> from refimpl.diffusion.uniform_oracles import uniform_oracle
    >>> from refimpl.samplers.discrete_ddim import DiscreteDDIM
    >>> p = refimpl.datasets.product([[0.9, 0.1], [0.2, 0.8]])     # two independent tokens
    >>> law = DiscreteDDIM(4, temperature=1.0).exact_law(uniform_oracle(p, 0.5), 2, 2)
    >>> round(float(law.sum()), 12)
    1.0
    """

    steps: int = 32
    temperature: float = 0.0

    def __post_init__(self):
        object.__setattr__(self, "steps", validate.integer(self.steps, "DiscreteDDIM steps", 1))
        object.__setattr__(self, "temperature", validate.temperature(self.temperature, "DiscreteDDIM temperature"))

    def routes(self, k):
        """(a, b) of step k: the survival from s to t and alpha_s."""
        alpha_t, alpha_s = k / self.steps, (k + 1) / self.steps
        return alpha_t / alpha_s, alpha_s

    def factors(self, k):
        """Step k as a function of (mu (N, L, V), z (N, L)) -> the law of every position's next token (N, L, V)."""
        a, b = self.routes(k)

        def step(mu, z):
            vocab_size = mu.shape[-1]
            q = temper(mu, self.temperature)  # the law of x_hat
            seen = np.eye(vocab_size)[z]  # (N, L, V): [z_i = v]
            clean = b * (1 - a) / vocab_size + a * b * seen  # for x_hat = v
            stay, noise = a * (1 - b) / vocab_size, (1 - a) * (1 - b) / vocab_size
            total = clean + stay + noise
            to_hat = q * clean / total  # x_hat = v and the clean route: v
            kept = (q * stay / total).sum(axis=-1, keepdims=True) * seen  # the stay route: z_i
            spread = (q * noise / total).sum(axis=-1, keepdims=True) / vocab_size  # the noise route: uniform
            return to_hat + kept + spread

        return step

    def exact_law(self, denoiser, vocab_size, length):
        """The law of the output canvas, a table (V,)*L (:func:`refimpl.engine.uniform_chain.chain_law`);
        ``denoiser`` one model, or a list of one per step (a model told the time: step k is asked at alpha k/N)."""
        return chain_law(self._models(denoiser), [self.factors(k) for k in range(self.steps)], vocab_size, length)

    def _models(self, denoiser):
        models = list(denoiser) if isinstance(denoiser, (list, tuple)) else [denoiser] * self.steps
        if len(models) != self.steps:
            raise InvalidParameterError(f"one denoiser per step: {self.steps} steps, {len(models)} denoisers")
        return models

    def expected_calls(self):
        """One model call per step."""
        return float(self.steps)

    def sample(self, denoiser, n, rng, vocab_size, length):
        """refimpl's own draws of the scheduler's loop (n, L), through the same route law."""
        rng = validate.generator(rng)
        z = rng.integers(0, vocab_size, size=(n, length))
        models = self._models(denoiser)
        for k in range(self.steps):
            z = sample_categorical(self.factors(k)(np.asarray(models[k](z), dtype=np.float64), z), rng)
        return z
