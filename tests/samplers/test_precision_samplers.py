"""``precision=`` on Fast-dLLM's rules, the EB-Sampler and LLaDA2 (issue #22, precision): their exact laws
against their originals' loops (tests/originals.py) run with the noise, the confidences or the logits in the
same dtype — numpy float16 arithmetic, torch bfloat16 when torch is installed — at settings where the
difference from the ideal law is large enough to see, against a closed form where one step reveals
everything, and against today's laws at float64."""
import dataclasses
import functools

import numpy as np
import pytest
import refimpl
from refimpl import samplers as S
from refimpl.core.errors import InvalidParameterError
from refimpl.interop.verify import verify_sampler
from refimpl.laws import datasets
from refimpl.samplers.kernels.precision import draw_law

from tests import originals
from tests.helpers import assert_loop_agrees, engine_run, random_table

V, L = 3, 3


def floor_table():
    """Sequence (0, 1, 2) almost surely, every other sequence 1e-7: each position's prediction is one token
    but for about 1e-7 — a token the ideal draw almost never gives, and the low-precision draw gives whenever
    the leading token's uniform is 0 (LLaDA's floor: 2^-12 + 2^-24 of the time in float16, 2^-9 + 2^-24 in
    bfloat16; tests/samplers/test_precision.py)."""
    table = np.full((V,) * L, 1e-7)
    table[0, 1, 2] = 0.0
    table[0, 1, 2] = 1.0 - table.sum()
    return table


def float16_noise(logits, temperature, rng):
    """``add_gumbel_noise`` in numpy float16 arithmetic (the uniform as torch.rand makes it: float32 k 2^-24
    rounded to float16, 1 given 0)."""
    u = (rng.integers(0, 2 ** 24, size=logits.shape) * 2.0 ** -24).astype(np.float32).astype(np.float16)
    u[u == 1] = 0
    f16 = np.float16
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        values = np.exp(logits.astype(np.float32).astype(f16)) / (-np.log(u)) ** f16(temperature)
    return values.astype(np.float64)


def bfloat16_noise():
    """``add_gumbel_noise`` run by torch in bfloat16 (the logits and torch.rand in bfloat16), seeded."""
    torch = pytest.importorskip("torch")
    generator = torch.Generator().manual_seed(11)

    def noise(logits, temperature, rng):
        u = torch.rand(logits.shape, dtype=torch.bfloat16, generator=generator)
        return (torch.from_numpy(logits).to(torch.bfloat16).exp() / (-torch.log(u)) ** temperature).double().numpy()
    return noise


def noise_for(precision):
    return float16_noise if precision == "float16" else bfloat16_noise()


FLOORED = {  # sampler -> its loop, both drawing at T = 1
    "Factor": (lambda p: S.Factor(1.0, temperature=1.0, precision=p),
               functools.partial(originals.fast_dllm, factor=1.0, temperature=1.0)),
    "EntropyBound": (lambda p: S.EntropyBound(0.5, temperature=1.0, precision=p),
                     functools.partial(originals.eb_sampler, gamma=0.5, temperature=1.0)),
}


@pytest.mark.parametrize("precision", ["float16", "bfloat16"])
@pytest.mark.parametrize("name", sorted(FLOORED))
def test_low_precision_noise_is_the_loop_with_that_noise(name, precision):
    """The loop with ``add_gumbel_noise`` in the dtype against the exact law in that dtype (chi-square at
    1e-3, seeded): it passes, and the ideal law fails on the same samples (the floor's tokens)."""
    build, loop = FLOORED[name]
    table = floor_table()
    oracle = refimpl.oracle_denoiser(table)
    target = functools.partial(loop, noise=noise_for(precision))
    n = 60_000 if precision == "float16" else 20_000
    low = verify_sampler(target, build(precision), oracle, table, n=n, seed=3)
    assert low["passed"], low
    ideal = verify_sampler(target, build("float64"), oracle, table, n=n, seed=3)
    assert not ideal["passed"] and ideal["p_value"] < 1e-6


def test_the_threshold_rule_does_not_keep_the_floors_tokens():
    """Fast-dLLM's threshold keeps only drawn tokens of confidence >= tau, and a floor's token has confidence
    about 1e-7: it is drawn again at the next step.  On the floor law its float16 and bfloat16 laws stay within
    2e-5 of the ideal, where the factor rule (which commits all of the last two together) and the EB-Sampler
    (which does not read the drawn token) move by more than 5e-4."""
    oracle = refimpl.oracle_denoiser(floor_table())
    for precision in ("float16", "bfloat16"):
        def distance(build):
            return refimpl.tv(refimpl.exact_law(oracle, build(precision), L, V),
                              refimpl.exact_law(oracle, build("float64"), L, V))
        assert distance(lambda p: S.Threshold(0.9, temperature=1.0, precision=p)) < 2e-5
        for build, _ in FLOORED.values():
            assert distance(build) > 5e-4


