r"""Laws to study: tables, empirical data sets, Dirichlet draws, Markov chains, parity, products.

Every constructor returns a :class:`refimpl.Law` (a validated, read-only ``(V,)*L`` table).

Examples
--------
>>> import numpy as np, refimpl
>>> law = refimpl.datasets.dirichlet(3, 4, np.random.default_rng(0), concentration=0.5)
>>> law.table.shape, round(float(law.table.sum()), 12)
((3, 3, 3, 3), 1.0)
>>> refimpl.datasets.empirical([[0, 1], [0, 1], [1, 0]], vocab_size=2).table
array([[0.        , 0.66666667],
       [0.33333333, 0.        ]])
"""
from typing import Sequence

import numpy as np

from ..core import validate
from ..core.errors import FileFormatError, InvalidLawError, InvalidParameterError, InvalidSequenceError
from ..core.files import file_kind
from ..core.memory import check_memory
from ..core.types import ArrayLike
from . import space
from .joint import Law

ROW_TOLERANCE = validate.SUM_TOLERANCE


def _check_table_size(vocab_size, length, what):
    check_memory(vocab_size**length * 8, f"the {what} law table with V={vocab_size}, L={length}")


def from_table(table: ArrayLike, name: str = "table") -> Law:
    """A Law from a float64 table of shape ``(V,)*L`` (validated, copied, frozen)."""
    return Law(table, name=name)


def empirical(sequences: ArrayLike, vocab_size: int | None = None, name: str = "empirical") -> Law:
    r"""The empirical law of a data set: :math:`p(x) = \#\{n : x^{(n)} = x\} / N`, counts kept.

    ``sequences`` is ``(N, L)`` clean tokens; ``vocab_size`` defaults to ``max token + 1`` (at least 2).
    """
    seqs = validate.as_array(sequences, "sequences")
    if seqs.ndim != 2 or seqs.shape[0] == 0 or seqs.shape[1] == 0:
        raise InvalidSequenceError(
            f"sequences must be a non-empty (N, L) array of tokens, got shape {seqs.shape}")
    if vocab_size is None:
        if seqs.dtype.kind not in "iu":
            raise validate.InvalidTypeError(f"sequences must hold integers, got dtype {seqs.dtype}")
        vocab_size = max(int(seqs.max()) + 1, 2)
    vocab_size, length = validate.space(vocab_size, seqs.shape[1])
    seqs = validate.tokens(seqs, vocab_size, length, partial=False, name="sequences")
    _check_table_size(vocab_size, length, "empirical")
    counts = np.bincount(space.encode(seqs, vocab_size), minlength=vocab_size**length)
    counts = counts.reshape((vocab_size,) * length)
    return Law(counts / counts.sum(), counts=counts, name=name)


def dirichlet(vocab_size: int, length: int, rng: np.random.Generator, concentration: float = 1.0,
              name: str = "dirichlet") -> Law:
    r"""A random law :math:`p \sim \mathrm{Dirichlet}(c \mathbf{1})` over all ``V**L`` sequences.

    ``concentration`` is a positive scalar (symmetric) or a positive table of shape ``(V,)*L``.
    Small concentrations give peaked, strongly coupled laws; large ones approach uniform.
    """
    vocab_size, length = validate.space(vocab_size, length)
    rng = validate.generator(rng)
    _check_table_size(vocab_size, length, "Dirichlet")
    raw = validate.as_array(concentration, "concentration")
    if raw.dtype.kind not in "fiu" or raw.dtype == np.bool_:
        raise InvalidParameterError(f"concentration must be positive numbers, got {concentration!r}")
    try:
        conc = np.broadcast_to(raw.astype(np.float64), (vocab_size,) * length)
    except ValueError:
        raise InvalidParameterError(f"concentration must be a scalar or of shape {(vocab_size,) * length}") from None
    if not np.all(np.isfinite(conc)) or np.any(conc <= 0):
        raise InvalidParameterError("concentration must be positive and finite")
    draw = rng.dirichlet(conc.ravel()).reshape((vocab_size,) * length)
    return Law(draw / draw.sum(), name=name)


