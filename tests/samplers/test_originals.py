"""refimpl's exact sampler laws against independent re-writings of the originals' loops (tests/originals.py).

The Monte Carlo tests in test_samplers.py check refimpl's exact laws against refimpl's own draws; here the
samples come from LLaDA's, Dream's, Fast-dLLM's and MDLM's loops as their code reads — logits, Gumbel-max,
confidence vectors with -inf, top-k — so an agreement checks that refimpl models the originals, not just
itself.  Each comparison is refimpl.interop.verify.verify_sampler: a chi-square test at false-alarm rate
FALSE_ALARM, seeded, plus no sample where the exact law is 0.  Each original is also run with one
plausible slip, which the same test must catch.
"""
import functools

import numpy as np
import pytest
from refimpl import samplers as S
from refimpl.interop.verify import verify_sampler

from tests import originals
from tests.helpers import sampler_law_and_denoisers

TABLE, DENOISERS = sampler_law_and_denoisers()

FALSE_ALARM = 1e-3  # per test; seeded, so a run is reproducible
N_SAMPLES = 20000
PROMPT = np.array([2, 3, 3, 3])  # a prefix prompt (V = 3: token 3 is the mask)
LONG_PROMPT = np.array([2, 0, 3, 3])
INFILL = np.array([3, 1, 3, 3])  # a clean token between masks (Dream and MDLM fill any masks)

CASES = [  # (original with its settings, the refimpl sampler that claims its semantics, prompt)
    (functools.partial(originals.llada, steps=4, temperature=1.0), S.LLaDA(4, temperature=1.0), None),
    (functools.partial(originals.llada, steps=4, block_length=2, temperature=0.5),
     S.LLaDA(4, block_length=2, temperature=0.5), None),
    (functools.partial(originals.llada, steps=3, temperature=0.7), S.LLaDA(3, temperature=0.7), PROMPT),
    (functools.partial(originals.llada, steps=2, block_length=2, temperature=1.0, remasking="random"),
     S.LLaDA(2, block_length=2, temperature=1.0, remasking="random"), None),
    (functools.partial(originals.llada, steps=2, temperature=0.0), S.LLaDA(2, temperature=0.0), None),
    (functools.partial(originals.llada, steps=2, block_length=1, temperature=0.5),
     S.LLaDA(2, block_length=1, temperature=0.5), LONG_PROMPT),
    (functools.partial(originals.dream, steps=3, alg="origin", temperature=1.0), S.Dream(3, "origin", 1.0), None),
    (functools.partial(originals.dream, steps=2, alg="origin", temperature=0.0), S.Dream(2, "origin", 0.0), None),
    (functools.partial(originals.dream, steps=3, alg="maskgit_plus", temperature=0.8),
     S.Dream(3, "maskgit_plus", 0.8), None),
    (functools.partial(originals.dream, steps=2, alg="topk_margin", temperature=1.0),
     S.Dream(2, "topk_margin", 1.0), PROMPT),
    (functools.partial(originals.dream, steps=4, alg="entropy", temperature=0.5), S.Dream(4, "entropy", 0.5), None),
    (functools.partial(originals.dream, steps=2, alg="maskgit_plus", temperature=1.0),
     S.Dream(2, "maskgit_plus", 1.0), INFILL),
    (functools.partial(originals.dream, steps=3, alg="maskgit_plus", temperature=0.0, eps=0.1),
     S.Dream(3, "maskgit_plus", 0.0, eps=0.1), None),
    (functools.partial(originals.dream, steps=3, alg="maskgit_plus", temperature=0.8, top_p=0.7),
     S.Dream(3, "maskgit_plus", 0.8, top_p=0.7), None),
    (functools.partial(originals.dream, steps=2, alg="origin", temperature=1.0, top_k=2),
     S.Dream(2, "origin", 1.0, top_k=2), PROMPT),
    (functools.partial(originals.dream, steps=3, alg="entropy", temperature=0.0, top_p=0.6),
     S.Dream(3, "entropy", 0.0, top_p=0.6), None),
    (functools.partial(originals.dream, steps=2, alg="topk_margin", temperature=1.5, top_p=0.9, top_k=2),
     S.Dream(2, "topk_margin", 1.5, top_p=0.9, top_k=2), None),
    (functools.partial(originals.dream, steps=3, alg="maskgit_plus", temperature=0.8, alg_temp=0.5),
     S.Dream(3, "maskgit_plus", 0.8, alg_temp=0.5), None),
    (functools.partial(originals.dream, steps=2, alg="entropy", temperature=1.0, alg_temp=2.0),
     S.Dream(2, "entropy", 1.0, alg_temp=2.0), PROMPT),
    (functools.partial(originals.dream, steps=3, alg="topk_margin", temperature=0.0, alg_temp=0.1),
     S.Dream(3, "topk_margin", 0.0, alg_temp=0.1), None),
    (functools.partial(originals.fast_dllm, threshold=0.4, temperature=1.0), S.Threshold(0.4, temperature=1.0), None),
    (functools.partial(originals.fast_dllm, threshold=0.5, temperature=0.0), S.Threshold(0.5, temperature=0.0), None),
    (functools.partial(originals.fast_dllm, threshold=0.6, block_length=2, temperature=0.6),
     S.Threshold(0.6, block_length=2, temperature=0.6), None),
    (functools.partial(originals.fast_dllm, threshold=0.5, temperature=1.0), S.Threshold(0.5, temperature=1.0), PROMPT),
    (functools.partial(originals.fast_dllm, threshold=0.7, block_length=1, temperature=0.8),
     S.Threshold(0.7, block_length=1, temperature=0.8), LONG_PROMPT),
    (functools.partial(originals.fast_dllm, factor=1.0, temperature=1.0), S.Factor(1.0, temperature=1.0), None),
    (functools.partial(originals.fast_dllm, factor=0.6, temperature=0.5), S.Factor(0.6, temperature=0.5), PROMPT),
    (functools.partial(originals.fast_dllm, factor=2.0, block_length=2, temperature=1.0),
     S.Factor(2.0, block_length=2, temperature=1.0), None),
    (functools.partial(originals.fast_dllm, factor=1.0, temperature=0.0), S.Factor(1.0, temperature=0.0), None),
    (functools.partial(originals.sglang_entropy_threshold, threshold=0.8, temperature=1.0),
     S.EntropyThreshold(0.8, temperature=1.0), None),
    (functools.partial(originals.sglang_entropy_threshold, threshold=0.5, block_length=1, temperature=0.7,
                       comparison="<="), S.EntropyThreshold(0.5, block_length=1, temperature=0.7, comparison="<="),
     LONG_PROMPT),
    (functools.partial(originals.mdlm, steps=3), S.Ancestral(steps=3), None),
    (functools.partial(originals.mdlm, steps=2), S.Ancestral(steps=2), INFILL),
    (functools.partial(originals.mdlm, steps=5, eps=1e-3, noise_removal=True),
     S.Ancestral(steps=5, eps=1e-3, noise_removal=True), PROMPT),
]




