r"""The exact-law engine under every sampler: probability mass over partial sequences, step by step.

The state is a table ``mass`` of shape ``(V+1,)*L`` (mask = V).  A step is applied one *mask pattern*
at a time: all partial sequences with the same masked set M share the positions a step can touch,
so their sources (the clean tokens, shape ``(V,)*(L-|M|)``) and their destinations (the same clean
tokens, each masked position now a token or still the mask) form one strided block of the table.
A step returns the mass-weighted law of the destinations in that block's layout, and the engine adds
it in.  Work per step is :math:`\sum_M V^{L-|M|} (V+1)^{|M|} = (2V+1)^L` entries at most.
Steps that reveal a k-subset of their candidates (top-k, uniform-k) instead go through
:func:`refimpl.bulk.apply_subset_step`, many mask patterns per array operation.

Only the blocks of *live* patterns — those that may hold mass — are read: each step lists the
patterns it can reach and hands them to the next, and clears (and, per pattern, sums) only their
blocks when that is cheaper than a pass over the whole table; every other block may hold anything
(the tables are kept between calls).  A step therefore costs what its live patterns cost, not
:math:`(V+1)^L`: left-to-right decoding touches one pattern per step.

Public: :func:`exact_law` and :func:`sample` (DESIGN.md interop contract); how many model calls a
sampler makes is :mod:`refimpl.calls`.
"""
import contextlib
import dataclasses
import itertools
import threading

import numpy as np

from ..core import validate
from .bulk import (CHUNK, apply_subset_step, block, by_blocks, code_patterns, count_reveal, fold_patterns, live_patterns, pattern_codes, zero_blocks)
from ..denoisers.tables import LatticeOracle, TableDenoiser, evaluate
from ..core.errors import InvalidParameterError
from ..core.limits import check_memory, get_memory_limit
from ..core.numerics import FRESH, Workspace, parallel_for, value_grid
from ..samplers.steps import ALWAYS, IF_CHANGED, IF_MASKED, FactorStep, IndependentStep, ThresholdStep

GROUPS = 2  # mask patterns are dealt to two fixed groups (one per core); the sum is the same on any machine
KEEP_BYTES = 1 << 27  # a thread keeps the engine's scratch memory between calls up to 128 MiB (and 1/8 of the limit)
_kept = threading.local()


