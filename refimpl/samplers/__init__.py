"""Samplers of masked diffusion models, as frozen parameter objects with a plan of exact steps.

Use them with :func:`refimpl.exact_law` (the exact law of the output) and :func:`refimpl.sample`
(Monte Carlo draws); both follow the same plan.  Every family is registered under one name
(:mod:`refimpl.samplers.registry`): ``refimpl.samplers.build("llada", steps=4)`` is ``LLaDA(steps=4)``.

Examples
--------
>>> from refimpl import samplers
>>> samplers.NAMES[:4]
('left_to_right', 'ancestral', 'llada', 'dream')
>>> samplers.build("llada", steps=2) == samplers.LLaDA(steps=2)
True
"""
from .ancestral import Ancestral, FirstHitting
from .anchored import HierarchyBlock, ShiftConfidence
from .bernoulli import Bernoulli
from .blocks import FixedOrder, LeftToRight, SemiAR
from .dllm_mdlm import DllmMDLM
from .dream import Dream
from .entropy_bound import EntropyBound
from .entropy_threshold import EntropyThreshold
from .fast_dllm import Factor, Threshold
from .info_gain import InfoGain
from .joint_threshold import JointThreshold
from .llada import LLaDA
from .llada2 import LLaDA2
from .low_confidence import LowConfidence
from .multi_block import MultiBlock
from .nemotron import Nemotron
from .pc_sampler import PCSampler
from .random_k import RandomK
from .random_sizes import RandomSizes
from .registry import FAMILIES, NAMES, build, family, family_of
from .remdm import ReMDM
from .speculative import LinearSpec

__all__ = ["Ancestral", "Bernoulli", "DllmMDLM", "Dream", "EntropyBound", "EntropyThreshold", "FAMILIES", "Factor",
           "FirstHitting", "FixedOrder", "HierarchyBlock", "InfoGain", "JointThreshold", "LLaDA", "LLaDA2", "LeftToRight",
           "LinearSpec", "LowConfidence", "MultiBlock", "NAMES", "Nemotron", "PCSampler", "RandomK", "RandomSizes", "ReMDM",
           "SemiAR", "ShiftConfidence", "Threshold", "build", "family", "family_of"]
