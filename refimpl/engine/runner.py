r"""One run of the exact-law engine: the law, the model calls of every step and, when asked, which steps
reveal what and the probability that a tie decides something — all from one pass over the plan.

The state is a table ``mass`` of shape ``(V+1,)*L`` (mask = V, :mod:`refimpl.engine.layout`).  Each step of
the plan maps it to the next table through the step protocol (:mod:`refimpl.engine.protocol`):
:data:`PER_PATTERN` steps one mask pattern at a time (:mod:`refimpl.engine.per_pattern`), :data:`BY_COUNTS`
steps many patterns per array operation (:mod:`refimpl.engine.counts`).  After the last step the clean
block of the table is the law.  Only the blocks of *live* patterns — those that may hold mass — are read:
each step lists the patterns it can reach and hands them to the next.

Before each step the engine has how much probability each mask pattern holds, and so the probability that
the original loop calls the model for the step (:mod:`refimpl.engine.calls`, proofs/model_calls.md).  With
``ties=True`` a second table runs beside the first through each step's ``without_ties()`` (the draws whose
kept set a tie decides dropped): the mass it loses is the tie probability.
"""
import contextlib
import dataclasses
import itertools
import math
import threading
from typing import Callable

import numpy as np

from ..core import validate
from ..core.errors import InvalidParameterError
from ..core.memory import check_memory, get_memory_limit
from ..core.numerics import Workspace
from ..core.types import Table
from ..denoisers.conditionals import reader
from .counts import apply_by_counts
from .layout import block, fold_patterns
from .per_pattern import GROUPS, PerPattern
from .problem import Problem, check_problem
from .protocol import BY_COUNTS, IF_CHANGED, IF_MASKED, PER_PATTERN, call_probability
from .scored import scored_law_and_calls

KEEP_BYTES = 1 << 27  # a thread keeps the engine's scratch memory between calls up to 128 MiB (and 1/8 of the limit)
_kept = threading.local()


@contextlib.contextmanager
def _kept_workspace():
    """The calling thread's engine :class:`Workspace`, reused by its successive runs.

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
    """What the engine did: steps, mask patterns visited and transition entries (source x outcome) computed.

    Parameters
    ----------
    steps, patterns, entries : int
        Steps run, mask patterns visited, transition entries computed.

    Examples
    --------
    >>> import refimpl
    >>> oracle = refimpl.oracle_denoiser(refimpl.datasets.coupled_pairs())
    >>> job = refimpl.problem(oracle, refimpl.samplers.LeftToRight(), 2, 4)
    >>> refimpl.run(job).stats
    EngineStats(steps=2, patterns=2, entries=20)
    """

    steps: int = 0
    patterns: int = 0
    entries: int = 0

    def add(self, other: "EngineStats") -> None:
        """Add another run's counts to these (what the deprecated ``stats=`` keywords do)."""
        self.steps += other.steps
        self.patterns += other.patterns
        self.entries += other.entries


@dataclasses.dataclass(frozen=True, eq=False)
class Result:
    r"""What one run of the engine found.

    ``law`` (V,)*L: the probability of each clean output — it sums to less than 1 where the sampler leaves
    masks (:meth:`finished` refuses that); ``calls`` (T,): the probability that the original loop calls the
    model at each step of the plan, times the step's ``passes`` (its sum is the expected NFE); ``stats``: what
    the engine computed; ``reveals`` (with ``reveals=True``): one dict per step, ``{(masked positions before,
    positions revealed): probability}``; ``tie_probability`` (with ``ties=True``): the probability that a run
    meets a tie that decides what a step keeps (:func:`refimpl.tie_probability`).

    Parameters
    ----------
    law : ndarray
        (V,)*L.
    calls : ndarray
        (T,).
    stats : EngineStats
    reveals : list of dict, optional
    tie_probability : float, optional

    Examples
    --------
    >>> import refimpl
    >>> job = refimpl.problem(refimpl.oracle_denoiser(refimpl.datasets.coupled_pairs()), refimpl.samplers.LLaDA(2), 2, 4)
    >>> result = refimpl.run(job, reveals=True)
    >>> result.calls.tolist(), result.reveals[0]             # one position per step, the first by the tie rule
    ([1.0, 1.0], {((0, 1), (0,)): 1.0, ((0, 1), (1,)): 0.0})
    """

    law: Table
    calls: np.ndarray
    stats: EngineStats
    reveals: "list | None" = None
    tie_probability: "float | None" = None

    @property
    def expected_calls(self) -> float:
        """The expected number of model evaluations of the original loop (the sum of ``calls``)."""
        return math.fsum(self.calls)

    def finished(self, who: str = "the sampler") -> Table:
        """``law``, refused when it leaves probability on sequences that still hold masks."""
        left = 1.0 - self.law.sum()
        if left > 1e-9:
            raise InvalidParameterError(f"{who} leaves probability {left:.3g} on sequences that still hold masks; "
                                        f"give it enough steps to finish")
        return self.law


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


