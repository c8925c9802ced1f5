"""Numerical helpers shared across refimpl (one home for each)."""
import fractions
import functools
import math
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from scipy.special import ndtr


def sample_categorical(probs, rng):
    r"""One draw per row of ``probs`` (..., K) by inverting the float64 CDF with one uniform per row.

    Returns int64 of shape ``probs.shape[:-1]``.  A uniform landing beyond a row's total (rounding)
    takes the last category with positive probability.
    """
    cdf = np.cumsum(probs, axis=-1)  # (..., K)
    u = rng.random(probs.shape[:-1])[..., None] * cdf[..., -1:]
    draws = np.sum(cdf <= u, axis=-1)
    last_positive = probs.shape[-1] - 1 - np.argmax(probs[..., ::-1] > 0, axis=-1)
    return np.minimum(draws, last_positive).astype(np.int64)


def per_count(function, counts):
    """``function(c)`` for every int ``c`` of the array ``counts``, called once per distinct value (a draw's rows
    share a handful of counts): an int64 array of ``counts``' shape."""
    counts = np.asarray(counts)
    found, where = np.unique(counts, return_inverse=True)
    return np.array([function(int(c)) for c in found], dtype=np.int64)[where].reshape(counts.shape)


def value_grid(vocab_size, k):
    """All k-tuples of tokens 0..V-1 in C order, shape (V**k, k) (one empty row when k = 0)."""
    if k == 0:
        return np.zeros((1, 0), dtype=np.int64)
    return np.indices((vocab_size,) * k, dtype=np.int64).reshape(k, -1).T


def binomial_coefficients(n):
    """``C(n, k)`` for k = 0..n as float64 (exact for the n refimpl enumerates)."""
    out = np.ones(n + 1)
    for k in range(1, n + 1):
        out[k] = out[k - 1] * (n - k + 1) / k
    return out


class Workspace:
    r"""Arrays kept from one training step to the next.

    Every NumPy expression allocates its result.  At training sizes (a 256 x 256 float64 array is
    512 KiB) glibc hands each one fresh pages from the kernel, and the page faults cost about as much
    as the arithmetic (docs/PERFORMANCE.md).  Layers given a workspace write into its named arrays
    instead; an array stays valid until the next call that writes the same name.
    ``Workspace(reuse=False)`` (:data:`FRESH`, what layers use when given none) hands out a fresh array
    every time and keeps nothing.

    (Elementwise work is not split over threads: after every matrix product OpenBLAS's own worker
    keeps spinning on the second core, and a second Python thread there made GELU slower, not faster.)
    """

    def __init__(self, reuse=True):
        self.reuse = reuse
        self._arrays = {}

    def array(self, name, shape, dtype):
        """An uninitialised array for ``name`` (the same one as last time if shape and dtype agree)."""
        shape, dtype = tuple(shape), np.dtype(dtype)
        if not self.reuse:
            return np.empty(shape, dtype)
        out = self._arrays.get(name)
        if out is None or out.shape != shape or out.dtype != dtype:
            out = self._arrays[name] = np.empty(shape, dtype)
        return out

    def nbytes(self):
        """Bytes held, its children's included."""
        return sum(held.nbytes() if isinstance(held, Workspace) else held.nbytes for held in self._arrays.values())

    def child(self, name):
        """A workspace of its own under ``name``, kept with this one: for a thread whose arrays must not
        share names with another's."""
        if not self.reuse:
            return self
        key = ("child", name)
        if key not in self._arrays:
            self._arrays[key] = Workspace()
        return self._arrays[key]

    def scratch(self, name, shape, dtype=np.float64):
        """An uninitialised array of ``shape`` backed by the buffer kept for ``name``, which grows as
        needed and never shrinks: for arrays whose shape changes from call to call (the exact-law
        engine's batches of mask patterns)."""
        shape, dtype = tuple(shape), np.dtype(dtype)
        size = math.prod(shape)
        if not self.reuse:
            return np.empty(shape, dtype)
        key = ("scratch", name)
        buffer = self._arrays.get(key)
        if buffer is None or buffer.dtype != dtype or buffer.size < size:
            buffer = self._arrays[key] = np.empty(size, dtype)
        return buffer[:size].reshape(shape)


FRESH = Workspace(reuse=False)  # keeps nothing: the default of every layer


INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)  # a Python float, so float32 arrays stay float32
CDF_CENTRAL = 1.0  # |z| below this: Maclaurin series; at or above: scipy's ndtr


