r"""The exact law of a sampler's output: probability mass over partial sequences, step by step.

The state is a table ``mass`` of shape ``(V+1,)*L`` (mask = V, :mod:`refimpl.engine.layout`).  Each step of
the sampler's plan maps it to the next table through the step protocol (:mod:`refimpl.engine.protocol`):
:data:`PER_PATTERN` steps one mask pattern at a time (:mod:`refimpl.engine.per_pattern`),
:data:`BY_COUNTS` steps many patterns per array operation (:mod:`refimpl.engine.counts`).  After the last
step the clean block of the table is the law.

Only the blocks of *live* patterns — those that may hold mass — are read: each step lists the patterns
it can reach and hands them to the next, so a step costs what its live patterns cost, not
:math:`(V+1)^L`: left-to-right decoding touches one pattern per step.
"""
import contextlib
import dataclasses
import itertools
import threading
from typing import Callable

import numpy as np

from ..core import validate
from ..core.errors import InvalidParameterError
from ..core.memory import check_memory, get_memory_limit
from ..core.numerics import Workspace
from ..core.types import ArrayLike, Denoiser, Sampler, Table
from ..denoisers.conditionals import reader
from .counts import apply_by_counts
from .layout import block, fold_patterns
from .per_pattern import GROUPS, PerPattern
from .protocol import ALWAYS, BATCHINGS, BY_COUNTS, IF_MASKED, PER_PATTERN
from .scored import is_scored, scored_law_and_calls

KEEP_BYTES = 1 << 27  # a thread keeps the engine's scratch memory between calls up to 128 MiB (and 1/8 of the limit)
_kept = threading.local()


