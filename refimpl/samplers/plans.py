"""Shared pieces of the sampler plans: the eligible flags, the block tiling of the masked region, Fast-dLLM's
loop until a block is done, and MDLM's float32 time grid."""
import numpy as np

from ..core import validate
from ..core.errors import InvalidParameterError
from ..core.float32 import F32, mdlm_times32
from ..diffusion.schedules import Linear
from .steps import ALWAYS, IF_MASKED, IndependentStep

GRIDS = ("float32", "float64")  # the originals' float32 arithmetic, or the float64 ideal


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


def until_done(masked, region, block_length, who, make_step):
    """Fast-dLLM's loop (``generate``): block by block, steps ``make_step(eligible, calls)`` until the block
    holds no mask — as many as it has masks, since every step commits at least one (steps after that
    reveal nothing).  Fast-dLLM calls the model, then tests whether the block is done: its first call in
    a block is unconditional (a block the prompt already fills costs one call that reveals nothing), the
    others happen only while the block holds a mask."""
    plan = []
    for start, end in tile_blocks(masked, region, block_length, who):
        eligible = before(len(masked), end, region)
        count = max(1, int(np.sum(masked[start:end])))
        plan.extend(make_step(eligible, ALWAYS if i == 0 else IF_MASKED) for i in range(count))
    return plan


def move_chances32(schedule, steps, eps):
    """[(move chance at t, at s)] per step as MDLM's ``_sample`` and ``_ddpm_caching_update`` compute them in
    float32 (:func:`refimpl.core.float32.mdlm_times32`: s = t - dt, not the next grid point): the time itself
    for the log-linear noise (refimpl's :class:`Linear`, bit for bit); for another schedule its float64 move
    chance at those float32 times (s clipped at 0), rounded to float32 — no original computes those."""
    t, s = mdlm_times32(steps, eps)
    if isinstance(schedule, Linear):
        return list(zip(t, s))
    chance = lambda u: F32(schedule.mask_prob(max(float(u), 0.0)))  # noqa: E731
    return [(chance(a), chance(b)) for a, b in zip(t, s)]


def prefix_prompt(masked, region, who):
    """``(masked, start)``: the mask flags and the first masked position, for a decoder over the whole sequence whose
    prompt is a prefix (a block-causal or autoregressive one); anything else refused."""
    masked = np.asarray(masked, dtype=bool)
    if not np.asarray(region, dtype=bool).all():
        raise InvalidParameterError(f"{who} runs its own blocks over the whole sequence; it cannot run inside "
                                    f"another sampler's region")
    start = int(np.argmax(masked)) if masked.any() else len(masked)
    if masked[start:].sum() != len(masked) - start:
        raise InvalidParameterError(f"{who} decodes after a prompt that is a prefix (its blocks see only earlier "
                                    f"ones); the clean positions {np.flatnonzero(~masked[start:]) + start} come "
                                    f"after the first masked position {start}")
    return masked, start


def transfer_counts(masked_in_block: int, steps: int) -> list[int]:
    """LLaDA's ``get_num_transfer_tokens``: the block's masks split evenly, the remainder to the first steps."""
    base, remainder = divmod(masked_in_block, steps)
    return [base + (1 if i < remainder else 0) for i in range(steps)]


def model_call(length, calls=ALWAYS):
    """A step that only calls the model (``calls``) and changes nothing: a final or KV-cache forward of an original's
    loop, or the call an if-changed rule counts after a step that costs none itself."""
    return IndependentStep((False,) * length, (0.0,) * length, temperature=0.0, calls=calls)


def per_call(denoiser, calls):
    """One model per call: ``denoiser`` itself at every call (a model not told the time), or a list or tuple of one
    per call (a model told the time, built at the sampler's alphas); the uniform-state samplers' ``_models``."""
    models = list(denoiser) if isinstance(denoiser, (list, tuple)) else [denoiser] * calls
    if len(models) != calls:
        raise InvalidParameterError(f"a list holds one denoiser per call (without correctors, one denoiser per "
                                    f"step): {calls} calls, {len(models)} denoisers")
    return models