class _Track:
    """One mass table carried through the plan (the run's own, or the one without ties beside it)."""

    def __init__(self, job: Problem, source, work: Workspace):
        vocab_size, length = job.vocab_size, job.length
        self.job, self.source, self.work = job, source, work
        self.names = ["mass", "spare"]  # the by-counts runner moves the mass from the first into the second, then swaps
        self.mass = work.scratch(self.names[0], (vocab_size + 1,) * length)
        self.live = job.masked[None, :]  # the patterns whose blocks may hold mass (None: any)
        self.mass[block(self.live[0], vocab_size)] = 0.0  # no other block is read
        self.mass[tuple(job.prompt)] = 1.0
        self.runner = None  # the per-pattern runner, built on the first step that needs it

    def release(self, step):
        """Before ``step``: the parked mass added back if the step releases it."""
        if step.releases and self.runner is not None:
            self.live = self.runner.release(self.mass, self.live)

    def apply(self, step, stats, flows):
        vocab_size = self.job.vocab_size
        if step.batching == BY_COUNTS:
            self.names.reverse()
            self.mass, self.live = apply_by_counts(step, self.mass, self.work.scratch(self.names[0], self.mass.shape),
                                                   self.source, vocab_size, stats, flows, self.work, self.live)
        else:
            assert step.batching == PER_PATTERN
            self.runner = self.runner or PerPattern(self.job.masked, self.source, vocab_size, self.work)
            self.live = self.runner.apply(step, self.mass, stats, flows, self.live)

    def law(self) -> Table:
        """The mass on clean sequences after the last step (what is parked added back first)."""
        if self.runner is not None:
            self.live = self.runner.release(self.mass, self.live)
        vocab_size, length = self.job.vocab_size, self.job.length
        written = self.live is None or (~self.live).all(axis=1).any()  # else the clean block was never written
        return self.mass[(slice(0, vocab_size),) * length].copy() if written else np.zeros((vocab_size,) * length)


