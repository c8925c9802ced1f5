r"""How many times a sampler's original loop calls the model (its NFE), exactly, in expectation.

Each step of a sampler's plan says when its original calls the model (``step.calls``, one of
:data:`refimpl.engine.protocol.CALL_RULES`).  Whether a call happens depends only on which positions are
masked before a step and whether the step before revealed any, and every step's chance of revealing
nothing depends on its masked positions only, never on the token values; so the exact expectation
follows from how much probability each mask pattern holds before each step, which the exact-law
engine has at hand.  Proved in proofs/model_calls.md.
"""
import math

import numpy as np

from ..core import validate
from ..core.types import ArrayLike, Denoiser, Sampler, Table
from .exact import EngineStats, exact_law, finished, model, plan, prompt_tokens
from .protocol import call_probability, passes
from .scored import is_scored, scored_law_and_calls


def expected_calls(denoiser: Denoiser, sampler: Sampler, length: int, vocab_size: int, prompt: ArrayLike | None = None,
                   by_step: bool = False) -> "float | np.ndarray":
    r"""The expected number of model calls (NFE) the sampler's original loop makes for one sequence.

    Each step of the sampler's plan says when its original calls the model (``step.calls``): always
    (LLaDA, Dream, MDLM's ``ddpm``, random-k, first-hitting, left-to-right: one call per step, whatever
    is left); only while the step's eligible positions still hold a mask (Fast-dLLM's threshold and
    factor loops after a block's first call); or only when the previous step revealed something (MDLM's
    ``ddpm_cache``, ``Ancestral(cache=True)``).  The last two are probabilities that the exact-law
    engine computes for the given denoiser.  A call of a step with ``passes`` = 2 (LLaDA's classifier-free
    guidance: the sequence and its unconditional copy) counts as two model evaluations.  ``by_step=True``
    returns the (T,) expected model evaluations of the plan's steps instead of their sum.
    """
    by_step = validate.flag(by_step, "by_step")
    _, probabilities = exact_law_and_calls(denoiser, sampler, length, vocab_size, prompt)
    return probabilities if by_step else math.fsum(probabilities)


def exact_law_and_calls(denoiser: Denoiser, sampler: Sampler, length: int, vocab_size: int,
                        prompt: ArrayLike | None = None, stats: "EngineStats | None" = None) -> "tuple[Table, np.ndarray]":
    """``(law, calls)``: :func:`refimpl.exact_law` and, from the same run, the (T,) probabilities that the
    original's loop calls the model for each step of the plan (:func:`expected_calls` sums them)."""
    vocab_size, length = validate.space(vocab_size, length)
    tokens = prompt_tokens(prompt, length, vocab_size)
    steps = plan(sampler, tokens, vocab_size)
    if is_scored(steps, type(sampler).__name__):  # (sequence, scores) states: the runner counts the calls itself
        law, calls = scored_law_and_calls(steps, model(sampler, denoiser, tokens, vocab_size), tokens, vocab_size,
                                          stats)
        return finished(law, sampler), calls
    calls, changed = [], [1.0]  # nothing is cached before the first step

    def before_step(step, patterns, probabilities):
        acting = math.fsum(probabilities[step.candidates(patterns).any(axis=1)])
        calls.append(call_probability(step.calls, acting, changed[0]) * passes(step))
        changed[0] = 1.0 - math.fsum(probabilities * np.array([step.stay_probability(p) for p in patterns]))

    law = exact_law(denoiser, sampler, length, vocab_size, prompt, stats, before_step=before_step)
    return law, np.array(calls, dtype=np.float64)
