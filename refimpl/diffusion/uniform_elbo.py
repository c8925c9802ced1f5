r"""The continuous-time NELBO of uniform-state diffusion (UDLM, Schiff et al. 2024; issue #38, build 3), exactly up to
the quadrature of its time integral, and the denoiser that attains it.

For a model told t, with :math:`\bar x = V\alpha_t e_{x_0} + (1 - \alpha_t)` and
:math:`\bar x_\theta = V\alpha_t \mu_i(z) + (1 - \alpha_t)` at each position i of :math:`z = x_t` (UDLM's
``nll_per_token``: ``coeff * (term1 - term2)``),

.. math::  \mathcal{L} = \int_0^1 \frac{\alpha'_t}{V\alpha_t} E\Big[\sum_i \frac{V}{\bar x_{z_i}}
           - \frac{V}{\bar x_{\theta, z_i}} - \sum_v \frac{\bar x_v}{\bar x_{z_i}}
           \log\frac{\bar x_{\theta, z_i}\,\bar x_v}{\bar x_{\theta, v}\,\bar x_{z_i}}\Big]\,dt .

Its minimiser is not the posterior marginal :math:`p(x_0^i \mid z)` (what cross-entropy training reaches,
:func:`refimpl.diffusion.uniform_oracles.uniform_oracle`) but the **leave-one-out** posterior
:math:`\rho_i(u \mid z) \propto \sum_{x: x_i = u} p(x) \prod_{j \ne i} K_t(x_j, z_j)` (:func:`loo_oracle`): the true
reverse rate :math:`q_t(z^{i \leftarrow v}) / q_t(z) = \sum_u \rho_u K_t(u, v) / \sum_u \rho_u K_t(u, z_i)` is UDLM's
:math:`\bar x_{\theta, v} / \bar x_{\theta, z_i}` exactly when :math:`\mu_i = \rho_i` (proofs/uniform_nelbo.md).  With it
the NELBO is :math:`H(p)`; the two differ by one logit shift, :math:`\log(1 + V\alpha/(1 - \alpha))` off the observed
token — diffusers' ``DiscreteDDIMScheduler._to_loo_logits``.
"""
import numpy as np

from ..core import validate
from ..core.types import LawLike
from . import schedules as S
from .uniform_oracles import UniformDenoiser, _answers, _check, _normalised


def loo_oracle(p: LawLike, alpha_t: float) -> UniformDenoiser:
    r"""The leave-one-out posterior :math:`\rho_i(u \mid z) = p(x_0^i = u \mid z_{-i})` at :math:`\alpha_t`: the
    posterior of x_0^i given every position of z but i — the minimiser of the uniform NELBO.

    Examples
    --------
    >>> import refimpl
    >>> from refimpl.diffusion.uniform_elbo import loo_oracle
    >>> rho = loo_oracle(refimpl.datasets.coupled_pairs(), 0.5)
    >>> rho([[0, 1]])[0, 0].round(3).tolist()   # position 0 read from the B at position 1 alone
    [0.833, 0.0, 0.167, 0.0]
    """
    table = validate.law_table(p)
    alpha = validate.probability(alpha_t, "alpha_t")
    _check(table, "the leave-one-out oracle's table")
    return UniformDenoiser(_normalised(_answers(table, alpha, "noised")))


def nelbo_integrand(p: LawLike, denoiser, alpha_t: float, dalpha_t: float) -> float:
    r"""The NELBO's integrand at one time: :math:`E_{x_0 \sim p, z \sim q_t}[\sum_i \ell_i]` with UDLM's per-position
    loss, ``dalpha_t`` = :math:`\alpha'_t` (< 0)."""
    table = validate.law_table(p)
    vocab_size, length = table.shape[0], table.ndim
    alpha = float(alpha_t)
    joint = _answers(table, alpha, "all")  # (z..., i, u): P(x_0^i = u, z)
    grid = np.indices((vocab_size,) * length).reshape(length, -1).T
    mu = np.asarray(denoiser(grid), dtype=np.float64).reshape(joint.shape)  # (z..., i, v)
    seen = grid.reshape((vocab_size,) * length + (length,))[..., None]  # z_i, (z..., i, 1)
    bar = vocab_size * alpha * np.eye(vocab_size) + (1.0 - alpha)  # (u, v): x_bar for x_0^i = u
    bar_z = vocab_size * alpha * (np.arange(vocab_size) == seen) + (1.0 - alpha)  # (z..., i, u): x_bar(u) at z_i
    theta = vocab_size * alpha * mu + (1.0 - alpha)  # (z..., i, v)
    theta_z = np.take_along_axis(theta, seen, axis=-1)  # (z..., i, 1)
    term1 = vocab_size / bar_z - vocab_size / theta_z  # (z..., i, u)
    ratio = bar[None] / bar_z[..., None]  # (z..., i, u, v)
    logs = np.log(theta_z)[..., None] - np.log(theta)[..., None, :] + np.log(bar) - np.log(bar_z)[..., None]
    term2 = (ratio * logs).sum(axis=-1)
    loss = dalpha_t / (vocab_size * alpha) * (term1 - term2)
    return float((joint * loss).sum())


