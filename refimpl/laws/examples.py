r"""The example laws of the 2026 theory of parallel decoding (issue #39, build 3; ../shared/THEORY.md): each a table
(V,)*L, built exactly, with the source that uses it.

- :func:`repeated_bit` (Wainwright §2.2.1): one fair token repeated at every position; :func:`noisy_repeated_bit`
  (each copy flipped with probability eta).
- :func:`walk` (Wen-Liang-Lu §V): x_i = x_{i-1} + z_i from x_0 = 0 with fair bits z_i, alphabet {0..n}.
- :func:`permutations` (WLL §VI; ParallelBench's Shuffle): uniform on the permutations of 0..n-1.
- :func:`balanced` (WLL Lemma 9): uniform on the binary strings with n/2 ones.
- :func:`one_hot_blocks` (WLL Lemma 10; ParallelBench's Replace Random is one block): independent blocks, each a
  uniform one-hot binary vector.
- :func:`markov_order` (WLL Thm 2): an order-m Markov chain with Dirichlet transition rows.
- :func:`subspace` (Chen-Cong-Li Ex. 1): uniform on the column space {M u} of a matrix over F_q, q prime;
  :func:`reed_solomon` (CCL Prop. 20): uniform on the Reed-Solomon code RS[n, k] over F_q.
- :func:`mixture`: a weighted mixture of laws on one space (CCL Ex. 2).
- :func:`copy_task` (ParallelBench's Copy): a uniform input followed by its copy — given the input as a prompt the
  output is a point mass (C = 0); Shuffle is :func:`permutations`, Replace Random :func:`one_hot_blocks` (1, n).

Examples
--------
>>> from refimpl.laws import examples
>>> import refimpl
>>> round(refimpl.total_correlation(examples.one_hot_blocks(1, 4)), 6)     # (n - 1)(log n - log(n - 1)), n = 4
0.863046
"""
import itertools
import math

import numpy as np

from ..core import validate
from ..core.errors import InvalidParameterError
from ..core.memory import check_memory
from ..core.types import LawLike, Table


def _empty(vocab_size, length, what):
    vocab_size, length = validate.space(vocab_size, length)
    check_memory(8 * vocab_size ** length, f"the {what} law at V={vocab_size}, L={length}")
    return np.zeros((vocab_size,) * length)


def _uniform_on(points, vocab_size, length, what):
    table = _empty(vocab_size, length, what)
    for x in points:
        table[tuple(x)] += 1.0
    return table / table.sum()


def repeated_bit(length: int, vocab_size: int = 2) -> Table:
    """One uniform token repeated at every position."""
    return _uniform_on([(v,) * length for v in range(vocab_size)], vocab_size, length, "repeated token")


def noisy_repeated_bit(length: int, eta: float) -> Table:
    """Z_i = U xor W_i: U a fair bit, W_i independent Bernoulli(eta) flips."""
    eta = validate.probability(eta, "eta")
    table = _empty(2, length, "noisy repeated bit")
    for x in itertools.product((0, 1), repeat=length):
        ones = sum(x)
        table[x] = 0.5 * (eta ** ones * (1 - eta) ** (length - ones) + eta ** (length - ones) * (1 - eta) ** ones)
    return table


def walk(n: int) -> Table:
    """The Bernoulli walk: x_0 = 0 (not a position), x_i = x_{i-1} + z_i for fair bits z_i, i = 1..n; V = n + 1."""
    n = validate.integer(n, "n", 1)
    return _uniform_on([np.cumsum(z) for z in itertools.product((0, 1), repeat=n)], n + 1, n, "walk")


def permutations(n: int) -> Table:
    """Uniform on the permutations of 0..n-1 (V = L = n)."""
    n = validate.integer(n, "n", 2)
    return _uniform_on(itertools.permutations(range(n)), n, n, "permutation")