@pytest.mark.parametrize("which", ["oracle", "random"])
@pytest.mark.parametrize("case", CASES, ids=originals.case_name)
def test_refimpl_models_the_original(case, which):
    original, sampler, prompt = case
    result = verify_sampler(original, sampler, DENOISERS[which], TABLE, n=N_SAMPLES, seed=11, prompt=prompt,
                            alpha=FALSE_ALARM)
    assert result["samples_where_exact_law_is_zero"] == 0
    assert result["p_value"] > FALSE_ALARM, result


def _mdlm_reversed_move_chance(denoiser, n, rng, length, vocab_size, prompt):
    """MDLM's update with the roles of s and t - s swapped: unmask with probability s / t, not (t - s) / t."""
    x = originals._start(n, length, vocab_size, prompt)
    timesteps = np.linspace(1.0, 0.0, 4)
    for i in range(3):
        t, s = timesteps[i], timesteps[i + 1]
        p_x0 = denoiser(x)
        reveal = rng.random((n, length)) < (s / t if i < 2 else 1.0)
        draw = originals._categorical(p_x0, rng)
        x = np.where((x == vocab_size) & reveal, draw, x)
    return x


@pytest.mark.parametrize("slip, sampler", [
    (functools.partial(originals.dream, steps=3, alg="maskgit_plus", temperature=0.5, tempered_confidence=False),
     S.Dream(3, "maskgit_plus", 0.5)),
    (functools.partial(originals.fast_dllm, threshold=0.5, temperature=0.5, tempered_confidence=True),
     S.Threshold(0.5, temperature=0.5)),
    (_mdlm_reversed_move_chance, S.Ancestral(steps=3)),
    (functools.partial(originals.fast_dllm, factor=1.0, temperature=1.0, last_rank_quirk=False),
     S.Factor(1.0, temperature=1.0)),
], ids=["dream-untempered-confidence", "fast-dllm-tempered-confidence", "mdlm-reversed-move-chance",
        "fast-dllm-factor-without-the-last-rank-case"])
def test_a_slip_in_an_original_is_caught(slip, sampler):
    result = verify_sampler(slip, sampler, DENOISERS["oracle"], TABLE, n=N_SAMPLES, seed=12, alpha=FALSE_ALARM)
    assert not result["passed"] and result["p_value"] < 1e-6, result
