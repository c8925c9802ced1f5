"""The originals' generation loops, re-written per batch in NumPy from their published code's semantics:
LLaDA's ``generate`` (GSAI-ML/LLaDA ``generate.py``), Dream's ``_sample`` (Dream-org/Dream
``generation_utils.py``), Fast-dLLM's threshold decoding (NVlabs/Fast-dLLM, ``get_transfer_index``),
MDLM's ancestral sampler (kuleshov-group/mdlm, ``_ddpm_caching_update`` and ``noise_removal``), ReMDM's
update, the EB-Sampler and diffusers' ``LLaDA2Pipeline`` with its block refinement scheduler.

Each keeps its original's structure — logits from the model, Gumbel or Categorical draws, a confidence
vector with -inf where a position may not be chosen, top-k — and shares no code with refimpl's samplers,
so that ``tests/samplers/test_originals.py`` can check refimpl's exact laws against an independent reading of the
originals.  The denoiser stands in for the model: ``log(denoiser(x))`` are the logits.  Where torch leaves
an order unspecified (``topk`` on equal confidences) the lowest position comes first, as in refimpl.

Where these follow the originals in float64 instead of the originals' float32 (Dream's and MDLM's time
grids come from ``torch.linspace``), it is said so; see refimpl.samplers.dream for what that changes.
Every function has the signature refimpl verify expects:
``sample(denoiser, n, rng, length, vocab_size, prompt, **settings) -> (n, L)``; given ``calls``, an (n,)
int array, each also adds to it how many model calls its loop makes for each row as a batch of one
(the originals' NFE: what refimpl.expected_calls computes exactly).
"""
import fractions

import numpy as np


def _start(n, length, vocab_size, prompt):
    """(n, L): the prompt's tokens, masks (id V) elsewhere."""
    if prompt is None:
        return np.full((n, length), vocab_size, dtype=np.int64)
    return np.tile(np.asarray(prompt, dtype=np.int64), (n, 1))


def _logits(denoiser, x):
    with np.errstate(divide="ignore"):
        return np.log(np.asarray(denoiser(x), dtype=np.float64))


def _softmax(logits):
    shifted = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)


def _gumbel_argmax(logits, temperature, rng):
    """LLaDA's ``add_gumbel_noise`` then ``argmax``: exp(logits) / (-log u)^T in float64; the logits at T = 0."""
    if temperature == 0:
        return np.argmax(logits, axis=-1)
    noise = rng.random(logits.shape)
    with np.errstate(divide="ignore"):
        return np.argmax(np.exp(logits) / (-np.log(noise)) ** temperature, axis=-1)


def _categorical(probs, rng):
    """torch.distributions.Categorical(probs).sample(): inverse CDF of the (normalised) rows."""
    cdf = np.cumsum(probs / probs.sum(axis=-1, keepdims=True), axis=-1)
    u = rng.random(probs.shape[:-1] + (1,))
    return np.minimum((cdf <= u).sum(axis=-1), probs.shape[-1] - 1)


def _top_k(confidence, k):
    """(n, L) bool: per row, the ``k[row]`` largest confidences (torch.topk), lowest position first on ties;
    NaN ranks first, as torch.topk ranks it."""
    keyed = np.where(np.isnan(confidence), np.inf, confidence)
    ranks = np.argsort(np.argsort(-keyed, axis=1, kind="stable"), axis=1, kind="stable")
    return ranks < np.asarray(k)[:, None]


def _count(calls, rows):
    """Add one model call to ``calls`` (if given) for every row where ``rows`` (a bool or (n,) bools) holds."""
    if calls is not None:
        calls += np.asarray(rows, dtype=np.int64)


def _prompt_length(x, vocab_size):
    """Where generation starts: the first mask (the prompt is a prefix, as LLaDA and Fast-dLLM assume)."""
    masked = np.flatnonzero(x[0] == vocab_size)
    return int(masked[0]) if masked.size else x.shape[1]


def _gumbel_noise(logits, temperature, rng):
    """LLaDA's ``add_gumbel_noise``: exp(logits) / (-log u)^T in float64 — and, at T = 0, the logits array
    itself (not a copy: a later write into the result writes into the logits, as in torch)."""
    if temperature == 0:
        return logits
    noise = rng.random(logits.shape)
    with np.errstate(divide="ignore"):
        return np.exp(logits) / (-np.log(noise)) ** temperature


def llada(denoiser, n, rng, length, vocab_size, prompt, steps, block_length=None, temperature=0.0,
          remasking="low_confidence", cfg_scale=0.0, logits_eos_inf=False, confidence_eos_eot_inf=False, eos=None,
          eot=None, intent=False, tempered_confidence=False, remainder_first=True, guide_probabilities=False,
          noise=None, round_confidence=None, calls=None):
    """LLaDA's ``generate``: blocks over the generation region, ``steps // num_blocks`` steps in each, the
    block's masks split by ``get_num_transfer_tokens`` (remainder to the first steps); logits from the
    model, guided with ``un_logits + (cfg_scale + 1) * (logits - un_logits)`` against the model on the
    sequence with the prompt positions masked when cfg_scale > 0 (two evaluations per step); the EOS
    logit at -inf with ``logits_eos_inf``; x0 by Gumbel-max at temperature T; with
    ``confidence_eos_eot_inf`` the line ``logits_with_noise[:, :, eos] = logits[:, :, eot] = -inf`` after
    the draw (at T = 0 the two arrays are one); confidence the softmax (untempered) probability of x0, or
    uniform noise for ``random``; -inf after the current block and on clean positions; the top-k are
    committed.
    (Not LLaDA's code: ``intent=True`` is its docstring's intent instead of the line above — a drawn eos
    or eot ranks after every other masked position (confidence -1, below any probability).  Slips:
    ``tempered_confidence`` ranks by softmax(logits / T); ``remainder_first=False`` gives the remainder to
    the last steps; ``guide_probabilities`` applies the guidance formula to probabilities, clipped at 0
    and renormalised.)  ``noise``: ``add_gumbel_noise`` replaced, ``noise(logits, temperature, rng) ->
    logits_with_noise`` (a lower-precision version, say); ``round_confidence``: applied to the softmax
    confidences.)"""
    x = _start(n, length, vocab_size, prompt)
    prompt_index = x != vocab_size
    start = _prompt_length(x, vocab_size)
    gen_length = length - start
    block_length = gen_length if block_length is None else block_length
    assert gen_length % block_length == 0
    num_blocks = gen_length // block_length
    assert steps % num_blocks == 0
    steps = steps // num_blocks
    for b in range(num_blocks):
        block_end = start + (b + 1) * block_length
        block_masks = (x[:, block_end - block_length:block_end] == vocab_size).sum(axis=1)
        base, remainder = block_masks // steps, block_masks % steps
        extra = [(i < remainder) if remainder_first else (i >= steps - remainder) for i in range(steps)]
        for i in range(steps):
            mask_index = x == vocab_size
            logits = _logits(denoiser, x)
            if cfg_scale > 0:
                un_x = x.copy()
                un_x[prompt_index] = vocab_size
                un_logits = _logits(denoiser, un_x)
                with np.errstate(invalid="ignore"):
                    if guide_probabilities:
                        mixed = np.exp(un_logits) + (cfg_scale + 1) * (np.exp(logits) - np.exp(un_logits))
                        with np.errstate(divide="ignore"):
                            logits = np.log(np.clip(mixed, 0.0, None))
                    else:
                        logits = un_logits + (cfg_scale + 1) * (logits - un_logits)
                _count(calls, np.full(n, 2))
            else:
                _count(calls, True)
            if logits_eos_inf:
                logits[:, :, eos] = -np.inf
            logits_with_noise = (_gumbel_noise if noise is None else noise)(logits, temperature, rng)
            x0 = np.argmax(logits_with_noise, axis=-1)
            if confidence_eos_eot_inf and not intent:
                logits_with_noise[:, :, eos] = -np.inf
                logits[:, :, eot] = -np.inf
            if remasking == "low_confidence":
                scaled = logits / temperature if tempered_confidence and temperature > 0 else logits
                with np.errstate(invalid="ignore"):
                    x0_p = np.take_along_axis(_softmax(scaled), x0[..., None], axis=-1)[..., 0]
                if round_confidence is not None:  # the softmax in a lower precision, say
                    x0_p = round_confidence(x0_p)
                if confidence_eos_eot_inf and intent:
                    x0_p = np.where((x0 == eos) | (x0 == eot), -1.0, x0_p)
            else:
                x0_p = rng.random((n, length))
            x0_p[:, block_end:] = -np.inf
            x0 = np.where(mask_index, x0, x)
            confidence = np.where(mask_index, x0_p, -np.inf)
            transfer = _top_k(confidence, base + extra[i])
            x[transfer] = x0[transfer]
    return x


def _top_p_logits(logits, top_p):
    """Dream's ``top_p_logits``: sort the logits down, remove where the cumulative softmax exceeds top_p,
    shifted one to the right (the first is never removed), fill removed logits with the dtype's minimum."""
    order = np.argsort(-logits, axis=-1, kind="stable")
    cumulative = np.cumsum(_softmax(np.take_along_axis(logits, order, axis=-1)), axis=-1)
    remove = cumulative > top_p
    remove[..., 1:] = remove[..., :-1].copy()
    remove[..., 0] = False
    mask = np.zeros(logits.shape, dtype=bool)
    np.put_along_axis(mask, order, remove, axis=-1)
    return np.where(mask, np.finfo(np.float64).min, logits)


def _top_k_logits(logits, top_k):
    """Dream's ``top_k_logits``: remove every logit below the k-th largest."""
    top_k = min(top_k, logits.shape[-1])
    kth = -np.sort(-logits, axis=-1)[..., top_k - 1:top_k]
    return np.where(logits < kth, np.finfo(np.float64).min, logits)


def _sample_tokens(logits, temperature, rng, margin_confidence=False, neg_entropy=False, tempered=True,
                   top_p=None, top_k=None):
    """Dream's ``sample_tokens``: logits / T (T > 0), then top_p and top_k truncation; probabilities by
    softmax; a Categorical draw and its probability, or the argmax at T = 0; the margin top1 - top2, or
    sum p log(p + 1e-10), instead.  (``tempered=False``, not Dream: the drawn token's confidence from the
    untempered, untruncated probabilities.)"""
    untempered = _softmax(logits)
    if temperature > 0:
        logits = logits / temperature
    if top_p is not None and top_p < 1:
        logits = _top_p_logits(logits, top_p)
    if top_k is not None:
        logits = _top_k_logits(logits, top_k)
    probs = _softmax(logits)
    if temperature > 0:
        x0 = _categorical(probs, rng)
        confidence = np.take_along_axis(probs if tempered else untempered, x0[..., None], axis=-1)[..., 0]
    else:
        x0 = np.argmax(probs, axis=-1)
        confidence = probs.max(axis=-1)
    if margin_confidence:
        ordered = -np.sort(-probs, axis=-1)
        confidence = ordered[..., 0] - ordered[..., 1]
    if neg_entropy:
        confidence = np.sum(probs * np.log(probs + 1e-10), axis=-1)
    return confidence, x0


def round_to_float32(value):
    """The float32 nearest to a rational ``value`` (ties to even), from its exact binary expansion — written
    apart from refimpl.core.float32, which rounds through float64 with a correction."""
    value = fractions.Fraction(value)
    if value == 0:
        return np.float32(0.0)
    sign, magnitude = (1 if value > 0 else -1), abs(value)
    exponent = magnitude.numerator.bit_length() - magnitude.denominator.bit_length()
    while magnitude >= fractions.Fraction(2) ** (exponent + 1):
        exponent += 1
    while magnitude < fractions.Fraction(2) ** exponent:
        exponent -= 1
    scaled = magnitude / fractions.Fraction(2) ** (exponent - 23)  # in [2^23, 2^24): 24 significant bits
    whole = scaled.numerator // scaled.denominator
    rest = scaled - whole
    if rest > fractions.Fraction(1, 2) or (rest == fractions.Fraction(1, 2) and whole % 2 == 1):
        whole += 1
    return np.float32(sign * float(fractions.Fraction(whole) * fractions.Fraction(2) ** (exponent - 23)))


def round_to_bfloat16(x):
    """x (a float32 value) rounded to bfloat16, to nearest with ties to even, on its grid of spacings: frexp gives
    x = m 2^e, m in [0.5, 1); the 8 significant bits make the spacing 2^(e - 8), fixed at 2^-133 below the
    smallest normal (e < -125), and x / spacing is rounded to an integer by numpy's half-to-even."""
    x = np.float64(np.float32(x))
    if not np.isfinite(x) or x == 0:
        return np.float32(x)
    spacing = 2.0 ** (max(int(np.frexp(x)[1]), -125) - 8)
    with np.errstate(over="ignore"):  # past the largest bfloat16: inf, as torch
        return np.float32(np.round(x / spacing) * spacing)


