r"""Oracles for a model without a mask (issue #38, build 2): the uniform forward process
(:mod:`refimpl.diffusion.uniform`) makes every position of :math:`x_t` a real token, and the optimal prediction at
position i reads every position of :math:`x_t`, not only clean ones.

- :func:`uniform_oracle`: told t, :math:`\mu^*(x_t, t)_i = p(x_0^i \mid x_t)`;
- :func:`time_agnostic_oracle`: not told t — the minimiser of the training loss of such a model, the posterior with
  t integrated out under the training distribution of t (t ~ Uniform(eps, 1), each position redrawn with
  probability :math:`1 - \alpha_t`: the public recipes of SAMPLERS-2026.md section 1, "U"), for both targets they
  use: ``"all"`` — every position scored (NeMo, TRL) —

  .. math::  \mu_i(v \mid z) \propto \sum_{x:\,x_i = v} p(x) \int \prod_j K_t(x_j, z_j)\, \rho(t)\, dt,

  and ``"noised"`` — only the redrawn positions scored (dllm's trainer), where :math:`z_i` says nothing:

  .. math::  \mu_i(v \mid z) \propto \sum_{x:\,x_i = v} p(x) \int \tfrac{1 - \alpha_t}{V}
             \prod_{j \ne i} K_t(x_j, z_j)\, \rho(t)\, dt,

  with :math:`K_t(x, z) = \alpha_t [z = x] + (1 - \alpha_t)/V`.  The integral is a Gauss-Legendre sum over t —
  exact where the integrand is a polynomial in t (the linear schedule: degree L; ``Polynomial(k)`` with integer k:
  kL), and to quadrature accuracy otherwise (``nodes``).  Each node is a product over positions, so the sum is
  :math:`O(\text{nodes} \cdot L \cdot V^{L+1})`.

DiffusionGemma's self-conditioning input (the previous step's logits) is, in every public recipe, the model's own
prediction on the same canvas — a function of z — so the Bayes-optimal denoiser ignores it: these oracles are
self-conditioning-blind, and the exact laws of refimpl hold for denoisers that are.
"""
import math

import numpy as np

from ..core import validate
from ..core.errors import InvalidParameterError
from ..core.memory import check_memory
from ..core.types import LawLike
from ..denoisers.substitution import substituted
from . import schedules as S

TARGETS = ("all", "noised")


class UniformDenoiser:
    r"""A denoiser of clean sequences stored as one table of shape ``(V,)*L + (L, V)``: the answer at z is
    ``table[z]``.

    Examples
    --------
    >>> import refimpl
    >>> from refimpl.diffusion.uniform_oracles import uniform_oracle
    >>> mu = uniform_oracle(refimpl.datasets.coupled_pairs(), alpha_t=0.5)   # "AB" or "CD", half the tokens redrawn
    >>> mu([[0, 1]])[0].round(3).tolist()   # AB seen: most likely AB
    [[0.962, 0.0, 0.038, 0.0], [0.0, 0.962, 0.0, 0.038]]
    """

    def __init__(self, table):
        self.table = np.asarray(table, dtype=np.float64)
        self.vocab_size, self.length = self.table.shape[-1], self.table.shape[-2]

    def __call__(self, z):
        z = validate.tokens(z, self.vocab_size, self.length, partial=False, name="z", ndim=2)
        return self.table[tuple(z.T)]

    def __repr__(self):
        return f"{type(self).__name__}(V={self.vocab_size}, L={self.length})"


def _answers(table, alpha, target):
    """(V,)*L + (L, V): the unnormalised joint of z and x_0^i = v at every z, for one alpha."""
    vocab_size, length = table.shape[0], table.ndim
    rate = 1.0 - alpha
    out = np.empty(table.shape + (length, vocab_size))
    kernel = alpha * np.eye(vocab_size) + rate / vocab_size  # (x, z)
    for i in range(length):
        kept = np.moveaxis(substituted(table, rate, keep=i), i, -1)  # (z without i..., x_i)
        if target == "all":  # times K(x_i, z_i), z_i on axis i
            joint = kept[..., None, :] * np.moveaxis(kernel, 0, 1).reshape((1,) * (length - 1) + kernel.shape)
        else:  # z_i says nothing: the position was redrawn, with probability (1 - alpha) / V per token
            joint = np.broadcast_to(kept[..., None, :] * (rate / vocab_size), kept.shape[:-1] + (vocab_size,) * 2)
        out[..., i, :] = np.moveaxis(joint, -2, i)
    return out


