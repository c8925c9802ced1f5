r"""Denoisers: the protocol, validation of what a denoiser returns, and the exact oracle.

The protocol (DESIGN.md interop contract): a denoiser is any callable ``den(z) -> probs`` with ``z`` an
int array (B, L) in ``0..V`` (V = mask) and ``probs`` float64 (B, L, V), every row on the simplex and
one-hot at clean positions.  :func:`evaluate` calls one and validates the answer, naming the
offending row.  :func:`oracle_denoiser` is the optimal denoiser :math:`\mu^*(z)_{i,v} = p(x_i = v \mid z_C)`.
"""
import itertools

import numpy as np

from ..laws import space
from ..core import validate
from ..core.errors import InvalidDenoiserOutputError, RefimplError
from ..laws.lattice import block_axes, lattice_bytes, marginal_lattice
from ..core.limits import check_memory, get_memory_limit
from ..core.numerics import parallel_for

ROW_TOLERANCE = 1e-9  # |row sum - 1| and 1 - prob(clean token) allowed in a denoiser's output


def _row(z, b, i, what):
    return (f"denoiser output row (batch {b}, position {i}) for partial sequence {z[b].tolist()} {what}")


def check_output(z, probs, vocab_size):
    r"""Validate a denoiser's answer ``probs`` at ``z`` (B, L); returns it as float64 (B, L, V)."""
    try:
        arr = np.asarray(probs)
    except (ValueError, TypeError) as error:
        raise InvalidDenoiserOutputError(f"denoiser output cannot be read as an array: {error}") from None
    if arr.dtype.kind != "f":
        raise InvalidDenoiserOutputError(f"denoiser must return floating probabilities, got dtype {arr.dtype}")
    arr = arr.astype(np.float64, copy=False)
    want = z.shape + (vocab_size,)
    if arr.shape != want:
        hint = " (one column per data token; no mask column)" if arr.shape[:-1] == z.shape else ""
        raise InvalidDenoiserOutputError(f"denoiser must return shape {want}, got {arr.shape}{hint}")
    finite = np.isfinite(arr).all(axis=-1)
    if not finite.all():
        b, i = np.argwhere(~finite)[0]
        raise InvalidDenoiserOutputError(_row(z, b, i, f"holds a non-finite value: {arr[b, i].tolist()}"))
    negative = (arr < 0).any(axis=-1)
    if negative.any():
        b, i = np.argwhere(negative)[0]
        raise InvalidDenoiserOutputError(_row(z, b, i, f"holds a negative probability: {arr[b, i].tolist()}"))
    sums = arr.sum(axis=-1)
    off = np.abs(sums - 1.0) > ROW_TOLERANCE
    if off.any():
        b, i = np.argwhere(off)[0]
        raise InvalidDenoiserOutputError(
            _row(z, b, i, f"sums to {float(sums[b, i])!r}, not 1 (tolerance {ROW_TOLERANCE}); apply a softmax"))
    clean = z != vocab_size
    b_idx, i_idx = np.nonzero(clean)
    kept = arr[b_idx, i_idx, z[b_idx, i_idx]]
    bad = kept < 1.0 - ROW_TOLERANCE
    if bad.any():
        b, i = b_idx[bad][0], i_idx[bad][0]
        raise InvalidDenoiserOutputError(_row(
            z, b, i, f"is not one-hot at clean token {z[b, i]}: {arr[b, i].tolist()}; a denoiser must "
                     f"carry clean positions over"))
    return arr


def evaluate(denoiser, z, vocab_size):
    """Call ``denoiser`` on validated partial sequences ``z`` (B, L) and validate its answer."""
    if not callable(denoiser):
        raise validate.InvalidTypeError(f"a denoiser must be callable, got {type(denoiser).__name__}")
    z = validate.tokens(z, vocab_size, partial=True, name="z", ndim=2)
    try:
        answer = denoiser(z.copy())
    except RefimplError:
        raise
    except Exception as error:  # the denoiser under test failed: say so, keep the cause for --debug
        raise InvalidDenoiserOutputError(f"the denoiser raised {type(error).__name__}: {error}") from error
    return check_output(z, answer, vocab_size)


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

    def __repr__(self):
        return f"{type(self).__name__}(V={self.vocab_size}, L={self.length})"


def table_bytes(vocab_size, length):
    """Bytes of the per-position tables of a :class:`TableDenoiser`."""
    return length * vocab_size * (vocab_size + 1) ** (length - 1) * 8


