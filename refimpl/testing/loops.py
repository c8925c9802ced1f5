r"""The exact law of a LLaDA-style loop *with its usual slips*, by enumeration over states — the slips that no refimpl
sampler expresses: the block's end off by one in the ranking's cutoff, and the mask's column left in the softmax.

The loop is LLaDA's ``generate`` (GSAI-ML/LLaDA, ``remasking="low_confidence"``) as a user writes it: blocks of
``block_length`` from the first masked position, ``steps // blocks`` steps per block with the counts of
``get_num_transfer_tokens`` taken from the block's masks at its start; each step draws every masked position's token
from softmax(logits / T) (argmax at T = 0, lowest id on ties), reads its confidence from softmax(logits), sets the
confidence at masked positions from ``end + boundary`` on (and at clean positions) to -inf, and commits the top k
(equal confidences: lowest position first, refimpl's tie rule).  ``mask_logit`` (a number) puts the mask's column
in both softmaxes with that logit: a drawn mask that is committed leaves its position masked; the output may then
hold masks, and where they stand is returned too.  With ``boundary=0`` and no mask column it is refimpl's
:class:`refimpl.samplers.LLaDA` law, computed a second way (tests/testing/test_slips.py checks that).

The states are every reachable partial sequence with the block's counts; each step enumerates the joint draw of the
masked positions' tokens, so the work grows as (V+1)^L states times (V+1)^m draws; :data:`LIMIT` bounds it.
"""
import numpy as np

from ..core.errors import InvalidParameterError
from ..samplers.kernels.tokens import temper
from ..samplers.llada import transfer_counts

LIMIT = 4_000_000  # (state, draw) pairs one step may enumerate


def _merge(z, counts, weight):
    """Equal (z, counts) rows summed."""
    keys = np.concatenate([z, counts], axis=1)
    unique, inverse = np.unique(keys, axis=0, return_inverse=True)
    total = np.bincount(inverse.ravel(), weights=weight, minlength=len(unique))
    keep = total > 0
    return unique[keep, :z.shape[1]], unique[keep, z.shape[1]:], total[keep]


def _step(z, k, weight, denoiser, vocab_size, end, temperature, mask_logit):
    """One step for every state: rows ``z`` (S, L), commits ``k`` (S,), probabilities ``weight`` (S,)."""
    length = z.shape[1]
    mu = np.asarray(denoiser(z), dtype=np.float64)
    if mask_logit is not None:  # softmax(log mu, mask_logit): the mask's weight e^mask_logit next to mu's
        mu = np.concatenate([mu, np.full(mu.shape[:-1] + (1,), np.exp(mask_logit))], axis=-1)
    confidence = mu / mu.sum(axis=-1, keepdims=True)
    draw = temper(confidence, temperature)
    width = mu.shape[-1]
    out_z, out_k, out_w = [], [], []
    masked = z == vocab_size
    for m in np.unique(masked.sum(axis=1)):
        rows = np.flatnonzero(masked.sum(axis=1) == m)
        if m == 0:
            out_z.append(z[rows]), out_k.append(rows), out_w.append(weight[rows])
            continue
        if len(rows) * width ** m > LIMIT:
            raise InvalidParameterError(f"the loop's law needs {len(rows) * width ** m} (state, draw) pairs in a step "
                                        f"(more than {LIMIT})")
        combos = np.stack(np.meshgrid(*[np.arange(width)] * m, indexing="ij"), axis=-1).reshape(-1, m)  # (C, m)
        positions = np.nonzero(masked[rows])[1].reshape(len(rows), m)  # (R, m), ascending
        r = np.arange(len(rows))[:, None, None]
        tokens = np.broadcast_to(combos[None], (len(rows), len(combos), m))  # (R, C, m)
        pos = np.broadcast_to(positions[:, None, :], tokens.shape)
        prob = draw[rows[r], pos, tokens].prod(axis=-1) * weight[rows][:, None]  # (R, C)
        conf = np.where(pos < end, confidence[rows[r], pos, tokens], -np.inf)
        x0 = np.broadcast_to(z[rows][:, None, :], (len(rows), len(combos), length)).copy()
        x0[r, np.arange(len(combos))[None, :, None], pos] = tokens
        full = np.full((len(rows), len(combos), length), -np.inf)
        full[r, np.arange(len(combos))[None, :, None], pos] = conf
        order = np.argsort(-full, axis=-1, kind="stable")  # lowest position first among equal confidences
        rank = np.argsort(order, axis=-1, kind="stable")
        commit = rank < k[rows][:, None, None]
        new = np.where(commit, x0, z[rows][:, None, :])
        out_z.append(new.reshape(-1, length)), out_k.append(np.repeat(rows, len(combos))), out_w.append(prob.ravel())
    return np.concatenate(out_z), np.concatenate(out_k), np.concatenate(out_w)


def llada_loop_law(denoiser, vocab_size, length, prompt, steps, block_length=None, temperature=0.0, boundary=0,
                   mask_logit=None):
    """``(law, left)``: the exact law (V,)*L of the clean outputs of the loop described above, and ``left`` (2^L,) the
    probability that its output holds masks exactly at the positions of each pattern (position i as bit i; entry 0,
    no mask, is 0)."""
    start = np.full(length, vocab_size, dtype=np.int64) if prompt is None else np.asarray(prompt, dtype=np.int64)
    first = int(np.flatnonzero(start == vocab_size)[0]) if (start == vocab_size).any() else length
    size = length - first if block_length is None else block_length
    blocks = (length - first) // size if size else 0
    per_block = steps // blocks if blocks else 0
    z, weight = start[None, :].copy(), np.ones(1)
    for b in range(blocks):
        lo, hi = first + b * size, first + (b + 1) * size
        counts = np.array([transfer_counts(int(m), per_block) for m in (z[:, lo:hi] == vocab_size).sum(axis=1)],
                          dtype=np.int64).reshape(len(z), per_block)
        for i in range(per_block):
            new, parent, weight = _step(z, counts[:, i], weight, denoiser, vocab_size, hi + boundary, temperature,
                                        mask_logit)
            z, counts, weight = _merge(new, counts[parent], weight)
    masks = (z == vocab_size) @ (1 << np.arange(length))  # each row's mask pattern, position i as bit i
    clean = masks == 0
    law = np.zeros(vocab_size ** length)
    np.add.at(law, np.ravel_multi_index(tuple(z[clean].T), (vocab_size,) * length), weight[clean])
    return law.reshape((vocab_size,) * length), np.bincount(masks[~clean], weights=weight[~clean], minlength=2 ** length)
