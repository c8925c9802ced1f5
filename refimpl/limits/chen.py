r"""Chen, Cong and Li's schedules and bounds (issue #39; CCL3, CCL5, CCL8-CCL10 and LC1 of ../shared/THEORY.md, read in
*Optimal inference schedules for masked diffusion models*, COLT 2026, PMLR 336:1279-1311: Theorem 16, Appendix D,
Theorem 31, Corollary 34, Lemma 35).  Nats.  With :math:`Z_j` the increments of the information curve
(:func:`refimpl.limits.ugc.increments`) and :math:`N'_i` the partial sums of the sizes:

- the expected KL of random-order decoding with sizes :math:`s_1..s_k` (Theorem 16) is
  :math:`\sum_i \sum_{j=1}^{s_i} (Z_{N'_{i-1}+j} - Z_{N'_{i-1}+1})` (:func:`schedule_error`,
  = :func:`refimpl.limits.order_averaged_kl`);
- Li and Cai's bound through it (Theorem 31, :func:`li_cai_chain`);
- the schedules of Theorem 9 from an estimate of TC or DTC (:func:`tc_schedule`, :func:`dtc_schedule`);
- the learning error of a learned oracle along fixed sets (Lemma 35, :func:`learning_error`).
"""
import math

import numpy as np

from ..core import validate
from ..core.errors import InvalidParameterError
from ..core.types import LawLike
from ..laws import quantities
from .step_sizes import check_sizes
from .ugc import increments


def schedule_error(p: LawLike, sizes) -> float:
    r"""Theorem 16: :math:`\sum_i \sum_{j=1}^{s_i}(Z_{N'_{i-1}+j} - Z_{N'_{i-1}+1})`."""
    table = validate.law_table(p)
    z = np.concatenate([[0.0], increments(table)])  # z[j] = Z_j, Z_0 := 0
    total, done = 0.0, 0
    for s in check_sizes(sizes, table.ndim):
        total += sum(z[done + j] - z[done + 1] for j in range(1, s + 1))
        done += s
    return float(total)


def li_cai_chain(p: LawLike, sizes) -> tuple:
    r"""Theorem 31's chain for ``sizes``: :math:`(\sum_i (s_i - 1)(Z_{N'_i} - Z_{N'_{i-1}}),\ (s_{max} - 1) Z_n,\
    (2^{\lceil \log_2 s_{max}\rceil} - 1)(TC + DTC)/n)`, each at least the one before it and at least
    :func:`schedule_error`."""
    table = validate.law_table(p)
    sizes = check_sizes(sizes, table.ndim)
    z = np.concatenate([[0.0], increments(table)])
    edges = np.cumsum([0] + list(sizes))
    first = sum((s - 1) * (z[b] - z[a]) for s, a, b in zip(sizes, edges[:-1], edges[1:]))
    largest = max(sizes)
    n = table.ndim
    both = quantities.total_correlation(table) + quantities.dual_total_correlation(table)
    return float(first), float((largest - 1) * z[n]), float((2 ** math.ceil(math.log2(largest)) - 1) * both / n)


def _zeta(n, estimate, eps):
    n = validate.integer(n, "n", 1)
    if not (np.isfinite(eps) and eps > 0) or not (np.isfinite(estimate) and estimate >= 0):
        raise InvalidParameterError(f"the schedule needs eps > 0 and an estimate >= 0, got {eps} and {estimate}")
    zeta = 1 + math.ceil(estimate / eps)
    stages = math.floor(math.log(n - zeta + 1) / math.log(1 / (1 - 1 / zeta))) + 2 if zeta <= n else 0
    return n, zeta, stages


def tc_schedule(n: int, tc_estimate: float, eps: float) -> list:
    r"""Theorem 9's TC schedule (large steps first): :math:`\zeta = 1 + \lceil \widehat{TC}/\epsilon\rceil`,
    :math:`N_i = \lfloor N_{i-1} + (n - N_{i-1})/\zeta \rfloor` for :math:`i \le \lambda =
    \lfloor \log(n-\zeta+1)/\log\frac{1}{1-1/\zeta} \rfloor + 2`, then unit steps; n unit steps when
    :math:`\zeta \ge n + 1`.  Zero sizes are dropped (the PDF's floor brackets are inferred from its inequalities)."""
    n, zeta, stages = _zeta(n, tc_estimate, eps)
    if zeta >= n + 1:
        return [1] * n
    edges = [0]
    for _ in range(stages):
        edges.append(math.floor(edges[-1] + (n - edges[-1]) / zeta))
    edges += list(range(edges[-1] + 1, n + 1))
    return [b - a for a, b in zip(edges[:-1], edges[1:]) if b > a]


def dtc_schedule(n: int, dtc_estimate: float, eps: float) -> list:
    r"""Theorem 9's DTC schedule (small steps first): :math:`N'_0 = n`, :math:`N'_i = \lceil N'_{i-1}(1 - 1/\zeta)
    \rceil` for :math:`i \le \lambda`, then down by one to 0; the sizes are the gaps read from the end."""
    n, zeta, stages = _zeta(n, dtc_estimate, eps)
    if zeta >= n + 1:
        return [1] * n
    remaining = [n]
    for _ in range(stages):
        remaining.append(math.ceil(remaining[-1] * (1 - 1 / zeta)))
    remaining += list(range(remaining[-1] - 1, -1, -1))
    gaps = [a - b for a, b in zip(remaining[:-1], remaining[1:])]
    return [g for g in reversed(gaps) if g > 0]


def learning_error(p: LawLike, learned, sets) -> float:
    r"""Lemma 35's error term along the fixed sets :math:`S_1..S_k`: :math:`\sum_t \sum_{j \in S_t}
    E_{x \sim p} KL(p(X_j \mid x_{T_t}) \,\|\, \widehat{CO}(X_j \mid x_{T_t}))`, :math:`T_t = \cup_{u<t} S_u`."""
    from ..denoisers import oracle_denoiser

    table = validate.law_table(p)
    vocab_size = table.shape[0]
    support = np.argwhere(table > 0)
    weights = table[tuple(support.T)]
    oracle, total, known = oracle_denoiser(table), 0.0, []
    for chosen in sets:
        z = np.full(support.shape, vocab_size)
        z[:, known] = support[:, known]
        exact, guess = oracle(z), np.asarray(learned(z), dtype=np.float64)
        for j in chosen:
            with np.errstate(divide="ignore", invalid="ignore"):
                terms = np.where(exact[:, j] > 0, exact[:, j] * (np.log(exact[:, j]) - np.log(guess[:, j])), 0.0)
            total += float(weights @ terms.sum(axis=1))
        known = known + list(chosen)
    return total
