r"""How many times a sampler's original loop calls the model (its NFE), exactly, in expectation: a view of one
run of the engine (:func:`refimpl.engine.run`, its ``calls``).

Each step of a sampler's plan says when its original calls the model (``step.calls``, one of
:data:`refimpl.engine.protocol.CALL_RULES`).  Whether a call happens depends only on which positions are
masked before a step and whether the step before revealed any, and every step's chance of revealing
nothing depends on its masked positions only, never on the token values; so the exact expectation
follows from how much probability each mask pattern holds before each step, which the exact-law
engine has at hand.  Proved in proofs/model_calls.md.
"""
import dataclasses
import math
import warnings

import numpy as np

from ..core import validate
from ..core.types import ArrayLike, Denoiser, Sampler, Table
from .problem import Problem, problem
from .protocol import ALWAYS, IF_CHANGED
from .runner import EngineStats, run


def expected_calls(denoiser: Denoiser, sampler: Sampler, length: int, vocab_size: int, prompt: ArrayLike | None = None,
                   by_step: bool = False) -> "float | np.ndarray":
    r"""The expected number of model calls (NFE) the sampler's original loop makes for one sequence.

    Each step of the sampler's plan says when its original calls the model (``step.calls``): always
    (LLaDA, Dream, MDLM's ``ddpm``, random-k, first-hitting, left-to-right: one call per step, whatever
    is left); only while the step's eligible positions still hold a mask (Fast-dLLM's threshold and
    factor loops after a block's first call); or only when the previous step revealed something (MDLM's
    ``ddpm_cache``, ``Ancestral(cache=True)``).  The last two are probabilities that the exact-law
    engine computes for the given denoiser.  A call of a step with ``passes`` = 2 (LLaDA's classifier-free
    guidance: the sequence and its unconditional copy) counts as two model evaluations.

    Parameters
    ----------
    denoiser, sampler, length, vocab_size, prompt
        As :func:`refimpl.exact_law`.
    by_step : bool
        Return the (T,) expected model evaluations of the plan's steps instead of their sum.

    Returns
    -------
    float or ndarray

    Examples
    --------
    Fast-dLLM's threshold rule on a coupled pair: the first call reveals one token (neither reaches 0.9), the
    second the other:

    >>> import refimpl
    >>> from refimpl import samplers
    >>> p = refimpl.datasets.coupled_pairs([(0, 1), (1, 0)]).table
    >>> refimpl.expected_calls(refimpl.oracle_denoiser(p), samplers.Threshold(0.9, temperature=1.0), 2, 2)
    2.0
    """
    by_step = validate.flag(by_step, "by_step")
    result = run(problem(denoiser, sampler, length, vocab_size, prompt))
    return result.calls if by_step else result.expected_calls


def exact_law_and_calls(denoiser: Denoiser, sampler: Sampler, length: int, vocab_size: int,
                        prompt: ArrayLike | None = None, stats: "EngineStats | None" = None) -> "tuple[Table, np.ndarray]":
    """``(law, calls)``: :func:`refimpl.exact_law` and, from the same run, the (T,) probabilities that the
    original's loop calls the model for each step of the plan (:func:`expected_calls` sums them).  ``stats``:
    deprecated (:func:`refimpl.engine.run` returns them).

    Parameters
    ----------
    denoiser, sampler, length, vocab_size, prompt
        As :func:`refimpl.exact_law`.
    stats : EngineStats, optional
        Deprecated.

    Returns
    -------
    (ndarray, ndarray)
        The law (V,)*L and the (T,) call probabilities.

    Examples
    --------
    >>> import refimpl
    >>> oracle = refimpl.oracle_denoiser(refimpl.datasets.coupled_pairs())
    >>> law, calls = refimpl.engine.exact_law_and_calls(oracle, refimpl.samplers.Threshold(0.9, temperature=1.0), 2, 4)
    >>> calls.tolist()                                        # the second call: only while a mask is left
    [1.0, 1.0]
    """
    if stats is not None:
        warnings.warn("exact_law_and_calls(stats=...) is deprecated: use refimpl.engine.run(problem).stats",
                      DeprecationWarning, stacklevel=2)
    result = run(problem(denoiser, sampler, length, vocab_size, prompt))
    if stats is not None:
        stats.add(result.stats)
    return result.finished(type(sampler).__name__), result.calls


def call_range(job: Problem) -> "tuple[int, int]":
    """``(least, most)``: the fewest and the most model evaluations the plan's loop can make for one sequence — the
    passes of the steps whose call is certain (always; the first step if it calls after a change, since nothing is
    cached before it) and of every step.  The calls checks read them as the range of a sequence's count
    (:func:`refimpl.interop.goodness.mean_test`).

    Parameters
    ----------
    job : Problem
        From :func:`refimpl.engine.problem`.

    Returns
    -------
    (int, int)

    Examples
    --------
    >>> import refimpl
    >>> p = refimpl.datasets.coupled_pairs()
    >>> call_range(refimpl.problem(refimpl.oracle_denoiser(p), refimpl.samplers.Threshold(0.9), 2, 4))
    (1, 2)
    """
    certain = [step.calls == ALWAYS or (k == 0 and step.calls == IF_CHANGED) for k, step in enumerate(job.steps)]
    return (sum(step.passes for step, sure in zip(job.steps, certain) if sure),
            sum(step.passes for step in job.steps))


def expected_rows(denoiser: Denoiser, sampler: Sampler, length: int, vocab_size: int,
                  prompt: ArrayLike | None = None) -> float:
    r"""The expected number of sequences the original loop's batched passes evaluate for one sequence — the rows of
    each batch, summed over the run — for the steps that batch several sequences in one model call (a step with a
    ``rows`` field: the Info-Gain sampler's lookahead, one row per distinct candidate).  Each such batch is one call
    in :func:`expected_calls`; its rows are counted here.  0 for a plan without batched passes.

    Parameters
    ----------
    denoiser, sampler, length, vocab_size, prompt
        As :func:`refimpl.exact_law`.

    Returns
    -------
    float

    Examples
    --------
    Info-Gain on a coupled pair: the one lookahead call of the run batches both positions as candidates with
    probability 1 - (1/2)^7 (seven draws of softmax(conf / 0.2) over two tied positions, candidate 0 the first):

    >>> import refimpl
    >>> from refimpl import samplers
    >>> oracle = refimpl.oracle_denoiser(refimpl.datasets.coupled_pairs())
    >>> refimpl.engine.calls.expected_rows(oracle, samplers.InfoGain(2), 2, 4) == 1 + 1 - 0.5 ** 7
    True
    """
    job = problem(denoiser, sampler, length, vocab_size, prompt)
    counted = []
    steps = tuple(dataclasses.replace(step, rows=counted) if _batches(step) else step for step in job.steps)
    run(dataclasses.replace(job, steps=steps))
    return math.fsum(counted)


def _batches(step) -> bool:
    return dataclasses.is_dataclass(step) and any(field.name == "rows" for field in dataclasses.fields(step))