@pytest.mark.parametrize("precision", ["float16", "bfloat16"])
@pytest.mark.parametrize("build", [lambda p: S.Threshold(0.01, temperature=0.7, precision=p),
                                   lambda p: S.EntropyBound(50.0, temperature=0.7, precision=p),
                                   lambda p: S.Factor(10.0, temperature=0.7, precision=p)],
                         ids=["Threshold", "EntropyBound", "Factor"])
def test_one_step_that_reveals_everything_is_the_product_of_the_draws(build, precision):
    """Where the first step commits every position (every token above tau, an entropy bound above every sum,
    every rank above 1 - factor / (r + 2)), the exact law is the product over positions of the low-precision
    law of each draw from the oracle's marginals (:func:`draw_law`), and it is not the ideal law."""
    table = random_table(np.random.default_rng(3), V, L, concentration=3.0)
    oracle = refimpl.oracle_denoiser(table)
    marginals = oracle(np.full((1, L), V))[0]
    assert marginals.min() > 0.01
    expected = np.einsum("a,b,c->abc", *(draw_law(row / row.sum(), 0.7, precision, "llada") for row in marginals))
    law = refimpl.exact_law(oracle, build(precision), L, V)
    np.testing.assert_allclose(law, expected, atol=1e-15)
    assert refimpl.tv(law, refimpl.exact_law(oracle, build("float64"), L, V)) > 1e-6


def bfloat16_rounding(c):
    """bfloat16 rounding of an array through float32, by spacings (tests/originals.py's rule)."""
    single = np.asarray(c, dtype=np.float32).astype(np.float64)
    spacing = np.ldexp(1.0, np.maximum(np.frexp(single)[1], -125) - 8)
    return np.round(single / spacing) * spacing


@pytest.mark.parametrize("name", ["threshold", "factor"])
def test_bfloat16_confidences_tie_and_the_rules_decode_left_to_right(name):
    """A sharp Markov chain started uniform: every first confidence is about 1/3, alike in bfloat16, so the
    tie goes to position 0 every time (refimpl's exact reveals; every run meets a deciding tie).  The exact
    law against tests/originals.py's Fast-dLLM loop with its softmax probabilities rounded to bfloat16
    (chi-square at 1e-3).  In float64 the first reveal is not position 0 every time."""
    length = 5
    transition = np.full((3, 3), 0.0005) + np.eye(3)[[1, 2, 0]] * 0.999
    law = datasets.markov_chain(np.full(3, 1 / 3), transition / transition.sum(axis=1, keepdims=True), length)
    oracle = refimpl.oracle_denoiser(law)
    if name == "threshold":
        sampler = S.Threshold(0.9, temperature=1.0, confidence_precision="bfloat16")
        loop = functools.partial(originals.fast_dllm, threshold=0.9, temperature=1.0, round_confidence=bfloat16_rounding)
    else:
        sampler = S.Factor(1.0, temperature=1.0, confidence_precision="bfloat16")
        loop = functools.partial(originals.fast_dllm, factor=1.0, temperature=1.0, round_confidence=bfloat16_rounding)
    reveals = engine_run(oracle, sampler, length, V, reveals=True).reveals
    assert reveals[0][(tuple(range(length)), (0,))] == pytest.approx(1.0, abs=1e-12)
    assert refimpl.tie_probability(oracle, sampler, length, V) == pytest.approx(1.0, abs=1e-12)
    # float64: the last bits of the oracle's 1/3s rank the positions, not the tie rule
    ideal = engine_run(oracle, dataclasses.replace(sampler, confidence_precision="float64"), length, V,
                               reveals=True).reveals
    assert ideal[0].get((tuple(range(length)), (0,)), 0.0) < 1 - 1e-6
    assert_loop_agrees(loop, sampler, oracle, law.table, 9)


def torch_scheduler_sample(dtype, seed):
    """diffusers' ``BlockRefinementScheduler._sample_from_logits`` run by torch with the logits in ``dtype``:
    argmax of the logits at T = 0, else logits / T in the dtype, softmax of ``.float()``, ``torch.multinomial``;
    the token's float32 probability."""
    torch = pytest.importorskip("torch")
    generator = torch.Generator().manual_seed(seed)

    def sample(logits, temperature):
        values = torch.from_numpy(logits).to(dtype)
        shape = values.shape
        flat = values.reshape(-1, shape[-1])
        if temperature == 0:
            probs = torch.softmax(flat.float(), dim=-1)
            token = flat.argmax(dim=-1, keepdim=True)
        else:
            scaled = flat / temperature if temperature != 1.0 else flat
            probs = torch.softmax(scaled.float(), dim=-1)
            token = torch.multinomial(probs, num_samples=1, generator=generator)
        chosen = torch.gather(probs, -1, token)
        return token.reshape(shape[:-1]).numpy(), chosen.reshape(shape[:-1]).double().numpy()
    return sample


