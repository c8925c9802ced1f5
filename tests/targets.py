"""Stand-ins for other people's implementations, right and wrong, for `refimpl verify` tests.

Written independently of refimpl's samplers and oracle (plain per-row loops), the way a user would.
"""
import functools

import numpy as np


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


def llada(denoiser, n, rng, length, vocab_size, prompt, steps, temperature, tempered_confidence=False,
          remainder_first=True):
    """LLaDA's generate for one block, written from its description (Gumbel-max draws, top-k by confidence)."""
    z = np.full((n, length), vocab_size) if prompt is None else np.tile(np.asarray(prompt), (n, 1))
    masked_count = int((z[0] == vocab_size).sum())
    base, remainder = divmod(masked_count, steps)
    counts = [base + (1 if (i < remainder if remainder_first else i >= steps - remainder) else 0) for i in range(steps)]
    for k in counts:
        mu = denoiser(z)
        with np.errstate(divide="ignore"):
            logits = np.log(mu)
        if temperature > 0:
            gumbel = -np.log(-np.log(rng.random(mu.shape)))
            drawn = np.argmax(logits / temperature + gumbel, axis=-1)
        else:
            drawn = np.argmax(logits, axis=-1)
        if tempered_confidence and temperature > 0:
            scaled = np.exp(logits / temperature - np.max(logits / temperature, axis=-1, keepdims=True))
            probs = scaled / scaled.sum(axis=-1, keepdims=True)
        else:
            probs = mu
        confidence = np.take_along_axis(probs, drawn[..., None], axis=-1)[..., 0]
        confidence = np.where(z == vocab_size, confidence, -np.inf)
        for b in range(n):
            order = np.argsort(-confidence[b], kind="stable")  # ties: lowest position first
            chosen = order[:k]
            z[b, chosen] = drawn[b, chosen]
    return z


llada_good = functools.partial(llada, steps=3, temperature=0.5)
llada_tempered_confidence = functools.partial(llada, steps=3, temperature=0.5, tempered_confidence=True)
llada_remainder_last = functools.partial(llada, steps=3, temperature=0.5, remainder_first=False)


def crashing_sampler(denoiser, n, rng, length, vocab_size, prompt):
    raise RuntimeError("CUDA out of memory (pretend)")
