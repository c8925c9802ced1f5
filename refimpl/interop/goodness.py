r"""Goodness of fit of samples to an exact law, and of a sample mean to an exact expectation, with the
smallest deviation each test is sure to see.

Pearson's chi-square test of counts against exact cell probabilities: cells whose expected count is
below ``MIN_EXPECTED`` are pooled into one, so the chi-square approximation holds.  Under a law q at
chi-square distance :math:`\chi^2(q\|p) = \sum_c (q_c - p_c)^2 / p_c` from p, the statistic of n samples
is approximately noncentral chi-square with noncentrality :math:`n \chi^2(q\|p)`; and by Cauchy-Schwarz
:math:`\chi^2(q\|p) \ge 4\,\mathrm{TV}(q, p)^2` on the tested cells, with equality when q moves mass
in proportion to p from one half of the law to the other (the hardest deviation of a given TV to see).
So every q with TV at least :func:`detectable_tv` on the tested cells is detected with at least the
stated power.  The same reasoning for a mean gives :func:`detectable_shift`.
"""
import dataclasses
import functools

import numpy as np
from scipy import optimize, stats

from ..core.errors import InvalidParameterError

MIN_EXPECTED = 5.0  # expected count below which cells are pooled (the usual rule for Pearson's test)
POWER = 0.99  # the detection probability stated for detectable_tv and detectable_shift
DESIGN_POWER = 0.999  # the power they are computed at: the stated 0.99 holds with room to spare


@dataclasses.dataclass(frozen=True)
class FitResult:
    """Pearson's test of counts against an exact law: p-value, degrees of freedom, and what it can see."""

    p_value: float
    dof: int
    samples: int
    impossible: int  # samples in cells where the exact law is 0
    pooled_mass: float  # exact probability of the cells pooled together (expected count < MIN_EXPECTED)
    detectable_tv: float  # smallest TV on the tested cells detected with probability >= POWER
    residuals: np.ndarray  # (cells,) (observed - expected) / sqrt(expected)

    def rejects(self, alpha):
        return self.impossible > 0 or self.p_value <= alpha

    def most_off(self, counts, probs, top):
        """``(over, under)``: up to ``top`` cells each, most over- and most under-represented first."""
        counts, expected = np.asarray(counts).ravel(), np.asarray(probs, dtype=np.float64).ravel() * self.samples
        order = np.argsort(self.residuals, kind="stable")
        return ([int(k) for k in order[::-1][:top] if counts[k] > expected[k]],
                [int(k) for k in order[:top] if counts[k] < expected[k]])


def chi_square_fit(counts, probs, alpha):
    """Pearson's test of ``counts`` (cells,) against exact ``probs`` (cells,) at false-alarm rate ``alpha``."""
    counts = np.asarray(counts, dtype=np.float64).ravel()
    probs = np.asarray(probs, dtype=np.float64).ravel()
    if counts.shape != probs.shape:
        raise InvalidParameterError(f"counts {counts.shape} and probabilities {probs.shape} must have one entry per cell")
    n = float(counts.sum())
    expected = probs * n
    impossible = int(counts[probs == 0].sum())
    small = expected < MIN_EXPECTED
    observed = np.append(counts[~small], counts[small].sum())
    wanted = np.append(expected[~small], expected[small].sum())
    keep = wanted > 0
    observed, wanted = observed[keep], wanted[keep]
    dof = len(observed) - 1
    if n > 0 and observed.sum() == 0:  # every sample where the law is 0
        p_value = 0.0
    elif dof >= 1:
        p_value = float(stats.chisquare(observed, wanted * observed.sum() / wanted.sum()).pvalue)
    else:
        p_value = 1.0
    residuals = (counts - expected) / np.sqrt(np.maximum(expected, 1e-300))  # huge where the law is 0 and hit
    return FitResult(p_value, dof, int(n), impossible, float(probs[small].sum()),
                     detectable_tv(int(n), dof, alpha), residuals)


@functools.lru_cache(maxsize=1024)
def detectable_tv(n, dof, alpha, power=DESIGN_POWER):
    r"""The smallest TV (on the tested cells) that Pearson's test with ``dof`` degrees of freedom detects
    from ``n`` samples with probability ``power`` at false-alarm rate ``alpha``:
    :math:`\sqrt{\lambda / (4 n)}`, :math:`\lambda` the noncentrality whose power is ``power``.  Capped at 1."""
    if n <= 0 or dof < 1:
        return 1.0
    critical = stats.chi2.isf(alpha, dof)
    noncentrality = _solve(lambda lam: stats.ncx2.sf(critical, dof, lam) - power)
    return float(min(1.0, np.sqrt(noncentrality / (4.0 * n))))


def _solve(excess):
    upper = 1.0
    while excess(upper) < 0:
        upper *= 2.0
    return optimize.brentq(excess, 0.0, upper, xtol=1e-12)


