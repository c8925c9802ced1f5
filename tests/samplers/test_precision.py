"""Low-precision draws (issue #22, precision): the uniform's values against torch.rand, the exact law of one
draw against a brute-force sum over every pair of uniforms, against Monte Carlo run in the same dtype
(numpy float16 arithmetic; torch bfloat16 when torch is installed) where the difference from the ideal law
is large enough to see, and against today's laws at float64."""
import numpy as np
import pytest
from refimpl.core.errors import InvalidParameterError
from refimpl.interop.goodness import chi_square_fit
from refimpl.samplers.kernels.precision import draw_law, noise_values, rounded, uniform_law
from refimpl.samplers.steps import temper

from tests import originals
from tests.helpers import engine_run

PEAKED = np.array([0.9, 0.05, 0.03, 0.02])
ALPHA = 1e-3


def test_the_uniforms_are_torch_rands():
    """float16 and bfloat16: the float32 uniform rounded to the dtype, 1 given 0 (chi-square on torch's own
    draws); float32: k 2^-24."""
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    for precision, dtype in (("float16", torch.float16), ("bfloat16", torch.bfloat16)):
        values, probabilities = uniform_law(precision)
        drawn = torch.rand(500_000, dtype=dtype).double().numpy()
        index = np.searchsorted(values, drawn)
        assert np.all(values[np.minimum(index, len(values) - 1)] == drawn)  # every draw is a listed value
        fit = chi_square_fit(np.bincount(index, minlength=len(values)), probabilities, ALPHA)
        assert not fit.rejects(ALPHA), fit.p_value
    drawn = torch.rand(200_000).double().numpy() * 2 ** 24
    assert np.all(drawn == np.round(drawn)) and drawn.min() >= 0 and drawn.max() < 2 ** 24


def test_float16_uniform_law_by_its_definition():
    values, probabilities = uniform_law("float16")
    assert probabilities.sum() == pytest.approx(1.0, abs=1e-15) and np.all(np.diff(values) > 0)
    assert values[0] == 0 and probabilities[0] == pytest.approx(2.0 ** -24 + 2.0 ** -12, rel=1e-12)  # k = 0 and 1 -> 0
    assert values[-1] == 1 - 2.0 ** -11


@pytest.mark.parametrize("form", ["llada", "mdlm"])
@pytest.mark.parametrize("temperature", [0.5, 1.0, 2.0])
def test_float64_is_todays_law(form, temperature):
    law = draw_law(PEAKED, temperature, "float64", form)
    np.testing.assert_allclose(law, temper(PEAKED, temperature) if form == "llada" else PEAKED, atol=1e-15)


@pytest.mark.parametrize("precision", ["bfloat16"])
@pytest.mark.parametrize("form, temperature", [("llada", 1.0), ("llada", 0.7), ("mdlm", 1.0)])
def test_two_tokens_by_every_pair_of_uniforms(precision, form, temperature):
    """V = 2: the law of the first argmax summed over every pair of uniform values (a second algorithm;
    bfloat16's 2,304 values, 5.3 million pairs)."""
    probs = np.array([0.8, 0.2])
    values, probabilities = uniform_law(precision)
    weights = rounded(np.log(probs) if form == "llada" else probs, precision)
    w = noise_values(weights, temperature, precision, form)
    first_wins = w[0][:, None] >= w[1][None, :]  # ties: the first token
    p_first = float(probabilities @ first_wins @ probabilities)
    np.testing.assert_allclose(draw_law(probs, temperature, precision, form), [p_first, 1 - p_first], atol=1e-13)


def _numpy_float16_draws(probs, temperature, form, n, rng):
    """Draws computed with numpy float16 arithmetic (its own log and exp; the uniform as torch makes it:
    float32 k 2^-24 rounded to float16, 1 given 0)."""
    u = (rng.integers(0, 2 ** 24, size=(n, len(probs))) * 2.0 ** -24).astype(np.float32).astype(np.float16)
    u[u == 1] = 0
    f16 = np.float16
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        if form == "llada":
            logits = np.log(probs).astype(np.float32).astype(f16)
            values = np.exp(logits) / (-np.log(u)) ** f16(temperature)
        else:
            q = probs.astype(np.float32).astype(f16)
            values = q / (f16(1e-10) - np.log(u + f16(1e-10)))
    return np.argmax(values, axis=1)