def continuous_nelbo(p: LawLike, denoiser_at, schedule=None, nodes: int = 64) -> float:
    r"""The continuous-time uniform NELBO (nats per sequence) of a model told the time — ``denoiser_at(alpha)`` ->
    its denoiser at :math:`\alpha_t` — on ``schedule`` (default linear), by ``nodes``-point Gauss-Legendre in s on
    (0, 1) with :math:`t = s^3`: the integrand grows like :math:`-\log t` as t -> 0 (the tokens the data never put
    there), which the substitution smooths (on a Dirichlet law at V=3, L=3 the oracle's NELBO is H(p) to 8e-11 with
    64 nodes and 2e-14 with 256; without it, 3e-4 and 2e-5)."""
    table = validate.law_table(p)
    schedule = S.Linear() if schedule is None else schedule
    nodes = validate.integer(nodes, "nodes", 1)
    x, w = np.polynomial.legendre.leggauss(nodes)
    s = 0.5 * (x + 1.0)
    t, jacobian = s ** 3, 3.0 * s ** 2
    alphas, slopes = np.asarray(schedule.alpha(t), dtype=np.float64), np.asarray(schedule.dalpha(t), dtype=np.float64)
    return float(sum(0.5 * weight * dt * nelbo_integrand(table, denoiser_at(a), a, d)
                     for a, d, weight, dt in zip(alphas, slopes, w, jacobian)))


def steps_nelbo(p: LawLike, denoiser_at, steps: int, schedule=None) -> float:
    r"""The T-step uniform NELBO (nats per sequence) of a model told the time, ``denoiser_at(alpha)`` -> its
    denoiser, on the grid :math:`t_k = k/T` of ``schedule`` (default linear), its reverse step Duo's (UDLM's) per
    position, :math:`p_\theta(x_s^i = v \mid z) \propto K_{t|s}(v, z_i)\,(\mu_i(z) K_s)_v`
    (:class:`refimpl.samplers.uniform_ancestral.UniformAncestral`'s ``form="duo"``):

    .. math::  \mathcal L_T = \sum_{k=1}^{T} E_{x_0, z \sim q_{t_k}} \sum_i
               KL\big(q(x_{t_{k-1}}^i \mid z_i, x_0^i)\,\|\,p_\theta(x_{t_{k-1}}^i \mid z)\big)
               + E_{x_0} KL\big(q(x_1 \mid x_0)\,\|\,\mathrm{uniform}\big),

    the k = 1 term :math:`-\log p_\theta(x_0 \mid x_{t_1})` (its posterior is a point mass).  With the leave-one-out
    oracle it is :math:`H(p)` plus the expected conditional total correlation of every exact step
    (proofs/uniform_step.md, Theorem 1.3 with equality for the path), so :math:`\ge H(p)`, and
    :math:`H(p)` exactly on a product law.  Enumerates :math:`V^L` canvases times L positions times :math:`V^2`."""
    table = validate.law_table(p)
    vocab_size, length = table.shape[0], table.ndim
    steps = validate.integer(steps, "steps", 1)
    schedule = S.Linear() if schedule is None else schedule
    alphas = np.asarray(schedule.alpha(np.arange(steps + 1) / steps), dtype=np.float64)
    grid = np.indices((vocab_size,) * length).reshape(length, -1).T
    seen = grid.reshape((vocab_size,) * length + (length,))  # z_i at (z..., i)
    eye = np.eye(vocab_size)
    total = 0.0
    for k in range(1, steps + 1):
        alpha_t, alpha_s = float(alphas[k]), float(alphas[k - 1])
        joint = _answers(table, alpha_t, "all")  # (z..., i, u): P(z, x_0^i = u)
        mu = np.asarray(denoiser_at(alpha_t)(grid), dtype=np.float64).reshape(joint.shape)
        to_t = (alpha_t / alpha_s) * eye[seen] + (1.0 - alpha_t / alpha_s) / vocab_size  # (z..., i, v): K_t|s(v, z_i)
        from_0 = alpha_s * eye + (1.0 - alpha_s) / vocab_size  # (u, v): K_s(u, v)
        model = to_t * (mu @ from_0)
        model /= model.sum(axis=-1, keepdims=True)
        posterior = to_t[..., None, :] * from_0  # (z..., i, u, v)
        posterior /= posterior.sum(axis=-1, keepdims=True)
        with np.errstate(divide="ignore", invalid="ignore"):
            terms = np.where(posterior > 0, posterior * (np.log(posterior) - np.log(model[..., None, :])), 0.0)
        total += float((joint * terms.sum(axis=-1)).sum())
    last = alphas[-1] * eye + (1.0 - alphas[-1]) / vocab_size  # q(x_1 | x_0) per position
    with np.errstate(divide="ignore", invalid="ignore"):
        prior = float(np.where(last[0] > 0, last[0] * np.log(last[0] * vocab_size), 0.0).sum())
    return total + length * prior
