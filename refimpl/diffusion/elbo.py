r"""The NELBO of a denoiser under a data law, exactly (by enumeration) and by Monte Carlo.

Every form is a weighted sum over mask patterns of the masked cross-entropy.  Write

.. math::  A_k = \sum_{z:\,|M(z)| = k} \; \sum_{i \in M(z)} \sum_{v} p(x_i = v, x_C = z_C) \,
           \bigl(-\log \mu(z)_{i,v}\bigr)

(:func:`cross_entropy_by_mask_count`; :math:`\mathbb{E}_{x \sim p}` of the cross-entropy summed over every
pattern with k masks).  Then, with :math:`m = 1 - \alpha` the mask probability:

- continuous time, schedule-free (any-order autoregressive form): :math:`\sum_k A_k / (k \binom{L}{k})`;
- continuous time under a schedule, :math:`\int_0^1 w(t)\, \mathbb{E}_{q_t}[\ldots]\, dt`:
  :math:`\sum_k A_k \int_{\alpha(1)}^{\alpha(0)} (1-a)^{k-1} a^{L-k} da`, which is the schedule-free value
  whenever :math:`\alpha(0) = 1, \alpha(1) = 0`;
- RADD's lambda form, :math:`\mathbb{E}_{\lambda \sim U(0,1)} \lambda^{-1}
  \mathbb{E}_{M \sim \mathrm{Bern}(\lambda)^L}[\ldots]`: the same weights, :math:`B(k, L-k+1)`;
- T steps on the grid :math:`t_j = j/T` (MDLM's discrete ELBO): :math:`\sum_k A_k \sum_{j=1}^{T}
  (m_{t_j} - m_{t_{j-1}}) m_{t_j}^{k-1} \alpha_{t_j}^{L-k}`.

Both schedule forms add the reconstruction term :math:`-\log p(x_0 \mid x_{t=0})` (pattern weight
:math:`m_0^k \alpha_0^{L-k}`, zero when :math:`\alpha(0) = 1`), and omit the prior term at t = 1, which is
zero when :math:`\alpha(1) = 0` (for :math:`\alpha(1) > 0` it is infinite against the all-mask prior, and
MDLM omits it too).

Examples
--------
>>> import numpy as np, refimpl
>>> p = refimpl.datasets.coupled_pairs()
>>> oracle = refimpl.oracle_denoiser(p)
>>> bool(np.isclose(refimpl.nelbo(oracle, p), refimpl.entropy(p)))   # the oracle attains H(p)
True
>>> bool(np.isclose(refimpl.elbo.nelbo_any_order(oracle, p), refimpl.nelbo(oracle, p)))
True
"""
import dataclasses

import numpy as np
from scipy import integrate
from scipy.special import betainc, betaln, xlogy

from ..core import validate
from ..core.memory import check_memory
from ..core.numerics import binomial_coefficients
from ..core.types import ArrayLike, Denoiser, LawLike, ScheduleLike
from ..denoisers import each_chunk, evaluate
from ..laws import space
from ..laws.lattice import marginal_lattice
from .forward import any_order_mask, sample_forward
from .schedules import Linear, check_schedule


def cross_entropy_by_mask_count(denoiser: Denoiser, p: LawLike) -> np.ndarray:
    r""":math:`A_k` for k = 0..L (array of length L+1, :math:`A_0 = 0`): see the module docstring.

    Calls ``denoiser`` once per chunk of all :math:`(V+1)^L` partial sequences; ``inf`` entries mean the
    denoiser gives probability zero to a token the data can hold there.
    """
    table = validate.law_table(p)
    vocab_size, length = table.shape[0], table.ndim
    lattice = marginal_lattice(table).ravel()
    totals = np.zeros(length + 1)
    token_offsets = np.arange(vocab_size) - vocab_size  # (V,): index change when z_i: V -> v
    for index, z, mu in each_chunk(denoiser, vocab_size, length):  # (B,), (B, L), (B, L, V)
        masked = z == vocab_size
        per_row = np.zeros(len(index))
        for i in range(length):
            rows = np.flatnonzero(masked[:, i])
            stride = (vocab_size + 1) ** (length - 1 - i)
            joint = lattice[index[rows, None] + stride * token_offsets]  # (R, V): p(x_i = v, z_C)
            with np.errstate(divide="ignore"):
                per_row[rows] -= xlogy(joint, mu[rows, i]).sum(axis=1)
        totals += np.bincount(masked.sum(axis=1), weights=per_row, minlength=length + 1)
    return totals