@dataclasses.dataclass(frozen=True)
class MeanResult:
    """A two-sided test of a sample mean against an exact expectation (:func:`mean_test`)."""

    mean: float
    expected: float
    standard_error: float
    p_value: float
    detectable_shift: float  # smallest |mean - expected| detected with probability >= POWER

    def rejects(self, alpha):
        return self.p_value <= alpha


def counts_per_row(calls, rows=None, name="calls", unit="sequence"):
    """Validated model-call counts, one per row (``rows`` of them when given): (n,) float64, finite, >= 0."""
    try:
        calls = np.asarray(calls, dtype=np.float64)
    except (TypeError, ValueError):
        raise InvalidParameterError(f"{name} must be numbers, one per {unit}") from None
    if calls.ndim != 1 or len(calls) < 1 or (rows is not None and calls.shape != (rows,)) \
            or not np.all(np.isfinite(calls)) or np.any(calls < 0):
        many = "" if rows is None else f"{rows} "
        raise InvalidParameterError(f"{name} must be {many}finite counts >= 0 (one per {unit}), got shape {calls.shape}")
    return calls


def mean_test(values, expected, alpha, exact_tolerance=1e-9, upper=None, lower=0.0):
    r"""Two-sided test of ``values``' mean against ``expected``.

    Without ``upper``: the normal test with the sample's standard error.  Given ``upper`` (and ``lower``), the values
    are known to lie in [lower, upper], and the test is conservative at ``alpha`` whatever their law:

    - when every value is the same, c, a law with mean ``expected`` puts probability
      :math:`q \ge |\text{expected} - c| / \max(c - \text{lower}, \text{upper} - c)` on other values, so n equal
      values have probability at most :math:`(1 - q)^n`, the p-value;
    - otherwise the p-value is the larger of the normal test's and that of the empirical Bernstein bound (Maurer and
      Pontil 2009): with probability at least :math:`1 - \delta`,
      :math:`|\bar x - \text{expected}| < \sqrt{2 V_n \ln(4/\delta) / n} + 7 R \ln(4/\delta) / (3 (n - 1))`,
      :math:`V_n` the sample variance, :math:`R = \text{upper} - \text{lower}` — valid for every law on the range.
      The normal test alone, its standard error from the sample, fails a nearly constant count far too often (one
      rare value in 20000 makes the sample's variance 6 times too small: issue #36's case at n = 20000 failed 11
      times in 1000 at alpha = 1e-3).

    Without ``upper`` and no spread, the mean must equal ``expected`` (to ``exact_tolerance``, relative)."""
    values = np.asarray(values, dtype=np.float64).ravel()
    n = len(values)
    mean = float(values.mean())
    spread = float(values.std(ddof=1)) if n > 1 else 0.0
    if spread == 0.0 and upper is not None:
        reach = max(mean - float(lower), float(upper) - mean)
        if reach > 0:
            q = min(1.0, abs(mean - expected) / reach)
            return MeanResult(mean, float(expected), 0.0, float((1.0 - q) ** n), reach * (1.0 - alpha ** (1.0 / n)))
    if spread == 0.0:
        close = abs(mean - expected) <= exact_tolerance * max(1.0, abs(expected))
        return MeanResult(mean, float(expected), 0.0, 1.0 if close else 0.0, exact_tolerance * max(1.0, abs(expected)))
    error = spread / np.sqrt(n)
    p_value = float(2.0 * stats.norm.sf(abs(mean - expected) / error))
    shift = detectable_shift(error, alpha)
    if upper is not None:  # the empirical Bernstein bound: valid for every law on [lower, upper]
        a, b = np.sqrt(2.0 * spread ** 2 / n), 7.0 * (float(upper) - float(lower)) / (3.0 * (n - 1))
        t = abs(mean - expected)
        root = (-a + np.sqrt(a * a + 4.0 * b * t)) / (2.0 * b) if b > 0 else t / a  # t = a sqrt(u) + b u
        p_value = max(p_value, min(1.0, 4.0 * float(np.exp(-root * root))))
        u = np.log(4.0 / alpha)  # the smallest t it rejects at alpha, then the normal margin for the power
        shift = max(shift, float(a * np.sqrt(u) + b * u + stats.norm.isf(1.0 - DESIGN_POWER) * error))
    return MeanResult(mean, float(expected), error, p_value, shift)


def detectable_shift(standard_error, alpha, power=DESIGN_POWER):
    r"""Smallest :math:`|\mathbb E - \text{expected}|` the two-sided normal test detects with probability
    ``power``: :math:`(z_{1-\alpha/2} + z_{power}) \cdot \mathrm{se}`."""
    return float((stats.norm.isf(alpha / 2.0) + stats.norm.isf(1.0 - power)) * standard_error)
