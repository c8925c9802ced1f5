"""Samplers of masked diffusion models, as frozen parameter objects with a plan of exact steps.

Use them with :func:`refimpl.exact_law` (the exact law of the output) and :func:`refimpl.sample`
(Monte Carlo draws); both follow the same plan.
"""
from .ancestral import Ancestral, FirstHitting
from .blocks import FixedOrder, LeftToRight, SemiAR
from .dream import Dream
from .entropy_bound import EntropyBound
from .fast_dllm import Factor, Threshold
from .llada import LLaDA
from .llada2 import LLaDA2
from .random_k import RandomK
from .remdm import ReMDM

__all__ = ["Ancestral", "Dream", "EntropyBound", "Factor", "FirstHitting", "FixedOrder", "LLaDA", "LLaDA2", "LeftToRight",
           "RandomK", "ReMDM", "SemiAR", "Threshold"]