def torch_linspace32(start, end, count):
    """``torch.linspace(start, end, count)`` as torch's CPU kernel computes it in float32: step = (end -
    start)/(count - 1), then start + step i (first half) or end - step (count - 1 - i), each one fused
    multiply-add, rounded once."""
    start, end = np.float32(start), np.float32(end)
    if count == 1:
        return np.array([start], dtype=np.float32)
    step = np.float32(end - start) / np.float32(count - 1)
    out = []
    for i in range(count):
        if i < count // 2:
            out.append(round_to_float32(fractions.Fraction(float(step)) * i + fractions.Fraction(float(start))))
        else:
            out.append(round_to_float32(fractions.Fraction(float(end)) - fractions.Fraction(float(step)) * (count - 1 - i)))
    return np.array(out, dtype=np.float32)


def dream(denoiser, n, rng, length, vocab_size, prompt, steps, alg="origin", temperature=0.0, eps=1e-3,
          top_p=None, top_k=None, alg_temp=None, tempered_confidence=True, grid="float32", topk=None,
          sample_tokens=None, calls=None):
    """Dream's ``_sample``: timesteps ``linspace(1, eps, steps + 1)`` — float32 as torch computes it on the CPU
    (:func:`torch_linspace32`), with 1 - s/t and ``num_mask * (1 - s/t)`` in float32 as its tensors are
    (``grid="float64"``: the float64 ideal);
    ``origin`` reveals each mask with probability 1 - s/t (1 on the last step) with a token from
    ``sample_tokens``; the others keep the ``int(num_mask * (1 - s/t))`` most confident (all on the last
    step) of ``sample_tokens``' draws and confidences — or, with ``alg_temp`` > 0, draw that many positions
    by ``torch.multinomial`` without replacement from softmax(confidence / alg_temp).
    ``topk``: the ranking, called as Dream calls ``torch.topk``, one row at a time — ``topk(row (1, L), k)``
    returning the kept positions (default: lowest position first on ties).  ``sample_tokens(logits, temperature,
    rng, alg) -> (confidence, x0)`` replaces ``sample_tokens`` (a lower-precision one, say).
    (``tempered_confidence=False`` is a slip, not Dream.)"""
    x = _start(n, length, vocab_size, prompt)
    f32 = np.float32 if grid == "float32" else np.float64
    timesteps = torch_linspace32(1.0, eps, steps + 1) if grid == "float32" else np.linspace(1.0, eps, steps + 1)
    for i in range(steps):
        mask_index = x == vocab_size
        logits = _logits(denoiser, x)
        _count(calls, True)
        t, s = timesteps[i], timesteps[i + 1]
        if alg == "origin":
            p_transfer = float(f32(1) - f32(s) / f32(t)) if i < steps - 1 else 1
            _, x0 = _sample_tokens(logits, temperature, rng, top_p=top_p, top_k=top_k)
            transfer = mask_index & (rng.random((n, length)) < p_transfer)
        else:
            if sample_tokens is not None:
                confidence, x0 = sample_tokens(logits, temperature, rng, alg)
            else:
                confidence, x0 = _sample_tokens(logits, temperature, rng, margin_confidence=alg == "topk_margin",
                                                neg_entropy=alg == "entropy", tempered=tempered_confidence,
                                                top_p=top_p, top_k=top_k)
            num_mask = mask_index.sum(axis=1)
            k = [int(f32(m) * (f32(1) - f32(s) / f32(t))) for m in num_mask] if i < steps - 1 else num_mask
            full_confidence = np.where(mask_index, confidence, -np.inf)
            if (alg_temp is None or alg_temp == 0) and topk is not None:
                transfer = np.zeros_like(mask_index)
                for row in range(n):
                    if k[row] > 0:
                        transfer[row, np.asarray(topk(full_confidence[row][None], int(k[row])))[0]] = True
            elif alg_temp is None or alg_temp == 0:
                transfer = _top_k(full_confidence, k)
            else:  # softmax(full_confidence / alg_temp), then torch.multinomial without replacement
                left = _softmax(full_confidence / alg_temp)
                transfer = np.zeros_like(mask_index)
                rows = np.arange(n)
                for draw in range(max(k)):  # one position per row at a time, never the same twice
                    with np.errstate(invalid="ignore", divide="ignore"):  # rows already done may have none left
                        pick = _categorical(left, rng)
                    taking = draw < np.asarray(k)
                    transfer[rows[taking], pick[taking]] = True
                    left[rows, pick] = 0.0
        x[transfer] = x0[transfer]
    return x


def fast_dllm(denoiser, n, rng, length, vocab_size, prompt, threshold=None, block_length=None, temperature=0.0,
              factor=None, tempered_confidence=False, last_rank_quirk=True, noise=None, round_confidence=None,
              calls=None):
    """Fast-dLLM's parallel decoding: per block, until it holds no mask, x0 by Gumbel-max, confidence the
    softmax probability of x0 (-inf outside the block's masks).  With ``threshold``, ``get_transfer_index``
    takes the top ``num_masked`` and un-selects every one after the first whose confidence < threshold.
    With ``factor``, ``get_transfer_index_dynamic``: thresholds 1 - factor / (n + 1) for n = 1, 2, ...,
    the first set to -1; ``top_i`` the first rank whose sorted confidence is below its threshold (the last
    rank if none), plus one when it is the first or the last rank; the top ``top_i`` are committed.
    (Slips, not Fast-dLLM: ``tempered_confidence=True`` takes softmax(logits / T) for the confidence;
    ``last_rank_quirk=False`` does not add one when the first rank to fail is the last.)  ``noise`` and
    ``round_confidence`` as :func:`llada`'s: ``add_gumbel_noise`` replaced, the softmax probabilities rounded."""
    x = _start(n, length, vocab_size, prompt)
    start = _prompt_length(x, vocab_size)
    gen_length = length - start
    block_length = gen_length if block_length is None else block_length
    assert gen_length % block_length == 0 and (threshold is None) != (factor is None)
    for block_end in range(start + block_length, length + 1, block_length):
        first = True  # Fast-dLLM calls the model, then tests whether the block is done
        while first or (x[:, block_end - block_length:block_end] == vocab_size).any():
            _count(calls, first | (x[:, block_end - block_length:block_end] == vocab_size).any(axis=1))
            first = False
            mask_index = x == vocab_size
            mask_index[:, block_end:] = False
            logits = _logits(denoiser, x)
            x0 = _gumbel_argmax(logits, temperature, rng) if noise is None else np.argmax(
                noise(logits, temperature, rng), axis=-1)
            scaled = logits / temperature if tempered_confidence and temperature > 0 else logits
            p = _softmax(scaled) if round_confidence is None else round_confidence(_softmax(scaled))
            x0_p = np.take_along_axis(p, x0[..., None], axis=-1)[..., 0]
            x0 = np.where(mask_index, x0, x)
            confidence = np.where(mask_index, x0_p, -np.inf)
            order = np.argsort(-confidence, axis=1, kind="stable")
            transfer = np.zeros_like(mask_index)
            for row in range(n):
                num_tokens = int(mask_index[row].sum())
                if num_tokens == 0:
                    continue
                if factor is None:
                    keep = [j for rank, j in enumerate(order[row, :num_tokens])
                            if rank == 0 or confidence[row, j] >= threshold]
                else:
                    threshs = [1 - factor / (m + 1) for m in range(1, num_tokens + 1)]
                    threshs[0] = -1
                    ranked = -np.sort(-confidence[row][mask_index[row]])
                    for top_i in range(len(threshs)):
                        if ranked[top_i] < threshs[top_i]:
                            break
                    if top_i == 0 or (last_rank_quirk and top_i == len(threshs) - 1):
                        top_i += 1
                    elif not last_rank_quirk and top_i == len(threshs) - 1 and ranked[top_i] >= threshs[top_i]:
                        top_i += 1  # no rank failed: all of them
                    keep = order[row, :top_i]
                transfer[row, keep] = True
            x[transfer] = x0[transfer]
    return x


def eb_sampler(denoiser, n, rng, length, vocab_size, prompt, gamma, block_length=None, temperature=0.0,
               tempered_entropy=False, highest_first=False, bound_includes_largest=False, noise=None, calls=None):
    """The EB-Sampler (Ben-Hamu et al. 2025) in LLaDA's block loop: per block, while it holds a mask, one
    model call; x0 by Gumbel-max at temperature T; the entropy of softmax(logits) (of softmax(logits / T)
    with ``tempered_entropy``, as diffusers' EntropyBoundScheduler) at the masked positions up to the block's
    end, sorted ascending (torch.sort; ties by position here), and the positions where
    ``cumsum(sorted) - sorted <= gamma`` committed.
    (Slips: ``highest_first`` sorts the entropies descending; ``bound_includes_largest`` tests
    ``cumsum(sorted) <= gamma``, committing at least one.)  ``noise``: ``add_gumbel_noise`` replaced, as
    :func:`llada`'s."""
    x = _start(n, length, vocab_size, prompt)
    start = _prompt_length(x, vocab_size)
    gen_length = length - start
    block_length = gen_length if block_length is None else block_length
    assert gen_length % block_length == 0
    for block_end in range(start + block_length, length + 1, block_length):
        while (x[:, block_end - block_length:block_end] == vocab_size).any():
            active = (x[:, block_end - block_length:block_end] == vocab_size).any(axis=1)
            _count(calls, active)
            mask_index = x == vocab_size
            mask_index[:, block_end:] = False
            logits = _logits(denoiser, x)
            x0 = _gumbel_argmax(logits, temperature, rng) if noise is None else np.argmax(
                noise(logits, temperature, rng), axis=-1)
            probs = _softmax(logits / temperature if tempered_entropy and temperature > 0 else logits)
            with np.errstate(divide="ignore", invalid="ignore"):
                entropy = -np.nansum(probs * np.log(probs), axis=-1)
            transfer = np.zeros_like(mask_index)
            for row in np.flatnonzero(active):
                where = np.flatnonzero(mask_index[row])
                order = where[np.argsort(-entropy[row, where] if highest_first else entropy[row, where], kind="stable")]
                ranked = entropy[row, order]
                cumulative = np.cumsum(ranked)
                accepted = cumulative <= gamma if bound_includes_largest else cumulative - ranked <= gamma
                accepted[0] = True
                transfer[row, order[accepted]] = True
            x[transfer] = x0[transfer]
    return x


def sglang_entropy_threshold(denoiser, n, rng, length, vocab_size, prompt, threshold=0.95, block_length=None,
                             temperature=0.0, comparison="<", final_call=True, calls=None):
    """sglang's ``EntropyThreshold.run`` (python/sglang/srt/dllm/algorithm/entropy_threshold.py at 26eb1bf), each row
    one request, blocks from the first mask: up to block-size iterations, each — when the block still holds a mask —
    one model call, then at the masked positions ``sample_tokens_with_entropy``: the entropy -sum p log(p + 1e-8)
    of softmax(logits), the argmax token (d3LLM's Dream ``_sample`` at T > 0: a draw from softmax(logits / T));
    ``torch.topk(entropy, num_mask, largest=False)`` (ties by position here), the first committed and every later
    one with entropy < threshold (d3LLM's LLaDA: <=); after the loop one more call (``final_call``)."""
    x = _start(n, length, vocab_size, prompt)
    start = _prompt_length(x, vocab_size)
    size = length - start if block_length is None else block_length
    assert (length - start) % size == 0
    for block_end in range(start + size, length + 1, size):
        block = slice(block_end - size, block_end)
        for _ in range(size):
            active = (x[:, block] == vocab_size).any(axis=1)
            if not active.any():
                break
            _count(calls, active)
            logits = _logits(denoiser, x)[:, block]
            probs = _softmax(logits)
            entropy = -(probs * np.log(probs + 1e-8)).sum(axis=-1)
            tokens = np.argmax(logits, axis=-1) if temperature == 0 else _categorical(_softmax(logits / temperature), rng)
            masked = x[:, block] == vocab_size
            keyed = np.where(masked, entropy, np.inf)
            order = np.argsort(keyed, axis=1, kind="stable")
            ranked = np.take_along_axis(keyed, order, axis=1)
            keep = (ranked < threshold) if comparison == "<" else (ranked <= threshold)
            keep[:, 0] = True
            transfer = np.zeros_like(masked)
            np.put_along_axis(transfer, order, keep, axis=1)
            transfer &= masked & active[:, None]
            x[:, block] = np.where(transfer, tokens, x[:, block])
        _count(calls, final_call)
    return x


