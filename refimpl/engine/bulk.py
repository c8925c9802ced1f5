r"""Mask patterns in bulk: the exact-law engine's path for steps that reveal a k-subset of the
candidates (:func:`apply_subset_step`).

The engine's state is a table of shape ``(V+1,)*L`` (mask = V), read flat: a partial sequence z sits
at :math:`\sum_a z_a (V+1)^{L-1-a}`.  A mask pattern's *sources* are its partial sequences, N = V^c of
them for c clean positions, listed in ``value_grid`` order over the clean positions.  Here: which
patterns hold mass, where their sources sit, the denoiser's answers at chosen positions for all of
them at once, and where a revealed (subset, tokens) outcome moves a source.
"""
import math

import numpy as np

from ..laws import space
from ..denoisers.tables import LatticeOracle, OracleDenoiser, TableDenoiser, evaluate
from ..core.numerics import FRESH, value_grid
from ..samplers.subsets import subset_grid

CHUNK = 1 << 15  # rows per call of a denoiser that is not a table
BATCH_ENTRIES = 1 << 17  # mask patterns computed together hold about this many outcome entries (cache-sized)


def strides(vocab_size, length):
    """(L,) int64: the flat stride of each position in the ``(V+1,)*L`` table."""
    return (vocab_size + 1) ** np.arange(length - 1, -1, -1, dtype=np.int64)


def fold_patterns(table, vocab_size, reduce=np.sum):
    """(2,)*L: the ``(V+1,)*L`` ``table`` reduced (``reduce(..., axis, keepdims=True)``) over the tokens of
    each axis — index 0 any token, 1 the mask — so that entry M holds the reduction over mask pattern M."""
    for axis in range(table.ndim):
        head = (slice(None),) * axis
        table = np.concatenate([reduce(table[head + (slice(0, vocab_size),)], axis=axis, keepdims=True),
                                table[head + (slice(vocab_size, vocab_size + 1),)]], axis=axis)
    return table


def live_patterns(mass, vocab_size):
    """(P, L) bool, True where masked: every mask pattern that holds nonzero mass, in C order."""
    return np.argwhere(fold_patterns(mass != 0, vocab_size, np.any)).astype(bool)


def source_index(patterns, vocab_size):
    """(P, N): flat index of every source of each pattern (all with the same number of clean positions)."""
    count, length = patterns.shape
    step = strides(vocab_size, length)
    clean = np.nonzero(~patterns)[1].reshape(count, -1)  # (P, c), increasing
    index = vocab_size * (patterns.astype(np.int64) @ step)[:, None]  # (P, 1): every masked position at V
    tokens = np.arange(vocab_size)
    for t in range(clean.shape[1]):  # one clean position at a time, the first most significant
        index = (index[:, :, None] + step[clean[:, t]][:, None, None] * tokens).reshape(count, -1)
    return index


def positions(patterns, eligible):
    """(P, e): the eligible masked positions of each pattern (all with the same count e), increasing."""
    chosen = patterns & np.asarray(eligible, dtype=bool)[None, :]
    return np.nonzero(chosen)[1].reshape(len(patterns), -1)


def reveal_offsets(at, slots, vocab_size, length):
    """(P, n_sub, V**k): what revealing tokens x at the positions ``at[p, slots[s]]`` adds to a flat index."""
    step = strides(vocab_size, length)[at][:, slots]  # (P, n_sub, k)
    return step @ (value_grid(vocab_size, slots.shape[1]) - vocab_size).T


