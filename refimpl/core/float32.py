r"""Float32 arithmetic as the originals' torch code runs it on the CPU, bit for bit (issue #22, grids).

Dream computes its time grid with ``torch.linspace`` in float32 (the default dtype) and its reveal
counts from it in float32, so refimpl reproduces those numbers exactly rather than its float64 ideal.
torch's CPU ``linspace`` kernel (``aten/src/ATen/native/cpu/RangeFactoriesKernel.cpp``) computes
``step = (end - start) / (steps - 1)`` in float32 and then ``start + step * i`` for the first half of the
points and ``end - step * (steps - i - 1)`` for the rest, each contracted to one fused multiply-add (one
rounding) by the compiler — measured against torch 2.13 on this machine: every grid for eps on a fine grid
and 2 to 130 points equal (a one-off comparison, 2026-12-04; tests/core/test_float32.py re-checks 2 to 65
points).

MDLM's and ReMDM's ``_ddpm_caching_update`` (kuleshov-group/remdm ``diffusion.py``) take the same float32
grid and ``t - dt`` with dt a Python float: torch casts the scalar to float32 first (measured), so
:func:`mdlm_times32`.  ReMDM-conf mixes bfloat16 tensors into its coefficients (:func:`bfloat16`; torch's
``scalar - tensor`` casts the scalar to bfloat16, ``tensor * scalar`` and ``tensor / scalar`` to float32 and
round the float32 result — measured against torch 2.13, tests/core/test_float32.py).
"""
import numpy as np

from .errors import InvalidParameterError
from .types import ArrayLike

F32 = np.float32


def fma32(a: ArrayLike, b: ArrayLike, c: ArrayLike) -> np.ndarray:
    """``a * b + c`` for float32 arrays, rounded once to float32 (round to nearest, ties to even).

    The product of two float32 values is exact in float64; the sum is formed in float64 with its rounding
    error (two-sum), and the float32 rounding of the float64 sum is corrected where that sum lies exactly
    half-way between two float32 values (the only place where rounding twice differs from once)."""
    a, b, c = (np.asarray(x, dtype=np.float64) for x in (a, b, c))
    product = a * b
    total = product + c
    bigger = np.where(np.abs(product) >= np.abs(c), product, c)
    error = (bigger - total) + np.where(np.abs(product) >= np.abs(c), c, product)  # exact: product + c - total
    rounded = total.astype(np.float32)
    up, down = np.nextafter(rounded, F32(np.inf)), np.nextafter(rounded, F32(-np.inf))
    # half-way: total is the midpoint of rounded and a neighbour; the error says which side the exact sum is on
    to_up = (np.float64(up) + np.float64(rounded)) / 2 == total
    to_down = (np.float64(down) + np.float64(rounded)) / 2 == total
    out = np.where(to_up & (error > 0), up, rounded)
    out = np.where(to_down & (error < 0), down, out)
    return out.astype(np.float32)


def linspace32(start: float, end: float, count: int) -> np.ndarray:
    """``torch.linspace(start, end, count)`` in float32 on the CPU, bit for bit (module docstring)."""
    start, end = F32(start), F32(end)
    if count == 1:
        return np.array([start], dtype=np.float32)
    step = F32(end - start) / F32(count - 1)
    index = np.arange(count)
    half = count // 2
    low = fma32(np.full(half, step), index[:half].astype(np.float32), np.full(half, start))
    high = fma32(np.full(count - half, -step), (count - 1 - index[half:]).astype(np.float32), np.full(count - half, end))
    return np.concatenate([low, high]).astype(np.float32)


def reveal_fraction32(t: float, s: float) -> np.float32:
    """``1 - s / t`` for float32 ``t``, ``s`` in float32 (separate torch operations: no contraction)."""
    return F32(F32(1.0) - F32(F32(s) / F32(t)))


def count32(available: int, fraction: float) -> int:
    """Dream's ``int(num_mask_token * (1 - s / t))`` with ``num_mask_token`` a float32 tensor (``mask.sum() /
    batch``) and the fraction float32: the product rounded to float32, then truncated."""
    return int(F32(F32(available) * F32(fraction)))


def mdlm_times32(steps: int, eps: float) -> tuple:
    """(t, s) per step of MDLM's and ReMDM's ``_sample`` loop, float32: t from ``torch.linspace(1, eps, steps +
    1)`` and s = ``t - dt`` with ``dt = (1 - eps) / steps`` cast to float32 (not the next grid point)."""
    t = linspace32(1.0, eps, steps + 1)[:-1]
    return t, (t - F32((1.0 - eps) / steps)).astype(np.float32)


def bfloat16(x: ArrayLike) -> np.ndarray:
    """float32 values rounded to bfloat16 (round to nearest, ties to even), returned as float32; NaN kept."""
    x = np.asarray(x, dtype=np.float32)
    bits = x.view(np.uint32).astype(np.uint64)
    rounded = ((bits + 0x7FFF + ((bits >> 16) & 1)) & 0xFFFF0000).astype(np.uint32).view(np.float32)
    return np.where(np.isnan(x), x, rounded)


def categorical_share(first: float, rest: float) -> float:
    """The probability that ``_sample_categorical`` (argmax of q / Exp(1) noise; MDLM, ReMDM) picks the group of
    entries of total weight ``first`` over the group of total weight ``rest``, the weights as the code holds
    them: ``first / (first + rest)`` when both are positive; a group whose weight is 0 or below (a negative
    move chance on the last step) is never picked while the other is positive."""
    first, rest = float(first), float(rest)
    if first <= 0.0 and rest <= 0.0:
        raise InvalidParameterError(f"no positive weight to draw from ({first!r}, {rest!r})")
    if rest <= 0.0:
        return 1.0
    return 0.0 if first <= 0.0 else first / (first + rest)