def _multi_blocks(start, length, size):
    """The generation blocks of sglang's FullAttnMultiBlock / d3LLM's block_states as dicts."""
    return [{"start": s, "end": min(s + size, length), "total": min(s + size, length) - s,
             "mask_count": min(s + size, length) - s, "active": k == 0, "fully": k == 0}
            for k, s in enumerate(range(start, length, size))]


def sglang_full_attn_multi_block(denoiser, n, rng, length, vocab_size, prompt, threshold=0.4, block_length=None,
                                 block_add_threshold=0.1, decoded_token_threshold=0.95, calls=None):
    """sglang's ``FullAttnMultiBlock.run`` (python/sglang/srt/dllm/algorithm/full_attn_multi_block.py at 26eb1bf),
    each row one request: while a mask is left, one model call; then per block k >= 1 in order, the sticky flags
    ``is_active`` (previous block's progress 1 - masks/total >= block_add_threshold, or no mask left) and
    ``is_fully_active`` (active and that progress >= decoded_token_threshold); ``active_end`` the end of the last
    block active and (fully active or masked); at the masked positions before it the entropy -sum p log(p + 1e-12)
    and the argmax; commit entropy < threshold; if the first fully active block with masks got none, its masked
    position of least entropy (``argmin``: the first); the final forward only if a mask is left (never here)."""
    x = _start(n, length, vocab_size, prompt)
    start = _prompt_length(x, vocab_size)
    size = length - start if block_length is None else block_length
    states = [_multi_blocks(start, length, size) for _ in range(n)]
    while (x == vocab_size).any():
        alive = (x == vocab_size).any(axis=1)
        _count(calls, alive)
        logits = _logits(denoiser, x)
        probs = _softmax(logits)
        entropy = -(probs * np.log(probs + 1e-12)).sum(axis=-1)
        x0 = np.argmax(logits, axis=-1)
        for row in np.flatnonzero(alive):
            blocks, ids = states[row], x[row]
            for k in range(1, len(blocks)):
                prev = blocks[k - 1]
                progress = 1 - prev["mask_count"] / prev["total"]
                if not blocks[k]["active"] and (progress >= block_add_threshold or prev["mask_count"] == 0):
                    blocks[k]["active"] = True
                if blocks[k]["active"] and not blocks[k]["fully"] and progress >= decoded_token_threshold:
                    blocks[k]["fully"] = True
            active_end = 0
            for blk in blocks:
                if blk["active"] and (blk["fully"] or blk["mask_count"] > 0):
                    active_end = blk["end"]
            decode = np.zeros(length, dtype=bool)
            decode[:active_end] = ids[:active_end] == vocab_size
            full_entropy = np.where(decode, entropy[row], np.inf)
            transfer = (full_entropy < threshold) & decode
            first = next((blk for blk in blocks if blk["fully"] and blk["mask_count"] > 0), None)
            if first is not None:
                s, e = first["start"], min(first["end"], active_end)
                if not transfer[s:e].any():
                    transfer[s + int(np.argmin(np.where(ids[s:e] == vocab_size, full_entropy[s:e], np.inf)))] = True
            ids[transfer] = x0[row, transfer]
            for blk in blocks:
                blk["mask_count"] = int((ids[blk["start"]:blk["end"]] == vocab_size).sum())
    return x


def d3llm_multi_block(denoiser, n, rng, length, vocab_size, prompt, threshold, block_length=None,
                      block_add_threshold=0.5, decoded_token_threshold=0.5, temperature=0.0, llada=False, calls=None):
    """d3LLM's ``_sample_multi_block`` (Dream) or, with ``llada``, ``generate_multi_block`` (LLaDA), both in
    ``d3llm/d3llm_{DREAM,LLaDA}/..._generate_util.py`` at e5bfcac, without cache or early stop, each row its own run:
    the prompt block complete; one generation block created at the start, at most one more per iteration (when the
    last created block's progress >= block_add_threshold or it has no mask), ``is_complete`` (fully active) set
    when the previous block's progress >= decoded_token_threshold; the rightmost block complete or masked gives
    ``active_end``; one model call on the whole sequence.  Dream: x0 the argmax, or at T > 0 a multinomial draw
    from softmax(logits / T); entropy -sum p log(p + 1e-12) of softmax(logits) in float64; commit entropy <
    threshold.  LLaDA: x0 by ``add_gumbel_noise`` + argmax; ``torch.topk(largest=False)`` over the decodable
    entropies, the first kept and the others kept when entropy <= threshold.  Both: if the first fully active block
    with masks got none, its decodable position of least entropy (``argmin``), LLaDA re-drawing its token as the
    argmax."""
    x = _start(n, length, vocab_size, prompt)
    start = _prompt_length(x, vocab_size)
    size = length - start if block_length is None else block_length
    assert (length - start) % size == 0
    num_blocks = (length - start) // size
    created = [[{"start": start, "end": start + size, "mask_count": size, "total": size,
                 "complete": 1.0 >= decoded_token_threshold}] for _ in range(n)]
    while (x[:, start:] == vocab_size).any():
        alive = (x[:, start:] == vocab_size).any(axis=1)
        _count(calls, alive)
        logits = _logits(denoiser, x)
        probs = _softmax(logits)
        entropy = -(probs * np.log(probs + 1e-12)).sum(axis=-1)
        if llada:
            x0 = _gumbel_argmax(logits, temperature, rng)
        else:
            x0 = np.argmax(logits, axis=-1) if temperature == 0 else _categorical(_softmax(logits / temperature), rng)
        for row in np.flatnonzero(alive):
            blocks, ids = created[row], x[row]
            previous = 1.0  # the prompt block: complete
            for blk in blocks:
                if not blk["complete"] and previous >= decoded_token_threshold:
                    blk["complete"] = True
                previous = 1 - blk["mask_count"] / blk["total"]
            last = blocks[-1]
            if len(blocks) < num_blocks and (previous >= block_add_threshold or last["mask_count"] == 0):
                s = start + len(blocks) * size
                blocks.append({"start": s, "end": s + size, "mask_count": int((ids[s:s + size] == vocab_size).sum()),
                               "total": size, "complete": previous >= decoded_token_threshold})
            active_end = start
            for blk in blocks:
                if blk["complete"] or blk["mask_count"] > 0:
                    active_end = blk["end"]
            decode = np.zeros(length, dtype=bool)
            decode[:active_end] = ids[:active_end] == vocab_size
            if llada:
                keyed = np.where(decode, entropy[row], np.inf)
                order = np.argsort(keyed, kind="stable")[:int(decode.sum())]
                transfer = np.zeros(length, dtype=bool)
                transfer[order[0]] = True
                transfer[order[1:]] = entropy[row, order[1:]] <= threshold
            else:
                transfer = (entropy[row] < threshold) & decode
            first = next((blk for blk in blocks if blk["complete"] and blk["mask_count"] > 0), None)
            token = x0[row].copy()
            if first is not None and not transfer[first["start"]:first["end"]].any():
                s, e = first["start"], first["end"]
                best = s + int(np.argmin(np.where(decode[s:e], entropy[row, s:e], np.inf)))
                transfer[best] = True
                if llada:
                    token[best] = np.argmax(logits[row, best])
            ids[transfer] = token[transfer]
            for blk in blocks:
                if blk["mask_count"] > 0:
                    blk["mask_count"] -= int(transfer[blk["start"]:blk["end"]].sum())
    return x


def mdlm(denoiser, n, rng, length, vocab_size, prompt, steps, eps=0.0, noise_removal=False, cache=False,
         grid="float32", calls=None):
    """MDLM's sampler with its log-linear noise (move chance t, refimpl's Linear schedule): timesteps
    ``linspace(1, eps, steps + 1)``, dt = (1 - eps) / steps; ``_ddpm_caching_update`` draws from
    q(x_s) = p_x0 (t - s) on the tokens and s on the mask (``_sample_categorical``: argmax of q / Exp(1)
    noise) and copies clean positions; ``noise_removal`` ends with the argmax of p_x0 at the masks.
    ``cache`` (MDLM's ``ddpm_cache``): p_x0 is kept until a step changes x (here per row; MDLM's test,
    ``torch.allclose`` of x and the next x, spans its batch) — the model is called only then.
    ``grid="float32"``: the timesteps float32 as torch makes them, and ``t - dt`` a float32 operation (numpy's
    float32 scalar with a Python float, as torch's tensor with one); ``"float64"``: the ideal."""
    x = _start(n, length, vocab_size, prompt)
    timesteps = torch_linspace32(1.0, eps, steps + 1) if grid == "float32" else np.linspace(1.0, eps, steps + 1)
    dt = (1 - eps) / steps
    cached = None
    stale = np.ones(n, dtype=bool)  # rows whose cached p_x0 is missing or out of date
    for i in range(steps):
        t = timesteps[i]
        move_chance_t, move_chance_s = t, t - dt
        _count(calls, stale if cache else True)
        if cached is None or not cache:
            cached = np.asarray(denoiser(x), dtype=np.float64)
        elif stale.any():
            cached[stale] = np.asarray(denoiser(x[stale]), dtype=np.float64)
        p_x0 = cached
        q_xs = np.concatenate([p_x0 * (move_chance_t - move_chance_s),
                               np.full(p_x0.shape[:-1] + (1,), max(move_chance_s, 0.0))], axis=-1)
        gumbel_norm = 1e-10 - np.log(rng.random(q_xs.shape) + 1e-10)
        _x = np.argmax(q_xs / gumbel_norm, axis=-1)
        x_next = np.where(x != vocab_size, x, _x)
        stale = (x_next != x).any(axis=1)
        x = x_next
    if noise_removal:
        _count(calls, True)
        x = np.where(x != vocab_size, x, np.argmax(denoiser(x), axis=-1))
    return x