def _normalised(joint):
    total = joint.sum(axis=-1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, joint / np.where(total > 0, total, 1.0), 1.0 / joint.shape[-1])


def _check(table, what):
    vocab_size, length = table.shape[0], table.ndim
    check_memory(8 * 4 * vocab_size ** length * length * vocab_size, what)


def uniform_oracle(p: LawLike, alpha_t: float) -> UniformDenoiser:
    r"""The time-conditioned oracle at :math:`\alpha_t`: :math:`p(x_0^i \mid x_t = z)` at every clean z (uniform
    where z is impossible, which needs :math:`\alpha_t = 1`)."""
    table = validate.law_table(p)
    alpha = validate.probability(alpha_t, "alpha_t")
    _check(table, "the uniform oracle's table")
    return UniformDenoiser(_normalised(_answers(table, alpha, "all")))


def time_nodes(schedule=None, eps: float = 1e-3, nodes=None, length: int = 1):
    r"""(alphas, weights): Gauss-Legendre in t on [eps, 1] for t ~ Uniform(eps, 1), the weights summing to 1.
    Default ``nodes``: exact for the linear schedule and ``Polynomial(k)`` with integer k (degree kL + 1 in t), else
    64."""
    schedule = S.Linear() if schedule is None else schedule
    eps = validate.probability(eps, "eps", open_high=True)
    if nodes is None:
        power = 1 if isinstance(schedule, S.Linear) else getattr(schedule, "power", None)
        nodes = 64 if power is None or float(power) != int(power) else math.ceil((int(power) * length + 2) / 2)
    nodes = validate.integer(nodes, "nodes", 1)
    x, w = np.polynomial.legendre.leggauss(nodes)
    t = eps + (1.0 - eps) * 0.5 * (x + 1.0)
    return np.asarray(schedule.alpha(t), dtype=np.float64), 0.5 * w


def time_agnostic_joint(p: LawLike, schedule=None, eps: float = 1e-3, target: str = "all", nodes=None):
    """The unnormalised joint of :func:`time_agnostic_oracle` at every z, (V,)*L + (L, V): its training loss is
    ``-sum(joint * log mu)`` (:func:`training_loss`)."""
    table = validate.law_table(p)
    validate.choice(target, TARGETS, "target")
    _check(table, "the time-agnostic oracle's table")
    alphas, weights = time_nodes(schedule, eps, nodes, table.ndim)
    return sum(w * _answers(table, float(a), target) for a, w in zip(alphas, weights))


def time_agnostic_oracle(p: LawLike, schedule=None, eps: float = 1e-3, target: str = "all",
                         nodes=None) -> UniformDenoiser:
    r"""The Bayes-optimal denoiser of a model that is not told t (the module's formulas), ``target`` ``"all"`` or
    ``"noised"``; t ~ Uniform(``eps``, 1) on ``schedule`` (default linear: :math:`\alpha_t = 1 - t`, the recipes'
    "noise each position with probability t"; dllm's ``time_epsilon`` is 1e-4, NeMo's 1e-3).

    Examples
    --------
    >>> import refimpl
    >>> from refimpl.diffusion.uniform_oracles import time_agnostic_oracle
    >>> mu = time_agnostic_oracle(refimpl.datasets.coupled_pairs())
    >>> mu([[0, 3]])[0, 0].round(3).tolist()   # A then D: one token of each pair, so neither pair is likelier
    [0.5, 0.0, 0.5, 0.0]
    """
    return UniformDenoiser(_normalised(time_agnostic_joint(p, schedule, eps, target, nodes)))


def training_loss(p: LawLike, denoiser, schedule=None, eps: float = 1e-3, target: str = "all", nodes=None) -> float:
    r"""The expected training loss (nats, summed over the scored positions of a sequence) of a model not told t:
    :math:`E_t E_{x_0, z}[-\sum_i \log \mu(z)_i(x_0^i)]` over the scored positions — minimised by
    :func:`time_agnostic_oracle` (Gibbs' inequality)."""
    joint = time_agnostic_joint(p, schedule, eps, target, nodes)
    vocab_size, length = joint.shape[-1], joint.shape[-2]
    grid = np.indices((vocab_size,) * length).reshape(length, -1).T
    mu = np.asarray(denoiser(grid), dtype=np.float64).reshape(joint.shape)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(joint > 0, -joint * np.log(mu), 0.0)
    if not np.all(np.isfinite(terms)):
        raise InvalidParameterError("the denoiser gives probability 0 to a token the training data holds")
    return float(terms.sum())