@pytest.mark.parametrize("form, temperature", [("llada", 1.0), ("llada", 0.5), ("mdlm", 1.0)])
def test_float16_law_against_float16_monte_carlo(form, temperature):
    """Monte Carlo in numpy float16 agrees with the exact float16 law (chi-square at 1e-3) and rejects the
    ideal law, which the float16 law is far enough from to see."""
    rng = np.random.default_rng(21)
    counts = np.bincount(_numpy_float16_draws(PEAKED, temperature, form, 4_000_000, rng), minlength=4)
    exact = draw_law(PEAKED, temperature, "float16", form)
    assert not chi_square_fit(counts, exact, ALPHA).rejects(ALPHA)
    ideal = temper(PEAKED, temperature) if form == "llada" else PEAKED
    assert chi_square_fit(counts, ideal, ALPHA).rejects(ALPHA)  # (seeded: the power is not 1)


@pytest.mark.parametrize("form", ["llada", "mdlm"])
def test_bfloat16_law_against_torch(form):
    """torch's own bfloat16 draw (torch.rand, log, exp, pow, argmax in bfloat16) against the exact law."""
    torch = pytest.importorskip("torch")
    torch.manual_seed(3)
    n, bf = 2_000_000, torch.bfloat16
    u = torch.rand(n, 4, dtype=bf)
    probs = torch.tensor(PEAKED, dtype=torch.float64)
    if form == "llada":
        logits = probs.log().to(bf)
        values = logits.exp() / (-torch.log(u)) ** 1.0
    else:
        values = probs.to(bf) / (1e-10 - (u + 1e-10).log())
    counts = np.bincount(values.argmax(dim=1).numpy(), minlength=4)
    assert not chi_square_fit(counts, draw_law(PEAKED, 1.0, "bfloat16", form), ALPHA).rejects(ALPHA)
    assert chi_square_fit(counts, PEAKED, ALPHA).p_value < 1e-6


def test_rounded_logits_tie_and_the_first_token_wins():
    """At T = 0 with bfloat16 logits, two log-probabilities 1e-6 apart round alike (tests/originals.py's
    rounding says so): the first token wins where the ideal argmax takes the second."""
    probs = np.array([0.45, 0.45 * (1 + 1e-6), 0.1 - 0.45e-6])
    logits = [originals.round_to_bfloat16(np.float32(v)) for v in np.log(probs)]
    assert logits[0] == logits[1] > logits[2]
    np.testing.assert_array_equal(draw_law(probs, 0.0, "bfloat16", "llada"), [1.0, 0.0, 0.0])
    np.testing.assert_array_equal(draw_law(probs, 0.0, "float64", "llada"), [0.0, 1.0, 0.0])


@pytest.mark.parametrize("bad, needle", [
    (dict(precision="float8"), "precision must be one of"),
    (dict(form="dream"), "form must be one of"),
    (dict(probs=[0.5, 0.6]), "summing to 1"),
    (dict(temperature=-1.0), "temperature"),
    (dict(values="int8"), "values precision must be one of"),
])
def test_bad_input_is_refused(bad, needle):
    arguments = dict(probs=PEAKED, temperature=1.0, precision="bfloat16", form="llada") | bad
    with pytest.raises(InvalidParameterError, match=needle):
        draw_law(**arguments)


@pytest.mark.parametrize("precision", ["bfloat16", "float16"])
def test_a_zero_uniform_gives_llada_a_floor_and_mdlm_none(precision):
    """LLaDA's form: where the top token's uniform is 0, -log 0 = inf makes its value 0, so any other token
    with a positive uniform wins: P(second) = P(U = 0)(1 - P(U = 0)) however improbable the second token
    is (2^-9 + 2^-24 of the time in bfloat16) — closed form.  MDLM's offset keeps 1e-10 - log(U + 1e-10) finite
    in bfloat16, so an improbable enough token is never drawn; in float16, 1e-10 rounds to 0 and MDLM has
    LLaDA's floor."""
    probs = np.array([1 - 1e-6, 1e-6])  # (1e-6: exp(log 1e-6) is still positive in float16)
    zero = uniform_law(precision)[1][0]
    assert zero == pytest.approx(2.0 ** -24 + (2.0 ** -9 if precision == "bfloat16" else 2.0 ** -12), rel=1e-12)
    floor = [1 - zero * (1 - zero), zero * (1 - zero)]
    np.testing.assert_allclose(draw_law(probs, 1.0, precision, "llada"), floor, rtol=0, atol=1e-15)
    if precision == "bfloat16":
        np.testing.assert_array_equal(draw_law(probs, 1.0, precision, "mdlm"), [1.0, 0.0])
    else:
        assert rounded(1e-10, "float16") == 0
        np.testing.assert_allclose(draw_law(probs, 1.0, precision, "mdlm"), floor, rtol=0, atol=1e-15)