def balanced(n: int) -> Table:
    """Uniform on the binary strings of length n (even) with n/2 ones."""
    n = validate.integer(n, "n", 2)
    if n % 2:
        raise InvalidParameterError(f"a balanced string needs an even length, got {n}")
    return _uniform_on([x for x in itertools.product((0, 1), repeat=n) if sum(x) == n // 2], 2, n, "balanced")


def one_hot_blocks(blocks: int, block_length: int) -> Table:
    """``blocks`` independent blocks of ``block_length`` binary positions, each block a uniform one-hot vector."""
    blocks, block_length = validate.integer(blocks, "blocks", 1), validate.integer(block_length, "block_length", 1)
    hots = [tuple(int(i == j) for i in range(block_length)) for j in range(block_length)]
    return _uniform_on([sum(choice, ()) for choice in itertools.product(hots, repeat=blocks)], 2, blocks * block_length,
                       "one-hot blocks")


def markov_order(order: int, vocab_size: int, length: int, rng: np.random.Generator,
                 concentration: float = 1.0) -> Table:
    """An order-``order`` Markov chain: the first ``order`` tokens from a Dirichlet law, then each token from a
    Dirichlet row given the ``order`` before it."""
    order, rng = validate.integer(order, "order", 1), validate.generator(rng)
    table = _empty(vocab_size, length, "order-m Markov")
    if order >= length:
        raise InvalidParameterError(f"the order must be below the length, got order {order} at L={length}")
    start = rng.dirichlet(np.full(vocab_size ** order, concentration)).reshape((vocab_size,) * order)
    rows = rng.dirichlet(np.full(vocab_size, concentration), size=vocab_size ** order).reshape((vocab_size,) * (order + 1))
    for x in itertools.product(range(vocab_size), repeat=length):
        value = start[x[:order]]
        for i in range(order, length):
            value *= rows[x[i - order:i + 1]]
        table[x] = value
    return table


def _prime(q):
    q = validate.integer(q, "q", 2)
    if any(q % k == 0 for k in range(2, int(math.isqrt(q)) + 1)):
        raise InvalidParameterError(f"q must be a prime (arithmetic mod q is a field), got {q}")
    return q


def subspace(matrix, q: int) -> Table:
    """Uniform on {M u mod q : u in F_q^k} for an (n, k) integer matrix M, q prime (each point once)."""
    q = _prime(q)
    matrix = np.asarray(matrix, dtype=np.int64) % q
    if matrix.ndim != 2:
        raise InvalidParameterError(f"the matrix must be (n, k), got shape {matrix.shape}")
    points = {tuple(matrix @ np.array(u) % q) for u in itertools.product(range(q), repeat=matrix.shape[1])}
    return _uniform_on(sorted(points), q, matrix.shape[0], "subspace")


def reed_solomon(n: int, k: int, q: int) -> Table:
    """Uniform on RS[n, k] over F_q: the values at 0..n-1 of the polynomials of degree < k (n <= q, q prime)."""
    q, n, k = _prime(q), validate.integer(n, "n", 1), validate.integer(k, "k", 1)
    if n > q or k > n:
        raise InvalidParameterError(f"RS[n, k] over F_q needs k <= n <= q, got n={n}, k={k}, q={q}")
    return subspace(np.array([[a ** j % q for j in range(k)] for a in range(n)]), q)


def mixture(laws: "list[LawLike]", weights=None) -> Table:
    """The mixture sum_m w_m p_m of laws on one space (weights default uniform)."""
    tables = [validate.law_table(p) for p in laws]
    if not tables or any(t.shape != tables[0].shape for t in tables):
        raise InvalidParameterError("a mixture needs one or more laws on one space")
    w = np.full(len(tables), 1.0 / len(tables)) if weights is None else np.asarray(weights, dtype=np.float64)
    if w.shape != (len(tables),) or np.any(w < 0) or not math.isclose(w.sum(), 1.0, abs_tol=1e-12):
        raise InvalidParameterError(f"the weights must be {len(tables)} nonnegative numbers summing to 1, got {weights!r}")
    return sum(weight * table for weight, table in zip(w, tables))


def copy_task(n: int, vocab_size: int = 2) -> Table:
    """ParallelBench's Copy as a law of length 2n: n uniform tokens, then the same n again."""
    n = validate.integer(n, "n", 1)
    return _uniform_on([x + x for x in itertools.product(range(vocab_size), repeat=n)], vocab_size, 2 * n, "copy")