def remdm(denoiser, n, rng, length, vocab_size, prompt, steps, sampler="remdm-cap", eta=0.02, t_on=0.55, t_off=0.05,
          alpha_on=0.9, eps=0.0, noise_removal=False, without_sigma=False, most_confident=False, grid="float32",
          calls=None):
    """ReMDM's ``_ddpm_caching_update`` (kuleshov-group/remdm ``diffusion.py``) with its log-linear noise (move
    chance t): timesteps ``linspace(1, eps, steps + 1)``, dt = (1 - eps) / steps; for ``remdm-cap`` and
    ``remdm-rescale`` sigma from alpha_t = 1 - t and alpha_s = 1 - (t - dt), clean positions drawn from
    q_xs = p_x0 (1 - sigma) on the tokens and sigma on the mask, masked ones from q_xs_2 = p_x0 (alpha_s -
    (1 - sigma) alpha_t)/(1 - alpha_t) and (1 - alpha_s - sigma alpha_t)/(1 - alpha_t) on the mask; for
    ``remdm-loop`` MDLM's update on the ramps 1 - (1 - t) alpha_on/(1 - t_on) (t > t_on) and t (1 - alpha_on)/t_off
    (t <= t_off), ReMDM's with sigma = eta at alpha = alpha_on between; ``_sample_categorical`` throughout.
    p_x0 is cached until a step changes x (per row).  (The loop keeps a prompt's tokens as given — ReMDM
    generates unconditionally.  Slip: ``without_sigma`` reveals at MDLM's rate (alpha_s - alpha_t)/(1 - alpha_t)
    while remasking.)  ``remdm-conf``: sigma = softmax(conf) sigma_max per position (0 at masked ones), the
    same two laws with that sigma, then conf = -p_x0[xs] where a token was revealed and -inf where one was
    masked again; conf starts at -inf (the code's bfloat16 storage is not reproduced).  (Slip:
    ``most_confident`` takes softmax(-conf), masking the most confident tokens again.)"""
    x = _start(n, length, vocab_size, prompt)
    given = x != vocab_size
    timesteps = torch_linspace32(1.0, eps, steps + 1) if grid == "float32" else np.linspace(1.0, eps, steps + 1)
    store = (lambda v: np.asarray(v, np.float32).astype(np.float64)) if grid == "float32" else (lambda v: v)
    dt = (1 - eps) / steps
    cached, stale = None, np.ones(n, dtype=bool)
    conf = np.full((n, length), -np.inf)

    def sample(q):
        gumbel_norm = 1e-10 - np.log(rng.random(q.shape) + 1e-10)
        return np.argmax(q / gumbel_norm, axis=-1)

    def with_mask(tokens, mask):
        return np.concatenate([tokens, np.broadcast_to(mask, tokens.shape[:-1] + (1,))], axis=-1)

    for i in range(steps):
        t = timesteps[i]
        _count(calls, stale)
        if cached is None:
            cached = np.asarray(denoiser(x), dtype=np.float64)
        elif stale.any():
            cached[stale] = np.asarray(denoiser(x[stale]), dtype=np.float64)
        p_x0 = cached
        time = float(t)  # the code's t[0].item()
        mdlm_phase = sampler == "remdm-loop" and (time > t_on or time <= t_off)
        if mdlm_phase:
            if time > t_on:
                move_chance_t = 1 - (1 - t) * alpha_on / (1 - t_on)
                move_chance_s = 1 - (1 - t + dt) * alpha_on / (1 - t_on)
            else:
                move_chance_t = t * (1 - alpha_on) / t_off
                move_chance_s = (t - dt) * (1 - alpha_on) / t_off
            _x = sample(with_mask(p_x0 * float(move_chance_t - move_chance_s), float(move_chance_s)))
            xs = np.where(x != vocab_size, x, _x)
        else:
            if sampler == "remdm-loop":
                alpha_t = alpha_s = alpha_on
                sigma = eta
            elif sampler == "remdm-conf":
                alpha_t, alpha_s = float(1 - t), float(1 - (t - dt))
                sigma_max = min(1, (1 - alpha_s) / alpha_t) if alpha_t > 0 else 1
                scores = -conf if most_confident else conf
                with np.errstate(invalid="ignore"):  # a row of -inf: NaN, as torch's softmax
                    top = scores.max(axis=1, keepdims=True)
                    weights = np.exp(scores - top)
                    eta_conf = weights / weights.sum(axis=1, keepdims=True)
                eta_conf[x == vocab_size] = 0
                sigma = (eta_conf * sigma_max)[..., None]
            else:
                alpha_t, alpha_s = float(1 - t), float(1 - (t - dt))
                if sampler == "remdm-cap":
                    sigma = min(eta, (1 - alpha_s) / alpha_t) if alpha_t > 0 else eta
                else:
                    sigma = eta * (min(1, (1 - alpha_s) / alpha_t) if alpha_t > 0 else 1)
            if sampler == "remdm-conf":  # the shared sigma kept in float64 (refimpl does not reproduce its bfloat16)
                q_xs = with_mask(p_x0 * (1 - sigma), sigma)
            else:
                q_xs = with_mask(p_x0 * store(1 - sigma), store(sigma))
            reveal = (alpha_s - alpha_t) if without_sigma else (alpha_s - (1 - sigma) * alpha_t)
            stay = (1 - alpha_t - reveal) if without_sigma else (1 - alpha_s - sigma * alpha_t)
            if sampler == "remdm-conf" and grid == "float32":  # sigma = 0 at the masks; bfloat16 arithmetic
                bf, f32 = round_to_bfloat16, np.float32
                up = bf(bf(f32(bf(f32(alpha_s)) - bf(f32(alpha_t)))) / f32(1 - alpha_t))
                q_xs_2 = with_mask(p_x0 * float(up), float(bf(bf(f32(1 - alpha_s)) / f32(1 - alpha_t))))
            else:
                q_xs_2 = with_mask(p_x0 * store(reveal / (1 - alpha_t)), store(stay / (1 - alpha_t)))
            copy_flag = x != vocab_size
            xs = sample(np.where(copy_flag[..., None], q_xs, q_xs_2))
            if sampler == "remdm-conf":
                unmasked = (x == vocab_size) & (xs != vocab_size)
                drawn = np.take_along_axis(p_x0, np.minimum(xs, vocab_size - 1)[..., None], axis=-1)[..., 0]
                conf[unmasked] = -drawn[unmasked]
                conf[(x != vocab_size) & (xs == vocab_size)] = -np.inf
        xs = np.where(given, x, xs)
        stale = (xs != x).any(axis=1)
        x = xs
    if noise_removal:
        _count(calls, True)
        x = np.where(x != vocab_size, x, np.argmax(denoiser(x), axis=-1))
    return x


def _every_position(denoiser, x, vocab_size):
    """(n, L, V): the model's probabilities at every position, as an editing model gives them in one pass — at
    a masked position the denoiser's answer, at a clean position j its answer with j masked (how refimpl reads
    a prediction at a clean position; a denoiser carries clean positions over)."""
    probs = np.array(denoiser(x), dtype=np.float64)
    for j in range(x.shape[1]):
        clean = x[:, j] != vocab_size
        if clean.any():
            hidden = x[clean].copy()
            hidden[:, j] = vocab_size
            probs[clean, j] = np.asarray(denoiser(hidden), dtype=np.float64)[:, j]
    return probs


def _with_logs(probs):
    with np.errstate(divide="ignore"):
        return np.log(probs)


def sglang_joint_threshold(denoiser, n, rng, length, vocab_size, prompt, threshold=0.5, edit_threshold=0.0,
                           max_post_edit_steps=16, block_length=None, penalty_lambda=0.0, predict=None, calls=None):
    """sglang's ``JointThreshold`` (python/sglang/srt/dllm/algorithm/joint_threshold.py at 17d5721) in its base
    class's ``_run_sync`` loop (``algorithm/base.py``), each row one request: blocks of ``block_length`` from position
    0, a block with no mask prefilled (not counted); per block one forward, then up to ``block_size +
    max_post_edit_steps + 1`` times: ``step`` (a row finished before reports done; else the penalty on
    ``logits[1:]`` at the previous ids, argmax x and its softmax probability p; with masks, commit p > threshold
    among them or the ``topk(1)``; without, count a post step and finish past the budget; edit where p >
    edit_threshold, x differs and the position is neither masked nor prompt; finish when nothing changes), the loop
    ending when every row is done, else a forward.  ``predict(x)``: the model's (n, L, V) probabilities at every
    position (default :func:`_every_position`)."""
    predict = predict or (lambda x: _every_position(denoiser, x, vocab_size))
    x = _start(n, length, vocab_size, prompt)
    size = length if block_length is None else block_length
    for start in range(0, length, size):
        block = slice(start, start + size)
        if not (x[:, block] == vocab_size).any():
            continue
        prompt_mask = x[:, block] != vocab_size
        post = np.zeros(n, dtype=np.int64)
        finished = np.zeros(n, dtype=bool)
        _count(calls, True)  # the first forward
        for _ in range(size + max_post_edit_steps + 1):
            done = finished.copy()
            logits = _with_logs(predict(x))[:, block].copy()
            if penalty_lambda > 0:
                ids = x[:, block]
                for i in range(1, size):
                    rows = np.flatnonzero(ids[:, i - 1] != vocab_size)
                    logits[rows, i, ids[rows, i - 1]] -= penalty_lambda
            tokens = np.argmax(logits, axis=-1)
            p = np.take_along_axis(_softmax(logits), tokens[..., None], axis=-1)[..., 0]
            for row in np.flatnonzero(~finished):
                ids = x[row, block]
                masked = ids == vocab_size
                transfer = np.zeros(size, dtype=bool)
                if masked.any():
                    confidence = np.where(masked, p[row], -np.inf)
                    transfer = confidence > threshold
                    if not transfer.any():
                        transfer[int(np.argmax(confidence))] = True
                else:
                    post[row] += 1
                    if post[row] > max_post_edit_steps:
                        finished[row] = True
                        continue
                transfer |= (p[row] > edit_threshold) & (ids != tokens[row]) & ~masked & ~prompt_mask[row]
                if not transfer.any():
                    finished[row] = True
                    continue
                ids[transfer] = tokens[row, transfer]
            if done.all():
                break
            _count(calls, ~done)
    return x