@pytest.mark.slow  # 2 million sequences (about 20 s): run by python -m benchmarks
def test_llada_in_bfloat16_is_the_loop_with_torch_bfloat16_noise():
    """tests/originals.py's LLaDA loop with add_gumbel_noise run by torch in bfloat16 (the logits and
    torch.rand in bfloat16) against LLaDA(precision="bfloat16")'s exact law (chi-square at 1e-3), which a
    float64-noise law fails on the same samples."""
    torch = pytest.importorskip("torch")
    import functools

    import refimpl
    from refimpl import samplers as S
    from refimpl.interop.verify import verify_sampler

    from tests.helpers import random_table

    generator = torch.Generator().manual_seed(5)

    def bfloat16_noise(logits, temperature, rng):
        bf = torch.bfloat16
        u = torch.rand(logits.shape, dtype=bf, generator=generator)
        values = torch.from_numpy(logits).to(bf).exp() / (-torch.log(u)) ** temperature
        return values.double().numpy()

    table = random_table(np.random.default_rng(1), 3, 4, concentration=0.3)
    oracle = refimpl.oracle_denoiser(table)
    loop = functools.partial(originals.llada, steps=4, temperature=1.0, noise=bfloat16_noise)
    n = 2_000_000
    low = verify_sampler(loop, S.LLaDA(4, temperature=1.0, precision="bfloat16"), oracle, table, n=n, seed=2)
    assert low["passed"], low
    ideal = verify_sampler(loop, S.LLaDA(4, temperature=1.0), oracle, table, n=n, seed=2)
    assert not ideal["passed"]


@pytest.mark.parametrize("precision", ["bfloat16", "float16"])
def test_one_step_llada_draws_every_position_by_the_low_precision_law(precision):
    """LLaDA with one step reveals every position at once: its exact law is the product over positions of
    the low-precision law of each position's draw (the oracle's marginals), which the ideal law is not."""
    import refimpl
    from refimpl import samplers as S

    from tests.helpers import random_table

    table = random_table(np.random.default_rng(3), 3, 3, concentration=0.3)
    oracle = refimpl.oracle_denoiser(table)
    marginals = oracle(np.full((1, 3), 3))[0]  # (L, V) at the all-mask start
    expected = np.einsum("a,b,c->abc", *(draw_law(row / row.sum(), 1.0, precision, "llada") for row in marginals))
    law = refimpl.exact_law(oracle, S.LLaDA(1, temperature=1.0, precision=precision), 3, 3)
    np.testing.assert_allclose(law, expected, atol=1e-15)
    assert refimpl.tv(law, refimpl.exact_law(oracle, S.LLaDA(1, temperature=1.0), 3, 3)) > 1e-5
    with pytest.raises(InvalidParameterError, match="LLaDA precision must be one of"):
        S.LLaDA(1, precision="float8")
    with pytest.raises(InvalidParameterError, match="low_confidence remasking"):
        S.LLaDA(1, remasking="random", precision=precision)


