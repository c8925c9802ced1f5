r"""The lattice of marginals: the probability of the clean part of *every* partial sequence at once.

For a law p of shape ``(V,)*L`` the lattice is the table :math:`\tilde P` of shape ``(V+1,)*L`` with

.. math::  \tilde P[z] = p(x_C = z_C) = \sum_{x_M} p(x_M, z_C), \qquad C = \{i : z_i \ne V\},

so index V on an axis means "summed out".  It is built one axis at a time, each marginal from its
parent with one more position, in :math:`O(L (V+1)^L)` operations — instead of one summation over
the full table per mask pattern, :math:`O(2^L V^L)`.  Every exact quantity about partial sequences
(the oracle denoiser, the law of :math:`x_t`, the exact NELBO) reads from it.
"""
import numpy as np

from . import validate
from .limits import check_memory


def lattice_bytes(vocab_size, length):
    """Bytes of the lattice table for (V, L)."""
    return (vocab_size + 1) ** length * 8


def marginal_lattice(p):
    r""":math:`\tilde P` of shape ``(V+1,)*L`` (float64): :math:`\tilde P[z] = p(x_C = z_C)`."""
    table = validate.law_table(p)
    vocab_size, length = table.shape[0], table.ndim
    check_memory(lattice_bytes(vocab_size, length), f"the marginal lattice for V={vocab_size}, L={length}")
    out = np.empty((vocab_size + 1,) * length)
    clean = slice(0, vocab_size)
    out[(clean,) * length] = table
    for axis in range(length):
        head = (slice(None),) * axis  # axes already summed: their mask entries are filled
        tail = (clean,) * (length - axis - 1)
        np.sum(out[head + (clean,) + tail], axis=axis, keepdims=True,
               out=out[head + (slice(vocab_size, vocab_size + 1),) + tail])
    return out
