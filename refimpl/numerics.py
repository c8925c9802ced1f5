"""Numerical helpers shared across refimpl (one home for each)."""
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


def binomial_coefficients(n):
    """``C(n, k)`` for k = 0..n as float64 (exact for the n refimpl enumerates)."""
    out = np.ones(n + 1)
    for k in range(1, n + 1):
        out[k] = out[k - 1] * (n - k + 1) / k
    return out
