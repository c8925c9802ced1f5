"""Samplers of masked diffusion models, as frozen parameter objects with a plan of exact steps.

Use them with :func:`refimpl.exact_law` (the exact law of the output) and :func:`refimpl.sample`
(Monte Carlo draws); both follow the same plan.
"""
from .ancestral import Ancestral, FirstHitting
from .blocks import FixedOrder, LeftToRight, SemiAR
from .dream import Dream
from .llada import LLaDA
from .random_k import RandomK
from .threshold import Factor, Threshold

__all__ = ["Ancestral", "Dream", "Factor", "FirstHitting", "FixedOrder", "LLaDA", "LeftToRight", "RandomK",
           "SemiAR", "Threshold"]