def any_order_weights(length: int) -> np.ndarray:
    r""":math:`1 / (k \binom{L}{k})` for k = 0..L (0 at k = 0)."""
    binom = binomial_coefficients(length)
    k = np.arange(length + 1)
    return np.where(k > 0, 1.0 / np.maximum(k, 1) / binom, 0.0)


def schedule_weights(schedule: ScheduleLike, length: int) -> np.ndarray:
    r"""Continuous-time pattern weights under a schedule: the integral over :math:`[\alpha(1), \alpha(0)]`
    (regularised incomplete beta) plus the reconstruction weight :math:`m_0^k \alpha_0^{L-k}`."""
    check_schedule(schedule)
    alpha0, alpha1 = schedule.alpha_range()
    k = np.arange(1, length + 1)
    a, b = length - k + 1.0, k.astype(float)
    integral = np.exp(betaln(a, b)) * (betainc(a, b, alpha0) - betainc(a, b, alpha1))
    return np.concatenate([[0.0], integral]) + reconstruction_weights(schedule, length)


def reconstruction_weights(schedule: ScheduleLike, length: int) -> np.ndarray:
    r"""The pattern weights of the NELBO's term at t = 0, :math:`m_0^k \alpha_0^{L-k}` for k = 0..L (0 at
    k = 0; all 0 when :math:`\alpha(0) = 1`): what a continuous-time loss does not estimate."""
    m0, alpha0 = float(schedule.mask_prob(0.0)), float(schedule.alpha(np.array(0.0)))
    k = np.arange(length + 1)
    return np.where(k > 0, m0**k * alpha0 ** (length - k), 0.0)


def discrete_weights(schedule: ScheduleLike, length: int, steps: int) -> np.ndarray:
    r"""T-step pattern weights on the grid :math:`t_j = j/T`, plus the reconstruction weight."""
    check_schedule(schedule)
    steps = validate.integer(steps, "steps", 1)
    check_memory(4 * length * (steps + 1) * 8, f"the {steps}-step NELBO grid")
    grid = np.linspace(0.0, 1.0, steps + 1)
    m = schedule.mask_prob(grid)  # (T+1,)
    alpha = schedule.alpha(grid)
    k = np.arange(1, length + 1)[:, None]  # (L, 1)
    step_terms = (m[1:] - m[:-1]) * m[1:] ** (k - 1) * alpha[1:] ** (length - k)  # (L, T)
    reconstruction = m[0] ** k[:, 0] * alpha[0] ** (length - k[:, 0])
    return np.concatenate([[0.0], step_terms.sum(axis=1) + reconstruction])


def _combine(totals, weights):
    terms = np.where(weights > 0, totals * weights, 0.0)
    return float(terms.sum())


