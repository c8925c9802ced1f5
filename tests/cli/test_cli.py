import dataclasses
import io
import json
import subprocess
import sys

import numpy as np
import pytest
import refimpl
from refimpl.cli.main import main

pytestmark = pytest.mark.xdist_group("paper")  # one worker computes the shared fixture


def run(argv):
    out = io.StringIO()
    code = main(argv, out=out)
    return code, out.getvalue()


def test_help_lists_the_commands():
    result = subprocess.run([sys.executable, "-m", "refimpl", "--help"], capture_output=True, text=True)
    assert result.returncode == 0 and "paper" in result.stdout


@pytest.fixture(scope="module")
def paper_json(paper_run):
    """``refimpl paper --json`` printing the session's run_paper reports (computed once, tests/conftest.py; the
    whole command, computation included, is run by the slow README check)."""
    reports, _ = paper_run
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("refimpl.experiments.paper.run_paper", lambda **options: reports)
        code, text = run(["paper", "--json"])
    assert code == 0
    return json.loads(text)


def test_paper_prints_the_coupled_pair_tables(monkeypatch):
    from refimpl.experiments import coupled_pair_demo

    monkeypatch.setattr("refimpl.experiments.paper.run_paper", lambda **options: [coupled_pair_demo()])
    code, text = run(["paper"])
    assert code == 0
    assert "AD" in text and "CB" in text and "NO (incoherent)" in text and "total_correlation" in text


def test_paper_json_values_match_an_independent_computation(paper_json):
    report = paper_json["reports"][0]
    findings = report["findings"]
    # Independently: the joint is 1/2 on AB and CD; each marginal is uniform over two letters, so the
    # product is 1/4 on AB, AD, CB, CD.  KL = sum_x p log(p/q) = 2 * 1/2 * log 2; incoherent mass 1/2.
    assert findings["kl_joint_to_product"] == pytest.approx(np.log(2), abs=1e-15)
    assert findings["total_correlation"] == pytest.approx(np.log(2), abs=1e-15)
    assert findings["incoherent_mass"] == pytest.approx(0.5, abs=1e-15)
    assert findings["tv_joint_product"] == pytest.approx(0.5, abs=1e-15)
    joint_rows = {row[0]: row[1:] for row in report["tables"][1]["rows"]}
    assert joint_rows["AB"][:2] == [0.5, 0.25] and joint_rows["AD"][:2] == [0.0, 0.25]


def test_paper_json_holds_every_experiment(paper_json):
    names = [r["name"] for r in paper_json["reports"]]
    assert names == ["coupled_pairs", "toy", "homogenisation", "near_autoregressive", "prescriptions"]
    toy = paper_json["reports"][1]["findings"]
    assert round(toy["P(x1=A | query)"], 2) == 0.55 and round(toy["P(x2=B | query)"], 2) == 0.69


def test_paper_figures(monkeypatch, tmp_path, capsys):
    from refimpl.experiments import coupled, homogenisation, prescriptions

    def small_run(**options):
        return [coupled.coupled_pair_demo(), homogenisation.homogenisation_experiment(),
                prescriptions.prescriptions_experiment()]

    monkeypatch.setattr("refimpl.experiments.paper.run_paper", small_run)
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        code = main(["paper", "--figures", str(tmp_path)], out=io.StringIO())
        assert code == 2 and "needs matplotlib" in capsys.readouterr().err
        return
    code = main(["paper", "--figures", str(tmp_path)], out=io.StringIO())
    assert code == 0
    for name in ("coupled_pairs.png", "marginal_tv_vs_distance.png", "kl_vs_steps.png"):
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_cli_reports_errors_in_one_line(capsys, monkeypatch):
    def broken(args, out):
        raise refimpl.InvalidParameterError("something specific was wrong")

    monkeypatch.setattr("refimpl.experiments.paper.run_paper", lambda **options: broken(None, None))
    code = main(["paper"], out=io.StringIO())
    err = capsys.readouterr().err
    assert code == 2 and err.strip().count("\n") == 0 and "something specific was wrong" in err