def conditionals(denoiser, index, at, vocab_size, length, work=FRESH):
    r""":math:`\mu(z)_{j,v}` (e, V, P, N) at positions ``at`` (P, e) for the sources ``index`` (P, N).

    The oracle (tables or lattice) is read from its marginal lattice (:func:`_lattice_conditionals`: one
    table of (V+1)^L numbers, L V / (V+1) times smaller than the conditional tables, so it stays in cache);
    a tabulated denoiser from its tables; any other denoiser is called on the decoded partial sequences,
    :data:`CHUNK` rows at a time.  Arrays of the lattice path live in ``work`` until its next call.
    """
    step = strides(vocab_size, length)
    width = vocab_size + 1
    tokens = np.arange(vocab_size)[:, None]  # (V, 1)
    at = at.T  # (e, P)
    if isinstance(denoiser, (LatticeOracle, OracleDenoiser)):
        return _lattice_conditionals(denoiser.lattice.reshape(-1), index, at, vocab_size, length, work)
    if isinstance(denoiser, TableDenoiser):
        # tables[j] has axis j cut to V: z_j = V at flat f becomes token v at f - hi W - (V - v) W
        lo = step[at][:, :, None]  # (e, P, 1): W = (V+1)^(L-1-j)
        base = index - (index // (width * lo)) * lo - vocab_size * lo  # (e, P, N): token 0 in tables[j]
        out = np.empty((at.shape[0], vocab_size) + index.shape)
        for j in np.unique(at):
            slot, pattern = np.nonzero(at == j)
            out[slot, :, pattern] = denoiser.tables[j].reshape(-1)[base[slot, pattern][:, None, :] + tokens * step[j]]
        return out
    z = space.decode(index.reshape(-1), vocab_size, length, partial=True)  # (P N, L)
    mu = np.concatenate([evaluate(denoiser, z[s:s + CHUNK], vocab_size) for s in range(0, len(z), CHUNK)])
    mu = mu.reshape(index.shape + (length, vocab_size))  # (P, N, L, V)
    return mu[np.arange(at.shape[1])[:, None], :, at.T].transpose(1, 3, 0, 2)  # (P, e, N, V) -> (e, V, P, N)


def _lattice_conditionals(lattice, index, at, vocab_size, length, work):
    r"""At positions ``at`` (e, P), the oracle's :math:`\mu^*(z)_{j,v} = \tilde P[z_{j \leftarrow v}] / \tilde P[z]`
    (e, V, P, N) read from the flat marginal lattice: one reciprocal per source, one product per value
    — the same numbers as :class:`OracleDenoiser`'s tables, uniform where :math:`\tilde P[z] = 0`."""
    shape = at.shape[:1] + (vocab_size,) + index.shape
    shift = (np.arange(vocab_size) - vocab_size)[:, None] * strides(vocab_size, length)[at][:, None, :]  # (e, V, P)
    denominator = np.take(lattice, index, out=work.scratch("denominator", index.shape))  # (P, N)
    with np.errstate(divide="ignore"):
        inverse = np.divide(1.0, denominator, out=work.scratch("inverse", index.shape))
    where = np.add(index, shift[..., None], out=work.scratch("where", shape, np.int64))
    out = np.take(lattice, where, out=work.scratch("mu", shape), mode="clip")  # (indices are valid)
    with np.errstate(invalid="ignore"):
        out *= inverse
    if not denominator.all():
        np.copyto(out, 1.0 / vocab_size, where=np.broadcast_to(denominator == 0, out.shape))
    return out


def count_reveal(seen, pattern, revealed, probability):
    """Add ``probability`` to ``seen[(masked positions of pattern, revealed positions)]``."""
    key = (tuple(int(i) for i in np.flatnonzero(pattern)), tuple(revealed))
    seen[key] = seen.get(key, 0.0) + probability


def pattern_codes(patterns):
    """(P,) int64: each mask pattern (P, L) as a number, position 0 the most significant bit (C order)."""
    length = patterns.shape[1]
    return patterns.astype(np.int64) @ (np.int64(1) << np.arange(length - 1, -1, -1, dtype=np.int64))


def code_patterns(codes, length):
    """(P, L) bool: the mask patterns of ``codes`` (:func:`pattern_codes` inverted)."""
    return ((np.asarray(codes, dtype=np.int64)[:, None] >> np.arange(length - 1, -1, -1)) & 1).astype(bool)


def block(pattern, vocab_size):
    """Index of a mask pattern's block in the ``(V+1,)*L`` table (a view: axes of size 1 where masked)."""
    return tuple(slice(vocab_size, vocab_size + 1) if masked else slice(0, vocab_size) for masked in pattern)


BLOCK_COST = 20000  # table entries a contiguous pass covers in the time one block operation's overhead takes


def by_blocks(patterns, vocab_size, table_size):
    """Whether passing over the blocks of ``patterns`` one by one is cheaper than over the whole table of
    ``table_size`` entries: a contiguous pass runs about 8x faster per element than a block's short rows,
    and each block costs as much again as :data:`BLOCK_COST` entries (about 2 us of Python and NumPy)."""
    sizes = vocab_size ** (~patterns).sum(axis=1).astype(np.int64)
    return 8 * int(sizes.sum()) + BLOCK_COST * len(patterns) <= table_size


def zero_blocks(table, patterns, vocab_size):
    """Zero the blocks of ``patterns`` in the ``(V+1,)*L`` table, or the whole table if that is cheaper."""
    if not by_blocks(patterns, vocab_size, table.size):
        table.fill(0.0)
        return
    for pattern in patterns:
        table[block(pattern, vocab_size)] = 0.0


def apply_subset_step(step, mass, out, denoiser, vocab_size, stats, seen, work=FRESH, live=None):
    r"""Apply a step that reveals a k-subset of its candidates (``step.subset_law``) to every mask pattern
    in bulk: patterns with the same numbers of masked and eligible positions go through together, in
    chunks of about :data:`BATCH_ENTRIES` outcome entries, their outcomes added into a new table by flat
    index (``np.add.at``: several patterns reach the same destination).

    ``live`` (P, L) lists the mask patterns whose blocks of ``mass`` may hold mass — the others' blocks
    are not read, and may hold anything; by default every pattern with nonzero mass (a scan of the table).
    The new table is written into ``out`` (same shape): the blocks of the patterns the step can reach
    are overwritten, the others left as they were.  Returns ``(out, reached)``, ``reached`` (R, L) those
    patterns, in C order — the ``live`` of the next step, so that consecutive steps never scan or clear
    the whole table (at V=4, L=12 the scan and the clearing had taken 60% of an LLaDA law).
    ``seen`` (a dict or None) gathers the reveal statistics; ``work`` (a
    :class:`refimpl.numerics.Workspace`) keeps the chunks' arrays, so that they reuse memory instead of
    faulting in fresh pages.

    (Two threads, each on every other chunk with its own table, measured slower — LLaDA at V=3, L=8
    6.3 -> 10.1 ms, V=4 25.9 -> 28.6 ms, 2026-11-27 — although ``np.add.at`` itself releases the GIL
    (two threads of it alone ran 1.55x one): a chunk's many short operations hand the GIL back and
    forth, and the second table costs a clearing and a sum.)
    """
    length = mass.ndim
    flat = mass.reshape(-1)
    moved = out.reshape(-1)
    live = live_patterns(mass, vocab_size) if live is None else live
    eligible = np.asarray(step.eligible, dtype=bool)
    masked_count, candidate_count = live.sum(axis=1), (live & eligible).sum(axis=1)
    groups, reached = [], []
    for m, e in sorted(set(zip(masked_count.tolist(), candidate_count.tolist()))):
        group = live[(masked_count == m) & (candidate_count == e)]
        k = step.count(e) if e else 0
        at = positions(group, eligible)  # (P, e)
        slots, _ = subset_grid(e, k, vocab_size)
        bits = np.int64(1) << (length - 1 - at[:, slots])  # (P, n_sub, k)
        reached.append((pattern_codes(group)[:, None] - bits.sum(axis=2)).ravel())
        groups.append((m, e, k, group, at))
    reached = code_patterns(np.unique(np.concatenate(reached)), length) if reached else live[:0]
    zero_blocks(out, reached, vocab_size)
    for m, e, k, group, at in groups:
        index = source_index(group, vocab_size)  # (P, N): the whole group
        weight = np.take(flat, index, out=work.scratch("weight", index.shape))
        held = weight.any(axis=1)  # patterns listed live may hold no mass
        if not held.all():
            group, at, index, weight = group[held], at[held], index[held], weight[held]
        stats.patterns += len(group)
        entries = vocab_size ** (length - m) * math.comb(e, k) * vocab_size**k  # per pattern
        per_chunk = max(1, BATCH_ENTRIES // entries)
        for start in range(0, len(group), per_chunk):
            chunk = slice(start, start + per_chunk)
            stats.entries += _apply_chunk(step, moved, denoiser, vocab_size, group[chunk], index[chunk],
                                          weight[chunk], at[chunk], k, work, seen)
    return out, reached


def _apply_chunk(step, moved, denoiser, vocab_size, patterns, index, weight, at, k, work, seen):
    """Move the mass ``weight`` of the sources ``index`` (P, N) of ``patterns`` (all with the same masked
    count and the same eligible positions count e, at ``at`` (P, e), k revealed) by the step, adding into
    the flat table ``moved``; returns the entries computed."""
    length, e = patterns.shape[1], at.shape[1]
    if k == 0:  # nothing this step may reveal: the mass stays (sources are distinct)
        moved[index] += weight
        if seen is not None:
            for pattern, total in zip(patterns, weight.sum(axis=1)):
                count_reveal(seen, pattern, (), float(total))
        return weight.size
    mu = conditionals(denoiser, index, at, vocab_size, length, work)  # (e, V, P, N)
    slots, law = step.subset_law(mu.reshape(e, vocab_size, -1), weight.reshape(-1), work)  # (n_sub, G, P N)
    offsets = reveal_offsets(at, slots, vocab_size, length).transpose(1, 2, 0)[..., None]  # (n_sub, G, P, 1)
    destination = np.add(index, offsets, out=work.scratch("destination", law.shape[:2] + index.shape, np.int64))
    np.add.at(moved, destination.reshape(-1), law.reshape(-1))
    if seen is not None:
        totals = law.reshape(law.shape[:2] + index.shape).sum(axis=(1, 3))  # (n_sub, P)
        for p, pattern in enumerate(patterns):
            for s, chosen in enumerate(slots):
                count_reveal(seen, pattern, at[p, chosen].tolist(), float(totals[s, p]))
    return law.size