def nelbo(denoiser: Denoiser, p: LawLike, schedule: ScheduleLike | None = None, steps: int | None = None) -> float:
    r"""Exact NELBO (nats per sequence) of ``denoiser`` on data law ``p``.

    ``steps=None``: continuous time — schedule-free when ``schedule`` is None, otherwise the integral
    over the schedule's range (equal to the schedule-free value when alpha(0) = 1 and alpha(1) = 0).
    ``steps=T``: the T-step discrete NELBO under ``schedule`` (default :class:`Linear`).
    At the oracle the continuous value is H(p); every denoiser has NELBO >= H(p).

    Parameters
    ----------
    denoiser : callable
        ``den(z) -> probs`` (the interop contract).
    p : array_like or Law
        The data law.
    schedule : Schedule, optional
        :mod:`refimpl.schedules`; only the T-step form and a clipped schedule depend on it.
    steps : int, optional
        T for the discrete-time NELBO.

    Returns
    -------
    float
        Nats per sequence.

    Examples
    --------
    >>> import numpy as np, refimpl
    >>> from refimpl import samplers
    >>> p = refimpl.datasets.coupled_pairs()
    >>> oracle = refimpl.oracle_denoiser(p)
    >>> bool(np.isclose(refimpl.nelbo(oracle, p), np.log(2)))                  # H(p) = ln 2
    True
    >>> bool(refimpl.nelbo(oracle, p, refimpl.schedules.Cosine(), steps=4) >= refimpl.nelbo(oracle, p))
    True
    """
    table = validate.law_table(p)
    length = table.ndim
    if steps is None:
        weights = any_order_weights(length) if schedule is None else schedule_weights(schedule, length)
    else:
        weights = discrete_weights(Linear() if schedule is None else schedule, length, steps)
    return _combine(cross_entropy_by_mask_count(denoiser, table), weights)


def nelbo_any_order(denoiser: Denoiser, p: LawLike) -> float:
    r"""Any-order autoregressive form: :math:`\sum_{k=1}^{L} \mathbb{E}_{|M|=k}[\frac1k \sum_{i \in M} -\log \mu_{i,x_i}]`,
    with the expectation over the :math:`\binom{L}{k}` subsets written out as counting weights."""
    table = validate.law_table(p)
    totals = cross_entropy_by_mask_count(denoiser, table)
    length = table.ndim
    return sum(totals[k] / (k * binomial_coefficients(length)[k]) for k in range(1, length + 1))


def nelbo_time_integral(denoiser: Denoiser, p: LawLike, schedule: ScheduleLike) -> float:
    r"""Time-weighted form :math:`\int_0^1 w(t)\, \mathbb{E}_{x, z \sim q_t}[\sum_{i \in M} -\log \mu(z)_{i,x_i}]\, dt`
    by adaptive quadrature in t (scipy.integrate.quad), plus the reconstruction term at t = 0."""
    check_schedule(schedule)
    table = validate.law_table(p)
    length = table.ndim
    totals = cross_entropy_by_mask_count(denoiser, table)
    if not np.all(np.isfinite(totals)):
        return float("inf")
    k = np.arange(1, length + 1)

    def integrand(t):
        # w(t) * m^k = -alpha'(t) * m^(k-1): no 0/0 at t = 0
        m, a = float(schedule.mask_prob(t)), float(schedule.alpha(t))
        return -float(schedule.dalpha(t)) * float(np.sum(totals[1:] * m ** (k - 1) * a ** (length - k)))

    value, _ = integrate.quad(integrand, 0.0, 1.0, epsabs=1e-14, epsrel=1e-13, limit=500)
    m0, a0 = float(schedule.mask_prob(0.0)), float(schedule.alpha(0.0))
    return value + float(np.sum(totals[1:] * m0**k * a0 ** (length - k)))


def nelbo_lambda(denoiser: Denoiser, p: LawLike) -> float:
    r"""RADD's form :math:`\int_0^1 \lambda^{-1} \mathbb{E}_{M \sim \mathrm{Bern}(\lambda)^L}[\ldots] d\lambda`:
    the integrand is a polynomial of degree L-1 in lambda, so L-point Gauss-Legendre is exact."""
    table = validate.law_table(p)
    length = table.ndim
    totals = cross_entropy_by_mask_count(denoiser, table)
    if not np.all(np.isfinite(totals)):
        return float("inf")
    nodes, node_weights = np.polynomial.legendre.leggauss(length)
    lam, lam_weights = 0.5 * (nodes + 1.0), 0.5 * node_weights  # Gauss-Legendre on (0, 1)
    k = np.arange(1, length + 1)[:, None]
    values = (totals[1:, None] * lam ** (k - 1) * (1.0 - lam) ** (length - k)).sum(axis=0)
    return float(values @ lam_weights)