@contextlib.contextmanager
def _kept_workspace():
    """The calling thread's engine :class:`Workspace`, reused by its successive exact laws.

    Fresh memory is expensive: the kernel faults it in a 4 KiB page at a time, some 40 times as long as
    writing the page once mapped (docs/PERFORMANCE.md).  So the mass tables, accumulators and batch
    arrays are kept after a call and reused by the next one in the same thread, unless they grew past
    :data:`KEEP_BYTES` or an eighth of the memory limit in force (:func:`refimpl.memory_limit`).  A nested
    call (a denoiser that computes an exact law) gets its own.
    """
    work = getattr(_kept, "work", None) or Workspace()
    _kept.work = None
    try:
        yield work
    finally:
        if work.nbytes() <= min(KEEP_BYTES, get_memory_limit() // 8):
            _kept.work = work


@dataclasses.dataclass
class EngineStats:
    """What the engine did: steps, mask patterns visited and transition entries (source x outcome) computed."""

    steps: int = 0
    patterns: int = 0
    entries: int = 0


def prompt_tokens(prompt: ArrayLike | None, length: int, vocab_size: int) -> np.ndarray:
    """The validated prompt (L,) int64; None: every position masked."""
    if prompt is None:
        return np.full(length, vocab_size, dtype=np.int64)
    return validate.tokens(prompt, vocab_size, length, partial=True, name="prompt", ndim=1)


def plan(sampler: Sampler, prompt: np.ndarray, vocab_size: int) -> list:
    """The sampler's steps for this prompt (every position in the region)."""
    if not callable(getattr(sampler, "plan", None)):
        raise validate.InvalidTypeError(
            f"sampler must be one of refimpl.samplers (an object with plan()), got {type(sampler).__name__}")
    steps = list(sampler.plan(prompt == vocab_size, np.ones(len(prompt), dtype=bool)))
    for step in steps:
        if getattr(step, "batching", None) not in BATCHINGS:
            raise validate.InvalidTypeError(
                f"{type(sampler).__name__}.plan() returned {type(step).__name__}, which does not follow the step "
                f"protocol (refimpl.engine.protocol.Step: batching must be one of {BATCHINGS})")
        if getattr(step, "parks", False) and step.batching != PER_PATTERN:
            raise validate.InvalidTypeError(f"{type(step).__name__} parks mass but is not a {PER_PATTERN!r} step")
    if any(getattr(step, "parks", False) for step in steps) and any(step.calls == ALWAYS for step in steps):
        raise validate.InvalidTypeError(
            f"{type(sampler).__name__}.plan() parks mass and has a step that calls the model {ALWAYS!r}: a parked "
            f"sequence is not called, so a plan that parks says when its steps call ({IF_MASKED!r})")
    return steps


def model(sampler: Sampler, denoiser: Denoiser, prompt: np.ndarray, vocab_size: int) -> Denoiser:
    """The denoiser the sampler's steps read: ``sampler.guide(denoiser, prompt, vocab_size)`` when the sampler
    changes the model's answers before its steps see them (LLaDA's classifier-free guidance and
    ``logits_eos_inf``), else ``denoiser`` itself."""
    guide = getattr(sampler, "guide", None)
    return denoiser if guide is None else guide(denoiser, prompt, vocab_size)


def pattern_masses(mass: np.ndarray, live: np.ndarray | None, vocab_size: int) -> tuple[np.ndarray, np.ndarray]:
    """``(patterns (P, L) bool, probabilities (P,))``: how much of the engine's ``mass`` table each mask
    pattern holds — the blocks of ``live`` patterns, or every pattern when ``live`` is None (then every
    block of the table is valid)."""
    if live is not None:
        return live, np.array([mass[block(pattern, vocab_size)].sum() for pattern in live])
    folded = fold_patterns(mass, vocab_size)  # (2,)*L in C order, as the product below lists the patterns
    return np.array(list(itertools.product((False, True), repeat=mass.ndim))), folded.ravel()


def _reveals(flows):
    """One step's reveal statistics ``{(masked before, revealed): probability}`` from the runners' flow
    lists (each list summed on its own, then the lists in order)."""
    out = {}
    for part in flows:
        summed = {}
        for before, after, probability in part:
            key = (tuple(int(i) for i in np.flatnonzero(before)), tuple(int(i) for i in np.flatnonzero(before & ~after)))
            summed[key] = summed.get(key, 0.0) + probability
        for key, probability in summed.items():
            out[key] = out.get(key, 0.0) + probability
    return out


def exact_law(denoiser: Denoiser, sampler: Sampler, length: int, vocab_size: int, prompt: ArrayLike | None = None,
              stats: "EngineStats | None" = None, reveals: list | None = None,
              before_step: Callable | None = None) -> Table:
    r"""The exact law of the sampler's output as a ``(V,)*L`` table.

    ``prompt`` is a partial sequence whose clean tokens are kept (default: all masked).  Works with any
    denoiser (tables — the oracle, :func:`refimpl.denoisers.tabulate` — are read as views; other
    callables are evaluated on every reachable partial sequence).  ``stats`` (an
    :class:`EngineStats`) is filled in if given.  ``reveals``, a list, receives one dict per step:
    ``{(masked positions before the step, positions revealed): probability}`` — which positions each
    step commits, exactly.  ``before_step(step, patterns, probabilities)``, if given, is called before
    each step of the plan with how much probability each mask pattern holds (:func:`pattern_masses`) —
    the hook :func:`refimpl.engine.calls.expected_calls` is built on.
    """
    return finished(law_before_check(denoiser, sampler, length, vocab_size, prompt, stats, reveals, before_step), sampler)


def law_before_check(denoiser: Denoiser, sampler: Sampler, length: int, vocab_size: int,
                     prompt: ArrayLike | None = None, stats: "EngineStats | None" = None, reveals: list | None = None,
                     before_step: Callable | None = None) -> Table:
    """:func:`exact_law` without its check that the mass is whole: the mass on clean sequences, which sums to
    less than 1 where the sampler leaves masks or its steps drop mass (:func:`refimpl.tie_probability`)."""
    vocab_size, length = validate.space(vocab_size, length)
    prompt = prompt_tokens(prompt, length, vocab_size)
    steps = plan(sampler, prompt, vocab_size)
    if is_scored(steps, type(sampler).__name__):
        if before_step is not None:
            raise InvalidParameterError("before_step reads mask-pattern masses, which a scored plan does not keep")
        law, _ = scored_law_and_calls(steps, model(sampler, denoiser, prompt, vocab_size), prompt, vocab_size,
                                      stats, reveals)
        return law
    source = reader(model(sampler, denoiser, prompt, vocab_size), vocab_size, length)
    bulk = sum(step.batching == BY_COUNTS for step in steps)
    per_pattern = bulk < len(steps)
    tables = 1 + (1 if bulk else 0) + ((GROUPS + 4) if per_pattern else 0)
    check_memory(tables * (vocab_size + 1) ** length * 8,
                 f"the exact law engine for V={vocab_size}, L={length} ({tables} tables of (V+1)^L: the mass"
                 f"{', a spare' if bulk else ''}{', one accumulator per group' if per_pattern else ''}"
                 f"{', four blocks' if per_pattern else ''})")
    stats = EngineStats() if stats is None else stats
    with _kept_workspace() as work:
        names = ["mass", "spare"]  # the by-counts runner moves the mass from the first into the second, then swaps
        mass = work.scratch(names[0], (vocab_size + 1,) * length)
        live = (prompt == vocab_size)[None, :]  # the patterns whose blocks may hold mass (None: any)
        mass[block(live[0], vocab_size)] = 0.0  # no other block is read
        mass[tuple(prompt)] = 1.0
        runner = None  # the per-pattern runner, built on the first step that needs it
        for step in steps:
            stats.steps += 1
            if getattr(step, "releases", False) and runner is not None:
                live = runner.release(mass, live)
            if before_step is not None:
                before_step(step, *pattern_masses(mass, live, vocab_size))
            flows = [] if reveals is not None else None
            if step.batching == BY_COUNTS:
                names.reverse()
                mass, live = apply_by_counts(step, mass, work.scratch(names[0], mass.shape), source, vocab_size,
                                             stats, flows, work, live)
            else:
                assert step.batching == PER_PATTERN
                runner = runner or PerPattern(prompt == vocab_size, source, vocab_size, work)
                live = runner.apply(step, mass, stats, flows, live)
            if reveals is not None:
                reveals.append(_reveals(flows))
        if runner is not None:
            live = runner.release(mass, live)
        clean = (slice(0, vocab_size),) * length
        written = live is None or (~live).all(axis=1).any()  # else the clean block was never written
        law = mass[clean].copy() if written else np.zeros((vocab_size,) * length)
    return law


def finished(law: Table, sampler: Sampler) -> Table:
    """``law``, refused when it leaves probability on sequences that still hold masks."""
    left = 1.0 - law.sum()
    if left > 1e-9:
        raise InvalidParameterError(
            f"{type(sampler).__name__} leaves probability {left:.3g} on sequences that still hold masks; "
            f"give it enough steps to finish")
    return law