@contextlib.contextmanager
def _kept_workspace():
    """The calling thread's engine :class:`Workspace`, reused by its successive exact laws.

    Fresh memory is expensive: the kernel faults it in a 4 KiB page at a time, and on the 2-core VM
    refimpl is benchmarked on a fault cost 4.4 us, some 40 times as long as writing the page once
    mapped (measured 2026-11-26: a fresh 3 MiB mmap filled in 3.4 ms, the same fill of a mapped array
    0.1 ms).  Before, an LLaDA law at V=3 L=8 faulted about 2,200 pages a call, half its time.  So the mass
    tables, accumulators and batch arrays are kept after a call and reused by the next one in the same
    thread, unless they grew past :data:`KEEP_BYTES` or an eighth of the memory limit in force
    (:func:`refimpl.memory_limit`).  A nested call (a denoiser that computes an exact law) gets its own.
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


class PatternContext:
    r"""One mask pattern during one step: its sources' mass and the denoiser's answers, in block layout.

    Block layout: one axis per position in position order, size V at clean positions and size 1 (or
    V+1 for destinations) at masked ones.  ``mass`` has the source layout; ``mu(j)`` is
    :math:`\mu(z)_{j,\cdot}` with the token on axis j; ``rows(j)`` is the same as (V, N) rows, the N
    sources in C order of the clean positions (the layout products are formed in).
    """

    def __init__(self, pattern, mass, denoiser, vocab_size, work=FRESH, conditionals=None):
        self.pattern = pattern  # (L,) bool, True where masked
        self.vocab_size = vocab_size
        self.length = len(pattern)
        self.masked = tuple(int(i) for i in np.flatnonzero(pattern))
        self.clean = tuple(int(i) for i in np.flatnonzero(~pattern))
        self.sources = vocab_size ** len(self.clean)
        self.mass = mass  # source layout
        self._denoiser = denoiser
        self._mu = conditionals
        self._work = work

    def buffer(self, slot, shape):
        """A reusable array of ``shape`` (named by ``slot``) from the engine's workspace, so large steps do
        not fault in fresh memory."""
        return self._work.scratch(f"block {slot}", shape)

    def rows(self, j):
        r""":math:`\mu(z)_{j,\cdot}` as (V, N) — the token first, the sources in C order of the clean
        positions — copied into a workspace array (valid until the next call).  (Reading the oracle's
        lattice by index instead measured no faster: the per-pattern index arithmetic costs as much.)"""
        mu = np.moveaxis(self.mu(j), j, 0)  # (V, block shape with 1 at every masked position)
        out = self.buffer("rows", mu.shape)
        np.copyto(out, mu)
        return out.reshape(self.vocab_size, self.sources)

    def block_view(self, compact, dims, sources_first=False):
        """A product formed as (outcomes of the masked positions, N) — ``dims`` the outcome axis of each
        masked position in order (1, V or V+1) — or as (N, outcomes) if ``sources_first``, viewed in
        block layout (position order)."""
        outcomes, sources = tuple(dims), (self.vocab_size,) * len(self.clean)
        if sources_first:
            blocked, order = compact.reshape(sources + outcomes), self.clean + self.masked
        else:
            blocked, order = compact.reshape(outcomes + sources), self.masked + self.clean
        return np.transpose(blocked, [order.index(a) for a in range(self.length)])

    def mu(self, j):
        if self._mu is None:
            self._mu = _conditionals(self._denoiser, self.pattern, self.vocab_size)
        return self._mu[j]


def _conditionals(denoiser, pattern, vocab_size):
    """{j: mu(z)_j in block layout} for all sources of a mask pattern (oracle: views of its tables)."""
    length = len(pattern)
    masked = np.flatnonzero(pattern)
    if isinstance(denoiser, TableDenoiser):
        out = {}
        for j in masked:
            index = tuple(slice(0, vocab_size) if (not pattern[a] or a == j) else slice(vocab_size, vocab_size + 1)
                          for a in range(length))
            out[int(j)] = denoiser.tables[j][index]
        return out
    if isinstance(denoiser, LatticeOracle):
        return {int(j): denoiser.pattern_conditionals(pattern, j) for j in masked}
    clean = np.flatnonzero(~pattern)
    grids = value_grid(vocab_size, len(clean))  # (N, |C|)
    z = np.full((len(grids), length), vocab_size, dtype=np.int64)
    z[:, clean] = grids
    mu = np.concatenate([evaluate(denoiser, z[s:s + CHUNK], vocab_size) for s in range(0, len(z), CHUNK)])
    out = {}
    for j in masked:
        shape = [vocab_size if not pattern[a] else 1 for a in range(length)]
        rows = mu[:, j, :].reshape((vocab_size,) * len(clean) + (vocab_size,))
        rows = np.moveaxis(rows, -1, int(np.searchsorted(clean, j)))  # token axis among the clean axes
        shape[j] = vocab_size
        out[int(j)] = rows.reshape(shape)
    return out


def _prompt(prompt, length, vocab_size):
    if prompt is None:
        return np.full(length, vocab_size, dtype=np.int64)
    return validate.tokens(prompt, vocab_size, length, partial=True, name="prompt", ndim=1)


def _plan(sampler, prompt, vocab_size):
    if not callable(getattr(sampler, "plan", None)):
        raise validate.InvalidTypeError(
            f"sampler must be one of refimpl.samplers (an object with plan()), got {type(sampler).__name__}")
    masked = prompt == vocab_size
    return sampler.plan(masked, np.ones(len(prompt), dtype=bool))


def _patterns(masked):
    """Every sub-pattern of the prompt's masked set, as (L,) bool arrays."""
    positions = np.flatnonzero(masked)
    for keep in itertools.product((False, True), repeat=len(positions)):
        pattern = np.zeros(len(masked), dtype=bool)
        pattern[positions[list(keep)]] = True
        yield pattern


def _destination(pattern, shape, vocab_size):
    """Where a block-layout outcome lands: clean axes keep their tokens; a masked axis of size V+1 may
    become any token or stay masked, of size V is revealed for sure, of size 1 stays masked."""
    sizes = {vocab_size + 1: slice(None), vocab_size: slice(0, vocab_size), 1: slice(vocab_size, vocab_size + 1)}
    return tuple(sizes[size] if masked else slice(0, vocab_size) for masked, size in zip(pattern, shape))