@functools.cache
def _cdf_series(dtype):
    r"""Coefficients :math:`b_n` of :math:`(\Phi(z) - \tfrac12)/z = \sum_n b_n u^n`, :math:`u = z^2 \in [0, 1]`.

    From the Maclaurin series :math:`\sqrt{2\pi}\,(\Phi(z) - \tfrac12)/z = \sum_n (-1)^n u^n / (2^n n! (2n+1))`
    (to n = 24, whose remainder is below 1e-37), economised in exact rational arithmetic: written
    in Chebyshev polynomials :math:`T_n(2u - 1)`, the highest ones dropped while their coefficients
    sum to at most eps/16 (:math:`|T_n| \le 1`, so that bounds the error), and turned back into
    powers of u.  11 coefficients in float64 (the series itself needs 15), 6 in float32.
    """
    terms = 24
    taylor = [fractions.Fraction((-1) ** n, 2**n * math.factorial(n) * (2 * n + 1)) for n in range(terms + 1)]
    basis = [_shifted_chebyshev(n) for n in range(terms + 1)]  # powers of u in T_n(2u - 1)
    chebyshev, rest = [fractions.Fraction(0)] * (terms + 1), list(taylor)
    for n in range(terms, -1, -1):  # triangular solve, top degree first
        chebyshev[n] = rest[n] / basis[n][n]
        for j in range(n + 1):
            rest[j] -= chebyshev[n] * basis[n][j]
    tolerance, dropped, degree = fractions.Fraction(float(np.finfo(dtype).eps)) / 16, 0, terms
    while dropped + abs(chebyshev[degree]) <= tolerance:
        dropped += abs(chebyshev[degree])
        degree -= 1
    powers = [sum(chebyshev[n] * basis[n][j] for n in range(j, degree + 1)) for j in range(degree + 1)]
    return tuple(float(b) * INV_SQRT_2PI for b in powers)


def _shifted_chebyshev(n):
    """Integer coefficients of :math:`T_n(2u - 1)` in powers of u (index j: the coefficient of u^j)."""
    previous, current = [1], [-1, 2]  # T_0, T_1(2u - 1) = 2u - 1
    if n == 0:
        return previous
    for _ in range(n - 1):  # T_{k+1}(x) = 2x T_k(x) - T_{k-1}(x), x = 2u - 1
        following = [0] * (len(current) + 1)
        for j, c in enumerate(current):
            following[j + 1] += 4 * c
            following[j] -= 2 * c
        for j, c in enumerate(previous):
            following[j] -= c
        previous, current = current, following
    return current


def normal_cdf(z, out=None, ws=FRESH, name="cdf square"):
    r""":math:`\Phi(z)`, the standard normal CDF, elementwise, in z's precision (float32 stays float32).

    For :math:`|z| < 1`: :math:`\Phi(z) = \tfrac12 + z \sum_n b_n z^{2n}`, the economised Maclaurin
    series of :func:`_cdf_series` summed by Horner's rule (good to a few ulp).  Elsewhere, and for
    non-finite z, scipy's ``ndtr`` (relative accuracy in the tails).
    Why not ``ndtr`` everywhere: it costs 9–12 ns per element here, the series under 5, and
    :math:`\Phi` is most of an MLP training step's elementwise work (benchmarks/training.py).
    ``ws`` (a :class:`Workspace`) lends the scratch array, under ``name``.
    """
    z = np.asarray(z)
    if z.dtype not in (np.float32, np.float64):
        z = z.astype(np.float64)
    result = np.empty_like(z) if out is None else out
    if not (z.flags.c_contiguous and result.flags.c_contiguous):
        np.copyto(result, normal_cdf(np.ascontiguousarray(z)))
        return result
    coefficients = _cdf_series(z.dtype.type)
    with np.errstate(over="ignore", invalid="ignore"):  # the tails' values are replaced below
        square = np.multiply(z, z, out=ws.array(name, z.shape, z.dtype))
        np.multiply(square, coefficients[-1], out=result)
        for a in coefficients[-2:0:-1]:
            result += a
            result *= square
        result += coefficients[0]
        result *= z
        result += 0.5
    outside = np.greater_equal(np.abs(z, out=square), CDF_CENTRAL)  # NaN stays NaN through the series
    if outside.any():
        tail = np.flatnonzero(outside)
        result.reshape(-1)[tail] = ndtr(z.reshape(-1)[tail])
    return result


def worker_count():
    """Cores this process may use (NumPy's elementwise loops release the GIL, so threads help)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


PARALLEL_MIN_ELEMENTS = 1 << 18  # below this many array elements a thread pool costs more than it saves


def parallel_for(fn, items, elements=None):
    """Call ``fn(item)`` for every item on a thread pool; for side effects on disjoint outputs.

    Each item's arithmetic is the same whichever thread runs it, so results are bit-identical to a
    serial loop.  ``elements`` (the work's size in array elements) keeps small jobs serial.
    Exceptions propagate.
    """
    items = list(items)
    small = elements is not None and elements < PARALLEL_MIN_ELEMENTS
    workers = 1 if small else min(worker_count(), len(items))
    if workers <= 1:
        for item in items:
            fn(item)
        return
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for _ in pool.map(fn, items):
            pass