def llada21_generate(denoiser, n, rng, length, vocab_size, prompt, threshold=0.95, editing_threshold=0.9,
                     max_post_steps=16, block_length=None, temperature=0.0, num_to_transfer=1, predict=None,
                     calls=None):
    """LLaDA2.1's ``generate`` (its Hugging Face model code, as copied in ZHZisZZ/dllm
    ``dllm/pipelines/llada21/models/modeling_llada21_moe.py`` at ca17675), each row its own run, no top-k/top-p:
    blocks of ``block_length`` from position 0 starting with the one holding the prompt's end; per block, loop: the
    block's masks and tokens at the start; without a mask count a post step and stop past ``max_post_steps``
    (before the call); one call; x0 the argmax and its probability (T > 0: a multinomial draw from softmax(logits /
    T) and its probability there); commit the masked positions above ``threshold`` if at least ``num_to_transfer``,
    else the ``topk(num_to_transfer)``; edit the non-mask non-prompt positions whose x0 differs, above
    ``editing_threshold``; stop after a step without masks that edits nothing."""
    predict = predict or (lambda x: _every_position(denoiser, x, vocab_size))
    x = _start(n, length, vocab_size, prompt)
    prompt_length = _prompt_length(x, vocab_size)
    size = length if block_length is None else block_length
    for start in range(prompt_length // size * size, length, size):
        block = slice(start, start + size)
        prompt_in_block = np.arange(start, start + size) < prompt_length
        post = np.zeros(n, dtype=np.int64)
        active = np.ones(n, dtype=bool)  # the rows whose own loop goes on
        while True:
            old = x[:, block].copy()
            masked = old == vocab_size
            post += active & ~masked.any(axis=1)
            active &= post <= max_post_steps
            if not active.any():
                break
            _count(calls, active)
            probs = predict(x)[:, block]
            if temperature == 0:
                x0 = np.argmax(probs, axis=-1)
                q = _softmax(_with_logs(probs))
            else:
                q = _softmax(_with_logs(probs) / temperature)
                x0 = _categorical(q, rng)
            x0_p = np.take_along_axis(q, x0[..., None], axis=-1)[..., 0]
            confidence = np.where(masked, x0_p, -np.inf)
            high = (confidence > threshold) & masked
            k = np.minimum(num_to_transfer, masked.sum(axis=1))
            top = np.argsort(np.argsort(-confidence, axis=1, kind="stable"), axis=1, kind="stable") < k[:, None]
            transfer = np.where((high.sum(axis=1) >= num_to_transfer)[:, None], high, top & masked)
            edits = (x0_p > editing_threshold) & ~masked & ~prompt_in_block[None, :] & (x0 != old)
            transfer = (transfer | edits) & active[:, None]
            x[:, block] = np.where(transfer, x0, old)
            active &= masked.any(axis=1) | edits.any(axis=1)
    return x


def llada2(denoiser, n, rng, length, vocab_size, prompt, steps=32, block_length=None, threshold=0.7,
           editing_threshold=0.5, max_post_steps=16, minimal_topk=1, temperature=0.0, edit_rule="code",
           untempered_confidence=False, sample=None, calls=None):
    """diffusers' ``LLaDA2Pipeline.__call__`` (mask-token mode, ``eos_early_stop`` off) with its
    ``BlockRefinementScheduler.step``, each row its own batch of one: per block, ``while should_continue``: test
    for masks, count a post step if none, call the model, draw (``_sample_from_logits``: argmax of the logits
    at T = 0 with the softmax's probability, else a multinomial draw from softmax(logits / T) with its
    probability), commit (``confidence > threshold`` if at least ``num_to_transfer`` pass, else ``topk``),
    edit (``editable & conf > editing_threshold & token changed``; ``edit_rule="intent"``: only without masks),
    then ``check_block_should_continue``.  Blocks start at 0; a block without a mask is skipped.
    (Slip: ``untempered_confidence`` ranks by softmax(logits) at T > 0, as Fast-dLLM does.)  ``sample``:
    ``_sample_from_logits`` replaced, ``sample(logits, temperature) -> (tokens, their probabilities)`` (torch's, in
    a lower precision, say)."""
    x = _start(n, length, vocab_size, prompt)
    given = x != vocab_size
    size = length if block_length is None else block_length
    assert length % size == 0
    gen_length = int((~given[0]).sum())
    total_steps = min(steps, gen_length // minimal_topk)
    base, remainder = divmod(size, total_steps)
    schedule = np.full(total_steps, base)
    schedule[:remainder] += 1
    editing_enabled = editing_threshold is not None and editing_threshold > 0.0
    for start in range(0, length, size):
        block = slice(start, start + size)
        if not (x[:, block] == vocab_size).any():
            continue
        prompt_mask = given[:, block]
        post_steps = np.zeros(n, dtype=np.int64)
        step_idx = np.zeros(n, dtype=np.int64)
        running = np.ones(n, dtype=bool)
        while running.any():
            rows = np.flatnonzero(running)
            tokens = x[rows, block]
            masks_remaining = (tokens == vocab_size).any(axis=1)
            post_steps[rows] += ~masks_remaining
            _count(calls, running)
            with np.errstate(divide="ignore"):
                logits = np.log(_every_position(denoiser, x[rows], vocab_size)[:, block])
            if sample is not None:
                sampled, sampled_probs = sample(logits, temperature)
            else:
                if temperature == 0.0:
                    probs = _softmax(logits)
                    sampled = np.argmax(logits, axis=-1)
                else:
                    probs = _softmax(logits / temperature)
                    sampled = _categorical(probs, rng)
                if untempered_confidence:
                    probs = _softmax(logits)
                sampled_probs = np.take_along_axis(probs, sampled[..., None], axis=-1)[..., 0]
            active_block = tokens == vocab_size
            transfer = np.zeros_like(active_block)
            for r in np.flatnonzero(masks_remaining):
                num_to_transfer = schedule[min(step_idx[rows[r]], total_steps - 1)]
                confidence = np.where(active_block[r], sampled_probs[r], -np.inf)
                high_conf = confidence > threshold
                if high_conf.sum() >= num_to_transfer:
                    transfer[r] = high_conf
                else:
                    k = min(num_to_transfer, int(active_block[r].sum()))
                    transfer[r] = _top_k(confidence[None], [k])[0]
            edit = np.zeros_like(active_block)
            if editing_enabled:
                editable = ~active_block & ~prompt_mask[rows]
                edit = editable & (sampled_probs > editing_threshold) & (sampled != tokens)
                if edit_rule == "intent":
                    edit &= ~masks_remaining[:, None]
            final = transfer | edit
            x[rows, block] = np.where(final, sampled, tokens)
            step_idx[rows] += masks_remaining
            stop = ((~masks_remaining & (not editing_enabled)) | (~masks_remaining & ~edit.any(axis=1))
                    | (masks_remaining & (step_idx[rows] >= total_steps))
                    | (~masks_remaining & (post_steps[rows] > max_post_steps)))
            running[rows] = ~stop
    return x


def case_name(case):
    """A test id for ``(original, sampler, prompt)``: the original's name, the sampler, the prompt (M = mask)."""
    original, sampler, prompt = case
    given = "" if prompt is None else "-prompt " + "".join("M" if t == 3 else str(t) for t in prompt)
    return f"{original.func.__name__}-{sampler!r}{given}"


def _ar_argmax(denoiser, x, position, vocab_size):
    """(n,): the argmax of the causal pass's row for ``position`` — the model's answer there with it and every later
    position masked (the anchor a block-causal decoder takes from the pass over the block before)."""
    z = x.copy()
    z[:, position:] = vocab_size
    return np.argmax(np.asarray(denoiser(z))[:, position], axis=-1)


def _shifted_rows(denoiser, x, start, size, vocab_size):
    """(n, size, V): the token-shifted rows of a block window [start, start + size): position start + i gets the
    network's row i - 1, which predicts position start + i (the model's answer there, one-hot where it is clean);
    position ``start`` gets row 0 again, the row that predicts start + 1."""
    probs = np.asarray(denoiser(x), dtype=np.float64)[:, start:start + size]
    return np.concatenate([probs[:, 1:2] if size > 1 else probs[:, :1], probs[:, 1:]], axis=1)


def _top_p(probs, top_p):
    """Fast-dLLM v2's ``sample_with_top_p`` truncation: sorted down (ties: lowest token first here), a token removed
    where the cumulative sum before it exceeds top_p (the first always kept), renormalised."""
    order = np.argsort(-probs, axis=-1, kind="stable")
    ranked = np.take_along_axis(probs, order, axis=-1)
    remove = np.cumsum(ranked, axis=-1) > top_p
    remove[..., 1:] = remove[..., :-1].copy()
    remove[..., 0] = False
    kept = probs.copy()
    np.put_along_axis(kept, order, np.where(remove, 0.0, ranked), axis=-1)
    return kept / kept.sum(axis=-1, keepdims=True)


def hierarchy_block(denoiser, n, rng, length, vocab_size, prompt, threshold=0.9, block_length=None,
                    sub_block_length=None, temperature=0.0, top_p=None, bos_anchor=True, calls=None):
    """sglang's ``HierarchyBlock.run`` (python/sglang/srt/dllm/algorithm/hierarchy_block.py at 79aa3f6) block by block
    from position 0, with Fast-dLLM v2's ``generate`` draw at T > 0 (``sample_with_top_p``): a block whose first
    position is masked takes the inherited token (the argmax of the last row of the previous block's final forward;
    for the first block only with ``bos_anchor``, from p(x_0)); each sub-block, while it holds masks: one forward,
    the token-shifted rows, x the argmax (T > 0: a draw from softmax(logits / T) truncated to top_p) and its
    probability c (under that law at T > 0), commit c > threshold among the masked, else ``conf.argmax()``; then the
    final forward.  Blocks without a mask are the prompt's prefill (not counted)."""
    x = _start(n, length, vocab_size, prompt)
    size = length if block_length is None else block_length
    sub = size if sub_block_length is None else sub_block_length
    for start in range(0, length, size):
        if not (x[:, start:start + size] == vocab_size).any():
            continue
        if (x[:, start] == vocab_size).all() and (start > 0 or bos_anchor):
            x[:, start] = _ar_argmax(denoiser, x, start, vocab_size)
        for rel in range(0, size, sub):
            window = slice(start + rel, start + rel + sub)
            while (x[:, window] == vocab_size).any():
                active = (x[:, window] == vocab_size).any(axis=1)
                _count(calls, active)
                probs = _shifted_rows(denoiser, x, start, size, vocab_size)[:, rel:rel + sub]
                if temperature == 0:
                    q = probs
                    preds = np.argmax(q, axis=-1)
                else:
                    q = _softmax(_with_logs(probs) / temperature)
                    q = q if top_p is None else _top_p(q, top_p)
                    preds = _categorical(q, rng)
                masked = x[:, window] == vocab_size
                conf = np.where(masked, np.take_along_axis(q, preds[..., None], axis=-1)[..., 0], -np.inf)
                unmask = conf > threshold
                first = np.argmax(conf, axis=1)
                none = ~unmask.any(axis=1)
                unmask[none, first[none]] = True
                unmask &= masked & active[:, None]
                x[:, window] = np.where(unmask, preds, x[:, window])
        _count(calls, True)  # the final forward
    return x


def shift_confidence(denoiser, n, rng, length, vocab_size, prompt, threshold=0.9, block_length=None,
                     num_small_blocks=4, alg="confidence_threshold", bos_anchor=True, calls=None):
    """sglang's ``ShiftConfidence.run`` (python/sglang/srt/dllm/algorithm/shift_confidence.py at 23f8751), block by
    block from position 0: a block whose first id is a token is the prompt's (no decoding; its causal forward gives
    the next token cache, not counted); otherwise position 0 takes the cached token (with no prompt, only with
    ``bos_anchor``: the argmax of p(x_0)), then each of the ``num_small_blocks`` sub-blocks, while it holds masks: a
    forward, the shifted rows, ``sample_tokens`` (the max probability and its token; ``alg="entropy"``: the
    confidence sum p log(p + 1e-10)), the first maximal confidence committed, and with ``confidence_threshold``
    every one above the threshold; then the causal forward, whose last row's argmax is cached."""
    x = _start(n, length, vocab_size, prompt)
    size = length if block_length is None else block_length
    sub = size // num_small_blocks
    for start in range(0, length, size):
        if (x[:, start] != vocab_size).all():
            continue  # the prompt's block
        if start > 0 or bos_anchor:
            x[:, start] = _ar_argmax(denoiser, x, start, vocab_size)
        for rel in range(0, size, sub):
            window = slice(start + rel, start + rel + sub)
            while (x[:, window] == vocab_size).any():
                active = (x[:, window] == vocab_size).any(axis=1)
                _count(calls, active)
                probs = _shifted_rows(denoiser, x, start, size, vocab_size)[:, rel:rel + sub]
                confidence, tokens = probs.max(axis=-1), np.argmax(probs, axis=-1)
                if alg == "entropy":
                    confidence = (probs * np.log(probs + 1e-10)).sum(axis=-1)
                masked = x[:, window] == vocab_size
                confidence = np.where(masked, confidence, -np.inf)
                transfer = np.zeros_like(masked)
                transfer[np.arange(n), np.argmax(confidence, axis=1)] = True
                if alg == "confidence_threshold":
                    transfer |= confidence > threshold
                transfer &= active[:, None]
                x[:, window] = np.where(transfer, tokens, x[:, window])
        _count(calls, True)  # the causal forward
    return x


def linear_spec(denoiser, n, rng, length, vocab_size, prompt, block_length=None, calls=None):
    """sglang's ``LinearSpec.run`` (python/sglang/srt/dllm/algorithm/linear_spec.py at 4476e1d), each row one request:
    the seed from the prefill's last row (the causal row for the first generated position; with no prompt, p(x_0));
    per round, the request's block (blocks of ``block_length`` from position 0) holds the accepted tokens, the seed at
    its first mask and masks after: a bidirectional forward, draft = argmax at every mask; a causal forward over
    [seed, draft...], ``ar_all`` the argmax of each row (row i predicts i + 1); c = the leading run of
    ``draft[i] == ar[i - 1]``; output [seed, ar[0], ..., ar[c - 1]]; the next seed ``ar[c]``."""
    x = _start(n, length, vocab_size, prompt)
    size = length if block_length is None else block_length
    for row in range(n):
        z = x[row]
        gen = int(np.argmax(z == vocab_size)) if (z == vocab_size).any() else length
        seed = _ar_argmax(denoiser, z[None], gen, vocab_size)[0] if gen < length else None
        while (z == vocab_size).any():
            start = int(np.argmax(z == vocab_size))
            end = min(length, (start // size + 1) * size)
            block = z.copy()
            block[start] = seed
            _count(calls[row:row + 1] if calls is not None else None, True)  # the draft
            draft = block.copy()
            bidirectional = np.asarray(denoiser(block[None]))[0]
            draft[start + 1:end] = np.argmax(bidirectional[start + 1:end], axis=-1)
            _count(calls[row:row + 1] if calls is not None else None, True)  # the verify
            ar = np.array([_ar_argmax(denoiser, draft[None], i + 1, vocab_size)[0] if i + 1 < length else -1
                           for i in range(start, end)])  # the causal row at i predicts i + 1
            c = 0
            while start + c + 1 < end and draft[start + c + 1] == ar[c]:
                c += 1
            z[start] = seed
            z[start + 1:start + c + 1] = ar[:c]
            seed = ar[c] if start + c + 1 < length else None
    return x


def _llada_draw(logits, temperature, rng):
    """(x0, c): LLaDA's Gumbel-max draw at T (``add_gumbel_noise`` in float64) and the drawn token's untempered
    softmax probability."""
    x0 = _gumbel_argmax(logits, temperature, rng)
    return x0, np.take_along_axis(_softmax(logits), x0[..., None], axis=-1)[..., 0]


def _schedule(count, steps):
    base, remainder = divmod(count, steps)
    return [base + (1 if i < remainder else 0) for i in range(steps)]


def nemotron_diffusion(denoiser, n, rng, length, vocab_size, prompt, threshold=0.9, block_length=None,
                       temperature=0.0, calls=None):
    """dllm's ``NemotronDiffusionSampler.sample`` (dllm/pipelines/nemotron_diffusion/sampler.py at 6149652), no EOS,
    no thinking budget: the anchor from the prefill's last row (argmax, or at T > 0 ``multinomial(softmax(logit /
    T))``; with no prompt, p(x_0)); per block of ``block_length`` after the prompt, [anchor, masks]; the even split of
    the block's masks over ``block_length`` steps; up to ``block_length`` iterations while masks remain: one call,
    ``sample_tokens`` (LLaDA's Gumbel draw, the untempered probability as confidence, ``topk`` over the masked —
    all of them with a threshold, then those after the first with c < threshold dropped; else the step's count);
    then the causal pass (one call) and the next anchor from its last row."""
    x = _start(n, length, vocab_size, prompt)
    start = _prompt_length(x, vocab_size)
    size = length - start if block_length is None else block_length

    def anchor(position):
        hidden = x.copy()
        hidden[:, position:] = vocab_size
        probs = np.asarray(denoiser(hidden), dtype=np.float64)[:, position]
        if temperature > 0:
            return _categorical(_softmax(_with_logs(probs) / temperature), rng)
        return np.argmax(probs, axis=-1)

    for lo in range(start, length, size):
        block = slice(lo, lo + size)
        x[:, lo] = anchor(lo)
        counts = _schedule(int((x[0, block] == vocab_size).sum()), size)
        for i in range(size):
            masked = x[:, block] == vocab_size
            if not masked.any():
                break
            _count(calls, masked.any(axis=1))
            x0, c = _llada_draw(_logits(denoiser, x)[:, block], temperature, rng)
            confidence = np.where(masked, c, -np.inf)
            k = masked.sum(axis=1) if threshold is not None else np.full(n, counts[i])
            ranks = np.argsort(np.argsort(-confidence, axis=1, kind="stable"), axis=1, kind="stable")
            transfer = ranks < k[:, None]
            if threshold is not None:
                transfer &= (ranks == 0) | (confidence >= threshold)
            x[:, block] = np.where(transfer & masked, x0, x[:, block])
        _count(calls, True)  # the causal pass
    return x


def fastdiffuser(denoiser, n, rng, length, vocab_size, prompt, threshold=None, block_length=None, temperature=0.0,
                 max_steps=None, calls=None):
    """sglang's ``FastDiffuser.run`` (hutm/sglang python/sglang/srt/dllm/algorithm/fastdiffuser.py at ce4286e), no
    EOS, each row one request: blocks of ``block_length`` from position 0 (a block without a mask is prefill, not
    counted); for ``max_steps`` steps while the request has masks: one forward, x0 by LLaDA's Gumbel draw and c its
    probability; k = max(1, #{c >= threshold}) or the first of the even split of the remaining masks over the steps
    left; ``topk(k)`` committed; then the final forward."""
    x = _start(n, length, vocab_size, prompt)
    size = length if block_length is None else block_length
    steps = size if max_steps is None else max_steps
    for lo in range(0, length, size):
        block = slice(lo, lo + size)
        if not (x[:, block] == vocab_size).any():
            continue
        for step in range(steps):
            masked = x[:, block] == vocab_size
            active = masked.any(axis=1)
            if not active.any():
                break
            _count(calls, active)
            x0, c = _llada_draw(_logits(denoiser, x)[:, block], temperature, rng)
            confidence = np.where(masked, c, -np.inf)
            remaining = masked.sum(axis=1)
            if threshold is not None:
                k = np.maximum(1, (confidence >= threshold).sum(axis=1))
            else:
                k = np.array([_schedule(int(r), steps - step)[0] for r in remaining])
            k = np.minimum(k, remaining)
            ranks = np.argsort(np.argsort(-confidence, axis=1, kind="stable"), axis=1, kind="stable")
            transfer = (ranks < k[:, None]) & masked & active[:, None]
            x[:, block] = np.where(transfer, x0, x[:, block])
        _count(calls, True)  # the final forward
    return x


def sglang_low_confidence(denoiser, n, rng, length, vocab_size, prompt, threshold=0.95, block_length=None,
                          temperature=0.0, final_call=True, calls=None, top_k=None, top_p=None, min_p=0.0):
    """sglang's ``LowConfidence.run`` (python/sglang/srt/dllm/algorithm/low_confidence.py at 6e97cb5), each row one
    request, blocks of ``block_length`` from position 0 (one without a mask is prefill, not counted): up to block-size
    iterations while masks remain: a forward, x the argmax and p its softmax probability (T > 0: ``DllmSamplingPlan``
    at srt/dllm/sampling.py 0026bd4 — x drawn from softmax(logits / T), p = min(argmax probability, exp((z_x -
    z_max) / T))), commit p > threshold among the masked, else ``topk(1)``; then the final forward.  ``top_k``,
    ``top_p``, ``min_p``: the draw through ``top_k_top_p_min_p_sampling_from_probs_torch`` (srt/layers/sampler.py),
    re-written below; a request with top_k <= 1 is greedy (``maybe_build``'s ``top_ks > 1``)."""
    if top_k is not None and top_k <= 1:
        temperature = 0.0
    x = _start(n, length, vocab_size, prompt)
    size = length if block_length is None else block_length
    for lo in range(0, length, size):
        block = slice(lo, lo + size)
        if not (x[:, block] == vocab_size).any():
            continue
        for _ in range(size):
            masked = x[:, block] == vocab_size
            active = masked.any(axis=1)
            if not active.any():
                break
            _count(calls, active)
            logits = _logits(denoiser, x)[:, block]
            top = np.max(logits, axis=-1)
            if temperature == 0:
                tokens = np.argmax(logits, axis=-1)
                p = np.take_along_axis(_softmax(logits), tokens[..., None], axis=-1)[..., 0]
            else:
                tokens = _sglang_torch_sample(_softmax(logits / temperature), top_k, top_p, min_p, rng)
                drawn = np.exp((np.take_along_axis(logits, tokens[..., None], axis=-1)[..., 0] - top) / temperature)
                p = np.minimum(_softmax(logits).max(axis=-1), drawn)
            confidence = np.where(masked, p, -np.inf)
            transfer = confidence > threshold
            none = ~transfer.any(axis=1)
            transfer[none, np.argmax(confidence[none], axis=1)] = True
            transfer &= masked & active[:, None]
            x[:, block] = np.where(transfer, tokens, x[:, block])
        _count(calls, final_call)
    return x


def _sglang_torch_sample(probs, top_k, top_p, min_p, rng):
    """sglang's torch sampler on rows of ``probs`` (..., V): sort down (a stable sort: the lowest token first on
    ties), zero the ranks >= top_k, then where cumsum - p > top_p, then (min_p > 0) below min_p times the first;
    ``torch.multinomial`` on what is left (it normalises), the index mapped back through the sort."""
    shape = probs.shape
    flat = probs.reshape(-1, shape[-1])
    idx = np.argsort(-flat, axis=1, kind="stable")
    srt = np.take_along_axis(flat, idx, axis=1)
    total = np.cumsum(srt, axis=1)
    if top_k is not None:
        srt[:, top_k:] = 0.0
    if top_p is not None and top_p < 1:
        srt[(total - np.take_along_axis(flat, idx, axis=1)) > top_p] = 0.0
    if min_p:
        srt[srt < (srt[:, :1] * min_p)] = 0.0
    pick = _categorical(srt, rng)
    return np.take_along_axis(idx, pick[:, None], axis=1)[:, 0].reshape(shape[:-1])


def vllm_llada2_default(denoiser, n, rng, length, vocab_size, prompt, block_length=None, threshold=0.01,
                        denoise_steps=32, calls=None):
    """The vLLM dllm-plugin's ``Llada2DefaultRemaskingPolicy.apply`` (vllm_dllm_plugin/remasking/llada2_default.py at
    0c53db5) called once per model call with its default ``denoise_step_index`` 0, drafts of ``block_length`` from
    position 0: per call, the argmax and its stable-softmax probability at every position; n the schedule's first
    entry (the draft split over ``denoise_steps``); all masked positions with probability > threshold if at least n,
    else the n most confident masked ones, ties to the smallest index."""
    x = _start(n, length, vocab_size, prompt)
    size = length if block_length is None else block_length
    count = size // denoise_steps + (1 if size % denoise_steps else 0)
    for lo in range(0, length, size):
        block = slice(lo, lo + size)
        while (x[:, block] == vocab_size).any():
            masked = x[:, block] == vocab_size
            active = masked.any(axis=1)
            _count(calls, active)
            logits = _logits(denoiser, x)[:, block]
            best = np.argmax(logits, axis=-1)
            confidence = np.take_along_axis(_softmax(logits), best[..., None], axis=-1)[..., 0]
            for row in np.flatnonzero(active):
                candidates = [i for i in range(size) if masked[row, i]]
                high = [i for i in candidates if confidence[row, i] > threshold]
                chosen = high if len(high) >= count else sorted(candidates, key=lambda i: (-confidence[row, i], i))[:count]
                for i in chosen:
                    x[row, lo + i] = best[row, i]
    return x


def dllm_mdlm(denoiser, n, rng, length, vocab_size, prompt, steps, block_length=None, temperature=0.0,
              remasking="low_confidence", schedule="linear", stochastic=False, calls=None):
    """dllm's ``MDLMSampler.sample`` (dllm/core/samplers/mdlm.py at ca17675), deterministic transfer, no CFG: blocks of
    ``block_length`` after the prompt (ceil), ceil(steps / blocks) steps each; ``get_num_transfer_tokens`` — for j with
    t = (S - j)/S, s = (S - j - 1)/S, the float32 ``reverse_mask_prob`` (1 - alpha(s)) / (1 - alpha(t)), k =
    round(M * (1 - that)) (half to even) — ``stochastic``: a Binomial(M, 1 - that) draw per row — capped, M reduced,
    the zeros dropped; per remaining step one call, x0 by Gumbel-max, confidence its softmax probability
    (``random``: uniform scores), -inf past the block's end, topk(k)."""
    x = _start(n, length, vocab_size, prompt)
    start = _prompt_length(x, vocab_size)
    size = length - start if block_length is None else block_length
    blocks = -(-(length - start) // size)
    per_block = -(-steps // blocks)
    one = np.float32(1.0)

    def alpha(t):
        if schedule == "linear":
            return one - t
        return one - np.cos(np.float32(np.pi / 2) * (one - t), dtype=np.float32)

    for b in range(blocks):
        end = min(start + (b + 1) * size, length)
        if stochastic:  # each row its own binomial counts; a step with a zero count is dropped (no call)
            left = (x[:, start + b * size:end] == vocab_size).sum(axis=1)
            for j in range(per_block):
                t, s = np.float32((per_block - j) / per_block), np.float32((per_block - j - 1) / per_block)
                keep = float((one - alpha(s)) / (one - alpha(t)))
                k = np.minimum(rng.binomial(left, 1 - keep), left)
                left = left - k
                if not (k > 0).any():
                    continue
                _count(calls, k > 0)
                logits = _logits(denoiser, x)
                x0 = _gumbel_argmax(logits, temperature, rng)
                score = np.take_along_axis(_softmax(logits), x0[..., None], axis=-1)[..., 0]
                score[:, end:] = -np.inf
                transfer = _top_k(np.where(x == vocab_size, score, -np.inf), k)
                x = np.where(transfer, x0, x)
            continue
        left, counts = int((x[0, start + b * size:end] == vocab_size).sum()), []
        for j in range(per_block):
            t, s = np.float32((per_block - j) / per_block), np.float32((per_block - j - 1) / per_block)
            keep = float((one - alpha(s)) / (one - alpha(t)))
            k = min(int(np.round(left * (1 - keep))), left)
            counts.append(k)
            left -= k
            if left == 0:
                break
        for k in [c for c in counts if c > 0]:
            _count(calls, True)
            logits = _logits(denoiser, x)
            x0 = _gumbel_argmax(logits, temperature, rng)
            if remasking == "low_confidence":
                score = np.take_along_axis(_softmax(logits), x0[..., None], axis=-1)[..., 0]
            else:
                score = rng.random(x0.shape)
            score[:, end:] = -np.inf
            confidence = np.where(x == vocab_size, score, -np.inf)
            transfer = _top_k(confidence, np.full(n, k))
            x = np.where(transfer, x0, x)
    return x


def pc_sampler(denoiser, n, rng, length, vocab_size, prompt, steps, block_length=None, lam=1.0, alpha=1.0,
               frequencies=None, temperature=0.0, readme=False, calls=None):
    """PC-Sampler's ``generate_with_pc_sampler`` (NEUIR/PC-Sampler src/generate.py at 8b106b0), low-confidence:
    LLaDA's blocks and even split; per step one call, x0 by Gumbel-max, p its softmax probability, the block's slice
    scored by ``pc_sampler_function`` — exp(-lam x position in the slice) x clamp(-p log(f[x0] + 1e-9), max=alpha) —
    and ``topk`` of the masked ones (ties by position here).  ``readme``: the README's +p log f and positions counted
    from the end of the prompt."""
    x = _start(n, length, vocab_size, prompt)
    start = _prompt_length(x, vocab_size)
    size = length - start if block_length is None else block_length
    blocks = (length - start) // size
    per_block = steps // blocks
    f = np.full(vocab_size, 1.0 / vocab_size) if frequencies is None else np.asarray(frequencies, dtype=np.float64)
    for b in range(blocks):
        lo, hi = start + b * size, start + (b + 1) * size
        counts = _schedule(int((x[0, lo:hi] == vocab_size).sum()), per_block)
        for i in range(per_block):
            _count(calls, True)
            logits = _logits(denoiser, x)
            x0 = _gumbel_argmax(logits, temperature, rng)
            p = np.take_along_axis(_softmax(logits), x0[..., None], axis=-1)[..., 0][:, lo:hi]
            cross = (1.0 if readme else -1.0) * p * np.log(f[x0[:, lo:hi]] + 1e-9)
            offsets = np.arange(size) + (lo - start if readme else 0)
            scores = np.exp(-lam * offsets) * np.minimum(cross, alpha)
            confidence = np.where(x[:, lo:hi] == vocab_size, scores, -np.inf)
            transfer = _top_k(confidence, np.full(n, counts[i]))
            x[:, lo:hi] = np.where(transfer, x0[:, lo:hi], x[:, lo:hi])
    return x


def info_gain(denoiser, n, rng, length, vocab_size, prompt, steps, block_length=None, candidates=8,
              position_temperature=0.2, threshold=0.8, variant="info_gain", original="standalone", calls=None,
              temperature=0.0, rows=None):
    """The Info-Gain sampler's ``sample`` (yks23/Information-Gain-Sampler src/samplers/info_gain.py at 0ae2da8) at
    token temperature 0, each row its own run: per block after the prompt one forward, then up to steps // blocks
    iterations while the block holds masks: the bypass (every masked position of the block with max probability >=
    threshold: fill them all with the argmax, no forward); else ``_generate_candidates`` (k = 1; the trivial path
    when one position is valid or candidates <= 1 or the position temperature <= 0: the argmax of the confidences and
    a forward) — candidate 0 the top confidence, the others a Gumbel-top-1 of conf / tau, repeats dropped — one
    batched lookahead forward, ``_score_candidates`` (the mean entropy of the lookahead at the positions still
    masked; info_gain subtracts the current entropy at the action), the first best committed.  ``original="dllm"``:
    dllm's port (dllm/pipelines/infogain/llada/sampler.py at 6550086) — ceil(steps / blocks) iterations, a forward at
    the start of every iteration that has masks (none per block), the trivial path and the bypass no more.
    ``temperature`` > 0: ``_add_gumbel_noise`` — argmax(logits + T * Gumbel(u clamped to [1e-10, 1 - 1e-10])) — for
    the bypass's tokens, candidate 0's tokens and each other candidate's own fresh tokens, whose untempered
    probabilities are that candidate's confidences (``_generate_candidates``; the same in dllm's info_gain_ops at
    0306f52).  ``rows`` (n,), if given, counts each row's lookahead sequences (the batch's distinct candidates)."""
    x = _start(n, length, vocab_size, prompt)
    start = _prompt_length(x, vocab_size)
    size = length - start if block_length is None else block_length
    blocks = max(1, (length - start) // size)
    per_block = max(1, steps // blocks if original == "standalone" else -(-steps // blocks))

    def entropy(probs):
        clipped = np.clip(probs, 1e-12, None)
        return -(clipped * np.log(clipped)).sum(axis=-1)

    def noisy_argmax(p):  # _add_gumbel_noise then argmax, on the logits log p
        if temperature == 0:
            return np.argmax(p, axis=-1)
        u = np.clip(rng.random(p.shape), 1e-10, 1 - 1e-10)
        with np.errstate(divide="ignore"):
            return np.argmax(np.log(p) + temperature * -np.log(-np.log(u)), axis=-1)

    for b in range(blocks):
        lo, hi = start + b * size, start + (b + 1) * size
        _count(calls, original == "standalone")  # the block's first forward (dllm's port has none)
        for _ in range(per_block):
            masked = x[:, lo:hi] == vocab_size
            active = masked.any(axis=1)
            if not active.any():
                break
            if original == "dllm":
                _count(calls, active)  # dllm's forward at every iteration
            probs = np.asarray(denoiser(x), dtype=np.float64)
            pending = []  # (row, valid, token, conf-cost, found, batch): one batched lookahead call for them all
            for row in np.flatnonzero(active):
                p = probs[row, lo:hi]
                valid = np.flatnonzero(masked[row])
                if threshold > 0 and (p[valid].max(axis=-1) >= threshold).all():
                    x[row, lo + valid] = noisy_argmax(p[valid])
                    continue
                base = noisy_argmax(p[valid])  # x0_base at the valid positions
                conf = p[valid, base]
                if valid.size <= 1 or candidates <= 1 or position_temperature <= 0:
                    _count(calls[row:row + 1] if calls is not None and original == "standalone" else None, True)
                    pick = int(np.argmax(conf))
                    x[row, lo + valid[pick]] = base[pick]
                    continue
                _count(calls[row:row + 1] if calls is not None else None, True)  # the lookahead
                found, token = [int(np.argmax(conf))], [int(base[int(np.argmax(conf))])]
                for _c in range(candidates - 1):
                    own = noisy_argmax(p[valid]) if temperature > 0 else base  # x0_c: fresh tokens
                    g = -np.log(-np.log(rng.random(valid.size) + 1e-10) + 1e-10)
                    choice = int(np.argmax(p[valid, own] / position_temperature + g))
                    if choice not in found:
                        found.append(choice)
                        token.append(int(own[choice]))
                if rows is not None:
                    rows[row] += len(found)
                batch = np.tile(x[row], (len(found), 1))
                batch[np.arange(len(found)), lo + valid[found]] = token
                cost = entropy(p[valid[found]]) if variant == "info_gain" else np.zeros(len(found))
                pending.append((row, valid, token, cost, found, batch))
            if pending:
                ahead = np.asarray(denoiser(np.concatenate([item[5] for item in pending])), dtype=np.float64)
                offset = 0
                for row, valid, token, cost, found, batch in pending:
                    left = batch == vocab_size
                    here = ahead[offset:offset + len(found)]
                    offset += len(found)
                    h_next = np.where(left, entropy(here), 0.0).sum(axis=1) / (left.sum(axis=1) + 1e-10)
                    best = int(np.argmax(-cost - h_next))
                    x[row, lo + valid[found[best]]] = token[best]
    return x


def discrete_ddim(denoiser, n, rng, length, vocab_size, prompt=None, steps=32, temperature=0.0, calls=None):
    """diffusers' ``DiscreteDDIMScheduler.step`` (schedulers/scheduling_discrete_ddim.py, 0.42.1) as
    ``DiffusionGemmaPipeline`` drives it without its adaptive stop: a uniformly random canvas, then for step_idx in
    0..N-1 one model call on the canvas and ``step``: x0 the argmax (T = 0) or a draw from softmax(logits / T);
    alpha_t = k / N, alpha_s = (k + 1) / N, survival = alpha_t / alpha_s; a route per position from the three masses
    clean / stay / noise (normalised), then the clean route takes x0, the noise route a uniform token.  ``denoiser``:
    one model, or a list of one per step."""
    if prompt is not None:
        raise ValueError("the uniform canvas has no prompt here")
    models = denoiser if isinstance(denoiser, (list, tuple)) else [denoiser] * steps
    canvas = rng.integers(0, vocab_size, size=(n, length))
    for k in range(steps):
        _count(calls, True)
        canvas = ddim_step(_logits(models[k], canvas), k, canvas, rng, steps, temperature)[0]
    return canvas


def renoise(denoiser, n, rng, length, vocab_size, prompt=None, steps=48, entropy_bound=0.1, max_temperature=0.8,
            min_temperature=0.4, stability_threshold=1, confidence_threshold=0.005, calls=None):
    """dllm's ``DiffusionGemmaSampler`` one canvas (dllm/pipelines/diffusiongemma/sampler.py at 37f3e11,
    ``_sample_loop`` and ``_denoising_step``), each row its own run: a ``randint`` canvas; for cur_step = N..1 while
    the row is not finished: one decoder call; logits / (t_min + (t_max - t_min) * cur_step / N); a multinomial draw
    per position; the argmax canvas; the entropies of ``Categorical(logits=...)``; ``torch.sort`` ascending (a stable
    sort here), accepted where cumsum - own <= entropy_bound; the others ``randint``; then the history of
    ``stability_threshold`` argmax canvases (initialised to -1) and the mean entropy decide ``finished``.  The output
    is the last argmax canvas."""
    if prompt is not None:
        raise ValueError("one canvas without a prompt here")
    canvas = rng.integers(0, vocab_size, size=(n, length))
    out = np.zeros((n, length), dtype=np.int64)
    history = np.full((max(stability_threshold, 1), n, length), -1)
    finished = np.zeros(n, dtype=bool)
    for cur_step in range(steps, 0, -1):
        rows = np.flatnonzero(~finished)
        if not rows.size:
            break
        if calls is not None:
            np.add.at(calls, rows, 1)
        logits = _logits(denoiser, canvas[rows]) / (min_temperature + (max_temperature - min_temperature)
                                                    * cur_step / steps)
        probs = _softmax(logits)
        drawn = _categorical(probs, rng)
        argmax = np.argmax(logits, axis=-1)
        with np.errstate(divide="ignore", invalid="ignore"):
            entropy = -np.where(probs > 0, probs * np.log(probs), 0.0).sum(axis=-1)
        order = np.argsort(entropy, axis=-1, kind="stable")
        ranked = np.take_along_axis(entropy, order, axis=-1)
        selection = (np.cumsum(ranked, axis=-1) - ranked) <= entropy_bound
        accepted = np.zeros_like(selection)
        np.put_along_axis(accepted, order, selection, axis=-1)
        random_canvas = rng.integers(0, vocab_size, size=(rows.size, length))
        canvas[rows] = np.where(accepted, drawn, random_canvas)
        out[rows] = argmax
        if stability_threshold is not None and confidence_threshold is not None:
            stable = np.ones(rows.size, dtype=bool) if stability_threshold == 0 else (
                history[:, rows] == argmax[None]).all(axis=-1).all(axis=0)
            history[:, rows] = np.roll(history[:, rows], -1, axis=0)
            history[-1, rows] = argmax
            finished[rows] |= stable & (entropy.mean(axis=-1) < confidence_threshold)
    return out


def duo_ancestral(denoiser, n, rng, length, vocab_size, prompt=None, steps=1000, eps=1e-5, noise_eps=1e-3,
                  noise_removal="ancestral", calls=None):
    """Duo's ``generate_samples`` with the ancestral sampler (s-sahoo/duo 7c9b498: ``trainer_base.Diffusion``
    ``generate_samples`` / ``_ancestral_update``, ``algo.DUO_BASE._posterior_from_x0``, ``LogLinear``,
    ``sample_categorical``): ``prior_sample`` a ``randint`` canvas; timesteps ``linspace(1, eps, steps + 1)``; per
    step the model's p_x0 (float64) plugged into the posterior expression with x_t one-hot; a Gumbel race
    ``probs / (1e-10 - log(u + 1e-10))``; then the noise removal at t = timesteps[-1].  ``denoiser``: one model or a
    list of one per call (Duo's model is told sigma = -log alpha_t)."""
    if prompt is not None:
        raise ValueError("Duo's unconditional sampler has no prompt")
    total = steps + (noise_removal != "none")
    models = denoiser if isinstance(denoiser, (list, tuple)) else [denoiser] * total

    def alpha(t):
        return 1 - (1 - noise_eps) * t

    def race(probs):
        return np.argmax(probs / (1e-10 - np.log(rng.random(probs.shape) + 1e-10)), axis=-1)

    def update(x, model, alpha_t, alpha_s):
        _count(calls, True)
        x0 = np.asarray(model(x), dtype=np.float64)
        ratio, d_alpha = alpha_t / alpha_s, alpha_s - alpha_t
        xt_one_hot = np.eye(vocab_size)[x]
        at_xt = np.take_along_axis(x0, x[..., None], axis=-1)
        posterior = ((alpha_t * vocab_size * x0 * xt_one_hot + (ratio - alpha_t) * xt_one_hot + d_alpha * x0
                      + (1 - ratio) * (1 - alpha_s) / vocab_size) / (alpha_t * vocab_size * at_xt + (1 - alpha_t)))
        return race(posterior)

    x = rng.integers(0, vocab_size, size=(n, length))
    timesteps = np.linspace(1, eps, steps + 1)
    for i in range(steps):
        t, dt = timesteps[i], timesteps[i] - timesteps[i + 1]
        x = update(x, models[i], alpha(t), alpha(t - dt))
    if noise_removal == "ancestral":
        x = update(x, models[steps], alpha(timesteps[-1]), 1.0)
    elif noise_removal == "greedy":
        _count(calls, True)
        x = np.argmax(_logits(models[steps], x), axis=-1)
    return x


def entropy_bound_scheduler_step(logits, k, canvas, rng, steps, entropy_bound=0.1, t_max=0.8, t_min=0.4):
    """diffusers 0.42.1 ``EntropyBoundScheduler.step`` re-written: temperature t_min + (t_max - t_min) * (N - k) / N;
    logits / T; a multinomial draw from their softmax; ``Categorical(logits=...).entropy()``; ``torch.sort``
    ascending (a stable sort here); accepted where cumsum - own <= entropy_bound; ``randint`` elsewhere.  Returns
    (prev_sample, pred_logits = the tempered logits)."""
    logits = logits / (t_min + (t_max - t_min) * (steps - k) / steps)
    probs = _softmax(logits)
    drawn = _categorical(probs, rng)
    with np.errstate(divide="ignore", invalid="ignore"):
        entropy = -np.where(probs > 0, probs * np.log(probs), 0.0).sum(axis=-1)
    order = np.argsort(entropy, axis=-1, kind="stable")
    ranked = np.take_along_axis(entropy, order, axis=-1)
    accepted = np.zeros(entropy.shape, dtype=bool)
    np.put_along_axis(accepted, order, (np.cumsum(ranked, axis=-1) - ranked) <= entropy_bound, axis=-1)
    return np.where(accepted, drawn, rng.integers(0, logits.shape[-1], size=canvas.shape)), logits


def diffusers_entropy_bound(denoiser, n, rng, length, vocab_size, prompt=None, steps=48, entropy_bound=0.1,
                            t_max=0.8, t_min=0.4, stability_threshold=1, confidence_threshold=0.005, calls=None,
                            scheduler_step=None):
    """``DiffusionGemmaPipeline`` with ``EntropyBoundScheduler`` (:func:`diffusion_gemma_pipeline`); its step
    ``scheduler_step(logits, k, canvas)`` -> (prev_sample, pred_logits), default the re-written
    :func:`entropy_bound_scheduler_step`."""
    if scheduler_step is None:
        def scheduler_step(logits, k, canvas):
            return entropy_bound_scheduler_step(logits, k, canvas, rng, steps, entropy_bound, t_max, t_min)
    return diffusion_gemma_pipeline(denoiser, n, rng, length, vocab_size, prompt, steps, stability_threshold,
                                    confidence_threshold, calls, lambda logits, k, canvas, rows:
                                    scheduler_step(logits, k, canvas))


def diffusion_gemma_pipeline(denoiser, n, rng, length, vocab_size, prompt, steps, stability_threshold,
                             confidence_threshold, calls, scheduler_step, corrector_steps=0, step_correct=None):
    """``DiffusionGemmaPipeline.__call__``'s denoising loop for one canvas (diffusers 0.42.1,
    pipelines/diffusion_gemma/pipeline_diffusion_gemma.py), each row its own run: a ``randint`` canvas, a history of
    max(stability_threshold, 1) argmax canvases initialised to -1; per step one model call and
    ``scheduler_step(logits, k, canvas, rows)`` -> (prev_sample, pred_logits) (``rows``: which runs, for a scheduler's
    own state); with a confidence threshold, the argmax of pred_logits against the history, the mean entropy of
    pred_logits, and a finished row's canvas replaced by that argmax and its loop left.  The output is the canvas.
    With ``corrector_steps`` c > 0 the budget splits as the pipeline's: N_p = steps - (steps - 1) // (1 + c) * c
    predictor steps, the first (steps - 1) // (1 + c) each followed by c calls of ``step_correct(logits, k, canvas)``
    -> canvas, one model call each, before the stop check."""
    if prompt is not None:
        raise ValueError("one canvas without a prompt here")
    corrected = (steps - 1) // (1 + corrector_steps) if corrector_steps > 0 else 0
    steps = steps - corrected * corrector_steps
    canvas = rng.integers(0, vocab_size, size=(n, length))
    history = np.full((max(stability_threshold, 1), n, length), -1)
    finished = np.zeros(n, dtype=bool)
    for k in range(steps):
        rows = np.flatnonzero(~finished)
        if not rows.size:
            break
        if calls is not None:
            np.add.at(calls, rows, 1)
        prev_sample, pred_logits = scheduler_step(_logits(denoiser, canvas[rows]), k, canvas[rows], rows)
        canvas[rows] = prev_sample
        for _ in range(corrector_steps if k < corrected else 0):
            if calls is not None:
                np.add.at(calls, rows, 1)
            canvas[rows] = step_correct(_logits(denoiser, canvas[rows]), k, canvas[rows])
        if confidence_threshold is not None:
            argmax = np.argmax(pred_logits, axis=-1)
            stable = (history[:, rows] == argmax[None]).all(axis=-1).all(axis=0)
            history[:, rows] = np.roll(history[:, rows], -1, axis=0)
            history[-1, rows] = argmax
            probs = _softmax(pred_logits)
            with np.errstate(divide="ignore", invalid="ignore"):
                entropy = -np.where(probs > 0, probs * np.log(probs), 0.0).sum(axis=-1)
            done = stable & (entropy.mean(axis=-1) < confidence_threshold)
            canvas[rows[done]] = argmax[done]
            finished[rows] |= done
    return canvas


def block_refinement_uniform_step(logits, k, canvas, committed, rng, steps, threshold=0.95, editing_threshold=None,
                                  temperature=0.0):
    """diffusers 0.42.1 ``BlockRefinementScheduler.step`` with ``mask_token_id=None`` re-written: tokens the argmax
    (T = 0) with their softmax probability, else a multinomial draw from softmax(logits / T) and its probability
    there; ``committed`` (its ``_committed``, updated in place; reset by the caller at step 0); the quota
    (k + 1) * L ceil-divided by N; ranks by ``argsort(descending).argsort()`` (stable here) of the confidences with
    the committed at -inf; transfer where uncommitted and (rank < needed or confidence > threshold); edits where
    committed, changed and confidence > editing_threshold if it is not None; ``randint`` outside the committed.
    Returns (prev_sample, pred_logits = the raw logits)."""
    if temperature == 0:
        probs = _softmax(logits)
        drawn = np.argmax(logits, axis=-1)
    else:
        probs = _softmax(logits / temperature)
        drawn = _categorical(probs, rng)
    confidence = np.take_along_axis(probs, drawn[..., None], axis=-1)[..., 0]
    length = canvas.shape[-1]
    target = ((k + 1) * length + steps - 1) // steps
    needed = np.maximum(target - committed.sum(axis=-1), 0)
    masked = np.where(committed, -np.inf, confidence)
    ranks = np.argsort(np.argsort(-masked, axis=-1, kind="stable"), axis=-1, kind="stable")
    transfer = ~committed & ((ranks < needed[:, None]) | (confidence > threshold))
    edit = np.zeros_like(transfer)
    if editing_threshold is not None:
        edit = committed & (drawn != canvas) & (confidence > editing_threshold)
    prev_sample = np.where(transfer | edit, drawn, canvas)
    committed |= transfer
    random_tokens = rng.integers(0, logits.shape[-1], size=canvas.shape)
    return np.where(committed, prev_sample, random_tokens), logits


def diffusers_block_refinement(denoiser, n, rng, length, vocab_size, prompt=None, steps=48, threshold=0.95,
                               editing_threshold=None, temperature=0.0, stability_threshold=1,
                               confidence_threshold=0.005, calls=None, scheduler_step=None):
    """``DiffusionGemmaPipeline`` with ``BlockRefinementScheduler`` in its uniform corruption mode
    (:func:`diffusion_gemma_pipeline`); ``scheduler_step(logits, k, canvas, committed)`` -> (prev_sample,
    pred_logits), default the re-written :func:`block_refinement_uniform_step`, with each run's committed set."""
    committed = np.zeros((n, length), dtype=bool)
    if scheduler_step is None:
        def scheduler_step(logits, k, canvas, state):
            return block_refinement_uniform_step(logits, k, canvas, state, rng, steps, threshold, editing_threshold,
                                                 temperature)

    def step(logits, k, canvas, rows):
        state = committed[rows]
        out = scheduler_step(logits, k, canvas, state)
        committed[rows] = state
        return out

    return diffusion_gemma_pipeline(denoiser, n, rng, length, vocab_size, prompt, steps, stability_threshold,
                                    confidence_threshold, calls, step)


def ddim_step(logits, k, canvas, rng, num_steps, temperature=0.0):
    """diffusers 0.42.1 ``DiscreteDDIMScheduler.step`` re-written (as :func:`discrete_ddim`'s loop): x0 the argmax
    (T = 0) or a multinomial draw from softmax(logits / T); alpha_t = k / N, alpha_s = (k + 1) / N; a route per
    position from the clean / stay / noise masses, normalised.  Returns (prev_sample, pred_logits = the raw logits)."""
    vocab_size = logits.shape[-1]
    x0 = np.argmax(logits, axis=-1) if temperature == 0 else _categorical(_softmax(logits / temperature), rng)
    alpha_t, alpha_s = k / num_steps, (k + 1) / num_steps
    survival = alpha_t / alpha_s
    same = (canvas == x0).astype(np.float64)
    clean = alpha_s * (1 - survival) / vocab_size + survival * alpha_s * same
    stay = survival * (1 - alpha_s) / vocab_size * np.ones_like(same)
    noise = (1 - survival) * (1 - alpha_s) / vocab_size * np.ones_like(same)
    masses = np.stack([clean, stay, noise], axis=-1)
    route = _categorical(masses / masses.sum(axis=-1, keepdims=True), rng)
    random_tokens = rng.integers(0, vocab_size, size=canvas.shape)
    return np.where(route == 0, x0, np.where(route == 2, random_tokens, canvas)), logits


def ddim_step_correct(logits, k, canvas, rng, num_steps, corrector_k=1, selection="lowest_log_margin", tau=1.0):
    """diffusers 0.42.1 ``DiscreteDDIMScheduler.step_correct`` (and ``_select_positions``, ``_to_loo_logits``)
    re-written: alpha_s = (k + 1) / N; log(1 + V alpha_s / (1 - alpha_s)) off the current token's logit; log_softmax;
    cond = logaddexp(log alpha_s + loo, log((1 - alpha_s) / V)); max(1, k) positions (at most L) by topk of
    uniform scores ("random") or of badness / tau plus Gumbel noise -log(-log(clamp(u, 1e-12, 1 - 1e-12))); each
    redrawn from exp(cond).  Returns the canvas."""
    alpha_s = (k + 1) / num_steps
    n, length = canvas.shape
    vocab_size = logits.shape[-1]
    loo = logits.copy()
    if 0.0 < alpha_s < 1.0:
        np.add.at(loo, (np.arange(n)[:, None], np.arange(length)[None, :], canvas), -np.log1p(vocab_size * alpha_s
                                                                                                / (1.0 - alpha_s)))
    shifted = loo - loo.max(axis=-1, keepdims=True)
    loo_log_probs = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    cond = np.logaddexp(np.log(alpha_s) + loo_log_probs, np.log1p(-alpha_s) - np.log(vocab_size))
    k_eff = min(max(1, corrector_k), length)
    if selection == "random":
        keys = rng.random((n, length))
    else:
        current = np.take_along_axis(cond, canvas[..., None], axis=-1)[..., 0]
        if selection == "lowest_maxprob":
            badness = -cond.max(axis=-1)
        elif selection == "lowest_current_prob":
            badness = -current
        else:
            others = cond.copy()
            np.put_along_axis(others, canvas[..., None], -np.inf, axis=-1)
            badness = -(current - others.max(axis=-1))
        u = np.clip(rng.random((n, length)), 1e-12, 1.0 - 1e-12)
        keys = badness / tau - np.log(-np.log(u))
    positions = np.argsort(-keys, axis=-1, kind="stable")[:, :k_eff]
    rows = np.broadcast_to(np.arange(n)[:, None], positions.shape)
    out = canvas.copy()
    out[rows, positions] = _categorical(np.exp(cond[rows, positions]), rng)
    return out


def diffusers_discrete_ddim(denoiser, n, rng, length, vocab_size, prompt=None, steps=48, temperature=0.0,
                            corrector_steps=0, corrector_k=1, corrector_selection="lowest_log_margin",
                            corrector_selection_tau=1.0, confidence_threshold=None, stability_threshold=1, calls=None,
                            scheduler=None):
    """``DiffusionGemmaPipeline`` with ``DiscreteDDIMScheduler`` (:func:`diffusion_gemma_pipeline`): ``step`` at the
    predictor grid, ``step_correct`` for the sweeps — re-written (:func:`ddim_step`, :func:`ddim_step_correct`), or
    ``scheduler`` = (step(logits, k, canvas) -> (prev_sample, pred_logits), step_correct(logits, k, canvas) ->
    canvas), e.g. the installed scheduler's.  ``denoiser`` is one model (not told the time)."""
    corrected = (steps - 1) // (1 + corrector_steps) if corrector_steps > 0 else 0
    predictors = steps - corrected * corrector_steps
    if scheduler is None:
        scheduler = (lambda logits, k, canvas: ddim_step(logits, k, canvas, rng, predictors, temperature),
                     lambda logits, k, canvas: ddim_step_correct(logits, k, canvas, rng, predictors, corrector_k,
                                                                 corrector_selection, corrector_selection_tau))
    step, correct = scheduler
    return diffusion_gemma_pipeline(denoiser, n, rng, length, vocab_size, prompt, steps, stability_threshold,
                                    confidence_threshold, calls, lambda logits, k, canvas, rows: step(logits, k, canvas),
                                    corrector_steps, correct)
