r"""Monte Carlo draws of a sampler's output, by the same plan the exact law follows (``step.draw``)."""
import dataclasses
import warnings

import numpy as np

from ..core import validate
from ..core.errors import InvalidParameterError
from ..core.memory import check_memory
from ..core.types import ArrayLike, Denoiser, Sampler
from ..denoisers.evaluation import CHUNK, evaluate_rows
from .problem import Problem, check_problem, problem
from .protocol import IF_CHANGED, IF_MASKED, SCORED


@dataclasses.dataclass(frozen=True, eq=False)
class Draws:
    """``sequences`` (n, L) int64: the outputs; ``calls`` (n,) int64: the model evaluations each row's original loop
    makes as a batch of one (the draws behind :func:`refimpl.expected_calls`, e.g. for the law of the NFE).

    Parameters
    ----------
    sequences : ndarray
        (n, L) int64 outputs.
    calls : ndarray
        (n,) int64 model evaluations per row.

    Examples
    --------
    >>> import numpy as np, refimpl
    >>> job = refimpl.problem(refimpl.oracle_denoiser(refimpl.datasets.coupled_pairs()), refimpl.samplers.RandomK(1), 2, 4)
    >>> out = refimpl.engine.draw(job, 3, np.random.default_rng(0))
    >>> out.sequences.shape, out.calls.tolist()
    ((3, 2), [2, 2, 2])
    """

    sequences: np.ndarray
    calls: np.ndarray


def draw(job: Problem, n: int, rng: np.random.Generator) -> Draws:
    r"""Draw ``n`` outputs of a :class:`refimpl.engine.Problem` with a ``numpy.random.Generator``.

    Parameters
    ----------
    job : Problem
        From :func:`refimpl.engine.problem`.
    n : int
        How many outputs.
    rng : numpy.random.Generator
        The only source of randomness.

    Returns
    -------
    Draws

    Examples
    --------
    >>> import numpy as np, refimpl
    >>> from refimpl import samplers
    >>> p = refimpl.datasets.coupled_pairs([(0, 1), (1, 0)]).table
    >>> job = refimpl.engine.problem(refimpl.oracle_denoiser(p), samplers.LeftToRight(), 2, 2)
    >>> out = refimpl.engine.draw(job, 4, np.random.default_rng(0))
    >>> sorted({tuple(x) for x in out.sequences.tolist()} - {(0, 1), (1, 0)}), out.calls.tolist()
    ([], [2, 2, 2, 2])
    """
    job = check_problem(job)
    rng = validate.generator(rng)
    n = validate.integer(n, "n", 1)
    vocab_size, length = job.vocab_size, job.length
    check_memory(n * length * 8 + min(n, CHUNK) * length * vocab_size * 8 * 4, f"drawing {n} samples of length {length}")
    scores = np.full((n, length), np.nan) if job.scored else None
    calls = np.zeros(n, dtype=np.int64)
    z = np.tile(job.prompt, (n, 1))
    changed = np.ones(n, dtype=bool)  # nothing is cached before the first step
    parked = np.zeros(n, dtype=bool)  # rows whose loop has stopped until a step releases them
    for step in job.steps:
        if step.releases:
            parked[:] = False
        todo = np.flatnonzero(step.candidates(z == vocab_size).any(axis=1) & ~parked)
        rule = step.calls
        calls[todo if rule == IF_MASKED else changed if rule == IF_CHANGED else slice(None)] += step.passes
        changed = np.zeros(n, dtype=bool)
        if todo.size == 0:
            continue
        rows = z[todo]
        mu = evaluate_rows(job.model, rows, vocab_size)
        at = step.predicts(rows, vocab_size)
        if at is not None:
            mu = clean_predictions(job.model, rows, at, mu, vocab_size)
        if step.batching == SCORED:  # (sequence, scores) states, refimpl.engine.scored
            drawn, scores[todo] = step.draw_scored(rows, scores[todo], mu, rng)
        elif step.queries:
            drawn = step.draw(rows, mu, rng, model=lambda x: evaluate_rows(job.model, x, vocab_size))
        else:
            drawn = step.draw(rows, mu, rng)
        changed[todo] = (drawn != rows).any(axis=1)
        if step.parks:
            parked[todo] = step.park(rows, drawn)
        z[todo] = drawn
    if (z == vocab_size).any():
        raise InvalidParameterError(f"{type(job.sampler).__name__} left masks in its output; give it enough steps")
    return Draws(z, calls)


def sample(denoiser: Denoiser, sampler: Sampler, n: int, rng: np.random.Generator, length: int, vocab_size: int,
           prompt: ArrayLike | None = None, calls: np.ndarray | None = None) -> np.ndarray:
    r"""Draw ``n`` outputs of the sampler, shape (n, L), with a ``numpy.random.Generator``.

    Parameters
    ----------
    denoiser, sampler, length, vocab_size, prompt
        As :func:`refimpl.exact_law`.
    n : int
        How many outputs.
    rng : numpy.random.Generator
        The only source of randomness: the same seed gives the same outputs.
    calls : ndarray, optional
        Deprecated: :func:`refimpl.engine.draw` returns the calls of each row.

    Returns
    -------
    ndarray
        (n, L) int64 clean sequences.

    Examples
    --------
    >>> import numpy as np, refimpl
    >>> from refimpl import samplers
    >>> p = refimpl.datasets.coupled_pairs([(0, 1), (1, 0)]).table
    >>> x = refimpl.sample(refimpl.oracle_denoiser(p), samplers.LeftToRight(), 1000, np.random.default_rng(0), 2, 2)
    >>> x.shape, bool(np.all(x[:, 0] != x[:, 1]))              # one token at a time keeps the coupling
    ((1000, 2), True)
    """
    if calls is not None:
        warnings.warn("sample(calls=...) is deprecated: refimpl.engine.draw(problem, n, rng).calls holds them",
                      DeprecationWarning, stacklevel=2)
        n = validate.integer(n, "n", 1)
        if not (isinstance(calls, np.ndarray) and calls.shape == (n,) and np.issubdtype(calls.dtype, np.integer)
                and calls.flags.writeable):
            raise validate.InvalidTypeError(f"calls must be a writable integer numpy array of shape ({n},)")
    out = draw(problem(denoiser, sampler, length, vocab_size, prompt), n, rng)
    if calls is not None:
        calls += out.calls
    return out.sequences


def clean_predictions(denoiser: Denoiser, z: np.ndarray, at: np.ndarray, mu: np.ndarray, vocab_size: int) -> np.ndarray:
    r"""``mu`` (B, L, V) with the rows at the clean positions ``at`` (B, L) bool replaced by the model's prediction
    there: the denoiser's answer at j with j masked (what :meth:`refimpl.engine.states.PatternStates.clean_rows`
    reads on the exact side)."""
    out = mu.copy()
    for j in np.flatnonzero(at.any(axis=0)):
        rows = np.flatnonzero(at[:, j])
        hidden = z[rows].copy()
        hidden[:, j] = vocab_size
        out[rows, j] = evaluate_rows(denoiser, hidden, vocab_size)[:, j]
    return out
