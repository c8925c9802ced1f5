"""Names for the types of the public API's hints (docs/DESIGN.md, interop contract)."""
from typing import Callable, Protocol, Sequence

import numpy as np
from numpy.typing import ArrayLike

Table = np.ndarray  # a float64 law table of shape (V,)*L, or a (V+1,)*L table over partial sequences
LawLike = ArrayLike  # a refimpl.Law or anything np.asarray makes a (V,)*L float64 table
Denoiser = Callable[[np.ndarray], np.ndarray]  # (B, L) ints in 0..V -> (B, L, V) float64 probabilities


class ScheduleLike(Protocol):
    """Anything with vectorised ``alpha(t)`` and ``dalpha(t)`` (refimpl.schedules; checked by check_schedule)."""

    def alpha(self, t: np.ndarray) -> np.ndarray: ...

    def dalpha(self, t: np.ndarray) -> np.ndarray: ...


class Sampler(Protocol):
    """Anything with a plan of steps (refimpl.samplers; docs/DESIGN.md)."""

    def plan(self, masked: np.ndarray, region: np.ndarray) -> Sequence: ...


__all__ = ["ArrayLike", "Denoiser", "LawLike", "Sampler", "ScheduleLike", "Table"]
