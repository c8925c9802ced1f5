r"""LLaDA's logits pipeline as a denoiser: unsupervised classifier-free guidance and ``logits_eos_inf``
(GSAI-ML/LLaDA ``generate.py``), so that every sampler step reads the probabilities LLaDA's loop reads.

LLaDA calls its model on the sequence and on a copy with the prompt positions masked, and forms
``un_logits + (cfg_scale + 1) * (logits - un_logits)``; with ``logits_eos_inf`` it then sets the EOS
logit to -inf.  With log-probabilities as logits (any constant per row cancels in the softmax) the
guided probabilities are :math:`\propto \mu(z)^{s+1} \mu(\bar z)^{-s}`, :math:`\bar z` the sequence with
the prompt masked, then renormalised without the excluded tokens.
"""
import dataclasses

import numpy as np

from ..core.errors import InvalidParameterError
from ..core.types import Denoiser
from .evaluation import evaluate_rows


def guided_probabilities(cond: np.ndarray, uncond: np.ndarray, scale: float) -> np.ndarray:
    r"""softmax(un + (s + 1)(cond - un)) on log-probabilities, tokens on the last axis.

    Exact zeros (an oracle's) are -inf logits: a token with cond = 0 gets 0.  Where un = 0 but cond > 0
    the original's logit is -inf + inf (NaN in torch; a trained model never has exact zeros); refimpl
    takes the limit un -> 0+ there: those tokens share all the probability in proportion to
    :math:`\mathrm{cond}^{s+1}`.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        log_cond = np.log(cond)
        logits = np.where(cond > 0, (scale + 1.0) * log_cond - scale * np.log(uncond), -np.inf)
        undefined = (uncond == 0) & (cond > 0)
        limit = np.where(undefined, (scale + 1.0) * log_cond, -np.inf)  # the rows' logits as un -> 0+
    logits = np.where(undefined.any(axis=-1, keepdims=True), limit, logits)
    top = logits.max(axis=-1, keepdims=True)
    weights = np.exp(logits - top)
    return weights / weights.sum(axis=-1, keepdims=True)


def without_tokens(probs: np.ndarray, tokens: tuple) -> np.ndarray:
    """``probs`` renormalised with the logits of ``tokens`` set to -inf (tokens on the last axis); where they
    held all the probability the result is NaN, as the original's softmax is."""
    kept = probs.copy()
    kept[..., list(tokens)] = 0.0
    with np.errstate(invalid="ignore", divide="ignore"):
        return kept / kept.sum(axis=-1, keepdims=True)


@dataclasses.dataclass(frozen=True)
class Guided:
    r"""The probabilities LLaDA's ``generate`` samples from and ranks by: ``denoiser`` guided with scale
    ``scale`` against its answer on the sequence with the ``prompt`` positions (L,) bool masked (no second
    call when ``scale`` is 0), then without the ``excluded`` token ids (``logits_eos_inf``).  Clean
    positions are carried over (one-hot), as every denoiser's.  Refuses a masked position where the
    excluded tokens hold all the probability (the original's softmax is NaN there)."""

    denoiser: Denoiser
    prompt: tuple
    scale: float
    excluded: tuple
    vocab_size: int

    def __call__(self, z):
        z = np.asarray(z, dtype=np.int64)
        vocab_size = self.vocab_size
        probs = evaluate_rows(self.denoiser, z, vocab_size)
        if self.scale > 0:
            unconditional = z.copy()
            unconditional[:, np.asarray(self.prompt, dtype=bool)] = vocab_size
            probs = guided_probabilities(probs, evaluate_rows(self.denoiser, unconditional, vocab_size), self.scale)
        masked = z == vocab_size
        if self.excluded:
            probs = without_tokens(probs, self.excluded)
            broken = masked & ~np.isfinite(probs).all(axis=-1)
            if broken.any():
                b, i = np.argwhere(broken)[0]
                raise InvalidParameterError(
                    f"logits_eos_inf: at position {i} of {z[b].tolist()} the model puts all its probability on "
                    f"token(s) {list(self.excluded)}; with their logits at -inf LLaDA's softmax is NaN there")
        clean = np.eye(vocab_size)[np.where(masked, 0, z)]
        return np.where(masked[..., None], probs, clean)


@dataclasses.dataclass(frozen=True)
class Penalised:
    r"""sglang ``JointThreshold``'s repetition penalty as a denoiser: at every masked position but the first of its
    block (blocks of ``block_length`` from position 0), the logit of the token at the previous position — when that
    one is clean — lowered by ``penalty``: the probability times :math:`e^{-\lambda}`, renormalised (sglang
    subtracts ``penalty_lambda`` from ``curr_logits[1:]`` at ``curr_input_ids[:-1]``; a masked previous position
    penalises the mask's own logit, which changes nothing here).  Clean positions are carried over (one-hot)."""

    denoiser: Denoiser
    block_length: int
    penalty: float
    vocab_size: int

    def __call__(self, z):
        z = np.asarray(z, dtype=np.int64)
        vocab_size = self.vocab_size
        probs = evaluate_rows(self.denoiser, z, vocab_size).copy()
        previous = np.concatenate([np.full((len(z), 1), vocab_size), z[:, :-1]], axis=1)  # (B, L)
        first = np.arange(z.shape[1]) % self.block_length == 0
        hit = (z == vocab_size) & (previous != vocab_size) & ~first[None, :]
        b, i = np.nonzero(hit)
        probs[b, i, previous[b, i]] *= np.exp(-self.penalty)
        probs[b, i] /= probs[b, i].sum(axis=-1, keepdims=True)
        return probs


@dataclasses.dataclass(frozen=True)
class FirstRowShift:
    r"""The token-shift quirk at the start of a window (SAMPLERS-2026.md section 1, "S"): a shifted decoder gives
    position i the network's row i-1, and position 0 — which has no row before it — row 0 again, the row that
    predicts position 1.  So where position 0 is masked its answer is the answer at position 1 (a one-hot at that
    token when position 1 is clean); elsewhere the denoiser's own answers."""

    denoiser: Denoiser
    vocab_size: int

    def __call__(self, z):
        z = np.asarray(z, dtype=np.int64)
        probs = evaluate_rows(self.denoiser, z, self.vocab_size).copy()
        rows = np.flatnonzero(z[:, 0] == self.vocab_size)
        if z.shape[1] > 1 and rows.size:
            probs[rows, 0] = probs[rows, 1]
        return probs
