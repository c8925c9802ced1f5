r"""How many times a sampler's original loop calls the model (its NFE), exactly, in expectation.

Each step of a sampler's plan says when its original calls the model (``step.calls``, one of
:data:`refimpl.samplers.steps.CALL_RULES`); the probabilities of the calls that depend on the draws come
from the exact reveal statistics of :func:`refimpl.law.exact_law`.  Proved in proofs/model_calls.md.
"""
import math

import numpy as np

from . import validate
from .errors import InvalidParameterError
from .law import _plan, _prompt, exact_law
from .samplers.steps import ALWAYS, IF_CHANGED, IF_MASKED


def expected_calls(denoiser, sampler, length, vocab_size, prompt=None, by_step=False):
    r"""The expected number of model calls (NFE) the sampler's original loop makes for one sequence.

    Each step of the sampler's plan says when its original calls the model (``step.calls``): always
    (LLaDA, Dream, MDLM's ``ddpm``, random-k, first-hitting, left-to-right: one call per step, whatever
    is left); only while the step's eligible positions still hold a mask (Fast-dLLM's threshold and
    factor loops after a block's first call); or only when the previous step revealed something (MDLM's
    ``ddpm_cache``, ``Ancestral(cache=True)``).  The last two are probabilities, read from the exact
    reveal statistics of :func:`exact_law`, so the expectation is exact for the given denoiser.
    ``by_step=True`` returns the (T,) call probabilities of the plan's steps instead of their sum.
    """
    reveals = []
    exact_law(denoiser, sampler, length, vocab_size, prompt=prompt, reveals=reveals)
    probabilities = call_probabilities(sampler, reveals, length, vocab_size, prompt)
    return probabilities if by_step else math.fsum(probabilities)


def call_probabilities(sampler, reveals, length, vocab_size, prompt=None):
    """(T,): the probability that the sampler's original loop calls the model for each step of its plan,
    from ``reveals`` — the list :func:`exact_law` filled in for the same sampler, space and prompt."""
    vocab_size, length = validate.space(vocab_size, length)
    steps = _plan(sampler, _prompt(prompt, length, vocab_size), vocab_size)
    if len(reveals) != len(steps):
        raise InvalidParameterError(
            f"reveals holds {len(reveals)} steps but {type(sampler).__name__}'s plan has {len(steps)}: "
            f"pass the list exact_law filled in for the same sampler, length, vocabulary and prompt")
    out = np.zeros(len(steps))
    changed = 1.0  # nothing is cached before the first step
    for t, (step, seen) in enumerate(zip(steps, reveals)):
        rule = getattr(step, "calls", ALWAYS)
        if rule == ALWAYS:
            out[t] = 1.0
        elif rule == IF_MASKED:
            eligible = np.asarray(step.eligible, dtype=bool)
            out[t] = math.fsum(p for (masked, _), p in seen.items() if eligible[list(masked)].any())
        elif rule == IF_CHANGED:
            out[t] = changed
        else:
            raise AssertionError(f"unknown call rule {rule!r}")
        changed = math.fsum(p for (_, revealed), p in seen.items() if revealed)
    return np.minimum(out, 1.0)  # (sums of probabilities that add up to 1 may round past it)
