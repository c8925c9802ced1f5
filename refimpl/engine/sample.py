r"""Monte Carlo draws of a sampler's output, by the same plan the exact law follows (``step.draw``)."""
import numpy as np

from ..core import validate
from ..core.errors import InvalidParameterError
from ..core.memory import check_memory
from ..core.types import ArrayLike, Denoiser, Sampler
from ..denoisers.evaluation import CHUNK, evaluate_rows
from .exact import model, plan, prompt_tokens
from .protocol import IF_CHANGED, IF_MASKED, SCORED, passes
from .scored import is_scored


def sample(denoiser: Denoiser, sampler: Sampler, n: int, rng: np.random.Generator, length: int, vocab_size: int,
           prompt: ArrayLike | None = None, calls: np.ndarray | None = None) -> np.ndarray:
    r"""Draw ``n`` outputs of the sampler, shape (n, L), with a ``numpy.random.Generator``.

    ``calls``, an (n,) integer array, receives (added to it) the model calls each row's original loop
    would make as a batch of one — the draws behind :func:`refimpl.engine.calls.expected_calls`, e.g. for
    the law of the NFE.
    """
    vocab_size, length = validate.space(vocab_size, length)
    rng = validate.generator(rng)
    n = validate.integer(n, "n", 1)
    prompt = prompt_tokens(prompt, length, vocab_size)
    if calls is not None and not (isinstance(calls, np.ndarray) and calls.shape == (n,)
                                  and np.issubdtype(calls.dtype, np.integer) and calls.flags.writeable):
        raise validate.InvalidTypeError(f"calls must be a writable integer numpy array of shape ({n},)")
    check_memory(n * length * 8 + min(n, CHUNK) * length * vocab_size * 8 * 4,
                 f"drawing {n} samples of length {length}")
    steps = plan(sampler, prompt, vocab_size)
    scores = np.full((n, length), np.nan) if is_scored(steps, type(sampler).__name__) else None
    denoiser = model(sampler, denoiser, prompt, vocab_size)
    z = np.tile(prompt, (n, 1))
    changed = np.ones(n, dtype=bool)  # nothing is cached before the first step
    parked = np.zeros(n, dtype=bool)  # rows whose loop has stopped until a step releases them
    for step in steps:
        if getattr(step, "releases", False):
            parked[:] = False
        todo = np.flatnonzero(step.candidates(z == vocab_size).any(axis=1) & ~parked)
        if calls is not None:
            rule = step.calls
            calls[todo if rule == IF_MASKED else changed if rule == IF_CHANGED else slice(None)] += passes(step)
        changed = np.zeros(n, dtype=bool)
        if todo.size == 0:
            continue
        rows = z[todo]
        mu = evaluate_rows(denoiser, rows, vocab_size)
        if hasattr(step, "predicts"):
            mu = clean_predictions(denoiser, rows, step.predicts(rows, vocab_size), mu, vocab_size)
        if step.batching == SCORED:  # (sequence, scores) states, refimpl.engine.scored
            drawn, scores[todo] = step.draw_scored(rows, scores[todo], mu, rng)
        else:
            drawn = step.draw(rows, mu, rng)
        changed[todo] = (drawn != rows).any(axis=1)
        if hasattr(step, "park"):
            parked[todo] = step.park(rows, drawn)
        z[todo] = drawn
    if (z == vocab_size).any():
        raise InvalidParameterError(f"{type(sampler).__name__} left masks in its output; give it enough steps")
    return z


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
