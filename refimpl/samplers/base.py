"""Shared pieces of the sampler plans: parameter checks and the block tiling of the masked region."""
import numpy as np

from ..core import validate
from ..core.errors import InvalidParameterError


def temperature(value, name="temperature"):
    try:
        t = float(value)
    except (TypeError, ValueError):
        raise InvalidParameterError(f"{name} must be a number >= 0, got {value!r}") from None
    if not (np.isfinite(t) and t >= 0):
        raise InvalidParameterError(f"{name} must be finite and >= 0, got {value!r}")
    return t


def nonnegative(value, name):
    """A finite float >= 0 (a guidance scale, an entropy budget); anything else is refused."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = float("nan")
    if not (np.isfinite(number) and number >= 0):
        raise InvalidParameterError(f"{name} must be a finite number >= 0, got {value!r}")
    return number


def as_eligible(flags):
    return tuple(bool(f) for f in flags)


def generation_region(masked, region):
    r"""``(start, end)``: from the first masked position of ``region`` to the end of ``region``.

    Positions of the region before ``start`` are the prompt prefix (LLaDA's ``prompt``); the rest is
    the generation region that blocks tile.  An all-clean region gives ``start == end``.
    """
    positions = np.flatnonzero(region)
    masked_here = positions[masked[positions]]
    end = int(positions[-1]) + 1 if positions.size else 0
    start = int(masked_here[0]) if masked_here.size else end
    return start, end


def tile_blocks(masked, region, block_length, who):
    """Blocks ``[(start, end), ...]`` of ``block_length`` tiling the generation region (None: one block)."""
    start, end = generation_region(masked, region)
    if start == end:
        return []
    gen_length = end - start
    if block_length is None:
        return [(start, end)]
    if gen_length % block_length:
        raise InvalidParameterError(
            f"{who}: block_length {block_length} does not divide the masked region of length {gen_length} "
            f"(positions {start}..{end - 1}); pick a divisor of {gen_length}")
    return [(s, s + block_length) for s in range(start, end, block_length)]


def block_length(value, who):
    return None if value is None else validate.integer(value, f"{who} block_length", 1)


def before(length, end, region):
    """Eligible flags: positions of ``region`` before ``end``."""
    return as_eligible(np.asarray(region) & (np.arange(length) < end))