def test_law_command_reports_exact_metrics():
    code, text = run(["law", "--data", "coupled", "--sampler", "fixed_order", "--sets", "0,1", "--json"])
    assert code == 0
    findings = json.loads(text)["reports"][0]["findings"]
    # one step revealing both coupled positions: KL = TC = ln 2, half the outputs incoherent
    assert findings["kl_p_q"] == pytest.approx(np.log(2), abs=1e-12)
    assert findings["incoherent_mass"] == pytest.approx(0.5) and findings["kl_q_p"] == "inf"
    assert findings["sum_of_step_total_correlations"] == pytest.approx(np.log(2), abs=1e-12)


def test_law_command_matches_the_library():
    from refimpl import samplers
    from refimpl.laws import datasets

    code, text = run(["law", "--data", "dirichlet", "--vocab-size", "3", "--length", "4", "--seed", "5",
                      "--sampler", "llada", "--steps", "2", "--temperature", "1", "--prompt", "1 M M M", "--json"])
    assert code == 0
    findings = json.loads(text)["reports"][0]["findings"]
    law = datasets.dirichlet(3, 4, np.random.default_rng(5), 0.5)
    prompt = np.array([1, 3, 3, 3])
    q = refimpl.exact_law(refimpl.oracle_denoiser(law), samplers.LLaDA(2, temperature=1.0), 4, 3, prompt=prompt)
    target = law.table * (np.arange(3) == 1)[:, None, None, None]
    target = target / target.sum()
    assert findings["kl_p_q"] == pytest.approx(refimpl.kl(target, q), abs=1e-12)
    assert findings["tv"] == pytest.approx(refimpl.tv(target, q), abs=1e-12)


def test_law_command_runs_fast_dllms_factor_rule():
    from refimpl import samplers
    from refimpl.laws import datasets

    code, text = run(["law", "--vocab-size", "3", "--length", "4", "--seed", "2", "--sampler", "factor",
                      "--factor", "0.7", "--temperature", "1", "--json"])
    assert code == 0
    law = datasets.dirichlet(3, 4, np.random.default_rng(2), 0.5)
    q = refimpl.exact_law(refimpl.oracle_denoiser(law), samplers.Factor(0.7, temperature=1.0), 4, 3)
    assert json.loads(text)["reports"][0]["findings"]["kl_p_q"] == pytest.approx(refimpl.kl(law.table, q), abs=1e-12)


def test_law_command_reports_mdlms_cached_model_calls():
    code, text = run(["law", "--vocab-size", "3", "--length", "4", "--sampler", "ancestral", "--steps", "8",
                      "--cache", "--json"])
    assert code == 0
    # closed form: the linear grid reveals a mask at each step with probability 1/8, independently, so
    # after the first call each of the other 7 steps calls with probability 1 - (7/8)^4
    expected = 1 + 7 * (1 - (7 / 8) ** 4)
    assert json.loads(text)["reports"][0]["findings"]["expected_model_calls"] == pytest.approx(expected, rel=1e-12)
    code, text = run(["law", "--vocab-size", "3", "--length", "4", "--sampler", "ancestral", "--steps", "8", "--json"])
    assert json.loads(text)["reports"][0]["findings"]["expected_model_calls"] == 8


def test_grid_flag_picks_the_codes_float32_grid_or_the_ideal():
    """Dream with eps = 0.4 on 3 steps and 4 masks: the float32 grid keeps int(4 (1 - s/t)) = 1 token on the
    second step where the float64 grid keeps 0 (tests/core/test_float32.py)."""
    from refimpl import samplers
    from refimpl.laws import datasets

    law = datasets.dirichlet(3, 4, np.random.default_rng(0), 0.5)
    oracle = refimpl.oracle_denoiser(law)
    found = {}
    for grid in ("float32", "float64"):
        flag = [] if grid == "float32" else ["--grid", grid]
        code, text = run(["law", "--sampler", "dream", "--alg", "entropy", "--temperature", "1", "--steps", "3",
                          "--eps", "0.4", "--json"] + flag)
        assert code == 0
        found[grid] = json.loads(text)["reports"][0]["findings"]["tv"]
        q = refimpl.exact_law(oracle, samplers.Dream(3, "entropy", 1.0, eps=0.4, grid=grid), 4, 3)
        assert found[grid] == pytest.approx(refimpl.tv(law.table, q), abs=1e-12)
    assert abs(found["float32"] - found["float64"]) > 1e-3
    code, text = run(["law", "--sampler", "remdm", "--steps", "5", "--grid", "float64", "--json"])
    q = refimpl.exact_law(oracle, samplers.ReMDM(5, grid="float64"), 4, 3)
    assert json.loads(text)["reports"][0]["findings"]["tv"] == pytest.approx(refimpl.tv(law.table, q), abs=1e-12)


