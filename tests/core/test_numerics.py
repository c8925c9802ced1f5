"""Numerical helpers: the normal CDF's series against scipy's ndtr (a second algorithm), the workspace."""
import math

import numpy as np
import pytest
from refimpl.core import numerics
from refimpl.models.mlp import reduce_last_axis
from scipy.special import ndtr


def ulp_error(got, reference, dtype):
    """|got - reference| in units of the last place of the reference rounded to ``dtype``."""
    spacing = np.spacing(np.abs(reference).astype(dtype)).astype(np.float64)
    return np.abs(got.astype(np.float64) - reference) / spacing


def test_normal_cdf_float64_matches_ndtr_to_a_few_ulp():
    # both are within 4 ulp of the exact value (checked with mpmath at 40 digits when written),
    # so they agree to 8; the series covers |z| < 1, ndtr the rest.
    z = np.concatenate([np.linspace(-1.25, 1.25, 400_001), np.random.default_rng(0).normal(0, 3, 100_000)])
    got = numerics.normal_cdf(z)
    assert got.dtype == np.float64
    assert ulp_error(got, ndtr(z), np.float64).max() <= 8
    outside = np.abs(z) >= numerics.CDF_CENTRAL
    np.testing.assert_array_equal(got[outside], ndtr(z[outside]))


def test_normal_cdf_float32_stays_float32_and_is_good_to_a_few_float32_ulp():
    z = np.linspace(-1.5, 1.5, 300_001).astype(np.float32)
    got = numerics.normal_cdf(z)
    assert got.dtype == np.float32
    assert ulp_error(got, ndtr(z.astype(np.float64)), np.float32).max() <= 4


def test_normal_cdf_edges_shapes_and_out():
    z = np.array([np.nan, np.inf, -np.inf, -40.0, 40.0, 1e300, -1e300, 0.0, -0.0, 1.0, -1.0])
    with np.errstate(all="raise"):
        got = numerics.normal_cdf(z)
    np.testing.assert_array_equal(got, ndtr(z))
    grid = np.random.default_rng(1).normal(size=(6, 8))
    out = np.empty((8, 6)).T  # a non-contiguous destination
    assert numerics.normal_cdf(grid, out=out) is out
    np.testing.assert_array_equal(out, numerics.normal_cdf(np.ascontiguousarray(grid)))
    np.testing.assert_array_equal(numerics.normal_cdf(grid[:, ::2]), numerics.normal_cdf(grid)[:, ::2])
    assert numerics.normal_cdf(np.array([0, 2])).dtype == np.float64  # integers are promoted


def test_economised_series_stays_within_eps_of_the_maclaurin_series():
    """The economised coefficients (as stored, in float) against the Maclaurin series (40 terms, remainder
    below 1e-60), both summed exactly in rational arithmetic at 201 points u in [0, 1]."""
    from fractions import Fraction

    points = [Fraction(i, 200) for i in range(201)]
    maclaurin = [sum(Fraction((-1) ** n, 2**n * math.factorial(n) * (2 * n + 1)) * u**n for n in range(40))
                 for u in points]
    scale = Fraction(1 / math.sqrt(2 * math.pi))  # the float constant the coefficients carry
    for dtype, count in ((np.float64, 11), (np.float32, 6)):
        b = [Fraction(c) for c in numerics._cdf_series(dtype)]
        assert len(b) == count
        worst = max(abs(sum(c * u**n for n, c in enumerate(b)) - scale * m) for u, m in zip(points, maclaurin))
        # eps/16 from the dropped Chebyshev terms (times 1/sqrt(2 pi)), plus rounding each coefficient
        assert worst <= Fraction(float(np.finfo(dtype).eps)) / 16 / 2 + Fraction(2, 10**17)


def test_workspace_reuses_arrays_and_fresh_keeps_nothing():
    ws = numerics.Workspace()
    first = ws.array("x", (3, 4), np.float64)
    assert ws.array("x", (3, 4), np.float64) is first
    assert ws.array("x", (4, 3), np.float64) is not first  # another shape: a new array
    assert ws.array("x", (4, 3), np.float32).dtype == np.float32
    assert numerics.FRESH.array("x", (2,), np.float64) is not numerics.FRESH.array("x", (2,), np.float64)


def test_workspace_scratch_grows_never_shrinks_and_children_are_separate():
    ws = numerics.Workspace()
    big = ws.scratch("x", (4, 5))
    small = ws.scratch("x", (2, 3))
    assert small.shape == (2, 3) and np.shares_memory(big, small)  # the same buffer, a smaller view
    grown = ws.scratch("x", (6, 5))
    assert grown.shape == (6, 5) and not np.shares_memory(big, grown)
    assert ws.scratch("x", (3,), np.int64).dtype == np.int64  # another dtype replaces the buffer
    assert ws.nbytes() == 3 * 8
    child = ws.child("group 0")
    assert child is ws.child("group 0") and child is not ws.child("group 1")
    assert not np.shares_memory(child.scratch("x", (6, 5)), ws.scratch("x", (6, 5)))
    assert ws.nbytes() == 30 * 8 + 30 * 8  # its own x, the child's x
    assert not np.shares_memory(numerics.FRESH.scratch("x", (2,)), numerics.FRESH.scratch("x", (2,)))


@pytest.mark.parametrize("ufunc", [np.add, np.maximum])
def test_reduce_last_axis_agrees_with_numpy_reduce(ufunc):
    x = np.random.default_rng(2).normal(size=(5, 7, 9))
    got = reduce_last_axis(ufunc, x, np.empty((5, 7)))
    np.testing.assert_allclose(got, ufunc.reduce(x, axis=-1), rtol=1e-15)
    if ufunc is np.maximum:
        np.testing.assert_array_equal(got, x.max(axis=-1))
