r"""The engine's runner for :data:`refimpl.engine.protocol.BY_COUNTS` steps: many mask patterns at once.

Patterns with the same numbers of masked positions and of candidates go through ``transition``
together, in chunks of about :data:`BATCH_ENTRIES` outcome entries, their moves added into a new table
by flat index (``np.add.at``: several patterns reach the same destination).  Two threads, each on every
other chunk with its own table, measured slower (docs/PERFORMANCE.md): a chunk's many short operations
hand the GIL back and forth.
"""
import numpy as np

from ..core.numerics import FRESH
from .layout import live_patterns, positions, source_index, zero_blocks
from .states import CountStates

BATCH_ENTRIES = 1 << 17  # mask patterns computed together hold about this many outcome entries (cache-sized)


def apply_by_counts(step, mass, out, reader, vocab_size, stats, flows, work=FRESH, live=None):
    r"""Apply ``step`` to every mask pattern of ``mass``, writing the new table into ``out`` (same shape).

    ``live`` (P, L) lists the mask patterns whose blocks of ``mass`` may hold mass — the others' blocks
    are not read, and may hold anything; by default every pattern with nonzero mass (a scan of the table).
    The blocks of the patterns the step can reach are overwritten, the others left as they were.
    Returns ``(out, reached)``, ``reached`` (R, L) those patterns, in C order — the ``live`` of the next
    step, so that consecutive steps never scan or clear the whole table.  ``flows`` (a list or None)
    receives one list of the moves' flows; ``work`` (a :class:`refimpl.core.numerics.Workspace`) keeps the
    chunks' arrays, so that they reuse memory instead of faulting in fresh pages.
    """
    length = mass.ndim
    flat, moved = mass.reshape(-1), out.reshape(-1)
    seen = None if flows is None else []
    live = live_patterns(mass, vocab_size) if live is None else live
    candidates = step.candidates(live)
    masked_count, candidate_count = live.sum(axis=1), candidates.sum(axis=1)
    reached = step.reach(live, vocab_size)
    zero_blocks(out, reached, vocab_size)
    for m, e in sorted(set(zip(masked_count.tolist(), candidate_count.tolist()))):
        chosen = (masked_count == m) & (candidate_count == e)
        group, at = live[chosen], positions(candidates[chosen])  # (P, L), (P, e)
        index = source_index(group, vocab_size)  # (P, N): the whole group
        weight = np.take(flat, index, out=work.scratch("weight", index.shape))
        held = weight.any(axis=1)  # patterns listed live may hold no mass
        if not held.all():
            group, at, index, weight = group[held], at[held], index[held], weight[held]
        stats.patterns += len(group)
        if e == 0:  # nothing this step may change: the mass stays (sources are distinct)
            moved[index] += weight
            stats.entries += weight.size
            if seen is not None:
                seen.extend((pattern, pattern, float(total)) for pattern, total in zip(group, weight.sum(axis=1)))
            continue
        per_chunk = max(1, BATCH_ENTRIES // (vocab_size ** (length - m) * step.outcomes(e, vocab_size)))
        for start in range(0, len(group), per_chunk):
            chunk = slice(start, start + per_chunk)
            states = CountStates(group[chunk], at[chunk], index[chunk], weight[chunk], reader, vocab_size, work)
            for move in step.transition(states):
                move.add_to(moved)
                stats.entries += move.size
                if seen is not None:
                    seen.extend(move.flows())
    if flows is not None:
        flows.append(seen)
    return out, reached
