r"""The engine's entrance: a sampler on a space with its prompt and denoiser, validated and planned once.

Every view of the engine — :func:`refimpl.exact_law`, :func:`refimpl.expected_calls`,
:func:`refimpl.tie_probability`, :func:`refimpl.sample` — starts from one :class:`Problem`; a caller that wants
several of them builds the problem once (:func:`problem`) and hands it to :func:`refimpl.engine.run` and
:func:`refimpl.engine.draw`, so that the prompt is validated, the plan built and the guided model formed once.
"""
import dataclasses

import numpy as np

from ..core import validate
from ..core.errors import InvalidParameterError
from ..core.types import ArrayLike, Denoiser, Sampler
from .protocol import ALWAYS, IF_MASKED, KINDS, PER_PATTERN, SCORED


@dataclasses.dataclass(frozen=True, eq=False)
class Problem:
    r"""A sampler's run on a space, ready for the engine.

    ``denoiser`` is the model as given, ``model`` the one the steps read (the sampler's ``guide`` applied, e.g.
    LLaDA's classifier-free guidance); ``prompt`` (L,) int64, read-only, V where masked; ``steps`` the plan;
    ``scored`` whether its states carry scores (:mod:`refimpl.engine.scored`).

    Parameters
    ----------
    denoiser, model : callable
        The denoiser as given, and as the steps read it.
    sampler : object
    vocab_size, length : int
    prompt : ndarray
        (L,) int64, read-only.
    steps : tuple
        The plan.
    scored : bool

    Examples
    --------
    >>> import refimpl
    >>> job = refimpl.problem(refimpl.oracle_denoiser(refimpl.datasets.coupled_pairs()), refimpl.samplers.LLaDA(1), 2, 4,
    ...                       prompt=[0, 4])
    >>> job.masked.tolist(), len(job.steps), job.scored
    ([False, True], 1, False)
    """

    denoiser: Denoiser
    sampler: Sampler
    vocab_size: int
    length: int
    prompt: np.ndarray
    steps: tuple
    model: Denoiser
    scored: bool

    @property
    def masked(self) -> np.ndarray:
        """(L,) bool: the positions the sampler generates."""
        return self.prompt == self.vocab_size


def check_problem(job: object) -> Problem:
    """``job`` if it is a :class:`Problem`, else a clear error (what :func:`refimpl.engine.run` and
    :func:`refimpl.engine.draw` take)."""
    if not isinstance(job, Problem):
        raise validate.InvalidTypeError(f"expected a refimpl.engine.Problem (from refimpl.engine.problem(denoiser, "
                                        f"sampler, length, vocab_size, prompt)), got {type(job).__name__}")
    return job


def prompt_tokens(prompt: ArrayLike | None, length: int, vocab_size: int) -> np.ndarray:
    """The validated prompt (L,) int64; None: every position masked."""
    if prompt is None:
        return np.full(length, vocab_size, dtype=np.int64)
    return validate.tokens(prompt, vocab_size, length, partial=True, name="prompt", ndim=1)


def problem(denoiser: Denoiser, sampler: Sampler, length: int, vocab_size: int,
            prompt: ArrayLike | None = None) -> Problem:
    r"""Validate the space and the prompt, build the sampler's plan and the model its steps read — once.

    Parameters
    ----------
    denoiser : callable
        ``den(z) -> probs``, ``z`` (B, L) ints in 0..V (V = mask), ``probs`` (B, L, V) (the interop contract).
    sampler : object
        One of :mod:`refimpl.samplers` (an object with ``plan(masked, region)``).
    length, vocab_size : int
        L and V.
    prompt : array_like of int, optional
        (L,) partial sequence whose clean tokens are kept; default every position masked.

    Returns
    -------
    Problem

    Examples
    --------
    >>> import numpy as np, refimpl
    >>> from refimpl import samplers
    >>> p = refimpl.datasets.coupled_pairs([(0, 1), (1, 0)]).table   # "AB" or "BA", 1/2 each
    >>> job = refimpl.engine.problem(refimpl.oracle_denoiser(p), samplers.LLaDA(1, temperature=1.0), 2, 2)
    >>> len(job.steps), job.prompt.tolist()
    (1, [2, 2])
    """
    vocab_size, length = validate.space(vocab_size, length)
    tokens = prompt_tokens(prompt, length, vocab_size)
    tokens.setflags(write=False)
    steps = plan(sampler, tokens, vocab_size)
    guide = getattr(sampler, "guide", None)  # (a sampler that changes the model's answers before its steps)
    model = denoiser if guide is None else guide(denoiser, tokens, vocab_size)
    return Problem(denoiser, sampler, vocab_size, length, tokens, steps, model, _scored(steps, sampler))


def plan(sampler: Sampler, prompt: np.ndarray, vocab_size: int) -> tuple:
    """The sampler's steps for this prompt (every position in the region), each checked against the protocol."""
    make = getattr(sampler, "plan", None)
    if not callable(make):
        raise validate.InvalidTypeError(
            f"sampler must be one of refimpl.samplers (an object with plan()), got {type(sampler).__name__}")
    steps = tuple(make(prompt == vocab_size, np.ones(len(prompt), dtype=bool)))
    for step in steps:
        if not isinstance(step, KINDS):
            raise validate.InvalidTypeError(
                f"{type(sampler).__name__}.plan() returned {type(step).__name__}, which is not a step: subclass "
                f"refimpl.engine.protocol.PatternStep, CountStep or ScoredStep")
        if step.parks and step.batching != PER_PATTERN:
            raise validate.InvalidTypeError(f"{type(step).__name__} parks mass but is not a {PER_PATTERN!r} step")
    if any(step.parks for step in steps) and any(step.calls == ALWAYS for step in steps):
        raise validate.InvalidTypeError(
            f"{type(sampler).__name__}.plan() parks mass and has a step that calls the model {ALWAYS!r}: a parked "
            f"sequence is not called, so a plan that parks says when its steps call ({IF_MASKED!r})")
    return steps


def _scored(steps, sampler) -> bool:
    """Whether the plan's steps are :data:`SCORED` (all of them); a mix is refused."""
    scored = [step.batching == SCORED for step in steps]
    if any(scored) and not all(scored):
        raise InvalidParameterError(f"{type(sampler).__name__}.plan() mixes {SCORED!r} steps with others; the engine "
                                    f"runs a plan on one kind of state")
    return bool(scored) and all(scored)