def run(job: Problem, reveals: bool = False, ties: bool = False, before_step: "Callable | None" = None) -> Result:
    r"""Run the exact-law engine once on a :class:`refimpl.engine.Problem`.

    Parameters
    ----------
    job : Problem
        From :func:`refimpl.engine.problem` (validated and planned).
    reveals : bool
        Also record which positions each step reveals, exactly (``Result.reveals``).
    ties : bool
        Also compute the probability that a tie decides what a step keeps (``Result.tie_probability``): a second
        table beside the first, about as much work again for a sampler that ranks (none for one that does not).
    before_step : callable, optional
        ``before_step(step, patterns, probabilities)`` before each step, with how much probability each mask
        pattern holds (the hook of the deprecated ``exact_law(before_step=...)``).

    Returns
    -------
    Result

    Examples
    --------
    >>> import refimpl
    >>> from refimpl import samplers
    >>> p = refimpl.datasets.coupled_pairs([(0, 1), (1, 0)]).table
    >>> job = refimpl.engine.problem(refimpl.oracle_denoiser(p), samplers.LLaDA(1, temperature=1.0), 2, 2)
    >>> result = refimpl.engine.run(job, ties=True)
    >>> result.law.round(2).tolist(), result.expected_calls, result.tie_probability
    ([[0.25, 0.25], [0.25, 0.25]], 1.0, 0.0)
    """
    job = check_problem(job)
    reveals, ties = validate.flag(reveals, "reveals"), validate.flag(ties, "ties")
    if before_step is not None and not callable(before_step):
        raise validate.InvalidTypeError(f"before_step must be callable, got {type(before_step).__name__}")
    stats = EngineStats()
    excluded = tuple(step.without_ties() for step in job.steps) if ties else job.steps
    ranks = any(other is not step for other, step in zip(excluded, job.steps))
    if job.scored:
        if before_step is not None:
            raise InvalidParameterError("before_step reads mask-pattern masses, which a scored plan does not keep")
        found = [] if reveals else None
        law, calls = scored_law_and_calls(job.steps, job.model, job.prompt, job.vocab_size, stats, found)
        chance = None
        if ties:
            kept = scored_law_and_calls(excluded, job.model, job.prompt, job.vocab_size)[0] if ranks else law
            chance = float(max(law.sum() - kept.sum(), 0.0))
        return Result(law, calls, stats, found, chance)
    _check_memory(job, tracks=2 if ranks else 1)
    source = reader(job.model, job.vocab_size, job.length)
    found, calls, changed = ([] if reveals else None), [], 1.0  # nothing is cached before the first step
    with _kept_workspace() as work:
        tracks = [_Track(job, source, work)] + ([_Track(job, source, work.child("without ties"))] if ranks else [])
        for k, step in enumerate(job.steps):
            stats.steps += 1
            for track in tracks:
                track.release(step)
            # the pattern masses, where something reads them: this step's call if it calls only while it has
            # candidates, the next step's if it calls only after a change, the hook
            following = job.steps[k + 1].calls if k + 1 < len(job.steps) else None
            if before_step is not None or step.calls == IF_MASKED or following == IF_CHANGED:
                patterns, probabilities = pattern_masses(tracks[0].mass, tracks[0].live, job.vocab_size)
                if before_step is not None:
                    before_step(step, patterns, probabilities)
                acting = math.fsum(probabilities[step.candidates(patterns).any(axis=1)])
                calls.append(call_probability(step.calls, acting, changed) * step.passes)
                changed = 1.0 - math.fsum(probabilities * np.array([step.stay_probability(p) for p in patterns]))
            else:  # ALWAYS, or IF_CHANGED with what the step before left (changed): no mass needs reading
                calls.append(call_probability(step.calls, 1.0, changed) * step.passes)
                changed = 1.0
            flows = [] if reveals else None
            tracks[0].apply(step, stats, flows)
            if ranks:
                tracks[1].apply(excluded[k], EngineStats(), None)
            if reveals:
                found.append(_reveals(flows))
        laws = [track.law() for track in tracks]
    chance = None if not ties else float(max(laws[0].sum() - laws[-1].sum(), 0.0)) if ranks else 0.0
    return Result(laws[0], np.array(calls, dtype=np.float64), stats, found, chance)


def _check_memory(job, tracks):
    vocab_size, length = job.vocab_size, job.length
    bulk = sum(step.batching == BY_COUNTS for step in job.steps)
    per_pattern = bulk < len(job.steps)
    tables = 1 + (1 if bulk else 0) + ((GROUPS + 4) if per_pattern else 0)
    check_memory(tracks * tables * (vocab_size + 1) ** length * 8,
                 f"the exact law engine for V={vocab_size}, L={length} ({tracks * tables} tables of (V+1)^L: the mass"
                 f"{', a spare' if bulk else ''}{', one accumulator per group' if per_pattern else ''}"
                 f"{', four blocks' if per_pattern else ''}{', twice: with and without ties' if tracks > 1 else ''})")
