r"""Denoisers stored as tables, read by the exact-law engine as views: :class:`TableDenoiser` and
:func:`tabulate`, which turns any denoiser into one."""
import numpy as np

from ..core import validate
from ..core.memory import check_memory
from ..core.types import Denoiser
from .conditionals import TableReader, check_space
from .evaluation import CHUNK, each_chunk


class TableDenoiser:
    r"""A denoiser stored as tables: ``tables[i]`` of shape ``(V+1,)*i + (V,) + (V+1,)*(L-1-i)`` holds
    :math:`\mu(z)_{i,\cdot}` along axis i at every partial sequence z with :math:`z_i = V` (the mask index of
    axis i replaced by the token axis).  The exact-law engine reads such tables directly, as views.
    """

    def __init__(self, tables, vocab_size, length):
        self.vocab_size, self.length = vocab_size, length
        self.tables = tuple(tables)

    def __call__(self, z):
        vocab_size, length = self.vocab_size, self.length
        z = validate.tokens(z, vocab_size, length, partial=True, name="z", ndim=2)
        batch = z.shape[0]
        out = np.zeros((batch, length, vocab_size))  # (B, L, V)
        b_idx, i_idx = np.nonzero(z != vocab_size)
        out[b_idx, i_idx, z[b_idx, i_idx]] = 1.0
        for i in range(length):
            rows = np.flatnonzero(z[:, i] == vocab_size)
            if rows.size == 0:
                continue
            dims = [vocab_size + 1] * length
            dims[i] = vocab_size
            at = z[rows].copy()
            at[:, i] = 0
            base = np.ravel_multi_index(tuple(at.T), dims)  # index of z_{i <- 0} in tables[i]
            stride = (vocab_size + 1) ** (length - 1 - i)
            out[rows, i] = self.tables[i].ravel()[base[:, None] + stride * np.arange(vocab_size)]
        return out

    def reader(self, vocab_size, length):
        """The engine's reader (:mod:`refimpl.denoisers.conditionals`): views of the tables."""
        check_space(self, vocab_size, length)
        return TableReader(self.tables, vocab_size, length)

    def __repr__(self):
        return f"{type(self).__name__}(V={self.vocab_size}, L={self.length})"


def table_bytes(vocab_size: int, length: int) -> int:
    """Bytes of the per-position tables of a :class:`TableDenoiser`."""
    return length * vocab_size * (vocab_size + 1) ** (length - 1) * 8


def tabulate(denoiser: Denoiser, vocab_size: int, length: int, chunk: int = CHUNK) -> "TableDenoiser":
    r"""Evaluate any denoiser once on all :math:`(V+1)^L` partial sequences and keep the answers as a
    :class:`TableDenoiser` (validated), so exact laws with it run as fast as with the oracle."""
    vocab_size, length = validate.space(vocab_size, length)
    if isinstance(denoiser, TableDenoiser):
        return denoiser
    check_memory(table_bytes(vocab_size, length), f"tabulating a denoiser for V={vocab_size}, L={length}")
    width = vocab_size + 1
    rows = [np.empty((width ** (length - 1), vocab_size)) for _ in range(length)]  # (N_i, V) per position
    filled = [0] * length
    for _, z, mu in each_chunk(denoiser, vocab_size, length, chunk):
        for i in range(length):
            at = np.flatnonzero(z[:, i] == vocab_size)
            rows[i][filled[i]:filled[i] + len(at)] = mu[at, i]
            filled[i] += len(at)
    tables = []
    for i in range(length):
        grid = rows[i].reshape((width,) * (length - 1) + (vocab_size,))  # C order of the other positions
        tables.append(np.ascontiguousarray(np.moveaxis(grid, -1, i)))
    return TableDenoiser(tables, vocab_size, length)
