r"""The exact optimal denoiser :math:`\mu^*(z)_{i,v} = p(x_i = v \mid z_C)`, with its rule at probability zero.

Every oracle number in refimpl is formed one way, :func:`refimpl.laws.lattice.mu_star`:
:math:`\mu^*(z)_{i,v} = \tilde P[z_{i \leftarrow v}] \cdot (1 / \tilde P[z])` from the marginal lattice
:math:`\tilde P` — one reciprocal per partial sequence, one product per probability — and the uniform 1/V
where :math:`\tilde P[z] = 0` (:func:`refimpl.laws.lattice.unseen_uniform`).
"""
import itertools

import numpy as np

from ..core import validate
from ..core.memory import check_memory, get_memory_limit
from ..core.numerics import parallel_for
from ..core.types import LawLike
from ..laws.lattice import block_axes, lattice_bytes, marginal_lattice, mu_star, reciprocal, tiny_quotients, unseen_uniform
from .conditionals import LatticeReader, check_space
from .tables import TableDenoiser, table_bytes

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
            """target (before, V, after) = source[:, :V, :] * inverse[:, V:, :], all viewed as (before, V+1, after).

            For short rows (B < :data:`EINSUM_ROWS`: the last positions) ``einsum`` runs the same
            products faster than ``multiply``, whose inner loop is then only B (or V) long
            (docs/PERFORMANCE.md)."""
            numerator = source.reshape(before, width, after)[:, :vocab_size, :]
            denominator_inverse = inverse.reshape(before, -1, after)[:, -1:, :]  # (before, 1, after)
            out = target.reshape(before, vocab_size, after)
            with np.errstate(invalid="ignore"):  # 0 * inf where p(z_C) = 0: made uniform afterwards
                if after < EINSUM_ROWS:
                    np.einsum("avb,ab->avb", numerator, denominator_inverse[:, 0, :], out=out)
                else:
                    np.multiply(numerator, denominator_inverse, out=out)

        def block(prefix):
            source = lattice[prefix]
            inverse = reciprocal(source)  # one reciprocal per partial sequence, shared by all i
            for i in range(lead, length):
                normalise(source, inverse, tables[i][prefix], width ** (i - lead), width ** (length - 1 - i))

        def slab(i):
            before, after = width**i, width ** (length - 1 - i)
            inverse = reciprocal(lattice.reshape(before, width, after)[:, vocab_size:, :])  # (before, 1, after)
            normalise(lattice, inverse, tables[i], before, after)

        with np.errstate(invalid="ignore"):  # 0 * inf where p(z_C) = 0; overwritten just below
            parallel_for(block, itertools.product(range(width), repeat=lead), elements=lattice.size)
            parallel_for(slab, range(lead), elements=lattice.size)
        for i, out in enumerate(tables):
            denominator = lattice[(slice(None),) * i + (slice(vocab_size, width),)]
            tiny = tiny_quotients(lattice[(slice(None),) * i + (slice(0, vocab_size),)], denominator)
            if tiny is not None:  # a subnormal p(z_C): its reciprocal overflowed, so divide directly
                np.copyto(out, tiny[1], where=tiny[0])
            if self.zero_probability_states:
                unseen_uniform(out, denominator, vocab_size)
        return tuple(tables)

    def reader(self, vocab_size, length):
        """The engine's reader (:mod:`refimpl.denoisers.conditionals`): table views, lattice gathers."""
        check_space(self, vocab_size, length)
        return LatticeReader(self.lattice, vocab_size, length, tables=self.tables)

    def __repr__(self):
        return f"OracleDenoiser(V={self.vocab_size}, L={self.length})"


class LatticeOracle:
    r"""The optimal denoiser of ``p`` from its marginal lattice alone, computing conditionals on demand.

    :math:`\mu^*(z)_{i,v} = \tilde P[z_{i \leftarrow v}] / \tilde P[z]`, read from the lattice (``(V+1)^L``
    numbers) instead of precomputed tables (``L V (V+1)^{L-1}``): for problems whose tables would not fit.
    The exact-law engine reads it through :meth:`reader`.  Same
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
        return mu_star(numerator, denominator, vocab_size)

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
            out[rows, i] = mu_star(numerator, denominator, vocab_size)
        return out

    def reader(self, vocab_size, length):
        """The engine's reader (:mod:`refimpl.denoisers.conditionals`), from the lattice alone."""
        check_space(self, vocab_size, length)
        return LatticeReader(self.lattice, vocab_size, length)

    def __repr__(self):
        return f"LatticeOracle(V={self.vocab_size}, L={self.length})"


def oracle_denoiser(p: LawLike, precompute: bool | None = None) -> "OracleDenoiser | LatticeOracle":
    r"""The exact optimal denoiser of ``p``.

    ``precompute=True`` builds every conditional table (:class:`OracleDenoiser`, fastest);
    ``False`` keeps only the marginal lattice (:class:`LatticeOracle`, ``L V / (V+1)`` times less memory);
    ``None`` (default) precomputes when the tables fit within the memory limit.

    Parameters
    ----------
    p : array_like or Law
        The data law.
    precompute : bool, optional
        Build every conditional table (True), only the lattice (False), or choose by memory (None).

    Returns
    -------
    OracleDenoiser or LatticeOracle
        A denoiser (B, L) -> (B, L, V).

    Examples
    --------
    >>> import numpy as np, refimpl
    >>> oracle = refimpl.oracle_denoiser(refimpl.datasets.coupled_pairs())
    >>> oracle(np.array([[4, 3]]))[0, 0]                  # the first token given D second: C
    array([0., 0., 1., 0.])
    """
    table = validate.law_table(p)
    vocab_size, length = table.shape[0], table.ndim
    if precompute is not None:
        validate.flag(precompute, "precompute")
    if precompute is None:
        precompute = lattice_bytes(vocab_size, length) + table_bytes(vocab_size, length) <= get_memory_limit()
    return OracleDenoiser(table) if precompute else LatticeOracle(table)
