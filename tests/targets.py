"""Stand-ins for other people's implementations, right and wrong, for `refimpl verify` tests.

Written independently of refimpl's samplers and oracle (plain per-row loops), the way a user would.
"""
import functools

import numpy as np

from tests import originals


def good_denoiser(p):
    """Factory: conditional marginals computed by slicing the table, row by row."""
    table = np.asarray(p)
    vocab_size, length = table.shape[0], table.ndim

    def denoiser(z):
        out = np.zeros(z.shape + (vocab_size,))
        for b, row in enumerate(z):
            index = tuple(slice(None) if t == vocab_size else int(t) for t in row)
            slab = table[index]
            masked = [i for i in range(length) if row[i] == vocab_size]
            for i in range(length):
                if row[i] != vocab_size:
                    out[b, i, row[i]] = 1.0
                    continue
                axis = masked.index(i)
                marginal = slab.sum(axis=tuple(a for a in range(slab.ndim) if a != axis))
                out[b, i] = marginal / marginal.sum() if marginal.sum() > 0 else 1.0 / vocab_size
        return out

    return denoiser


def left_context_denoiser(p):
    """Factory with a bug: each position is conditioned only on the clean tokens to its left."""
    table = np.asarray(p)
    vocab_size, length = table.shape[0], table.ndim
    exact = good_denoiser(table)

    def denoiser(z):
        out = np.zeros(z.shape + (vocab_size,))
        for b, row in enumerate(z):
            for i in range(length):
                if row[i] != vocab_size:
                    out[b, i, row[i]] = 1.0
                    continue
                left = np.array([t if j < i else vocab_size for j, t in enumerate(row)])
                out[b, i] = exact(left[None])[0, i]
        return out

    return denoiser


llada_good = functools.partial(originals.llada, steps=3, temperature=0.5)  # LLaDA's generate (tests/originals.py)
llada_tempered_confidence = functools.partial(originals.llada, steps=3, temperature=0.5, tempered_confidence=True)
llada_remainder_last = functools.partial(originals.llada, steps=3, temperature=0.5, remainder_first=False)


def crashing_sampler(denoiser, n, rng, length, vocab_size, prompt):
    raise RuntimeError("CUDA out of memory (pretend)")
