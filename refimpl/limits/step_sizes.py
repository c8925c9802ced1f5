r"""Random-order decoding with the oracle under a step-size schedule :math:`(k_1, \dots, k_T)` (issue #23).

Each step reveals :math:`k_t` uniformly chosen masked positions, each drawn from the oracle's conditional
marginal — refimpl's ``RandomK([k_1, ..., k_T])``.  Two KLs (proofs/limits.md):

- :func:`order_averaged_kl`: the KL of one reveal order averaged over the orders,
  :math:`\mathbb E_\sigma KL(p \| q_\sigma) = \sum_t e(j_t, k_t)` with :math:`j_t = k_1 + \dots + k_{t-1}`
  (:func:`refimpl.limits.information.information_profile`; Chen, Cong and Li's quantity);
- :func:`random_order_kl`: the KL of the law random-order decoding produces, the mixture
  :math:`q = \mathbb E_\sigma q_\sigma` (:func:`refimpl.exact_law` of ``RandomK``) — at most the first, by
  convexity of KL.

Random step sizes: a schedule law ``[(weight, sizes), ...]`` (weights summing to 1) is decoding that first
draws its sizes; its order-averaged KL is the weighted sum, its law the weighted mixture.
"""
import typing

import numpy as np

from ..core import validate
from ..core.errors import InvalidParameterError
from ..core.types import LawLike
from ..denoisers import oracle_denoiser
from ..engine import exact_law
from ..laws.quantities import kl
from ..samplers import RandomK
from .information import information_profile

Sizes = typing.Sequence[int]  # step sizes k_1 .. k_T


def check_sizes(sizes: Sizes, length: int, who: str = "sizes") -> tuple:
    """A step-size schedule: positive integers adding up to ``length``."""
    if isinstance(sizes, (str, bytes)) or not hasattr(sizes, "__iter__"):
        raise InvalidParameterError(f"{who} must be a list of step sizes, got {sizes!r}")
    out = tuple(validate.integer(k, who, 1) for k in sizes)
    if not out or sum(out) != length:
        raise InvalidParameterError(f"{who} {list(out)} must be positive and add up to the length {length}")
    return out


def check_schedule_law(schedules: typing.Sequence, length: int) -> list:
    """``[(weight, sizes)]`` with weights >= 0 adding up to 1 (within 1e-9)."""
    try:
        pairs = [(float(w), check_sizes(s, length, "a schedule's sizes")) for w, s in schedules]
    except (TypeError, ValueError):
        raise InvalidParameterError(f"a schedule law is a list of (weight, sizes) pairs, got {schedules!r}") from None
    weights = np.array([w for w, _ in pairs])
    if not pairs or not np.all(np.isfinite(weights)) or np.any(weights < 0) or abs(weights.sum() - 1) > 1e-9:
        raise InvalidParameterError(f"a schedule law's weights must be >= 0 and add up to 1, got {weights.tolist()}")
    return pairs


def order_averaged_kl(p: LawLike, sizes: Sizes, profile: np.ndarray | None = None) -> float:
    r""":math:`\sum_t e(j_t, k_t)`: the KL of random-order decoding averaged over reveal orders."""
    table = validate.law_table(p)
    sizes = check_sizes(sizes, table.ndim)
    e = information_profile(table) if profile is None else profile
    known, total = 0, 0.0
    for k in sizes:
        total += e[known, k]
        known += k
    return float(total)


def random_order_law(p: LawLike, sizes: Sizes) -> np.ndarray:
    """The law random-order decoding with the oracle produces (``RandomK(sizes)``, T = 1), exactly."""
    table = validate.law_table(p)
    sizes = check_sizes(sizes, table.ndim)
    return exact_law(oracle_denoiser(table), RandomK(list(sizes)), table.ndim, table.shape[0])


def random_order_kl(p: LawLike, sizes: Sizes) -> float:
    """KL(p || the law of random-order decoding), the mixture over reveal orders."""
    return kl(p, random_order_law(p, sizes))


def schedule_law_kls(p: LawLike, schedules: typing.Sequence) -> dict:
    """Random step sizes: ``{"order_averaged": ..., "random_order": ...}`` for a schedule law
    ``[(weight, sizes)]`` (module docstring)."""
    table = validate.law_table(p)
    pairs = check_schedule_law(schedules, table.ndim)
    e = information_profile(table)
    averaged = sum(w * order_averaged_kl(table, s, e) for w, s in pairs)
    mixture = sum(w * random_order_law(table, s) for w, s in pairs if w > 0)
    return {"order_averaged": float(averaged), "random_order": kl(table, mixture)}
