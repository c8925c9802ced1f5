"""Dream's float32 grid, bit for bit (issue #22, grids): refimpl.core.float32 against torch's own
``linspace`` and Dream's count formula run on float32 tensors (when torch is installed), and against an
exact-rational re-writing of torch's CPU kernel (tests/originals.py: every value rounded once from its
exact value), for eps on a fine grid, up to 64 steps and n <= 32 masks."""
import fractions

import numpy as np
import pytest
from refimpl import samplers as S
from refimpl.core.errors import InvalidParameterError
from refimpl.core.float32 import count32, fma32, linspace32, reveal_fraction32

from tests import originals

EPS = np.linspace(1e-3, 0.95, 191)


def test_fma_rounds_once():
    """Against the exact rational value rounded to float32, on random values and on constructed half-way
    cases (where rounding the float64 sum again would differ)."""
    rng = np.random.default_rng(7)
    a = rng.uniform(-2, 2, 4000).astype(np.float32)
    b = rng.uniform(-2, 2, 4000).astype(np.float32)
    c = (rng.uniform(-2, 2, 4000) * 10.0 ** rng.integers(-9, 3, 4000)).astype(np.float32)
    # half-way: (1 + 2^-12)^2 = 1 + 2^-11 + 2^-24 lies exactly between two float32 values; c = k 2^-60 moves
    # the exact sum off it by less than float64 keeps, so rounding the float64 sum again would tie to even
    a[:50] = b[:50] = np.float32(1.0 + 2.0 ** -12)
    c[:50] = np.arange(-25, 25).astype(np.float32) * np.float32(2.0 ** -60)
    got = fma32(a, b, c)
    naive = (a.astype(np.float64) * b + c).astype(np.float32)
    # the tie goes to 1 + 2^-11 (even): right for k <= 0, wrong for the 24 cases k > 0, which round up
    assert (got[:50] != naive[:50]).sum() == 24
    exact = [originals.round_to_float32(fractions.Fraction(float(x)) * fractions.Fraction(float(y))
                                        + fractions.Fraction(float(z))) for x, y, z in zip(a, b, c)]
    np.testing.assert_array_equal(got, np.array(exact, dtype=np.float32))


def test_the_grid_is_torch_cpus_linspace_rewritten_exactly():
    for eps in EPS[::4]:
        for steps in range(1, 65):
            np.testing.assert_array_equal(linspace32(1.0, eps, steps + 1), originals.torch_linspace32(1.0, eps, steps + 1))


def test_the_grid_and_the_counts_are_torchs():
    torch = pytest.importorskip("torch")
    for eps in EPS:
        for steps in range(1, 65):
            grid = torch.linspace(1, float(eps), steps + 1)
            np.testing.assert_array_equal(linspace32(1.0, float(eps), steps + 1), grid.numpy())
    for eps in EPS[::2]:
        for steps in (2, 3, 4, 5, 8, 16, 32):
            grid, ours = torch.linspace(1, float(eps), steps + 1), linspace32(1.0, float(eps), steps + 1)
            for i in range(steps - 1):
                fraction = reveal_fraction32(ours[i], ours[i + 1])
                assert fraction == (1 - grid[i + 1] / grid[i]).item()
                for n in range(1, 33):
                    mask = torch.ones(1, n, dtype=torch.bool)  # Dream: mask_index.sum() / mask_index.shape[0]
                    assert count32(n, fraction) == int(mask.sum() / mask.shape[0] * (1 - grid[i + 1] / grid[i]))


def test_dreams_counts_follow_its_float32_grid():
    """The issue's example: eps = 0.25 and four masks, maskgit_plus with 3 steps: Dream's float32 counts are
    1, 0, 3 where the float64 grid gives 1, 1, 2."""
    for grid, expected in (("float32", [1, 0, 3]), ("float64", [1, 1, 2])):
        plan = S.Dream(3, "maskgit_plus", eps=0.25, grid=grid).plan(np.ones(4, bool), np.ones(4, bool))
        left, counts = 4, []
        for step in plan:
            counts.append(step.count(left))
            left -= counts[-1]
        assert counts == expected


def test_a_bad_grid_is_refused():
    with pytest.raises(InvalidParameterError, match="Dream grid"):
        S.Dream(3, grid="float16")