def test_llada2_with_bfloat16_logits_takes_the_first_of_equal_logits():
    """Two tokens of probability 0.35 and 0.3505 have log-probabilities 0.0014 apart, alike in bfloat16: at
    T = 0 the scheduler's argmax gives the first where float64 gives the second.  The exact law in bfloat16 is
    the torch loop's (deterministic), and not the ideal's."""
    torch = pytest.importorskip("torch")
    rows = np.array([[0.35, 0.3505, 0.2995], [0.35, 0.3505, 0.2995], [0.6995, 0.3, 0.0005]])
    # positions independent: a product law, whose oracle predicts the rows above whatever is known
    table = np.einsum("a,b,c->abc", *rows)
    oracle = refimpl.oracle_denoiser(table)
    assert torch.tensor(np.log(0.35)).to(torch.bfloat16) == torch.tensor(np.log(0.3505)).to(torch.bfloat16)
    sampler = S.LLaDA2(3, threshold=0.95, editing_threshold=0.5, precision="bfloat16")
    loop = functools.partial(originals.llada2, steps=3, threshold=0.95, editing_threshold=0.5,
                             sample=torch_scheduler_sample(torch.bfloat16, 0))
    drawn = loop(oracle, 8, np.random.default_rng(0), L, V, None)
    law = refimpl.exact_law(oracle, sampler, L, V)
    assert law[tuple(drawn[0])] == pytest.approx(1.0, abs=1e-12) and (drawn == drawn[0]).all()
    ideal = refimpl.exact_law(oracle, S.LLaDA2(3, threshold=0.95, editing_threshold=0.5), L, V)
    assert ideal[tuple(drawn[0])] == 0.0


@pytest.mark.parametrize("precision, edit_rule", [("bfloat16", "code"), ("float32", "intent")])
def test_llada2_draws_are_the_torch_schedulers(precision, edit_rule):
    """T = 0.7 with editing: the pipeline loop with torch's own ``_sample_from_logits`` in the dtype against
    LLaDA2's exact law in that dtype (chi-square at 1e-3, seeded), on a law with zeros (logits -inf)."""
    torch = pytest.importorskip("torch")
    table = random_table(np.random.default_rng(8), V, L, concentration=0.4, zero_fraction=0.3)
    oracle = refimpl.oracle_denoiser(table)
    sampler = S.LLaDA2(2, threshold=0.5, editing_threshold=0.3, temperature=0.7, max_post_steps=3,
                       edit_rule=edit_rule, precision=precision)
    loop = functools.partial(originals.llada2, steps=2, threshold=0.5, editing_threshold=0.3, temperature=0.7,
                             max_post_steps=3, edit_rule=edit_rule,
                             sample=torch_scheduler_sample(getattr(torch, precision), 4))
    assert_loop_agrees(loop, sampler, oracle, table, 4)


@pytest.mark.parametrize("build", [lambda p: S.Threshold(0.6, temperature=1.0, precision=p),
                                   lambda p: S.Factor(1.0, temperature=0.5, precision=p),
                                   lambda p: S.EntropyBound(0.4, temperature=1.0, precision=p),
                                   lambda p: S.LLaDA2(2, threshold=0.5, temperature=1.0, precision=p)],
                         ids=["Threshold", "Factor", "EntropyBound", "LLaDA2"])
def test_float64_is_todays_law_and_bad_dtypes_are_refused(build):
    """float64 is the ideal: the loops' own float64 draws follow it (tests/samplers/test_originals.py), and
    the exact law is unchanged by naming it (1e-15); float32 is within 1e-6 of it.  An unknown dtype is refused."""
    table = random_table(np.random.default_rng(2), V, L, concentration=0.5)
    oracle = refimpl.oracle_denoiser(table)
    ideal = refimpl.exact_law(oracle, build("float64"), L, V)
    np.testing.assert_allclose(ideal, refimpl.exact_law(oracle, dataclass_default(build), L, V), atol=1e-15)
    if isinstance(build("float64"), S.LLaDA2):  # (float32 Gumbel draws cost seconds each: LLaDA2's only here)
        assert 0 < refimpl.tv(refimpl.exact_law(oracle, build("float32"), L, V), ideal) < 1e-6
    with pytest.raises(InvalidParameterError, match="precision must be one of"):
        build("float8")


def dataclass_default(build):
    """The sampler built with its precision left at its default."""
    sampler = build("float64")
    fields = {f.name: getattr(sampler, f.name) for f in dataclasses.fields(sampler) if f.name != "precision"}
    return type(sampler)(**fields)