@pytest.mark.parametrize("name, build", [
    ("llada", lambda S: S.LLaDA(4, temperature=1.0, precision="bfloat16")),
    ("threshold", lambda S: S.Threshold(0.9, temperature=1.0, precision="bfloat16")),
    ("entropy_bound", lambda S: S.EntropyBound(0.1, temperature=1.0, precision="bfloat16")),
    ("llada2", lambda S: S.LLaDA2(32, threshold=0.7, temperature=1.0, precision="bfloat16")),
])
def test_precision_flag_gives_the_low_precision_law(name, build):
    from refimpl import samplers
    from refimpl.laws import datasets

    code, text = run(["law", "--sampler", name, "--temperature", "1", "--precision", "bfloat16", "--json"])
    assert code == 0
    law = datasets.dirichlet(3, 4, np.random.default_rng(0), 0.5)
    q = refimpl.exact_law(refimpl.oracle_denoiser(law), build(samplers), 4, 3)
    assert refimpl.tv(q, refimpl.exact_law(refimpl.oracle_denoiser(law), dataclasses.replace(build(samplers),
                                                                                            precision="float64"), 4, 3)) > 0
    assert json.loads(text)["reports"][0]["findings"]["tv"] == pytest.approx(refimpl.tv(law.table, q), abs=1e-12)


def test_tie_flag_and_the_tie_probability_finding():
    """`refimpl law --tie` picks the rule; the finding is refimpl.tie_probability, the same for every rule."""
    from refimpl import samplers

    found = {}
    for tie in ("lowest", "highest", "random"):
        code, text = run(["law", "--data", "uniform", "--sampler", "llada", "--temperature", "1", "--tie", tie, "--json"])
        assert code == 0
        found[tie] = json.loads(text)["reports"][0]["findings"]
    uniform = refimpl.laws.datasets.from_table(np.full((3,) * 4, 3.0 ** -4))
    expected = refimpl.tie_probability(refimpl.oracle_denoiser(uniform), samplers.LLaDA(4, temperature=1.0), 4, 3)
    assert expected > 0.5  # uniform conditionals: every draw ties
    assert all(f["tie_probability"] == pytest.approx(expected, abs=1e-12) for f in found.values())


def test_frontier_command_ranks_settings_by_exact_calls_and_loss():
    from refimpl import samplers
    from refimpl.laws import datasets, metrics

    code, text = run(["frontier", "--vocab-size", "3", "--length", "4", "--seed", "3", "--prompt", "1 M M M", "--json"])
    assert code == 0
    report = json.loads(text)["reports"][0]
    rows = {row[0]: row for row in report["tables"][0]["rows"]}
    law = datasets.dirichlet(3, 4, np.random.default_rng(3), 0.5)
    prompt = np.array([1, 3, 3, 3])
    target = metrics.conditioned(law.table, prompt)
    assert report["findings"]["total_correlation_p"] == pytest.approx(refimpl.total_correlation(target), abs=1e-12)
    oracle = refimpl.oracle_denoiser(law)
    threshold = samplers.Threshold(0.6, temperature=1.0)
    _, calls, per_call, kl, tv, incoherent, star, ties = rows["Threshold(threshold=0.6, temperature=1.0)"]
    assert ties == pytest.approx(refimpl.tie_probability(oracle, threshold, 4, 3, prompt=prompt), abs=1e-12)
    assert calls == pytest.approx(refimpl.expected_calls(oracle, threshold, 4, 3, prompt=prompt), abs=1e-12)
    assert per_call == pytest.approx(3 / calls) and incoherent == 0
    assert kl == pytest.approx(refimpl.kl(target, refimpl.exact_law(oracle, threshold, 4, 3, prompt=prompt)), abs=1e-12)
    assert rows["LeftToRight()"][3] == 0 and rows["LeftToRight()"][6] == "*"  # exact, so nothing beats it at 3 calls
    assert rows["LLaDA(steps=1, temperature=1.0)"][3] == pytest.approx(report["findings"]["total_correlation_p"])
    conf = samplers.ReMDM(12, "conf")  # three masked positions: small enough for its (sequence, scores) states
    _, calls, _, kl, *_ = rows["ReMDM(steps=12, remasking='conf')"]
    assert calls == pytest.approx(refimpl.expected_calls(oracle, conf, 4, 3, prompt=prompt), abs=1e-12)
    assert kl == pytest.approx(refimpl.kl(target, refimpl.exact_law(oracle, conf, 4, 3, prompt=prompt)), abs=1e-12)
    code, _ = run(["frontier", "--vocab-size", "3", "--length", "4", "--prompt", "1 0 2 1"])
    assert code == 2


