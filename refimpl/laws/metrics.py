r"""How far a sampler's law q is from the data law p, and where the loss comes from.

For a value-independent schedule of reveal sets :math:`S_1, S_2, \ldots` with the oracle denoiser,
:math:`KL(p \| q) = \sum_k \mathbb{E}_p[TC(X_{S_k} \mid X_{S_{<k}})]` (proofs/kl_decomposition.md): each
step loses exactly the conditional total correlation of what it reveals together.

Examples
--------
>>> import refimpl
>>> p = refimpl.datasets.coupled_pairs()
>>> q = refimpl.exact_law(refimpl.oracle_denoiser(p), refimpl.samplers.FixedOrder([[0, 1]]), 2, 4)
>>> {key: round(value, 4) for key, value in refimpl.metrics.law_metrics(p, q).items()}
{'kl_p_q': 0.6931, 'kl_q_p': inf, 'tv': 0.5, 'incoherent_mass': 0.5}
"""
from typing import Sequence

import numpy as np

from ..core import validate
from ..core.errors import InvalidParameterError
from ..core.types import ArrayLike, LawLike, Table
from .joint import Law, conditional_law
from .quantities import kl, total_correlation, tv


def conditioned(p: LawLike, prompt: ArrayLike | None = None) -> Table:
    r"""The law of the full sequence given the clean tokens of ``prompt``, as a ``(V,)*L`` table.

    :math:`p'(x) = p(x) \mathbf{1}[x_C = z_C] / p(z_C)`: the law a sampler started from ``prompt``
    should reproduce.  ``prompt=None`` returns ``p`` itself.
    """
    table = validate.law_table(p)
    if prompt is None:
        return table
    return given_tokens(table, validate.tokens(prompt, table.shape[0], table.ndim, partial=True, name="prompt", ndim=1))


def given_tokens(table: Table, z: np.ndarray | None) -> Table:
    """:func:`conditioned` for a validated table and a validated partial sequence ``z`` (L,) (or None): what a
    caller that holds a :class:`refimpl.engine.Problem` uses, so that its prompt is checked once."""
    if z is None:
        return table
    vocab_size = table.shape[0]
    out = np.zeros_like(table)
    index = tuple(slice(None) if t == vocab_size else int(t) for t in z)
    out[index] = conditional_law(table, z)
    return out


def law_metrics(p: LawLike, q: LawLike, prompt: ArrayLike | None = None) -> dict[str, float]:
    r"""KL(p'||q), KL(q||p') (``inf`` when q leaves p's support), TV and the incoherent mass
    :math:`q(\{x : p'(x) = 0\})`, with :math:`p'` = ``conditioned(p, prompt)``."""
    return compare(conditioned(p, prompt), validate.law_table(q, "q"))


def compare(target: Table, q: Table) -> dict[str, float]:
    """:func:`law_metrics` of validated tables, ``target`` already conditioned on the prompt."""
    if q.shape != target.shape:
        raise InvalidParameterError(f"p and q live on different spaces: {target.shape} and {q.shape}")
    return {
        "kl_p_q": kl(target, q),
        "kl_q_p": kl(q, target),
        "tv": tv(target, q),
        "incoherent_mass": float(q[target == 0].sum()),
    }


def reveal_decomposition(p: LawLike, sets: Sequence[Sequence[int]], prompt: ArrayLike | None = None) -> list[float]:
    r"""Per-step losses :math:`\mathbb{E}_p[TC(X_{S_k} \mid X_{S_{<k}})]` of a fixed reveal schedule ``sets``
    (given the prompt's clean tokens); their sum is :math:`KL(p' \| q)` for the oracle."""
    table = validate.law_table(p)
    z = None if prompt is None else validate.tokens(prompt, table.shape[0], table.ndim, partial=True, name="prompt",
                                                    ndim=1)
    return decomposition(table, sets, z)


def decomposition(table: Table, sets: Sequence[Sequence[int]], z: np.ndarray | None) -> list[float]:
    """:func:`reveal_decomposition` of a validated table given a validated partial sequence ``z`` (or None)."""
    target = given_tokens(table, z)
    vocab_size, length = target.shape[0], target.ndim
    known = np.zeros(length, dtype=bool) if z is None else z != vocab_size
    try:
        sets = [] if isinstance(sets, (str, bytes)) else list(sets)
    except TypeError:
        sets = []
    if not sets:
        raise InvalidParameterError("sets must be a non-empty list of position sets")
    losses = []
    for chosen in sets:
        chosen = validate.positions(chosen, length, "reveal set", allow_empty=False)
        if known[list(chosen)].any():
            raise InvalidParameterError(f"reveal set {chosen} holds a position that is already known")
        partial = np.where(known, 0, vocab_size)  # only the pattern matters with average=True
        losses.append(total_correlation(Law(target), partial, positions=chosen, average=True))
        known[list(chosen)] = True
    return losses