def _stochastic_rows(matrix, name):
    arr = validate.as_array(matrix, name)
    if arr.dtype.kind != "f":
        raise validate.InvalidTypeError(f"{name} must be a float array, got dtype {arr.dtype}")
    arr = arr.astype(np.float64)
    if not np.all(np.isfinite(arr)) or np.any(arr < 0):
        raise InvalidLawError(f"{name} must be finite and non-negative")
    sums = arr.sum(axis=-1)
    bad = np.flatnonzero(np.abs(sums - 1.0).ravel() > ROW_TOLERANCE)
    if bad.size:
        raise InvalidLawError(f"{name} row {int(bad[0])} sums to {float(sums.ravel()[bad[0]])!r}, not 1")
    return arr


def markov_chain(initial: ArrayLike, transition: ArrayLike, length: int, name: str = "markov") -> Law:
    r"""The law of a Markov chain: :math:`p(x) = \pi_0(x_0) \prod_{i \ge 1} T(x_{i-1}, x_i)`.

    ``initial`` has shape ``(V,)``, ``transition`` ``(V, V)`` with rows summing to one.
    """
    pi0 = _stochastic_rows(initial, "initial")
    trans = _stochastic_rows(transition, "transition")
    if pi0.ndim != 1 or trans.shape != (pi0.size, pi0.size):
        raise InvalidParameterError(
            f"initial must have shape (V,) and transition (V, V); got {pi0.shape} and {trans.shape}")
    vocab_size, length = validate.space(pi0.size, length)
    _check_table_size(vocab_size, length, "Markov chain")
    table = pi0
    for _ in range(length - 1):
        table = table[..., None] * trans[(None,) * (table.ndim - 1)]  # (V,)*k x (V,) -> (V,)*(k+1)
    return Law(table, name=name)


def stationary(transition: ArrayLike) -> np.ndarray:
    r"""The stationary law :math:`\pi = \pi T` of an irreducible transition matrix (eigenvector)."""
    trans = _stochastic_rows(transition, "transition")
    values, vectors = np.linalg.eig(trans.T)
    k = int(np.argmin(np.abs(values - 1.0)))
    pi = np.real(vectors[:, k])
    return pi / pi.sum()


def parity(vocab_size: int, length: int, name: str = "parity") -> Law:
    r"""Uniform over sequences whose token sum is 0 mod V.

    Any L-1 positions are independent and uniform; the last one is determined by them, so
    :math:`H = (L-1)\log V` and (for :math:`L \ge 2`) :math:`TC = \log V`.
    """
    vocab_size, length = validate.space(vocab_size, length)
    _check_table_size(vocab_size, length, "parity")
    total = np.indices((vocab_size,) * length).sum(axis=0)  # (V,)*L token sums
    table = (total % vocab_size == 0).astype(np.float64)
    return Law(table / table.sum(), name=name)


def product(marginal_rows: ArrayLike, name: str = "product") -> Law:
    r"""The product law :math:`\prod_i r_i(x_i)` of per-position laws ``marginal_rows`` (L, V)."""
    rows = _stochastic_rows(marginal_rows, "marginal_rows")
    if rows.ndim != 2:
        raise InvalidParameterError(f"marginal_rows must have shape (L, V), got {rows.shape}")
    vocab_size, length = validate.space(rows.shape[1], rows.shape[0])
    _check_table_size(vocab_size, length, "product")
    table = rows[0]
    for row in rows[1:]:
        table = np.multiply.outer(table, row)
    return Law(table, name=name)


def coupled_pairs(pairs: Sequence[tuple[int, int]] = ((0, 1), (2, 3)), weights: ArrayLike | None = None,
                  vocab_size: int | None = None, name: str = "coupled pairs") -> Law:
    r"""A length-2 law on coupled pairs: :math:`p(a, b) = w_k` for the k-th pair ``(a, b)``.

    The default is the paper's coupling in its smallest form: tokens A B C D (0..3), only the pairs
    AB and CD, each with probability 1/2.  Each position alone is uniform over two tokens, and a
    parallel step that samples the product of marginals produces AD or CB half the time.
    """
    try:
        pairs = [tuple(validate.integer(t, "pair token", 0) for t in pair) for pair in pairs]
    except TypeError:
        raise InvalidParameterError(f"pairs must be a list of (first, second) tokens, got {pairs!r}") from None
    if not pairs or any(len(pair) != 2 for pair in pairs):
        raise InvalidParameterError("pairs must be a non-empty list of (first, second) tokens")
    weights = np.full(len(pairs), 1.0 / len(pairs)) if weights is None else validate.as_array(weights, "weights")
    if weights.shape != (len(pairs),) or weights.dtype.kind not in "fiu":
        raise InvalidParameterError("weights must be numbers, one per pair")
    weights = weights.astype(np.float64)
    top = max(max(pair) for pair in pairs) + 1
    vocab_size = top if vocab_size is None else vocab_size
    table = np.zeros((validate.integer(vocab_size, "vocab_size", max(top, 2)),) * 2)
    for (a, b), w in zip(pairs, weights):
        table[a, b] += w
    return Law(table, name=name)