def test_bfloat16_confidences_tie_and_decode_left_to_right():
    """A sharp Markov chain started uniform: at the first step every position's confidence is about 1/3; in
    bfloat16 they round alike and tie, so lowest-first reveals position 1 first, every time (refimpl's exact
    reveals), and every run meets a deciding tie.  The exact law agrees with tests/originals.py's LLaDA loop
    with its softmax confidences rounded to bfloat16 (its own rounding; chi-square at 1e-3)."""
    import functools

    import refimpl
    from refimpl import samplers as S
    from refimpl.laws import datasets

    from tests.helpers import assert_loop_agrees

    vocab_size, length = 3, 5
    transition = np.full((3, 3), 0.0005) + np.eye(3)[[1, 2, 0]] * 0.999
    law = datasets.markov_chain(np.full(3, 1 / 3), transition / transition.sum(axis=1, keepdims=True), length)
    oracle = refimpl.oracle_denoiser(law)
    sampler = S.LLaDA(length, temperature=1.0, confidence_precision="bfloat16")
    reveals = engine_run(oracle, sampler, length, vocab_size, reveals=True).reveals
    assert reveals[0][(tuple(range(length)), (0,))] == pytest.approx(1.0, abs=1e-12)
    assert refimpl.tie_probability(oracle, sampler, length, vocab_size) == pytest.approx(1.0, abs=1e-12)
    def bf16(c):  # tests/originals.py's rounding by spacings, on arrays of probabilities
        single = np.asarray(c, dtype=np.float32).astype(np.float64)
        spacing = np.ldexp(1.0, np.maximum(np.frexp(single)[1], -125) - 8)
        return np.round(single / spacing) * spacing
    assert bf16(np.array([0.3])) == originals.round_to_bfloat16(np.float32(0.3))
    loop = functools.partial(originals.llada, steps=length, temperature=1.0, round_confidence=bf16)
    assert_loop_agrees(loop, sampler, oracle, law.table, 9)


@pytest.mark.slow  # 2^24 uniform values per token (about 10 s a case): run by python -m benchmarks
@pytest.mark.parametrize("form", ["llada", "mdlm"])
def test_float32_two_tokens_by_one_sort_of_both_tokens_values(form):
    """float32, V = 2: P(the first token wins) by one stable sort of both tokens' 2^24 values (a second
    algorithm: the first wins ties, so its values sort after the second's equal ones, and each of its values
    wins against the second's values sorted before it); and LLaDA's floor closed form: a token of probability
    1e-9 is drawn exactly when the other's uniform is 0 and its own is not, 2^-24 (1 - 2^-24) — 60 times its
    ideal probability; MDLM never draws it."""
    probs = np.array([0.8, 0.2])
    weights = rounded(np.log(probs) if form == "llada" else probs, "float32")
    w = noise_values(weights, 1.0, "float32", form)
    n = w.shape[1]
    label = np.concatenate([np.zeros(n), np.ones(n)])  # 0: the second token's values, 1: the first's
    order = np.lexsort((label, np.concatenate([w[1], w[0]])))
    ranked = label[order]
    p_first = float(np.cumsum(ranked == 0)[ranked == 1].sum()) / float(n) ** 2
    np.testing.assert_allclose(draw_law(probs, 1.0, "float32", form), [p_first, 1 - p_first], atol=1e-13)
    rare = np.array([1 - 1e-9, 1e-9])
    zero = 2.0 ** -24
    expected = [1 - zero * (1 - zero), zero * (1 - zero)] if form == "llada" else [1.0, 0.0]
    np.testing.assert_allclose(draw_law(rare, 1.0, "float32", form), expected, rtol=0, atol=1e-18)


@pytest.mark.parametrize("precision", ["bfloat16", "float16"])
def test_one_step_mdlm_draws_every_position_by_its_low_precision_categorical(precision):
    """MDLM's ancestral sampler in one step (t = 1 to s = 0: q = (p_x0, 0)) reveals every position with its
    token from _sample_categorical in that dtype: the product of each position's draw law (MDLM's form);
    refimpl.sample's draws follow the same law with more steps (bfloat16; chi-square at 1e-3)."""
    import refimpl
    from refimpl import samplers as S

    from tests.helpers import assert_loop_agrees, random_table

    table = random_table(np.random.default_rng(4), 3, 3, concentration=0.3)
    oracle = refimpl.oracle_denoiser(table)
    marginals = oracle(np.full((1, 3), 3))[0]
    expected = np.einsum("a,b,c->abc", *(draw_law(row / row.sum(), 1.0, precision, "mdlm") for row in marginals))
    law = refimpl.exact_law(oracle, S.Ancestral(steps=1, precision=precision), 3, 3)
    np.testing.assert_allclose(law, expected, atol=1e-15)
    assert refimpl.tv(law, refimpl.exact_law(oracle, S.Ancestral(steps=1), 3, 3)) > 1e-5
    if precision == "bfloat16":  # (the draws' own code: once is enough)
        sampler = S.Ancestral(steps=3, precision=precision)

        def draws(denoiser, n, rng, length, vocab_size, prompt):
            return refimpl.sample(denoiser, sampler, n, rng, length, vocab_size, prompt)

        assert_loop_agrees(draws, sampler, oracle, table, 23)
    with pytest.raises(InvalidParameterError, match="Ancestral precision must be one of"):
        S.Ancestral(precision="half")


