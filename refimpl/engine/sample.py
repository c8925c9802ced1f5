r"""Monte Carlo draws of a sampler's output, by the same plan the exact law follows (``step.draw``)."""
import numpy as np

from ..core import validate
from ..core.errors import InvalidParameterError
from ..core.limits import check_memory
from ..core.types import ArrayLike, Denoiser, Sampler
from ..denoisers.protocol import CHUNK, evaluate_rows
from .exact import model, plan, prompt_tokens
from .protocol import IF_CHANGED, IF_MASKED, passes


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
    denoiser = model(sampler, denoiser, prompt, vocab_size)
    z = np.tile(prompt, (n, 1))
    changed = np.ones(n, dtype=bool)  # nothing is cached before the first step
    for step in steps:
        todo = np.flatnonzero(step.candidates(z == vocab_size).any(axis=1))
        if calls is not None:
            rule = step.calls
            calls[todo if rule == IF_MASKED else changed if rule == IF_CHANGED else slice(None)] += passes(step)
        changed = np.zeros(n, dtype=bool)
        if todo.size == 0:
            continue
        drawn = step.draw(z[todo], evaluate_rows(denoiser, z[todo], vocab_size), rng)
        changed[todo] = (drawn != z[todo]).any(axis=1)
        z[todo] = drawn
    if (z == vocab_size).any():
        raise InvalidParameterError(f"{type(sampler).__name__} left masks in its output; give it enough steps")
    return z