def _add_block(view, outcome):
    """``view += outcome``, iterating in the outcome's memory order: a product step's outcome is a
    transposed view (sources innermost), and NumPy walks a strided add faster along the operand it
    reads contiguously than along the table's short rows (measured 15-40% per block, about 5% of an
    Ancestral run)."""
    order = np.argsort([-stride for stride in outcome.strides], kind="stable")
    target = view.transpose(order)
    np.add(target, outcome.transpose(order), out=target)
    # (Flat indices and np.add.at run 5% faster on one core but hold the GIL: on two threads slower.)


def _revealed_sets(pattern, source, outcome, vocab_size):
    """{revealed positions: probability} of one pattern's step (block-layout outcome)."""
    masked = np.flatnonzero(pattern)
    # block layout: sum out the clean axes, then fold each masked axis to (revealed, stayed)
    folded = outcome.sum(axis=tuple(a for a in range(len(pattern)) if not pattern[a]))
    for a in range(folded.ndim):
        size = folded.shape[a]
        revealed = folded.take(range(vocab_size), axis=a).sum(axis=a, keepdims=True) if size > 1 else None
        stayed = folded.take([size - 1], axis=a) if size != vocab_size else None
        zero = np.zeros_like(folded.take([0], axis=a))
        folded = np.concatenate([zero if revealed is None else revealed, zero if stayed is None else stayed], axis=a)
    out = {}
    for index in np.ndindex(folded.shape):
        if folded[index]:
            key = tuple(int(j) for j, state in zip(masked, index) if state == 0)
            out[key] = out.get(key, 0.0) + float(folded[index])
    return out


def _reached(step, live, vocab_size):
    """(R, L) bool, in C order: the patterns a per-pattern ``step`` can move the ``live`` patterns' mass
    to (each masked position with an outcome axis of V is revealed, of V+1 may be); None if listing them
    could mean more than 8 candidates per possible pattern (Ancestral's steps after the first)."""
    length = live.shape[1]
    if int(np.sum(np.int64(1) << live.sum(axis=1))) > 8 << length:  # at most that many candidates
        return None
    if not len(live):
        return live
    codes = []
    for pattern in live:
        masked = np.flatnonzero(pattern)
        dims = np.asarray(step.outcome_dims(pattern, vocab_size))
        bits = np.int64(1) << (length - 1 - masked)
        reached = pattern_codes(pattern[None, :]) - bits[dims == vocab_size].sum()
        for bit in bits[dims == vocab_size + 1]:  # every subset of the optional reveals
            reached = np.concatenate([reached, reached - bit])
        codes.append(reached)
    return code_patterns(np.unique(np.concatenate(codes)), length)


def _balanced_groups(patterns, work):
    """Deal patterns to GROUPS groups, largest first, each to the group with less work so far.

    The deal depends only on the patterns, so the summation order (and every bit of the result) is
    the same on every machine, however many cores run the groups.
    """
    groups, loads = [[] for _ in range(GROUPS)], [0] * GROUPS
    for k in sorted(range(len(patterns)), key=lambda k: (-work[k], k)):
        g = loads.index(min(loads))
        groups[g].append(patterns[k])
        loads[g] += work[k]
    return groups


