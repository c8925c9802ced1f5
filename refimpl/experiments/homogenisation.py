r"""Homogenisation with distance: far from known tokens, conditional marginals forget them.

Data: a reversible Markov chain with symmetric weights ``WEIGHTS`` (transition = weights / row
sums), started from its stationary law :math:`\pi`.  Writing :math:`\lambda_*` for the largest
absolute eigenvalue below 1, the marginal d positions after an observed token a satisfies
(proofs/homogenisation.md)

.. math::  TV(p(x_d \mid x_0 = a), \pi) \le C_a |\lambda_*|^d, \qquad C_a = \tfrac12 \sqrt{1/\pi_a - 1}.

With tokens observed at both ends (the middle of a fixed-length sequence) and
:math:`\alpha = |\lambda_*|^d \sqrt{1/\pi_a - 1}`, :math:`\beta = |\lambda_*|^{m} \sqrt{1/\pi_b - 1}`
(d, m the distances to the two ends), :math:`TV \le (\alpha + \beta + 2\alpha\beta) / (2(1 - \alpha\beta))`
when :math:`\alpha\beta < 1`.
"""
import numpy as np

from ..laws import datasets, joint, quantities
from ..reports.tables import Report, Table

WEIGHTS = np.array([[8.0, 2.0, 1.0, 1.0],  # symmetric, so the chain is reversible with pi ~ row sums
                    [2.0, 5.0, 2.0, 1.0],
                    [1.0, 2.0, 4.0, 2.0],
                    [1.0, 1.0, 2.0, 3.0]])
LENGTH = 8


def chain():
    """``(transition, stationary law, |lambda_*|)`` of the experiment's chain."""
    transition = WEIGHTS / WEIGHTS.sum(axis=1, keepdims=True)
    pi = datasets.stationary(transition)
    moduli = np.sort(np.abs(np.linalg.eigvals(transition)))[::-1]
    return transition, pi, float(moduli[1])


def law(length=LENGTH):
    transition, pi, _ = chain()
    return datasets.markov_chain(pi, transition, length, name="reversible chain")


def one_sided_bound(pi, a, lam, d):
    return 0.5 * np.sqrt(1.0 / pi[a] - 1.0) * lam**d


def two_sided_bound(pi, a, b, lam, d, m):
    alpha, beta = lam**d * np.sqrt(1.0 / pi[a] - 1.0), lam**m * np.sqrt(1.0 / pi[b] - 1.0)
    return float("inf") if alpha * beta >= 1 else (alpha + beta + 2 * alpha * beta) / (2 * (1 - alpha * beta))


def homogenisation_experiment(model=None, first=0, last=3):
    """Per distance: TV to the stationary law, entropy, and the bound; exact and (if given) for ``model``."""
    transition, pi, lam = chain()
    table = law()
    vocab_size, length = table.vocab_size, table.length
    mask = vocab_size
    one = np.full(length, mask)
    one[0] = first
    two = one.copy()
    two[-1] = last
    exact_one = joint.conditional_marginals(table, one)
    exact_two = joint.conditional_marginals(table, two)
    model_one = model(one[None])[0] if model is not None else None
    model_two = model(two[None])[0] if model is not None else None
    entropy_pi = quantities.entropy(pi)
    rows, rows_two = [], []
    for d in range(1, length):
        row = [d, quantities.tv(exact_one[d], pi), one_sided_bound(pi, first, lam, d), quantities.entropy(exact_one[d])]
        if model is not None:
            row.append(quantities.tv(model_one[d], pi))
        rows.append(tuple(row))
    for d in range(1, length - 1):
        m = length - 1 - d
        row = [d, m, quantities.tv(exact_two[d], pi), two_sided_bound(pi, first, last, lam, d, m)]
        if model is not None:
            row.append(quantities.tv(model_two[d], pi))
        rows_two.append(tuple(row))
    extra = ("MLP TV",) if model is not None else ()
    findings = {"lambda_star": lam, "entropy_of_stationary_law": entropy_pi,
                "tv_at_farthest_position": float(rows[-1][1]), "tv_next_to_known_token": float(rows[0][1])}
    if model is not None:
        findings["model: largest TV error against exact"] = float(max(
            abs(r[-1] - r[1]) for r in rows) if rows else 0.0)
    return Report(
        name="homogenisation",
        title=f"Homogenisation with distance: reversible 4-state chain, |lambda_*| = {lam:.4f}, L = {length}",
        tables=(Table(f"One observed token (x1 = {'ABCD'[first]}): marginal at distance d vs the stationary law",
                      ("d", "TV to pi", "bound C|lambda|^d", "entropy (nats)") + extra, tuple(rows)),
                Table(f"Both ends observed (x1 = {'ABCD'[first]}, x{length} = {'ABCD'[last]}): middle positions",
                      ("d from left", "d from right", "TV to pi", "bound") + extra, tuple(rows_two))),
        findings=findings,
        notes=(f"Stationary law pi = {np.round(pi, 4).tolist()}, entropy {entropy_pi:.4f} nats.",))