def tabulate(denoiser, vocab_size, length, chunk=1 << 15):
    r"""Evaluate any denoiser once on all :math:`(V+1)^L` partial sequences and keep the answers as a
    :class:`TableDenoiser` (validated), so exact laws with it run as fast as with the oracle."""
    vocab_size, length = validate.space(vocab_size, length)
    if isinstance(denoiser, TableDenoiser):
        return denoiser
    check_memory(table_bytes(vocab_size, length), f"tabulating a denoiser for V={vocab_size}, L={length}")
    width = vocab_size + 1
    count = width**length
    rows = [np.empty((count // width, vocab_size)) for _ in range(length)]  # (N_i, V) per position
    filled = [0] * length
    for start in range(0, count, chunk):
        z = space.decode(np.arange(start, min(start + chunk, count)), vocab_size, length, partial=True)
        mu = evaluate(denoiser, z, vocab_size)
        for i in range(length):
            at = np.flatnonzero(z[:, i] == vocab_size)
            rows[i][filled[i]:filled[i] + len(at)] = mu[at, i]
            filled[i] += len(at)
    tables = []
    for i in range(length):
        grid = rows[i].reshape((width,) * (length - 1) + (vocab_size,))  # C order of the other positions
        tables.append(np.ascontiguousarray(np.moveaxis(grid, -1, i)))
    return TableDenoiser(tables, vocab_size, length)


EINSUM_ROWS = 1000  # OracleDenoiser: rows shorter than this are normalised with einsum


class OracleDenoiser(TableDenoiser):
    r"""The optimal denoiser of a law p: exact conditional marginals, precomputed for every partial sequence.

    For each position i, ``tables[i]`` has the shape of the marginal lattice with axis i cut to the V
    data tokens, and holds :math:`p(x_i = v \mid z_C)` at the partial sequence with :math:`z_i = V`:

    .. math::  \mu^*(z)_{i,v} = \tilde P[z_{i \leftarrow v}] / \tilde P[z]

    (:math:`\tilde P` the marginal lattice).  That is :math:`L V (V+1)^{L-1}` numbers — only masked
    positions need one.  It does not depend on t: the optimal denoiser is time-agnostic.

    Convention at probability zero: where :math:`p(z_C) = 0` the conditional does not exist; the oracle
    returns the uniform distribution 1/V at the masked positions there, so it is a valid denoiser
    everywhere.  No sampler started from a state of positive probability reaches such a z with
    positive probability, so exact laws and NELBOs do not depend on this choice.
    """

    def __init__(self, p):
        table = validate.law_table(p)
        vocab_size, length = table.shape[0], table.ndim
        self.vocab_size, self.length = vocab_size, length
        check_memory(lattice_bytes(vocab_size, length) + table_bytes(vocab_size, length),
                     f"the oracle denoiser for V={vocab_size}, L={length} (lattice and conditional tables)")
        self.lattice = marginal_lattice(table)
        self.zero_probability_states = int(np.count_nonzero(self.lattice == 0))
        self.tables = self._conditional_tables()

    def _conditional_tables(self):
        r"""``tables[i] = lattice[.., :V (axis i), ..] / lattice[.., V (axis i), ..]``, blockwise.

        For positions past the block axes each cache-sized lattice block is read once for all of
        them (blocks in parallel); the first positions use whole contiguous slabs.  One reciprocal
        per partial sequence, then one multiply per probability.
        """
        vocab_size, length, lattice = self.vocab_size, self.length, self.lattice
        width = vocab_size + 1
        tables = [np.empty((width,) * i + (vocab_size,) + (width,) * (length - 1 - i)) for i in range(length)]
        lead = block_axes(vocab_size, length)

        def normalise(source, inverse, target, before, after):
            """target (A, V, B) = source[:, :V, :] * inverse[:, V:, :], all viewed as (A, V+1, B).

            For short rows (B < :data:`EINSUM_ROWS`: the last positions) ``einsum`` runs the same
            products 1.3-2x faster than ``multiply``, whose inner loop is then only B (or V) long
            (measured at V=4, L=10 per 3 MiB block: the last five positions 2.8 ms -> 1.6 ms)."""
            numerator = source.reshape(before, width, after)[:, :vocab_size, :]
            denominator_inverse = inverse.reshape(before, -1, after)[:, -1:, :]  # (A, 1, B)
            out = target.reshape(before, vocab_size, after)
            with np.errstate(invalid="ignore"):  # 0 * inf where p(z_C) = 0: made uniform afterwards
                if after < EINSUM_ROWS:
                    np.einsum("avb,ab->avb", numerator, denominator_inverse[:, 0, :], out=out)
                else:
                    np.multiply(numerator, denominator_inverse, out=out)

        def block(prefix):
            source = lattice[prefix]
            with np.errstate(divide="ignore"):
                inverse = 1.0 / source  # one reciprocal per partial sequence, shared by all i
            for i in range(lead, length):
                normalise(source, inverse, tables[i][prefix], width ** (i - lead), width ** (length - 1 - i))

        def slab(i):
            before, after = width**i, width ** (length - 1 - i)
            with np.errstate(divide="ignore"):
                inverse = 1.0 / lattice.reshape(before, width, after)[:, vocab_size:, :]  # (A, 1, B)
            normalise(lattice, inverse, tables[i], before, after)

        with np.errstate(invalid="ignore"):  # 0 * inf where p(z_C) = 0; overwritten just below
            parallel_for(block, itertools.product(range(width), repeat=lead), elements=lattice.size)
            parallel_for(slab, range(lead), elements=lattice.size)
        if self.zero_probability_states:
            for i, out in enumerate(tables):
                zero = lattice[(slice(None),) * i + (slice(vocab_size, width),)] == 0
                np.copyto(out, 1.0 / vocab_size, where=np.broadcast_to(zero, out.shape))
        return tuple(tables)

    def __repr__(self):
        return f"OracleDenoiser(V={self.vocab_size}, L={self.length})"


class LatticeOracle:
    r"""The optimal denoiser of ``p`` from its marginal lattice alone, computing conditionals on demand.

    :math:`\mu^*(z)_{i,v} = \tilde P[z_{i \leftarrow v}] / \tilde P[z]`, read from the lattice (``(V+1)^L``
    numbers) instead of precomputed tables (``L V (V+1)^{L-1}``): for problems whose tables would not fit.
    The exact-law engine asks it for one mask pattern at a time (:meth:`pattern_conditionals`).  Same
    convention as :class:`OracleDenoiser` where :math:`p(z_C) = 0`: uniform rows.
    """

    def __init__(self, p):
        table = validate.law_table(p)
        self.vocab_size, self.length = table.shape[0], table.ndim
        self.lattice = marginal_lattice(table)

    def pattern_conditionals(self, pattern, j):
        r""":math:`\mu^*_j` for every source of a mask pattern, in block layout (token on axis j)."""
        vocab_size, width = self.vocab_size, self.vocab_size + 1
        numerator = self.lattice[tuple(slice(0, vocab_size) if (not m or a == j) else slice(vocab_size, width)
                                       for a, m in enumerate(pattern))]
        denominator = self.lattice[tuple(slice(0, vocab_size) if not m else slice(vocab_size, width)
                                         for m in pattern)]
        zero = denominator == 0
        with np.errstate(invalid="ignore", divide="ignore"):
            out = numerator / denominator
        if zero.any():
            np.copyto(out, 1.0 / vocab_size, where=np.broadcast_to(zero, out.shape))
        return out

    def __call__(self, z):
        vocab_size, length = self.vocab_size, self.length
        z = validate.tokens(z, vocab_size, length, partial=True, name="z", ndim=2)
        flat = self.lattice.ravel()
        strides = (vocab_size + 1) ** np.arange(length - 1, -1, -1)
        index = z @ strides  # (B,)
        out = np.zeros((len(z), length, vocab_size))
        b_idx, i_idx = np.nonzero(z != vocab_size)
        out[b_idx, i_idx, z[b_idx, i_idx]] = 1.0
        for i in range(length):
            rows = np.flatnonzero(z[:, i] == vocab_size)
            numerator = flat[index[rows, None] + (np.arange(vocab_size) - vocab_size) * strides[i]]  # (R, V)
            denominator = flat[index[rows]][:, None]
            with np.errstate(invalid="ignore", divide="ignore"):
                out[rows, i] = np.where(denominator > 0, numerator / denominator, 1.0 / vocab_size)
        return out

    def __repr__(self):
        return f"LatticeOracle(V={self.vocab_size}, L={self.length})"


def oracle_denoiser(p, precompute=None):
    r"""The exact optimal denoiser of ``p``.

    ``precompute=True`` builds every conditional table (:class:`OracleDenoiser`, fastest);
    ``False`` keeps only the marginal lattice (:class:`LatticeOracle`, ``L V / (V+1)`` times less memory);
    ``None`` (default) precomputes when the tables fit within the memory limit.
    """
    table = validate.law_table(p)
    vocab_size, length = table.shape[0], table.ndim
    if precompute is not None:
        validate.flag(precompute, "precompute")
    if precompute is None:
        precompute = lattice_bytes(vocab_size, length) + table_bytes(vocab_size, length) <= get_memory_limit()
    return OracleDenoiser(table) if precompute else LatticeOracle(table)