def test_gumbel_top_k_in_float64_is_plackett_luce():
    """k draws without replacement with probabilities proportional to exp(score / T), summed over orders."""
    import itertools

    from refimpl.samplers.kernels.precision import gumbel_top_k_law

    scores, temperature = np.array([1.0, 0.5, 0.0, -1.0]), 0.7
    weights = np.exp(scores / temperature)
    law = gumbel_top_k_law(scores, 2, "float64", temperature)
    for chosen, probability in law.items():
        expected = 0.0
        for order in itertools.permutations(chosen):
            left, p = weights.sum(), 1.0
            for a in order:
                p *= weights[a] / left
                left -= weights[a]
            expected += p
        assert probability == pytest.approx(expected, abs=1e-15)


def test_gumbel_top_k_in_bfloat16_against_torch():
    """Gumbel-top-k with torch's bfloat16 (torch.rand, -log(-log U), the sums) and the two largest kept, equal
    values lowest entry first: the exact law (chi-square at 1e-3), which large scores — whose bfloat16
    sums tie — take far from the ideal Plackett-Luce law (rejected on the same draws)."""
    torch = pytest.importorskip("torch")
    from refimpl.samplers.kernels.precision import gumbel_top_k_law

    scores = np.array([30.0, 29.5, 29.0, 28.0])
    torch.manual_seed(8)
    u = torch.rand(1_000_000, 4, dtype=torch.bfloat16)
    values = (torch.from_numpy(scores).to(torch.bfloat16) / 1.0 - torch.log(-torch.log(u))).double().numpy()
    order = np.lexsort((np.broadcast_to(np.arange(4), values.shape), -values), axis=1)[:, :2]
    code = np.sort(order, axis=1) @ np.array([4, 1])
    exact = gumbel_top_k_law(scores, 2, "bfloat16")
    subsets = sorted(exact)
    counts = np.array([(code == 4 * a + b).sum() for a, b in subsets])
    assert counts.sum() == len(code)
    assert not chi_square_fit(counts, [exact[s] for s in subsets], ALPHA).rejects(ALPHA)
    ideal = gumbel_top_k_law(scores, 2, "float64")
    assert chi_square_fit(counts, [ideal[s] for s in subsets], ALPHA).p_value < 1e-6


def test_gumbel_top_k_refuses_bad_input():
    from refimpl.samplers.kernels.precision import gumbel_top_k_law

    for arguments, needle in [((np.array([1.0, 2.0]), 3, "float16"), "k <= n"),
                              ((np.array([1.0, 2.0]), 1, "int8"), "precision must be one of"),
                              ((np.array([1.0, np.nan]), 1, "float16"), "finite")]:
        with pytest.raises(InvalidParameterError, match=needle):
            gumbel_top_k_law(*arguments)
    with pytest.raises(InvalidParameterError, match="temperature > 0"):
        gumbel_top_k_law(np.array([1.0, 2.0]), 1, "float16", temperature=0.0)


def _torch_sample_tokens(torch, dtype):
    """Dream's ``sample_tokens`` run by torch in ``dtype`` (its model's), without top_p/top_k: softmax of
    logits / T, Categorical draws (probs.max at T = 0), confidences the drawn probability, the top-1 minus
    top-2 margin, or sum(p log(p + 1e-10))."""
    def sample_tokens(logits, temperature, rng, alg):
        shaped = torch.from_numpy(logits).to(dtype)
        if temperature > 0:
            shaped = shaped / temperature
        probs = torch.softmax(shaped, dim=-1)
        if temperature > 0:
            x0 = torch.distributions.Categorical(probs=probs).sample()
            confidence = torch.gather(probs, -1, x0.unsqueeze(-1)).squeeze(-1)
        else:
            confidence, x0 = probs.max(dim=-1)
        if alg == "topk_margin":
            ordered, _ = torch.sort(probs, dim=-1, descending=True)
            confidence = ordered[..., 0] - ordered[..., 1]
        elif alg == "entropy":
            confidence = torch.sum(probs * torch.log(probs + 1e-10), dim=-1)
        return confidence.double().numpy(), x0.numpy()
    return sample_tokens


