r"""The one way the exact-law engine reads a denoiser: :func:`reader`.

A *reader* answers :math:`\mu(z)_{j,\cdot}` for all partial sequences of chosen mask patterns, in the two
layouts the engine works in:

- ``block(pattern)`` -> ``{j: array}`` for every masked position j of one pattern, in block layout: one
  axis per position, size V at clean positions (the sources) and at j (the token), 1 at the other
  masked positions (a view of the table for a tabulated denoiser);
- ``gather(index, at, work)`` -> (e, V, P, N) at the positions ``at`` (P, e) of the sources ``index``
  (P, N) — flat indices into the ``(V+1,)*L`` table, many patterns at once.

A denoiser that is a table brings its own reader (``denoiser.reader(vocab_size, length)``); any other
callable is evaluated on the decoded partial sequences (:class:`EvaluatedReader`).
"""
import numpy as np

from ..core.errors import InvalidParameterError
from ..core.numerics import FRESH, value_grid
from ..core.types import Denoiser
from ..laws import space
from ..laws.lattice import mu_star, reciprocal
from .evaluation import evaluate_rows


def reader(denoiser: Denoiser, vocab_size: int, length: int) -> "EvaluatedReader | TableReader | LatticeReader":
    """The reader of ``denoiser`` for V = ``vocab_size``, L = ``length`` (see the module docstring)."""
    own = getattr(denoiser, "reader", None)
    return own(vocab_size, length) if callable(own) else EvaluatedReader(denoiser, vocab_size, length)


def check_space(denoiser: Denoiser, vocab_size: int, length: int) -> None:
    """A tabulated denoiser answers for one (V, L) only: refuse another."""
    if (denoiser.vocab_size, denoiser.length) != (vocab_size, length):
        raise InvalidParameterError(
            f"the tabulated denoiser is for V={denoiser.vocab_size}, L={denoiser.length}, not V={vocab_size}, "
            f"L={length}")


def block_index(pattern: np.ndarray, j: int, vocab_size: int) -> tuple:
    """Index into a ``(V+1,)*L`` table of the block-layout answers at position j of a mask pattern: every
    clean axis and j cut to the V tokens, the other masked axes to the mask."""
    return tuple(slice(0, vocab_size) if (not masked or a == j) else slice(vocab_size, vocab_size + 1)
                 for a, masked in enumerate(pattern))


class EvaluatedReader:
    """Reads a plain callable denoiser by calling it (:func:`refimpl.denoisers.evaluation.evaluate_rows`)."""

    def __init__(self, denoiser, vocab_size, length):
        self.denoiser, self.vocab_size, self.length = denoiser, vocab_size, length

    def block(self, pattern):
        vocab_size, length = self.vocab_size, self.length
        clean = np.flatnonzero(~pattern)
        grids = value_grid(vocab_size, len(clean))  # (N, |C|)
        z = np.full((len(grids), length), vocab_size, dtype=np.int64)
        z[:, clean] = grids
        mu = evaluate_rows(self.denoiser, z, vocab_size)
        out = {}
        for j in np.flatnonzero(pattern):
            shape = [vocab_size if not pattern[a] else 1 for a in range(length)]
            rows = mu[:, j, :].reshape((vocab_size,) * len(clean) + (vocab_size,))
            rows = np.moveaxis(rows, -1, int(np.searchsorted(clean, j)))  # token axis among the clean axes
            shape[j] = vocab_size
            out[int(j)] = rows.reshape(shape)
        return out

    def gather(self, index, at, work=FRESH):
        z = space.decode(index.reshape(-1), self.vocab_size, self.length, partial=True)  # (P N, L)
        mu = evaluate_rows(self.denoiser, z, self.vocab_size).reshape(index.shape + (self.length, self.vocab_size))
        return mu[np.arange(at.shape[0])[:, None], :, at].transpose(1, 3, 0, 2)  # (P, e, N, V) -> (e, V, P, N)


class TableReader:
    """Reads a :class:`refimpl.denoisers.TableDenoiser`'s tables: views in block layout (kept per pattern),
    gathered entries by flat index."""

    def __init__(self, tables, vocab_size, length):
        self.tables, self.vocab_size, self.length = tables, vocab_size, length
        self._views = {}

    def block(self, pattern):
        key = pattern.tobytes()
        views = self._views.get(key)
        if views is None:
            views = {int(j): self.tables[j][block_index(pattern, j, self.vocab_size)] for j in np.flatnonzero(pattern)}
            self._views[key] = views
        return views

    def gather(self, index, at, work=FRESH):
        vocab_size = self.vocab_size
        step = space.strides(vocab_size, self.length)
        tokens = np.arange(vocab_size)[:, None]  # (V, 1)
        at = at.T  # (e, P)
        # tables[j] has axis j cut to V: z_j = V at flat f becomes token v at f - hi W - (V - v) W
        lo = step[at][:, :, None]  # (e, P, 1): W = (V+1)^(L-1-j)
        base = index - (index // ((vocab_size + 1) * lo)) * lo - vocab_size * lo  # (e, P, N): token 0 in tables[j]
        out = np.empty((at.shape[0], vocab_size) + index.shape)
        for j in np.unique(at):
            slot, pattern = np.nonzero(at == j)
            out[slot, :, pattern] = self.tables[j].reshape(-1)[base[slot, pattern][:, None, :] + tokens * step[j]]
        return out


class LatticeReader:
    r"""Reads the oracle from its marginal lattice: :math:`\mu^*(z)_{j,v} = \tilde P[z_{j \leftarrow v}] \cdot
    (1/\tilde P[z])` (:func:`refimpl.laws.lattice.mu_star`).  ``gather`` reads one table of (V+1)^L numbers,
    L V / (V+1) times smaller than the conditional tables, so it stays in cache; ``block`` is taken from
    ``tables`` when given (the :class:`refimpl.denoisers.OracleDenoiser`'s views), else computed."""

    def __init__(self, lattice, vocab_size, length, tables=None):
        self.lattice, self.vocab_size, self.length = lattice, vocab_size, length
        self._tables = None if tables is None else TableReader(tables, vocab_size, length)

    def block(self, pattern):
        if self._tables is not None:
            return self._tables.block(pattern)
        vocab_size = self.vocab_size
        denominator = self.lattice[block_index(pattern, -1, vocab_size)]
        return {int(j): mu_star(self.lattice[block_index(pattern, j, vocab_size)], denominator, vocab_size)
                for j in np.flatnonzero(pattern)}

    def gather(self, index, at, work=FRESH):
        vocab_size, lattice = self.vocab_size, self.lattice.reshape(-1)
        at = at.T  # (e, P)
        shape = at.shape[:1] + (vocab_size,) + index.shape
        shift = (np.arange(vocab_size) - vocab_size)[:, None] * space.strides(vocab_size, self.length)[at][:, None, :]
        denominator = np.take(lattice, index, out=work.scratch("denominator", index.shape))  # (P, N)
        inverse = reciprocal(denominator, out=work.scratch("inverse", index.shape))
        where = np.add(index, shift[..., None], out=work.scratch("where", shape, np.int64))  # (e, V, P, N)
        out = np.take(lattice, where, out=work.scratch("mu", shape), mode="clip")  # (indices are valid)
        return mu_star(out, denominator, vocab_size, out=out, inverse=inverse)
