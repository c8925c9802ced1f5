r"""How a step draws and scores tokens, shared by the exact and the Monte Carlo paths: the tempered
drawing law, Dream's top_p / top_k truncation, and the confidences that rank positions."""
import numpy as np
from scipy.special import logsumexp, xlogy

from ...denoisers.guidance import without_tokens


def temper(probs, temperature, axis=-1):
    r"""Drawing law :math:`q \propto \mu^{1/T}` (softmax of logits / T); T = 0 is the argmax, lowest token on ties."""
    if temperature == 0:
        top = np.argmax(probs, axis=axis)
        return (np.arange(probs.shape[axis]).reshape([-1 if a == axis % probs.ndim else 1
                                                      for a in range(probs.ndim)])
                == np.expand_dims(top, axis)).astype(np.float64)
    if temperature == 1:
        return probs
    with np.errstate(divide="ignore"):
        logits = np.log(probs) / temperature
    return np.exp(logits - logsumexp(logits, axis=axis, keepdims=True))


def truncate(probs, top_p=None, top_k=None, axis=-1):
    r"""Dream's ``top_p_logits`` then ``top_k_logits`` (its ``sample_tokens``), on probabilities: renormalised
    to the tokens kept; ``None`` keeps every token (and returns ``probs`` itself).

    ``top_p``: in decreasing probability (lowest token first on ties), a token is kept when the
    probability of the tokens before it is at most ``top_p`` — the most probable always, the one that
    crosses ``top_p`` too.  ``top_k``: then every token at least as probable as the k-th most probable
    left (ties with it kept; removed tokens count as 0).  ``top_p >= 1`` truncates nothing (Dream
    skips the step then, so rounding in the cumulative sum never removes a token).
    """
    top_p = None if top_p is not None and top_p >= 1 else top_p  # Dream truncates only when top_p < 1
    if top_p is None and top_k is None:
        return probs
    probs = np.moveaxis(np.asarray(probs, dtype=np.float64), axis, -1)
    kept = probs.copy()
    if top_p is not None:
        order = np.argsort(-probs, axis=-1, kind="stable")
        ranked = np.take_along_axis(probs, order, axis=-1)
        removed = np.zeros(ranked.shape, dtype=bool)
        removed[..., 1:] = np.cumsum(ranked, axis=-1)[..., :-1] > top_p  # Dream's shift: the first stays
        np.put_along_axis(kept, order, np.where(removed, 0.0, ranked), axis=-1)
    if top_k is not None and top_k < probs.shape[-1]:
        kth = -np.sort(-kept, axis=-1)[..., top_k - 1:top_k]
        kept = np.where(kept < kth, 0.0, kept)
    kept /= kept.sum(axis=-1, keepdims=True)
    return np.moveaxis(kept, -1, axis)


def sglang_filter(probs, top_k=None, top_p=None, min_p=None, axis=-1):
    r"""sglang's ``top_k_top_p_min_p_sampling_from_probs_torch`` (srt/layers/sampler.py; the one its dLLM sampling
    plan calls on CPU), as the law of its draw: the probabilities sorted down (lowest token first on ties), the ranks
    >= ``top_k`` and the tokens whose sum of the probabilities before them (``cumsum - p``) exceeds ``top_p``
    removed — both read the unfiltered order, as FlashInfer's ``joint`` order does — then those below ``min_p``
    times the largest; renormalised.  ``None`` (or ``top_p`` >= 1, ``min_p`` 0) filters nothing there."""
    top_p = None if top_p is not None and top_p >= 1 else top_p
    min_p = None if not min_p else min_p
    if top_k is None and top_p is None and min_p is None:
        return probs
    probs = np.moveaxis(np.asarray(probs, dtype=np.float64), axis, -1)
    order = np.argsort(-probs, axis=-1, kind="stable")
    ranked = np.take_along_axis(probs, order, axis=-1)
    removed = np.zeros(ranked.shape, dtype=bool)
    if top_k is not None:
        removed[..., top_k:] = True
    if top_p is not None:
        removed |= (np.cumsum(ranked, axis=-1) - ranked) > top_p
    kept = np.where(removed, 0.0, ranked)
    if min_p is not None:
        kept = np.where(kept < ranked[..., :1] * min_p, 0.0, kept)
    out = np.empty(probs.shape)
    np.put_along_axis(out, order, kept / kept.sum(axis=-1, keepdims=True), axis=-1)
    return np.moveaxis(out, -1, axis)


def confidences(probs, kind, axis=-1):
    r"""Confidence of each candidate token, shape of ``probs`` (tokens on ``axis``).

    ``drawn``: the probability of the token itself; ``margin``: top-1 minus top-2 probability (the same
    for every token); ``neg_entropy``: :math:`\sum_v p_v \log p_v` (the same for every token; Dream adds
    1e-10 inside the log, refimpl uses the exact entropy).
    """
    if kind == "drawn":
        return probs
    if kind == "margin":
        top2 = np.sort(probs, axis=axis).take([-1, -2], axis=axis)
        first, second = np.split(top2, 2, axis=axis)
        return np.broadcast_to(first - second, probs.shape)
    if kind == "neg_entropy":
        return np.broadcast_to(xlogy(probs, probs).sum(axis=axis, keepdims=True), probs.shape)
    raise AssertionError(f"unknown confidence kind {kind!r}")


def excluded_confidences(conf, without=(), refused=(), axis=-1):
    r"""LLaDA's EOS/EoT rules on the drawn-token confidences ``conf`` (tokens on ``axis``).

    ``without``: the confidences are the probabilities renormalised with these tokens' logits at -inf
    (so a drawn excluded token has confidence 0) — what LLaDA's ``confidence_eos_eot_inf`` line does;
    where they held all the probability the original's softmax is NaN, which ``torch.topk`` ranks first:
    refimpl gives it +inf.  ``refused``: these tokens' confidence is -inf (ranked after every other
    candidate) — the documented intent.
    """
    if not without and not refused:
        return conf
    conf = np.moveaxis(np.array(conf, dtype=np.float64), axis, -1)
    if without:
        conf = without_tokens(conf, tuple(without))
        conf[np.isnan(conf)] = np.inf
    if refused:
        conf[..., list(refused)] = -np.inf
    return np.moveaxis(conf, -1, axis)