class _PerPattern:
    """Steps applied one mask pattern at a time (:meth:`transition`), the patterns dealt to GROUPS
    groups that run in parallel, each into its own accumulator; the table is then their sum."""

    def __init__(self, prompt_masked, denoiser, vocab_size, work):
        self.denoiser, self.vocab_size = denoiser, vocab_size
        patterns = list(_patterns(prompt_masked))
        sizes = [vocab_size ** int(np.sum(~p)) * (vocab_size + 1) ** int(np.sum(p)) for p in patterns]
        self.groups = _balanced_groups(patterns, sizes)
        shape = (vocab_size + 1,) * len(prompt_masked)
        self.accumulators = [work.scratch(f"accumulator {g}", shape) for g in range(GROUPS)]  # zeroed per step
        self.spaces = [work.child(f"group {g}") for g in range(GROUPS)]  # one per thread
        self.views = {}  # the oracle's answers per pattern: views of its tables, kept across steps

    def apply(self, step, mass, stats, seen, live=None):
        """Apply ``step`` to ``mass`` in place; add to ``stats`` and (if not None) ``seen``.  Only the
        blocks of the ``live`` patterns (P, L) are read (default: a scan for those holding mass).  Returns
        the patterns the step can reach — the next step's ``live`` — or None if they were not listed.

        When that is cheaper (:func:`refimpl.bulk.by_blocks`: few, small blocks), only the reached
        patterns' blocks of the accumulators are cleared and summed; else the whole tables."""
        counts = [EngineStats() for _ in range(GROUPS)]
        reveals = [None if seen is None else {} for _ in range(GROUPS)]
        live = live_patterns(mass, self.vocab_size) if live is None else live
        keys = {pattern.tobytes() for pattern in live}
        reached = _reached(step, live, self.vocab_size)
        blocks = reached if reached is not None and by_blocks(reached, self.vocab_size, mass.size) else None
        parallel_for(lambda g: self._run_group(g, step, mass, counts[g], reveals[g], keys, blocks), range(GROUPS),
                     elements=mass.size)
        if blocks is None:
            np.add(self.accumulators[0], self.accumulators[1], out=mass)
        else:
            for pattern in blocks:
                index = block(pattern, self.vocab_size)
                np.add(self.accumulators[0][index], self.accumulators[1][index], out=mass[index])
        for g in range(GROUPS):
            stats.patterns += counts[g].patterns
            stats.entries += counts[g].entries
            for key, probability in (reveals[g] or {}).items():
                seen[key] = seen.get(key, 0.0) + probability
        return reached

    def _run_group(self, g, step, mass, counts, seen, keys, blocks):
        vocab_size, denoiser = self.vocab_size, self.denoiser
        acc = self.accumulators[g]
        if blocks is None:
            acc.fill(0.0)
        else:  # only these blocks are written, and read back
            zero_blocks(acc, blocks, vocab_size)
        for pattern in self.groups[g]:
            if pattern.tobytes() not in keys:
                continue  # holds no mass (its block of the table is not read)
            index = block(pattern, vocab_size)
            source = mass[index]
            if not source.any():
                continue
            counts.patterns += 1
            if not any(step.eligible[j] for j in np.flatnonzero(pattern)):
                acc[index] += source  # nothing this step may reveal: the mass stays
                counts.entries += source.size
                if seen is not None:
                    count_reveal(seen, pattern, (), float(source.sum()))
                continue
            key = pattern.tobytes()
            if isinstance(denoiser, TableDenoiser) and key not in self.views:
                self.views[key] = _conditionals(denoiser, pattern, vocab_size)
            ctx = PatternContext(pattern, source, denoiser, vocab_size, self.spaces[g], self.views.get(key))
            outcome = step.transition(ctx)
            counts.entries += outcome.size
            _add_block(acc[_destination(pattern, outcome.shape, vocab_size)], outcome)
            if seen is not None:
                for revealed, probability in _revealed_sets(pattern, source, outcome, vocab_size).items():
                    count_reveal(seen, pattern, revealed, probability)


def exact_law(denoiser, sampler, length, vocab_size, prompt=None, stats=None, reveals=None):
    r"""The exact law of the sampler's output as a ``(V,)*L`` table.

    ``prompt`` is a partial sequence whose clean tokens are kept (default: all masked).  Works with any
    denoiser (tables — the oracle, :func:`refimpl.denoisers.tabulate` — are read as views; other
    callables are evaluated on every reachable partial sequence).  ``stats`` (an
    :class:`EngineStats`) is filled in if given.  ``reveals``, a list, receives one dict per step:
    ``{(masked positions before the step, positions revealed): probability}`` — which positions each
    step commits, exactly.
    """
    return _exact_law(denoiser, sampler, length, vocab_size, prompt, stats, reveals)


def pattern_masses(mass, live, vocab_size):
    """``(patterns (P, L) bool, probabilities (P,))``: how much of the engine's ``mass`` table each mask
    pattern holds — the blocks of ``live`` patterns, or every pattern when ``live`` is None (then every
    block of the table is valid)."""
    if live is not None:
        return live, np.array([mass[block(pattern, vocab_size)].sum() for pattern in live])
    folded = fold_patterns(mass, vocab_size)  # (2,)*L in C order, as the product below lists the patterns
    return np.array(list(itertools.product((False, True), repeat=mass.ndim))), folded.ravel()