def test_dream_bfloat16_greedy_decode_is_torchs():
    """At T = 0 Dream is deterministic: in bfloat16 (torch's own softmax, max, sort and entropy in the loop of
    tests/originals.py) its output differs from the float64 one on the sampler tests' law, and refimpl's
    Dream(precision="bfloat16") puts all its mass on torch's output, for each confidence algorithm."""
    torch = pytest.importorskip("torch")
    import refimpl
    from refimpl import samplers as S

    from tests.helpers import sampler_law_and_denoisers

    _, denoisers = sampler_law_and_denoisers()
    oracle = denoisers["oracle"]
    flipped = 0
    for alg in ("maskgit_plus", "topk_margin", "entropy"):
        out = originals.dream(oracle, 4, np.random.default_rng(0), 4, 3, None, 4, alg=alg, temperature=0.0, eps=0.3,
                              sample_tokens=_torch_sample_tokens(torch, torch.bfloat16))
        assert (out == out[0]).all()
        law = refimpl.exact_law(oracle, S.Dream(4, alg, 0.0, eps=0.3, precision="bfloat16"), 4, 3)
        assert law[tuple(out[0])] == pytest.approx(1.0, abs=1e-12)
        flipped += refimpl.exact_law(oracle, S.Dream(4, alg, 0.0, eps=0.3), 4, 3)[tuple(out[0])] == 0
    assert flipped >= 1  # bfloat16 changes at least one greedy decode here (topk_margin's)


@pytest.mark.slow  # 1.5 million sequences (about 30 s): run by python -m benchmarks
def test_dream_bfloat16_draws_are_torchs():
    """Dream at T = 1 with torch's bfloat16 sample_tokens against Dream(precision="bfloat16")'s exact law
    (chi-square at 1e-3), which the float64 law fails on the same samples."""
    torch = pytest.importorskip("torch")
    import functools

    import refimpl
    from refimpl import samplers as S
    from refimpl.interop.verify import verify_sampler

    from tests.samplers.test_ties import exchangeable_table

    torch.manual_seed(11)
    table = exchangeable_table(5)
    oracle = refimpl.oracle_denoiser(table)
    loop = functools.partial(originals.dream, steps=4, alg="entropy", temperature=1.0, eps=0.3,
                             sample_tokens=_torch_sample_tokens(torch, torch.bfloat16))
    low = verify_sampler(loop, S.Dream(4, "entropy", 1.0, eps=0.3, precision="bfloat16"), oracle, table, n=1_500_000)
    assert low["passed"], low
    ideal = verify_sampler(loop, S.Dream(4, "entropy", 1.0, eps=0.3), oracle, table, n=1_500_000)
    assert not ideal["passed"]


@pytest.mark.slow  # 2^29 draws in numpy float32 (about 20 s): run by python -m benchmarks
def test_float32_law_against_float32_monte_carlo():
    """numpy float32 Monte Carlo of LLaDA's draw where float32 is far from the ideal: a token of probability 1e-9
    is drawn with probability 2^-24 (1 - 2^-24) in float32 (the floor), 60 times its ideal probability.  In 2^29
    draws (float32 uniforms k 2^-24, float32 log, exp, pow, division) the count of that token is consistent with
    the exact float32 law (two-sided binomial test at 1e-3) and not with the ideal law (p < 1e-6)."""
    from scipy.stats import binomtest

    rare = np.array([1 - 1e-9, 1e-9])
    exact = draw_law(rare, 1.0, "float32", "llada")
    logits = np.log(rare).astype(np.float32)
    one = np.float32(1.0)
    rng = np.random.default_rng(29)
    chunk, chunks, count = 2 ** 24, 2 ** 5, 0
    for _ in range(chunks):
        u = rng.integers(0, 2 ** 24, size=(chunk, 2)).astype(np.float32) * np.float32(2.0 ** -24)  # exact in float32
        with np.errstate(divide="ignore"):
            values = np.exp(logits) / (-np.log(u)) ** one
        count += int(np.count_nonzero(values[:, 1] > values[:, 0]))  # argmax: the first on equal values
    n = chunk * chunks
    assert binomtest(count, n, exact[1]).pvalue > ALPHA
    assert binomtest(count, n, rare[1]).pvalue < 1e-6