def test_frontier_at_temperature_0_is_drawn_by_tv():
    from refimpl import samplers
    from refimpl.experiments.frontier import frontier_report
    from refimpl.laws import datasets

    code, text = run(["frontier", "--vocab-size", "3", "--length", "4", "--temperature", "0", "--by", "tv", "--json"])
    assert code == 0
    rows = {row[0]: row for row in json.loads(text)["reports"][0]["tables"][0]["rows"]}
    law = datasets.dirichlet(3, 4, np.random.default_rng(0), 0.5)
    greedy = samplers.LLaDA(2)  # temperature 0: one output per path, KL(p||q) infinite
    q = refimpl.exact_law(refimpl.oracle_denoiser(law), greedy, 4, 3)
    assert rows["LLaDA(steps=2)"][3] == "inf" and rows["LLaDA(steps=2)"][4] == pytest.approx(refimpl.tv(law.table, q))
    assert rows["Ancestral(steps=1, cache=True)"][6] == "*"  # MDLM still draws at 1: the only one below TV 0.9 in one call
    with pytest.raises(refimpl.InvalidParameterError, match="by must be one of"):
        frontier_report(law.table, refimpl.oracle_denoiser(law), by="kl_p_q")


def test_law_command_passes_dreams_truncation():
    from refimpl import samplers
    from refimpl.laws import datasets

    code, text = run(["law", "--vocab-size", "3", "--length", "4", "--seed", "5", "--sampler", "dream",
                      "--alg", "maskgit_plus", "--steps", "2", "--temperature", "0.8", "--top-p", "0.7",
                      "--top-k", "2", "--alg-temp", "0.3", "--json"])
    assert code == 0
    findings = json.loads(text)["reports"][0]["findings"]
    law = datasets.dirichlet(3, 4, np.random.default_rng(5), 0.5)
    dream = samplers.Dream(2, "maskgit_plus", 0.8, top_p=0.7, top_k=2, alg_temp=0.3)
    q = refimpl.exact_law(refimpl.oracle_denoiser(law), dream, 4, 3)
    untruncated = refimpl.exact_law(refimpl.oracle_denoiser(law), samplers.Dream(2, "maskgit_plus", 0.8), 4, 3)
    assert findings["tv"] == pytest.approx(refimpl.tv(law.table, q), abs=1e-12)
    assert abs(refimpl.tv(law.table, q) - refimpl.tv(law.table, untruncated)) > 1e-3


