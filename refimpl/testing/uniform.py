"""Hypothesis strategies for the sampler families without a mask (:mod:`refimpl.samplers.uniform_registry`): a
sampler of each family with parameters its exact law takes at small sizes, and the exact model kinds it reads.

Examples
--------
>>> from hypothesis import given
>>> from refimpl.testing.uniform import uniform_samplers
>>> @given(uniform_samplers(families=["renoise"]))
... def test(sampler):
...     assert 1 <= sampler.steps <= 6
>>> test()
"""
from hypothesis import strategies as st

from ..samplers.block_refinement_uniform import UniformBlockRefinement
from ..samplers.discrete_ddim import SELECTIONS, DiscreteDDIM
from ..samplers.renoise import COOLINGS, Renoise, UniformEntropyBound
from ..samplers.uniform_ancestral import FORMS, REMOVALS, UniformAncestral
from ..samplers.uniform_registry import AGNOSTIC, MODELS, UNIFORM_NAMES
from .families import names

TEMPERATURES = (0.0, 0.5, 1.0)
THRESHOLDS = st.one_of(st.none(), st.sampled_from((0.0, 0.05, 0.3, 0.6)))


def _renoise_fields(cls, max_steps, **extra):
    return st.builds(cls, st.integers(1, max_steps), st.sampled_from((0.0, 0.1, 0.5, 2.0)),
                     st.sampled_from((0.8, 1.0)), st.sampled_from((0.4, 0.8)), st.integers(0, 3), THRESHOLDS, **extra)


def _builders(max_steps):
    return {
        "renoise": _renoise_fields(Renoise, max_steps),
        "entropy_bound_uniform": _renoise_fields(UniformEntropyBound, max_steps, cooling=st.sampled_from(COOLINGS)),
        "block_refinement_uniform": st.builds(UniformBlockRefinement, st.integers(1, max_steps),
                                              st.sampled_from((0.3, 0.95)), THRESHOLDS, st.sampled_from(TEMPERATURES),
                                              st.integers(0, 2), THRESHOLDS),
        "discrete_ddim": st.builds(DiscreteDDIM, st.integers(1, max_steps), st.sampled_from(TEMPERATURES),
                                   st.integers(0, 2), st.integers(1, 2), st.sampled_from(SELECTIONS),
                                   st.sampled_from((0.5, 1.0)), THRESHOLDS, st.integers(0, 2)),
        "uniform_ancestral": st.builds(UniformAncestral, st.integers(1, max_steps), st.sampled_from((1e-5, 0.1)),
                                       st.sampled_from((0.0, 1e-3)), st.sampled_from(REMOVALS), st.sampled_from(FORMS),
                                       st.sampled_from(TEMPERATURES)),
    }


def uniform_samplers(families=UNIFORM_NAMES, max_steps=6):
    """A sampler of one of the uniform-state ``families`` (:data:`refimpl.samplers.uniform_registry.UNIFORM_NAMES`),
    at most ``max_steps`` steps."""
    families = names(families, "families", UNIFORM_NAMES)
    builders = _builders(max_steps)
    return st.one_of(*[builders[f] for f in families])


def uniform_model_kinds(sampler):
    """A model kind ``sampler`` reads (:data:`refimpl.samplers.uniform_registry.MODELS`): any for a sampler asked
    per call (it has ``alphas``), else a time-agnostic one."""
    return st.sampled_from(tuple(MODELS) if hasattr(sampler, "alphas") else AGNOSTIC)


__all__ = ["uniform_model_kinds", "uniform_samplers"]