def masked_cross_entropy(mu: ArrayLike, z: ArrayLike, x0: ArrayLike, vocab_size: int) -> np.ndarray:
    r"""Per-row :math:`\sum_{i:\, z_i = V} -\log \mu_{i, x_0^i}` (sum over masked positions), shape (B,)."""
    masked = z == vocab_size
    picked = np.take_along_axis(mu, x0[..., None], axis=-1)[..., 0]  # (B, L)
    with np.errstate(divide="ignore"):
        return -np.where(masked, np.log(np.where(masked, picked, 1.0)), 0.0).sum(axis=-1)


@dataclasses.dataclass(frozen=True)
class Estimate:
    """A Monte Carlo mean with its standard error over ``n`` samples."""

    mean: float
    stderr: float
    n: int

    def interval(self, z=1.96):
        return self.mean - z * self.stderr, self.mean + z * self.stderr


def sample_data(p: LawLike, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` clean sequences drawn from the law ``p``, shape (n, L)."""
    table = validate.law_table(p)
    flat = rng.choice(table.size, size=n, p=table.ravel())
    return space.decode(flat, table.shape[0], table.ndim)


def nelbo_monte_carlo(denoiser: Denoiser, p: LawLike, n: int, rng: np.random.Generator,
                      schedule: ScheduleLike | None = None, form: str = "time", antithetic: bool = False,
                      batch_size: int = 4096) -> Estimate:
    r"""Unbiased Monte Carlo NELBO with its standard error, vectorised in batches.

    ``form="time"`` (as training uses it): :math:`x_0 \sim p`, :math:`t \sim U(0,1)`, mask with prob
    :math:`1 - \alpha(t)`, loss :math:`w(t) \sum_{i \in M} -\log \mu_{i,x_0^i}`.  Its variance is finite only
    when :math:`1 - \alpha(t)` vanishes faster than t at 0 (e.g. ``Polynomial(2)``); for ``Linear``,
    ``LogLinear`` and MD4's ``Cosine`` it is infinite (logarithmically) and the standard error
    understates the error.  ``antithetic=True`` uses MDLM's stratified times
    :math:`t_b = (u + b/n) \bmod 1`; the standard error is then the i.i.d. formula, conservative.
    ``form="any_order"``: :math:`k \sim U\{1..L\}`, a uniform k-subset, loss :math:`\frac{L}{k} \sum_{i \in M}
    -\log \mu`: bounded variance for any denoiser with positive probabilities.
    """
    table = validate.law_table(p)
    rng = validate.generator(rng)
    n = validate.integer(n, "n", 2)
    validate.choice(form, ("time", "any_order"), "form")
    validate.flag(antithetic, "antithetic")
    schedule = check_schedule(Linear() if schedule is None else schedule)
    vocab_size, length = table.shape[0], table.ndim
    batch_size = validate.integer(batch_size, "batch_size", 1)
    check_memory(n * 8 + batch_size * length * vocab_size * 8 * 4, f"a Monte Carlo NELBO with {n} samples")
    shift = rng.random()
    losses = np.empty(n)
    for start in range(0, n, batch_size):
        size = min(batch_size, n - start)
        x0 = sample_data(table, size, rng)
        if form == "time":
            if antithetic:
                t = (shift + np.arange(start, start + size) / n) % 1.0
            else:
                t = rng.random(size)
            z = sample_forward(x0, schedule.alpha(t), rng, vocab_size)
            weight = schedule.weight(t)
        else:
            masked, k = any_order_mask(size, length, rng)
            z = np.where(masked, vocab_size, x0)
            weight = length / k
        mu = evaluate(denoiser, z, vocab_size)
        ce = masked_cross_entropy(mu, z, x0, vocab_size)
        losses[start:start + size] = np.where(ce > 0, weight * ce, 0.0)
    return Estimate(float(losses.mean()), float(losses.std(ddof=1) / np.sqrt(n)), n)
