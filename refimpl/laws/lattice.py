r"""The lattice of marginals: the probability of the clean part of *every* partial sequence at once.

For a law p of shape ``(V,)*L`` the lattice is the table :math:`\tilde P` of shape ``(V+1,)*L`` with

.. math::  \tilde P[z] = p(x_C = z_C) = \sum_{x_M} p(x_M, z_C), \qquad C = \{i : z_i \ne V\},

so index V on an axis means "summed out".  It is built one axis at a time, each marginal from its
parent with one more position, in :math:`O(L (V+1)^L)` operations — instead of one summation over
the full table per mask pattern, :math:`O(2^L V^L)`.  Every exact quantity about partial sequences
(the oracle denoiser, the law of :math:`x_t`, the exact NELBO) reads from it, and the oracle's
conditionals are formed from it in one place, :func:`mu_star`.

Examples
--------
>>> import refimpl
>>> lattice = refimpl.lattice.marginal_lattice(refimpl.datasets.coupled_pairs())
>>> float(lattice[0, 4]), float(lattice[4, 4]), float(lattice[0, 3])   # p(x_0 = A), the empty event, p(AD)
(0.5, 1.0, 0.0)
"""
import itertools

import numpy as np

from ..core import validate
from ..core.memory import check_memory
from ..core.numerics import parallel_for
from ..core.types import LawLike, Table

BLOCK_ELEMENTS = 1 << 20  # a lattice block (8 MiB) stays in cache while its axes are summed (docs/PERFORMANCE.md)


def lattice_bytes(vocab_size: int, length: int) -> int:
    """Bytes of the lattice table for (V, L)."""
    return (vocab_size + 1) ** length * 8


def block_axes(vocab_size: int, length: int) -> int:
    """How many leading axes index the blocks: the fewest that make a block at most BLOCK_ELEMENTS."""
    lead = 0
    while lead < length - 1 and (vocab_size + 1) ** (length - lead) > BLOCK_ELEMENTS:
        lead += 1
    return lead


def _sum_out(array, axis, vocab_size, index):
    """``array[index with axis = V] = sum_v array[index with axis = v]``, adding v = 0, 1, ... in order."""
    def at(v):
        where = list(index)
        where[axis] = slice(v, v + 1)
        return array[tuple(where)]

    total = at(vocab_size)
    np.add(at(0), at(1), out=total)
    for v in range(2, vocab_size):
        np.add(total, at(v), out=total)


def marginal_lattice(p: LawLike) -> Table:
    r""":math:`\tilde P` of shape ``(V+1,)*L`` (float64): :math:`\tilde P[z] = p(x_C = z_C)`.

    Blocks: for each clean value of the first ``lead`` positions, the trailing axes are summed out in
    a cache-sized block (blocks in parallel); then the ``lead`` leading axes are summed out over
    contiguous slabs.  Additions run in a fixed order, so the result does not depend on threading.
    """
    table = validate.law_table(p)
    vocab_size, length = table.shape[0], table.ndim
    check_memory(lattice_bytes(vocab_size, length), f"the marginal lattice for V={vocab_size}, L={length}")
    out = np.empty((vocab_size + 1,) * length)
    clean = slice(0, vocab_size)
    lead = block_axes(vocab_size, length)
    trailing = length - lead

    def fill_block(prefix):
        block = out[prefix]  # (V+1,)*trailing view
        block[(clean,) * trailing] = table[prefix]
        for axis in reversed(range(trailing)):
            _sum_out(block, axis, vocab_size, [clean] * axis + [None] + [slice(None)] * (trailing - axis - 1))

    parallel_for(fill_block, itertools.product(range(vocab_size), repeat=lead), elements=out.size)
    for axis in reversed(range(lead)):
        _sum_out(out, axis, vocab_size, [clean] * axis + [None] + [slice(None)] * (length - axis - 1))
    return out


TINY = np.finfo(np.float64).tiny  # the smallest normal float64: 1/x overflows below it


def reciprocal(denominator: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    r""":math:`1 / \tilde P[z]` (inf where it is 0: those entries are replaced by :func:`unseen_uniform`; inf also
    where it is subnormal: those are divided directly, :func:`tiny_quotients`)."""
    with np.errstate(divide="ignore", over="ignore"):
        return np.divide(1.0, denominator, out=out)


def tiny_quotients(numerator: np.ndarray, denominator: np.ndarray) -> "tuple[np.ndarray, np.ndarray] | None":
    r"""``(where, quotients)`` for the states whose :math:`0 < \tilde P[z] <` :data:`TINY` (their reciprocal
    overflows): the mask broadcast to the numerator's shape and ``numerator / denominator`` there, or None when there
    is none.  Taken before a product overwrites the numerator, written back after it."""
    small = (denominator > 0) & (denominator < TINY)
    if not small.any():
        return None
    where = np.broadcast_to(small, np.broadcast_shapes(numerator.shape, denominator.shape))
    quotients = np.zeros(where.shape)
    np.divide(numerator, denominator, out=quotients, where=where)
    return where, quotients


def unseen_uniform(out: np.ndarray, denominator: np.ndarray, vocab_size: int) -> np.ndarray:
    r"""The convention where :math:`p(z_C) = \tilde P[z] = 0`: the conditional does not exist, and the oracle
    answers the uniform 1/V there (in place; ``denominator`` broadcasts to ``out``).  No sampler started
    from a state of positive probability reaches such a z with positive probability, so exact laws and
    NELBOs do not depend on the choice."""
    zero = denominator == 0
    if zero.any():
        np.copyto(out, 1.0 / vocab_size, where=np.broadcast_to(zero, out.shape))
    return out


def mu_star(numerator: np.ndarray, denominator: np.ndarray, vocab_size: int, out: np.ndarray | None = None,
            inverse: np.ndarray | None = None) -> np.ndarray:
    r""":math:`\tilde P[z_{i \leftarrow v}] \cdot (1/\tilde P[z])`, uniform where :math:`\tilde P[z] = 0` (arrays
    that broadcast; ``inverse``, if given, is ``reciprocal(denominator)`` already)."""
    inverse = reciprocal(denominator) if inverse is None else inverse
    tiny = tiny_quotients(numerator, denominator)  # (before the product: ``out`` may be the numerator)
    with np.errstate(invalid="ignore"):  # 0 * inf where P~[z] = 0: replaced just below
        out = np.multiply(numerator, inverse, out=out)
    if tiny is not None:
        np.copyto(out, tiny[1], where=tiny[0])
    return unseen_uniform(out, denominator, vocab_size)
