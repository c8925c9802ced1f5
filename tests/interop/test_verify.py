"""`refimpl verify`: right implementations pass; a wrong denoiser and two wrong samplers are caught."""
import io
import json

import numpy as np
import pytest
import refimpl
from refimpl import samplers as S
from refimpl.cli.main import main
from refimpl.interop import adapters
from refimpl.interop.verify import verify_denoiser, verify_sampler
from refimpl.laws import datasets

from tests import targets

LAW_ARGS = ["--vocab-size", "3", "--length", "4", "--concentration", "1.0", "--seed", "2"]
AS_LLADA = ["--as", "llada", "--steps", "3", "--temperature", "0.5"]


def run(argv):
    out = io.StringIO()
    code = main(argv, out=out)
    return code, json.loads(out.getvalue())["reports"][0]


def test_correct_denoiser_passes_and_wrong_one_is_located():
    code, report = run(["verify", "tests.targets:good_denoiser", *LAW_ARGS, "--json"])
    assert code == 0 and report["findings"]["passed"] is True
    assert report["findings"]["max_deviation"] < 1e-12
    code, report = run(["verify", "tests.targets:left_context_denoiser", *LAW_ARGS, "--json"])
    findings = report["findings"]
    assert code == 1 and findings["passed"] is False
    assert findings["max_deviation"] > 0.1 and findings["nelbo_gap"] > 0.01
    # the report points at the difference: a partial sequence with a clean token right of the position
    where = findings["where"]
    assert where.startswith("partial sequence [") and "position" in where
    tokens = where[len("partial sequence ["):where.index("]")].split()
    position = int(where.split("position ")[1].split(",")[0]) - 1
    assert any(t != "M" for t in tokens[position + 1:])


def test_correct_llada_passes():
    code, report = run(["verify", "tests.targets:llada_good", *LAW_ARGS, *AS_LLADA, "--json"])
    assert code == 0 and report["findings"]["p_value"] > 1e-3


@pytest.mark.parametrize("target", ["llada_tempered_confidence", "llada_remainder_last"])
def test_wrong_llada_samplers_are_caught(target):
    code, report = run(["verify", f"tests.targets:{target}", *LAW_ARGS, *AS_LLADA, "--json"])
    assert code == 1 and report["findings"]["passed"] is False and report["findings"]["p_value"] < 1e-10
    over = report["tables"][0]
    assert over["title"] == "most over represented" and over["rows"][0][1] > over["rows"][0][2]


def test_remainder_to_the_last_steps_produces_outputs_refimpl_never_does():
    code, report = run(["verify", "tests.targets:llada_remainder_last", *LAW_ARGS, *AS_LLADA, "--json"])
    law = datasets.dirichlet(3, 4, np.random.default_rng(2), 1.0)
    exact = refimpl.exact_law(refimpl.oracle_denoiser(law), S.LLaDA(3, temperature=0.5), 4, 3)
    for sequence, observed, expected in report["tables"][0]["rows"]:
        x = tuple(int(token) for token in sequence.split())  # token ids, as every table prints them
        assert expected == pytest.approx(exact[x] * 20000)
        assert observed > expected


def test_a_crashing_target_is_reported_not_raised():
    code, report = run(["verify", "tests.targets:crashing_sampler", *LAW_ARGS, *AS_LLADA, "--json"])
    assert code == 1 and "CUDA out of memory" in report["findings"]["error"]


def test_library_functions_directly():
    law = datasets.dirichlet(3, 3, np.random.default_rng(0))
    assert verify_denoiser(targets.good_denoiser(law.table), law)["passed"]
    result = verify_sampler(lambda den, n, rng, length, vocab_size, prompt: refimpl.sample(
        den, S.RandomK(1), n, rng, length, vocab_size, prompt), S.FirstHitting(), refimpl.oracle_denoiser(law), law)
    assert result["passed"] and result["samples_where_exact_law_is_zero"] == 0


@pytest.mark.parametrize("argv, needle", [
    (["verify", "nocolon"], "module:function"),
    (["verify", "no_such_module_xyz:f"], "cannot import"),
    (["verify", "tests.targets:TOKENS_THAT_DO_NOT_EXIST"], "not a callable"),
])
def test_bad_targets(capsys, argv, needle):
    assert main(argv, out=io.StringIO()) == 2 and needle in capsys.readouterr().err