@pytest.mark.parametrize("argv, sampler, prompt", [
    (["--sampler", "llada", "--steps", "3", "--temperature", "1", "--cfg-scale", "1.5", "--logits-eos-inf", "--eos", "0",
      "--prompt", "2 M M M"], dict(steps=3, temperature=1.0, cfg_scale=1.5, logits_eos_inf=True, eos=0), [2, 3, 3, 3]),
    (["--sampler", "llada", "--steps", "4", "--temperature", "0.5", "--confidence-eos-eot-inf", "--eos", "0", "--eot", "1",
      "--eos-rule", "intent"],
     dict(steps=4, temperature=0.5, confidence_eos_eot_inf=True, eos=0, eot=1, eos_rule="intent"), None),
    (["--sampler", "entropy_bound", "--gamma", "0.7", "--temperature", "1", "--tempered-entropy", "--block-length", "2"],
     dict(gamma=0.7, temperature=1.0, tempered_entropy=True, block_length=2), None),
    (["--sampler", "remdm", "--remdm", "loop", "--steps", "10", "--eta", "0.1", "--t-on", "0.5", "--t-off", "0.2",
      "--alpha-on", "0.6"], dict(steps=10, remasking="loop", eta=0.1, t_on=0.5, t_off=0.2, alpha_on=0.6), None),
    (["--sampler", "remdm", "--remdm", "rescale", "--steps", "5", "--eta", "0.5", "--schedule", "cosine"],
     dict(steps=5, remasking="rescale", eta=0.5, schedule=refimpl.schedules.Cosine()), None),
    (["--sampler", "remdm", "--remdm", "conf", "--steps", "4", "--prompt", "1 M M M"], dict(steps=4, remasking="conf"),
     [1, 3, 3, 3]),
    (["--sampler", "remdm", "--remdm", "conf", "--conf-sigma", "cap", "--eta", "0.3", "--steps", "3"],
     dict(steps=3, remasking="conf", conf_sigma="cap", eta=0.3), None),
    (["--sampler", "llada2", "--steps", "2", "--block-length", "2", "--threshold", "0.6", "--editing-threshold", "0.4",
      "--max-post-steps", "2", "--temperature", "1"],
     dict(steps=2, block_length=2, threshold=0.6, editing_threshold=0.4, max_post_steps=2, temperature=1.0), None),
    (["--sampler", "llada2", "--steps", "4", "--minimal-topk", "2", "--edit-rule", "intent", "--prompt", "1 M M M"],
     dict(steps=4, threshold=0.7, minimal_topk=2, edit_rule="intent"), [1, 3, 3, 3]),
    (["--sampler", "llada2"], dict(), None),  # the pipeline's defaults: 32 steps, thresholds 0.7 and 0.5, T = 0
])
def test_law_command_builds_the_samplers_that_revise_guide_and_stop(argv, sampler, prompt):
    from refimpl import samplers
    from refimpl.laws import datasets

    code, text = run(["law", "--vocab-size", "3", "--length", "4", "--seed", "5", "--json"] + argv)
    assert code == 0
    findings = json.loads(text)["reports"][0]["findings"]
    law = datasets.dirichlet(3, 4, np.random.default_rng(5), 0.5)
    kind = {"llada": samplers.LLaDA, "entropy_bound": samplers.EntropyBound, "remdm": samplers.ReMDM,
            "llada2": samplers.LLaDA2}[argv[1]]
    q = refimpl.exact_law(refimpl.oracle_denoiser(law), kind(**sampler), 4, 3, prompt=prompt)
    assert findings["tv"] == pytest.approx(refimpl.tv(refimpl.laws.metrics.conditioned(law.table, prompt), q), abs=1e-12)


@pytest.mark.parametrize("argv, needle", [
    (["law", "--sampler", "llada", "--block-length", "3"], "does not divide"),
    (["law", "--sampler", "dream", "--cfg-scale", "1"], "--cfg-scale applies to llada only, not dream"),
    (["law", "--sampler", "llada", "--eta", "0.1"], "--eta applies to remdm only, not llada"),
    (["law", "--sampler", "remdm", "--gamma", "0.1"], "--gamma applies to entropy_bound only"),
    (["law", "--sampler", "llada", "--cfg-scale", "-1"], "cfg_scale must be a finite number >= 0"),
    (["law", "--sampler", "llada", "--logits-eos-inf", "--eos", "3"], "eos=3 is not a token id"),
    (["law", "--sampler", "remdm", "--eta", "2"], "eta"),
    (["law", "--sampler", "remdm", "--conf-sigma", "cap"], "conf_sigma applies to remasking='conf' only"),
    (["law", "--sampler", "llada", "--conf-sigma", "cap"], "--conf-sigma applies to remdm only"),
    (["law", "--sampler", "llada", "--editing-threshold", "0.5"],
     "--editing-threshold applies to llada2, block_refinement_uniform only, not llada"),
    (["law", "--sampler", "dream", "--threshold", "0.5"], "owners: threshold, not dream"),
    (["law", "--sampler", "llada2", "--block-length", "3"], "does not divide"),
    (["law", "--sampler", "llada2", "--minimal-topk", "0"], "minimal_topk"),
    (["law", "--sampler", "llada2", "--threshold", "-0.1"], "threshold"),
    (["law", "--sampler", "entropy_bound", "--gamma", "-1"], "gamma must be a finite number >= 0"),
    (["law", "--prompt", "0 X M M"], "--prompt"),
    (["law", "--data", "/nonexistent.npy"], "cannot read"),
    (["law", "--sampler", "fixed_order"], "fixed_order needs --sets"),
    (["law", "--sampler", "llada", "--top-p", "0.9"], "owners: top_p, not llada"),
    (["law", "--sampler", "threshold", "--alg-temp", "0.5", "--top-k", "2"],
     "--top-k, --alg-temp apply to dream, low_confidence only"),
    (["law", "--sampler", "llada", "--cache"], "--cache applies to ancestral only"),
    (["law", "--sampler", "llada", "--grid", "float64"], "--grid applies to ancestral, dream, remdm only, not llada"),
    (["law", "--sampler", "ancestral", "--tie", "random"], "owners: tie, not ancestral"),
    (["law", "--sampler", "remdm", "--precision", "bfloat16"],
     "--precision applies to ancestral, llada, dream, threshold, factor, entropy_bound, llada2 only, not remdm"),
    (["frontier", "--prompt", "1 0 2 1"], "nothing to decode"),
    (["law", "--sampler", "factor", "--factor", "0"], "factor must be a finite number > 0"),
    (["law", "--sampler", "dream", "--top-p", "1.5"], "top_p must lie in (0, 1]"),
])
def test_law_command_errors_are_one_line(capsys, argv, needle):
    if needle.startswith("owners: "):  # the families with that field, in the registries' order (they grow)
        from refimpl.samplers.uniform_registry import UNIFORM_FAMILIES

        name, other = needle[len("owners: "):].split(", not ")
        owners = [f.name for f in [*refimpl.samplers.FAMILIES.values(), *UNIFORM_FAMILIES.values()]
                  if name in {x.name for x in dataclasses.fields(f.cls)}]
        needle = f"--{name.replace('_', '-')} applies to {', '.join(owners)} only, not {other}"
    code = main(argv, out=io.StringIO())
    err = capsys.readouterr().err
    assert code == 2 and needle in err and err.strip().count("\n") == 0


