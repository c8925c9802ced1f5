r"""The exact law of a sampler's output, and the probability that a tie decides something: views of one run of
the engine (:func:`refimpl.engine.run`) on one :class:`refimpl.engine.Problem`."""
import warnings
from typing import Callable

from ..core.types import ArrayLike, Denoiser, Sampler, Table
from .problem import problem
from .runner import EngineStats, run


def _deprecated(name: str, instead: str) -> None:
    warnings.warn(f"exact_law({name}=...) is deprecated: {instead}", DeprecationWarning, stacklevel=3)


def exact_law(denoiser: Denoiser, sampler: Sampler, length: int, vocab_size: int, prompt: ArrayLike | None = None,
              stats: "EngineStats | None" = None, reveals: list | None = None,
              before_step: Callable | None = None) -> Table:
    r"""The exact law of the sampler's output.

    Parameters
    ----------
    denoiser : callable
        ``den(z) -> probs`` (the interop contract); tables (the oracle, :func:`refimpl.denoisers.tabulate`) are
        read as views, other callables evaluated on every reachable partial sequence.
    sampler : object
        One of :mod:`refimpl.samplers`.
    length, vocab_size : int
        L and V.
    prompt : array_like of int, optional
        (L,) partial sequence whose clean tokens are kept (V where masked); default every position masked.
    stats, reveals, before_step
        Deprecated: ``refimpl.engine.run(refimpl.engine.problem(...), reveals=True)`` returns the engine
        statistics and the reveal statistics as fields of its result.

    Returns
    -------
    ndarray
        (V,)*L, float64, summing to 1.

    Examples
    --------
    One step revealing both tokens of a coupled pair draws them independently from their marginals:

    >>> import refimpl
    >>> from refimpl import samplers
    >>> p = refimpl.datasets.coupled_pairs([(0, 1), (1, 0)]).table   # "AB" or "BA", 1/2 each
    >>> refimpl.exact_law(refimpl.oracle_denoiser(p), samplers.LLaDA(1, temperature=1.0), 2, 2).tolist()
    [[0.25, 0.25], [0.25, 0.25]]
    >>> refimpl.exact_law(refimpl.oracle_denoiser(p), samplers.LLaDA(2, temperature=1.0), 2, 2).tolist()
    [[0.0, 0.5], [0.5, 0.0]]
    """
    if stats is not None:
        _deprecated("stats", "use refimpl.engine.run(problem).stats")
    if reveals is not None:
        _deprecated("reveals", "use refimpl.engine.run(problem, reveals=True).reveals")
    if before_step is not None:
        _deprecated("before_step", "refimpl.engine.run(problem).calls holds what it was used for")
    job = problem(denoiser, sampler, length, vocab_size, prompt)
    result = run(job, reveals=reveals is not None, before_step=before_step)
    if stats is not None:
        stats.add(result.stats)
    if reveals is not None:
        reveals.extend(result.reveals)
    return result.finished(type(sampler).__name__)


def tie_probability(denoiser: Denoiser, sampler: Sampler, length: int, vocab_size: int, prompt: ArrayLike | None = None,
                    law_mass: float | None = None) -> float:
    r"""The exact probability that a run of ``sampler`` meets a tie that decides something.

    At some step, candidates of equal confidence (entropy, for the EB-Sampler) fall on both sides of what the
    step keeps, so that the tie rule picks which are kept.  It is the same for every tie rule, and the laws
    under two rules differ only on such runs (their TV is at most this); 0 for a sampler that ranks nothing.
    Computed in one run of the engine beside the law, with every step's ``without_ties()`` (each draw whose
    kept set a tie decides dropped): the mass lost.  Ties that decide nothing (equal confidences all kept, or
    all left out) are not counted.

    Parameters
    ----------
    denoiser, sampler, length, vocab_size, prompt
        As :func:`exact_law`.
    law_mass : float, optional
        Deprecated and not read (the law comes from the same run).

    Returns
    -------
    float

    Examples
    --------
    The oracle of a uniform law gives every position the same confidence, so LLaDA's first step keeps the
    lowest position by its tie rule, always:

    >>> import numpy as np, refimpl
    >>> from refimpl import samplers
    >>> uniform = np.full((2, 2), 0.25)
    >>> refimpl.tie_probability(refimpl.oracle_denoiser(uniform), samplers.LLaDA(2, temperature=0.0), 2, 2)
    1.0
    """
    if law_mass is not None:
        warnings.warn("tie_probability(law_mass=...) is deprecated and not read: the law comes from the same run",
                      DeprecationWarning, stacklevel=2)
    return run(problem(denoiser, sampler, length, vocab_size, prompt), ties=True).tie_probability


__all__ = ["EngineStats", "exact_law", "tie_probability"]
