"""Numerical helpers shared across refimpl (one home for each)."""
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np


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
