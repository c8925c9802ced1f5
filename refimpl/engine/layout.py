r"""How the engine's table is laid out, and how mask patterns and their blocks are found in it.

The state is a table of shape ``(V+1,)*L`` (mask = V), read flat: a partial sequence z sits at
:math:`\sum_a z_a (V+1)^{L-1-a}` (:func:`refimpl.laws.space.strides`).  A *mask pattern* M ((L,) bool,
True where masked) owns one strided *block* of the table: its partial sequences, N = V^c of them for c
clean positions (its *sources*), listed in ``value_grid`` order over the clean positions.  Patterns are
also numbered (:func:`pattern_codes`, position 0 the most significant bit), which is their C order.
"""
import itertools

import numpy as np

from ..core.numerics import value_grid
from ..laws.space import strides

BLOCK_COST = 20000  # table entries a contiguous pass covers in the time one block operation's overhead takes


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


def sub_patterns(masked):
    """Every sub-pattern of the mask pattern ``masked`` (L,) bool, as (L,) bool arrays."""
    positions = np.flatnonzero(masked)
    for keep in itertools.product((False, True), repeat=len(positions)):
        pattern = np.zeros(len(masked), dtype=bool)
        pattern[positions[list(keep)]] = True
        yield pattern


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


def positions(chosen):
    """(P, e): the True positions of each row of ``chosen`` (P, L) (all with the same count e), increasing."""
    return np.nonzero(chosen)[1].reshape(len(chosen), -1)


def reveal_offsets(at, slots, vocab_size, length):
    """(P, n_sub, V**k): what revealing tokens x at the positions ``at[p, slots[s]]`` adds to a flat index."""
    step = strides(vocab_size, length)[at][:, slots]  # (P, n_sub, k)
    return step @ (value_grid(vocab_size, slots.shape[1]) - vocab_size).T


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


def reveal_index(pattern, shape, vocab_size):
    """Where a reveal step's block-layout outcome of ``shape`` lands: clean axes keep their tokens; a masked
    axis of size V+1 may become any token or stay masked, of size V is revealed for sure, of size 1 stays
    masked."""
    sizes = {vocab_size + 1: slice(None), vocab_size: slice(0, vocab_size), 1: slice(vocab_size, vocab_size + 1)}
    return tuple(sizes[size] if masked else slice(0, vocab_size) for masked, size in zip(pattern, shape))


def reach_by_dims(outcome_dims, live, vocab_size):
    """(R, L) bool, in C order: the patterns a reveal step can move the ``live`` patterns' mass to, given
    ``outcome_dims(pattern, vocab_size)`` — per masked position an outcome axis of V (revealed), V+1 (may
    be) or 1 (stays masked); None if listing them could mean more than 8 candidates per possible pattern
    (Ancestral's steps after the first)."""
    length = live.shape[1]
    if int(np.sum(np.int64(1) << live.sum(axis=1))) > 8 << length:  # at most that many candidates
        return None
    if not len(live):
        return live
    codes = []
    for pattern in live:
        masked = np.flatnonzero(pattern)
        dims = np.asarray(outcome_dims(pattern, vocab_size))
        bits = np.int64(1) << (length - 1 - masked)
        reached = pattern_codes(pattern[None, :]) - bits[dims == vocab_size].sum()
        for bit in bits[dims == vocab_size + 1]:  # every subset of the optional reveals
            reached = np.concatenate([reached, reached - bit])
        codes.append(reached)
    return code_patterns(np.unique(np.concatenate(codes)), length)