def test_adapter_for_logits_with_a_mask_column():
    law = datasets.dirichlet(3, 3, np.random.default_rng(1))
    oracle = refimpl.oracle_denoiser(law)

    def model(z):  # a model that emits logits over V+1 tokens, mask last, and garbage at clean rows
        logits = np.log(np.maximum(oracle(z), 1e-300)) + 7.0
        return np.concatenate([logits, np.full(z.shape + (1,), 3.0)], axis=-1)

    den = adapters.from_model(model, 3, output="logits", mask_column=True)
    z = refimpl.space.partial_sequences(3, 3)
    np.testing.assert_allclose(den(z), oracle(z), atol=1e-12)
    assert verify_denoiser(den, law)["passed"]
    with pytest.raises(refimpl.InvalidDenoiserOutputError, match="mask column"):
        adapters.from_model(model, 3, output="logits", mask_column=False)(z)


def test_adapter_with_torch_tensors():
    torch = pytest.importorskip("torch")
    law = datasets.dirichlet(3, 3, np.random.default_rng(1))
    oracle = refimpl.oracle_denoiser(law)

    def torch_model(z):
        assert isinstance(z, torch.Tensor)
        return torch.log(torch.as_tensor(oracle(z.numpy())).clamp_min(1e-300)).to(torch.float32)

    den = adapters.from_model(torch_model, 3, to_input=torch.as_tensor)
    z = refimpl.space.partial_sequences(3, 3)
    np.testing.assert_allclose(den(z), oracle(z), atol=1e-6)


def _counting(original, extra=0, **settings):
    """An original's loop as a target that also returns its model calls per row (plus ``extra``)."""
    def target(den, n, rng, length, vocab_size, prompt):
        calls = np.zeros(n, dtype=np.int64)
        return original(den, n, rng, length, vocab_size, prompt, calls=calls, **settings), calls + extra
    return target


def test_a_target_that_counts_its_model_calls_is_checked_on_them():
    from tests import originals

    law = datasets.dirichlet(3, 4, np.random.default_rng(2))
    oracle = refimpl.oracle_denoiser(law)
    ideal = S.Ancestral(steps=6, cache=True, grid="float64")  # the closed form's grid
    cached = verify_sampler(_counting(originals.mdlm, steps=6, cache=True, grid="float64"), ideal, oracle, law)
    assert cached["passed"] and cached["calls_p_value"] > 1e-3
    assert cached["calls_expected"] == pytest.approx(1 + 5 * (1 - (5 / 6) ** 4), rel=1e-12)
    # the same samples, but a loop that calls the model on every step, claiming MDLM's cache: caught
    uncached = verify_sampler(_counting(originals.mdlm, steps=6), S.Ancestral(steps=6, cache=True), oracle, law)
    assert uncached["p_value"] > 1e-3 and uncached["calls_mean"] == 6 and not uncached["passed"]
    fast = verify_sampler(_counting(originals.fast_dllm, threshold=0.5, temperature=1.0),
                          S.Threshold(0.5, temperature=1.0), oracle, law)
    assert fast["passed"] and 1 < fast["calls_mean"] < 4
    # one wasted call in every tenth row: the same samples, 0.1 calls too many on average, caught
    def wasteful(den, n, rng, length, vocab_size, prompt):
        samples, calls = _counting(originals.fast_dllm, threshold=0.5, temperature=1.0)(den, n, rng, length,
                                                                                        vocab_size, prompt)
        return samples, calls + (np.arange(n) % 10 == 0)
    caught = verify_sampler(wasteful, S.Threshold(0.5, temperature=1.0), oracle, law)
    assert caught["p_value"] == fast["p_value"] and caught["calls_p_value"] < 1e-6 and not caught["passed"]
    with pytest.raises(refimpl.InvalidParameterError, match="one per sample"):
        verify_sampler(lambda *a: (np.zeros((5, 4), dtype=int), np.zeros(3)), S.Threshold(0.5), oracle, law, n=5)
    with pytest.raises(refimpl.InvalidParameterError, match="samples or \\(samples, calls\\)"):
        verify_sampler(lambda *a: (np.zeros((5, 4), dtype=int), 1, 2), S.Threshold(0.5), oracle, law, n=5)


def test_samples_all_where_the_law_is_zero_are_rejected_without_a_warning():
    import warnings

    from refimpl.interop.goodness import chi_square_fit

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fit = chi_square_fit([0, 0, 7, 3], [0.5, 0.5, 0.0, 0.0], 1e-3)
    assert fit.p_value == 0.0 and fit.impossible == 10 and fit.rejects(1e-3)
