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

from . import space
from .denoisers import LatticeOracle, TableDenoiser, evaluate
from .numerics import value_grid

CHUNK = 1 << 15  # rows per call of a denoiser that is not a table
BATCH_ENTRIES = 1 << 16  # mask patterns computed together hold about this many outcome entries (cache-sized)


def strides(vocab_size, length):
    """(L,) int64: the flat stride of each position in the ``(V+1,)*L`` table."""
    return (vocab_size + 1) ** np.arange(length - 1, -1, -1, dtype=np.int64)


def live_patterns(mass, vocab_size):
    """(P, L) bool, True where masked: every mask pattern that holds nonzero mass, in C order."""
    live = mass != 0
    for axis in range(mass.ndim):
        head = (slice(None),) * axis
        live = np.concatenate([live[head + (slice(0, vocab_size),)].any(axis=axis, keepdims=True),
                               live[head + (slice(vocab_size, vocab_size + 1),)]], axis=axis)
    return np.argwhere(live).astype(bool)


def source_index(patterns, vocab_size):
    """(P, N): flat index of every source of each pattern (all with the same number of clean positions)."""
    count, length = patterns.shape
    step = strides(vocab_size, length)
    clean = np.nonzero(~patterns)[1].reshape(count, -1)  # (P, c), increasing
    base = vocab_size * (patterns.astype(np.int64) @ step)  # (P,): every masked position at V
    return base[:, None] + step[clean] @ value_grid(vocab_size, clean.shape[1]).T


def positions(patterns, eligible):
    """(P, e): the eligible masked positions of each pattern (all with the same count e), increasing."""
    chosen = patterns & np.asarray(eligible, dtype=bool)[None, :]
    return np.nonzero(chosen)[1].reshape(len(patterns), -1)


def reveal_offsets(at, slots, vocab_size, length):
    """(P, n_sub, V**k): what revealing tokens x at the positions ``at[p, slots[s]]`` adds to a flat index."""
    step = strides(vocab_size, length)[at][:, slots]  # (P, n_sub, k)
    return step @ (value_grid(vocab_size, slots.shape[1]) - vocab_size).T


def conditionals(denoiser, index, at, vocab_size, length):
    r""":math:`\mu(z)_{j,v}` (e, V, P, N) at positions ``at`` (P, e) for the sources ``index`` (P, N).

    Tables (the oracle, a tabulated denoiser) and the lattice oracle are read by index; any other
    denoiser is called on the decoded partial sequences, :data:`CHUNK` rows at a time.
    """
    step = strides(vocab_size, length)
    width = vocab_size + 1
    tokens = np.arange(vocab_size)[:, None]  # (V, 1)
    at = at.T  # (e, P)
    if isinstance(denoiser, TableDenoiser):
        # tables[j] has axis j cut to V: z_j = V at flat f becomes token v at f - hi W - (V - v) W
        lo = step[at][:, :, None]  # (e, P, 1): W = (V+1)^(L-1-j)
        base = index - (index // (width * lo)) * lo - vocab_size * lo  # (e, P, N): token 0 in tables[j]
        out = np.empty((at.shape[0], vocab_size) + index.shape)
        for j in np.unique(at):
            slot, pattern = np.nonzero(at == j)
            out[slot, :, pattern] = denoiser.tables[j].reshape(-1)[base[slot, pattern][:, None, :] + tokens * step[j]]
        return out
    if isinstance(denoiser, LatticeOracle):
        lattice = denoiser.lattice.reshape(-1)
        numerator = lattice[index + (tokens[:, :, None] - vocab_size) * step[at][:, None, :, None]]
        denominator = lattice[index]
        with np.errstate(invalid="ignore", divide="ignore"):
            out = numerator / denominator
        return np.where(denominator > 0, out, 1.0 / vocab_size)
    z = space.decode(index.reshape(-1), vocab_size, length, partial=True)  # (P N, L)
    mu = np.concatenate([evaluate(denoiser, z[s:s + CHUNK], vocab_size) for s in range(0, len(z), CHUNK)])
    mu = mu.reshape(index.shape + (length, vocab_size))  # (P, N, L, V)
    return mu[np.arange(at.shape[1])[:, None], :, at.T].transpose(1, 3, 0, 2)  # (P, e, N, V) -> (e, V, P, N)


def count_reveal(seen, pattern, revealed, probability):
    """Add ``probability`` to ``seen[(masked positions of pattern, revealed positions)]``."""
    key = (tuple(int(i) for i in np.flatnonzero(pattern)), tuple(revealed))
    seen[key] = seen.get(key, 0.0) + probability


def apply_subset_step(step, mass, out, denoiser, vocab_size, stats, seen):
    r"""Apply a step that reveals a k-subset of its candidates (``step.subset_law``) to every mask pattern
    in bulk: patterns with the same numbers of masked and eligible positions go through together,
    their outcomes are added into a new table by flat index (``np.add.at``: several patterns reach the
    same destination).  The new table is written into ``out`` (same shape; its old contents are
    discarded) and returned; ``seen`` (a dict or None) gathers the reveal statistics.
    """
    length = mass.ndim
    flat = mass.reshape(-1)
    out.fill(0.0)
    moved = out.reshape(-1)
    live = live_patterns(mass, vocab_size)  # (P, L)
    stats.patterns += len(live)
    eligible = np.asarray(step.eligible, dtype=bool)
    masked_count, candidate_count = live.sum(axis=1), (live & eligible).sum(axis=1)
    for m, e in sorted(set(zip(masked_count.tolist(), candidate_count.tolist()))):
        group = live[(masked_count == m) & (candidate_count == e)]
        k = step.count(e) if e else 0
        entries = vocab_size ** (length - m) * math.comb(e, k) * vocab_size**k  # per pattern
        per_chunk = max(1, BATCH_ENTRIES // entries)
        for start in range(0, len(group), per_chunk):
            patterns = group[start:start + per_chunk]
            index = source_index(patterns, vocab_size)  # (P, N)
            weight = flat[index]
            if k == 0:  # nothing this step may reveal: the mass stays (sources are distinct)
                moved[index] += weight
                stats.entries += weight.size
                if seen is not None:
                    for pattern, total in zip(patterns, weight.sum(axis=1)):
                        count_reveal(seen, pattern, (), float(total))
                continue
            at = positions(patterns, eligible)  # (P, e)
            mu = conditionals(denoiser, index, at, vocab_size, length)  # (e, V, P, N)
            slots, law = step.subset_law(mu.reshape(e, vocab_size, -1), weight.reshape(-1))  # (n_sub, G, P N)
            offsets = reveal_offsets(at, slots, vocab_size, length).transpose(1, 2, 0)[..., None]  # (n_sub, G, P, 1)
            np.add.at(moved, (index + offsets).reshape(-1), law.reshape(-1))
            stats.entries += law.size
            if seen is not None:
                totals = law.reshape(law.shape[:2] + index.shape).sum(axis=(1, 3))  # (n_sub, P)
                for p, pattern in enumerate(patterns):
                    for s, chosen in enumerate(slots):
                        count_reveal(seen, pattern, at[p, chosen].tolist(), float(totals[s, p]))
    return out