NAMED = ("dirichlet", "markov", "parity", "coupled", "uniform", "repeated", "walk", "permutation", "balanced", "onehot",
         "copy")


def named(data: str = "dirichlet", vocab_size: int = 3, length: int = 4, seed: int = 0,
          concentration: float = 0.5) -> Law:
    """The law ``refimpl``'s commands and sweeps call by name: ``dirichlet`` (:func:`dirichlet` with
    ``concentration``, seeded), ``markov`` (a stationary chain whose transition rows are Dirichlet draws),
    ``parity``, ``coupled`` (:func:`coupled_pairs`), ``uniform``; the theory's examples
    (:mod:`refimpl.laws.examples`) ``repeated`` (one token repeated), ``walk`` (the Bernoulli walk, V = L + 1),
    ``permutation`` (V = L), ``balanced`` and ``onehot`` (binary: V = 2), ``copy`` (L even: a uniform half and its
    copy) — where V is implied it overrides ``vocab_size``; or a ``.npy`` file holding a table."""
    if not isinstance(data, str):
        raise InvalidParameterError(f"data must be one of {', '.join(NAMED)} or a .npy file, got {data!r}")
    if data.endswith(".npy"):
        try:
            kind = file_kind(data)
        except OSError as error:
            raise FileFormatError(f"cannot read {data}: {error.strerror or error}") from None
        if kind != "npy":
            raise FileFormatError(f"{data} is not a .npy file (it lacks numpy's header); save a table with "
                                  f"numpy.save, or give a text file of sequences as --data-file")
        try:
            table = np.load(data, allow_pickle=False)
        except OSError as error:
            raise FileFormatError(f"cannot read {data}: {error.strerror or error}") from None
        except ValueError as error:
            if "allow_pickle" in str(error) or "pickle" in str(error):
                raise FileFormatError(f"{data} holds Python objects, not numbers; refimpl never unpickles: save a "
                                      f"float64 table") from None
            raise FileFormatError(f"cannot read {data} as a .npy table: {error}") from None
        return from_table(table, name=data)
    vocab_size, length = validate.space(vocab_size, length)
    seed = validate.integer(seed, "seed", 0)
    if data == "dirichlet":
        return dirichlet(vocab_size, length, np.random.default_rng(seed), concentration)
    if data == "markov":
        transition = np.random.default_rng(seed).dirichlet(np.full(vocab_size, concentration), size=vocab_size)
        return markov_chain(stationary(transition), transition, length)
    if data == "parity":
        return parity(vocab_size, length)
    if data == "uniform":
        return from_table(np.full((vocab_size,) * length, float(vocab_size) ** -length), name="uniform")
    if data == "coupled":
        return coupled_pairs()
    if data in ("repeated", "walk", "permutation", "balanced", "onehot", "copy"):
        from . import examples

        build = {"repeated": lambda: examples.repeated_bit(length, vocab_size), "walk": lambda: examples.walk(length),
                 "permutation": lambda: examples.permutations(length), "balanced": lambda: examples.balanced(length),
                 "onehot": lambda: examples.one_hot_blocks(1, length),
                 "copy": lambda: examples.copy_task(length // 2, vocab_size)}[data]
        if data == "copy" and length % 2:
            raise InvalidParameterError(f"--data copy needs an even length (a half and its copy), got {length}")
        return from_table(build(), name=data)
    raise InvalidParameterError(f"data must be one of {', '.join(NAMED)} or a .npy file, got {data!r}")