def _exact_law(denoiser, sampler, length, vocab_size, prompt=None, stats=None, reveals=None, before_step=None):
    """:func:`exact_law`, calling ``before_step(step, patterns, probabilities)`` (:func:`pattern_masses`)
    before each step of the plan when it is given."""
    vocab_size, length = validate.space(vocab_size, length)
    prompt = _prompt(prompt, length, vocab_size)
    steps = _plan(sampler, prompt, vocab_size)
    bulk = sum(callable(getattr(step, "subset_law", None)) for step in steps)
    blocks = 4 if any(isinstance(step, (IndependentStep, ThresholdStep, FactorStep)) for step in steps) else 0
    tables = 1 + (1 if bulk else 0) + (GROUPS if bulk < len(steps) else 0) + blocks
    check_memory(tables * (vocab_size + 1) ** length * 8,
                 f"the exact law engine for V={vocab_size}, L={length} ({tables} tables of (V+1)^L: the mass"
                 f"{', a spare' if bulk else ''}{', one accumulator per group' if bulk < len(steps) else ''}"
                 f"{', four blocks' if blocks else ''})")
    if isinstance(denoiser, TableDenoiser) and (denoiser.vocab_size, denoiser.length) != (vocab_size, length):
        raise InvalidParameterError(
            f"the tabulated denoiser is for V={denoiser.vocab_size}, L={denoiser.length}, not V={vocab_size}, L={length}")
    stats = EngineStats() if stats is None else stats
    with _kept_workspace() as work:
        names = ["mass", "spare"]  # the bulk path moves the mass from the first into the second, then swaps
        mass = work.scratch(names[0], (vocab_size + 1,) * length)
        live = (prompt == vocab_size)[None, :]  # the patterns whose blocks may hold mass (None: any)
        mass[block(live[0], vocab_size)] = 0.0  # no other block is read
        mass[tuple(prompt)] = 1.0
        per_pattern = None  # built on the first step that needs it
        for step in steps:
            stats.steps += 1
            if before_step is not None:
                before_step(step, *pattern_masses(mass, live, vocab_size))
            seen = {} if reveals is not None else None
            if callable(getattr(step, "subset_law", None)):
                names.reverse()
                mass, live = apply_subset_step(step, mass, work.scratch(names[0], mass.shape), denoiser,
                                               vocab_size, stats, seen, work, live)
            else:
                per_pattern = per_pattern or _PerPattern(prompt == vocab_size, denoiser, vocab_size, work)
                live = per_pattern.apply(step, mass, stats, seen, live)
            if reveals is not None:
                reveals.append(seen)
        clean = (slice(0, vocab_size),) * length
        finished = live is None or (~live).all(axis=1).any()  # else the clean block was never written
        law = mass[clean].copy() if finished else np.zeros((vocab_size,) * length)
    left = 1.0 - law.sum()
    if left > 1e-9:
        raise InvalidParameterError(
            f"{type(sampler).__name__} leaves probability {left:.3g} on sequences that still hold masks; "
            f"give it enough steps to finish")
    return law


def sample(denoiser, sampler, n, rng, length, vocab_size, prompt=None, calls=None):
    r"""Draw ``n`` outputs of the sampler, shape (n, L), with a ``numpy.random.Generator``.

    ``calls``, an (n,) integer array, receives (added to it) the model calls each row's original loop
    would make as a batch of one — the draws behind :func:`refimpl.calls.expected_calls`, e.g. for the law
    of the NFE.
    """
    vocab_size, length = validate.space(vocab_size, length)
    rng = validate.generator(rng)
    n = validate.integer(n, "n", 1)
    prompt = _prompt(prompt, length, vocab_size)
    if calls is not None and not (isinstance(calls, np.ndarray) and calls.shape == (n,)
                                  and np.issubdtype(calls.dtype, np.integer) and calls.flags.writeable):
        raise validate.InvalidTypeError(f"calls must be a writable integer numpy array of shape ({n},)")
    check_memory(n * length * 8 + min(n, CHUNK) * length * vocab_size * 8 * 4,
                 f"drawing {n} samples of length {length}")
    steps = _plan(sampler, prompt, vocab_size)
    z = np.tile(prompt, (n, 1))
    changed = np.ones(n, dtype=bool)  # nothing is cached before the first step
    for step in steps:
        todo = np.flatnonzero(((z == vocab_size) & np.asarray(step.eligible)[None, :]).any(axis=1))
        if calls is not None:
            rule = getattr(step, "calls", ALWAYS)
            calls[todo if rule == IF_MASKED else changed if rule == IF_CHANGED else slice(None)] += 1
        changed = np.zeros(n, dtype=bool)
        if todo.size == 0:
            continue
        mu = np.concatenate([evaluate(denoiser, z[todo[s:s + CHUNK]], vocab_size)
                             for s in range(0, len(todo), CHUNK)])
        drawn = step.draw(z[todo], mu, rng)
        changed[todo] = (drawn != z[todo]).any(axis=1)
        z[todo] = drawn
    if (z == vocab_size).any():
        raise InvalidParameterError(f"{type(sampler).__name__} left masks in its output; give it enough steps")
    return z
