"""Order-driven decoding: left to right, semi-autoregressive blocks around any sampler, fixed reveal sets."""
import dataclasses

import numpy as np

from ..core import validate
from ..core.errors import InvalidParameterError
from .params import documented, param, position_sets, temperature_param
from .plans import as_eligible, tile_blocks
from .steps import IndependentStep, LeftmostStep


@documented
@dataclasses.dataclass(frozen=True)
class LeftToRight:
    """Autoregressive order: one token per step, always the leftmost masked position.

    Examples
    --------
    >>> import refimpl
    >>> from refimpl import samplers
    >>> p = refimpl.datasets.coupled_pairs()                 # V = 4, L = 2: only AB and CD
    >>> oracle = refimpl.oracle_denoiser(p)
    >>> refimpl.exact_law(oracle, samplers.LeftToRight(), 2, 4)[0, 1]
    np.float64(0.5)
    """

    temperature: float = temperature_param(1.0)

    def __post_init__(self):
        object.__setattr__(self, "temperature", validate.temperature(self.temperature))

    def plan(self, masked, region):
        count = int(np.sum(masked & region))
        return [LeftmostStep(as_eligible(region), temperature=self.temperature) for _ in range(count)]


@documented
@dataclasses.dataclass(frozen=True)
class SemiAR:
    """Semi-autoregressive decoding: blocks of ``block_length`` from the left of the masked region, each
    decoded completely by the ``inner`` sampler (which sees only its block) before the next starts.

    Examples
    --------
    >>> import refimpl
    >>> from refimpl import samplers
    >>> p = refimpl.datasets.coupled_pairs()                 # V = 4, L = 2: only AB and CD
    >>> oracle = refimpl.oracle_denoiser(p)
    >>> semi = samplers.SemiAR(1, samplers.RandomK(1))     # blocks of one position, decoded in turn
    >>> float(refimpl.kl(p, refimpl.exact_law(oracle, semi, 2, 4)))
    0.0
    """

    block_length: int = param(help="blocks of this length from the left, each decoded completely before the next")
    inner: object = param(help="the sampler each block is decoded with (command line: RandomK(--tokens-per-step))",
                          cli=False)

    def __post_init__(self):
        validate.integer(self.block_length, "SemiAR block_length", 1)
        if not callable(getattr(self.inner, "plan", None)):
            raise validate.InvalidTypeError("SemiAR inner must be a refimpl sampler")

    def plan(self, masked, region):
        plan = []
        for start, end in tile_blocks(masked, region, self.block_length, "SemiAR"):
            block = np.zeros(len(masked), dtype=bool)
            block[start:end] = True
            plan.extend(self.inner.plan(masked, block & region))
        return plan

    def guide(self, denoiser, prompt, vocab_size):
        """The inner sampler's (:func:`refimpl.engine.exact.model`): a guided LLaDA stays guided in blocks."""
        guide = getattr(self.inner, "guide", None)
        return denoiser if guide is None else guide(denoiser, prompt, vocab_size)


@documented
@dataclasses.dataclass(frozen=True)
class FixedOrder:
    """Reveal the given sets of positions, one set per step, in order (a value-independent schedule).

    Examples
    --------
    >>> import refimpl
    >>> from refimpl import samplers
    >>> p = refimpl.datasets.coupled_pairs()                 # V = 4, L = 2: only AB and CD
    >>> oracle = refimpl.oracle_denoiser(p)
    >>> q = refimpl.exact_law(oracle, samplers.FixedOrder([[0, 1]]), 2, 4)   # both in one step
    >>> float(q[0, 3])                                       # AD: never in the data
    0.25
    """

    sets: tuple = param(help="the positions revealed at each step, e.g. '0,1;2;3' (counted from 0)", convert=position_sets)
    temperature: float = temperature_param(1.0)

    def __post_init__(self):
        try:
            sets = tuple(tuple(validate.integer(i, "FixedOrder position", 0) for i in s) for s in self.sets)
        except TypeError:
            raise InvalidParameterError(f"FixedOrder sets must be a list of lists of positions, got {self.sets!r}") from None
        if not sets or any(not s for s in sets):
            raise InvalidParameterError("FixedOrder needs a non-empty list of non-empty position sets")
        flat = [i for s in sets for i in s]
        if len(set(flat)) != len(flat):
            raise InvalidParameterError(f"FixedOrder sets overlap: {sets}")
        object.__setattr__(self, "sets", sets)
        object.__setattr__(self, "temperature", validate.temperature(self.temperature))

    def plan(self, masked, region):
        positions = set(int(i) for i in np.flatnonzero(masked & region))
        named = set(i for s in self.sets for i in s)
        outside = sorted(i for i in named if i >= len(masked))
        if outside:
            raise InvalidParameterError(f"FixedOrder position{'s' if len(outside) > 1 else ''} "
                                        f"{', '.join(map(str, outside))} outside the sequence (positions 0 to "
                                        f"{len(masked) - 1}, counted from 0)")
        if named != positions:
            missing, extra = sorted(positions - named), sorted(named - positions)
            raise InvalidParameterError(
                f"FixedOrder sets must cover exactly the masked positions {sorted(positions)} (counted from 0)"
                + (f"; {missing} are in no set" if missing else "") + (f"; {extra} are not masked" if extra else ""))
        plan = []
        for chosen in self.sets:
            reveal = np.zeros(len(masked))
            reveal[list(chosen)] = 1.0
            plan.append(IndependentStep(as_eligible(region), tuple(reveal), self.temperature))
        return plan
