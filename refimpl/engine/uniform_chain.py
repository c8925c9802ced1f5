r"""Exact laws of samplers without a mask (issue #38): a chain on clean canvases :math:`z \in \{0..V-1\}^L` whose steps
move every position independently given the canvas — a step is a function ``factors(mu, z)`` -> (N, L, V), the law
of each position's next token at each of the N canvases z given the denoiser's answer mu (N, L, V) there — so one
step maps the law P over the :math:`V^L` canvases to :math:`P'(z') = \sum_z P(z) \prod_i f_i(z'_i \mid z)`.

The work of a step is :math:`V^{2L}` products (V=4, L=6: 17 million); the memory the same in float64, estimated and
refused above the limit before anything is formed.
"""
import numpy as np

from ..core import validate
from ..core.errors import InvalidDenoiserOutputError, InvalidParameterError
from ..core.memory import check_memory


def canvases(vocab_size: int, length: int) -> np.ndarray:
    """(V^L, L) int64: every clean canvas, in C order (position 0 varies slowest)."""
    return np.indices((vocab_size,) * length, dtype=np.int64).reshape(length, -1).T


def answers(denoiser, vocab_size: int, length: int) -> np.ndarray:
    """(V^L, L, V): the denoiser at every canvas, checked (finite, >= 0, rows summing to 1)."""
    grid = canvases(vocab_size, length)
    mu = np.asarray(denoiser(grid), dtype=np.float64)
    if mu.shape != grid.shape + (vocab_size,):
        raise InvalidDenoiserOutputError(f"the denoiser must answer (B, L, V) = {grid.shape + (vocab_size,)}, got "
                                         f"{mu.shape}")
    if not np.all(np.isfinite(mu)) or np.any(mu < 0) or not np.allclose(mu.sum(axis=-1), 1.0, atol=1e-9):
        raise InvalidDenoiserOutputError("the denoiser's answers must be finite, >= 0 and sum to 1 over the tokens")
    return mu


def step_bytes(vocab_size: int, length: int) -> int:
    return 8 * 2 * vocab_size ** (2 * length)


def step_rows(factors: np.ndarray, weights=None) -> np.ndarray:
    r"""(N, V^L): row z is :math:`\prod_i f_i(z'_i \mid z)` over the next canvases z', times ``weights[z]`` if given —
    ``factors`` (N, L, V) the per-position laws at each of the N canvases."""
    sources, length, vocab_size = factors.shape
    out = np.ones((sources, 1)) if weights is None else np.asarray(weights, dtype=np.float64)[:, None]
    for i in range(length):  # the product over positions 0..i-1 so far, as (N, V^i)
        out = (out[:, :, None] * factors[:, i, None, :]).reshape(sources, -1)
    return out


def apply_step(law: np.ndarray, factors: np.ndarray) -> np.ndarray:
    r"""One step: ``law`` (V^L,) over canvases, ``factors`` (V^L, L, V) the per-position laws at each canvas; returns
    the next law (V^L,), :math:`\sum_z P(z) \prod_i f_i(z'_i \mid z)`."""
    return step_rows(factors, law).sum(axis=0)


def chain_law(denoisers, steps, vocab_size: int, length: int, start=None) -> np.ndarray:
    """The law over canvases after ``steps`` (each ``factors(mu, z)`` -> (N, L, V)) from ``start`` (V^L,) — default
    every position uniform — as a table (V,)*L.  ``denoisers``: the model each step asks, one per step (the same
    object for a model not told the time: it is evaluated once)."""
    vocab_size, length = validate.space(vocab_size, length)
    steps, denoisers = list(steps), list(denoisers)
    if len(denoisers) != len(steps):
        raise InvalidParameterError(f"one denoiser per step: {len(steps)} steps, {len(denoisers)} denoisers")
    check_memory(step_bytes(vocab_size, length), f"a uniform-state step at V={vocab_size}, L={length} (V^2L products)")
    grid = canvases(vocab_size, length)
    law = np.full(len(grid), vocab_size ** -length) if start is None else np.asarray(start, dtype=np.float64).ravel()
    asked, mu = None, None
    for model, step in zip(denoisers, steps):
        if model is not asked:
            asked, mu = model, answers(model, vocab_size, length)
        law = apply_step(law, step(mu, grid))
    return law.reshape((vocab_size,) * length)


def run_columns(size: int, history: int) -> int:
    """Columns of a stop rule's state (the last argmax canvas a and how many steps in a row it has held, up to
    ``history``; the last column: none yet): ``size * history + 1``, 1 without history."""
    return size * history + 1 if history else 1


def stable_runs(argmax: np.ndarray, history: int, columns: int) -> np.ndarray:
    """(N, columns) bool: the states whose last ``history`` argmax canvases all equal this step's ``argmax`` (N,) —
    every state when ``history`` is 0."""
    if history == 0:
        return np.ones((len(argmax), columns), dtype=bool)
    return np.arange(columns)[None, :] == (argmax * history + history - 1)[:, None]


def advance_runs(mass: np.ndarray, argmax: np.ndarray, history: int) -> np.ndarray:
    """The stop-rule state after a step whose argmax canvas is ``argmax`` (N,): ``mass`` (N, columns) moved to the
    column (argmax, run length + 1 capped at ``history``) — run length 1 from another argmax or none."""
    size, columns = mass.shape
    held = np.zeros_like(mass)
    alive = mass.sum(axis=1)
    if history == 0:
        held[:, 0] = alive
        return held
    every = np.arange(size)[:, None]
    block = argmax[:, None] * history + np.arange(history)  # this step's argmax with run lengths 1..history
    own = mass[every, block]
    new = np.zeros((size, history))
    new[:, 0] = alive - own.sum(axis=1)
    np.add.at(new, (slice(None), np.minimum(np.arange(history) + 1, history - 1)), own)
    held[every, block] = new
    return held