@pytest.mark.parametrize("content, vocab, needle", [
    ("A B C\nA B\n", None, "line 2 has 2 tokens but line 1 has 3"),
    ("A B C\n\nA B Z\n", "A B C D", "line 3: token 'Z' is not in the vocabulary A B C D"),
    ("", None, "holds no sequences"),
    ("\n  \n", None, "holds no sequences"),
])
def test_train_names_the_bad_line_of_a_data_file(tmp_path, capsys, content, vocab, needle):
    path = tmp_path / "data.txt"
    path.write_text(content)
    argv = ["train", "--data-file", str(path), "--steps", "1"] + (["--vocab", vocab] if vocab else [])
    code = main(argv, out=io.StringIO())
    err = capsys.readouterr().err
    assert code == 2 and needle in err and err.strip().count("\n") == 0


def test_train_then_law_with_the_checkpoint(tmp_path):
    data = tmp_path / "data.txt"
    data.write_text("A B C\nA B D\nC D C\n")
    model = tmp_path / "model.npz"
    code, text = run(["train", "--data-file", str(data), "--steps", "300", "--out", str(model), "--json"])
    assert code == 0 and model.exists()
    findings = json.loads(text)["reports"][0]["findings"]
    assert findings["entropy_of_data_law"] == pytest.approx(np.log(3))
    assert findings["nelbo_gap"] >= -1e-12
    code, text = run(["law", "--data-file", str(data), "--denoiser", str(model), "--sampler", "left_to_right",
                      "--json"])
    assert code == 0
    from refimpl import samplers
    from refimpl.laws import datasets
    from refimpl.models import checkpoint

    law = datasets.empirical([[0, 1, 2], [0, 1, 3], [2, 3, 2]], vocab_size=4)
    q = refimpl.exact_law(checkpoint.load(model)[0], samplers.LeftToRight(), 3, 4)
    assert json.loads(text)["reports"][0]["findings"]["kl_p_q"] == pytest.approx(refimpl.kl(law, q), abs=1e-12)


def test_law_with_a_data_file_reads_token_names_in_the_prompt_and_prints_them(tmp_path):
    data = tmp_path / "data.txt"
    data.write_text("A B C\nA B D\nC D C\n")
    code, text = run(["law", "--data-file", str(data), "--sampler", "llada", "--steps", "1", "--temperature", "1",
                      "--prompt", "A M M", "--json"])
    assert code == 0
    report = json.loads(text)["reports"][0]
    # given A first, the data has A B C and A B D: position 2 is B for sure, so one parallel step is exact
    assert abs(report["findings"]["kl_p_q"]) < 1e-12
    assert all(row[0].startswith("A ") for row in report["tables"][-1]["rows"] if row[1] > 0)
