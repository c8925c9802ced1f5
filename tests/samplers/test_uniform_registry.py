"""The registry of the sampler families without a mask (issue #38): each family once, its flags on the command line
from its fields, its exact model of each kind, and ``refimpl law --sampler NAME`` printing the exact law that the
family's own ``exact_law_and_calls`` computes with that model."""
import argparse
import io
import json

import numpy as np
import pytest
import refimpl
from refimpl.cli import builders
from refimpl.cli.main import main
from refimpl.diffusion.uniform_elbo import loo_oracle
from refimpl.diffusion.uniform_oracles import time_agnostic_oracle, uniform_oracle
from refimpl.experiments.sampler_law import uniform_sampler_report
from refimpl.samplers import uniform_registry as U
from refimpl.samplers.discrete_ddim import DiscreteDDIM
from refimpl.samplers.renoise import Renoise
from refimpl.samplers.uniform_ancestral import UniformAncestral

COUPLED = refimpl.datasets.coupled_pairs().table


def parser():
    out = argparse.ArgumentParser()
    builders.add_sampler_arguments(out, uniform=True)
    return out


def test_each_family_is_registered_once_and_answers_its_exact_law_and_calls():
    classes = [entry.cls for entry in U.UNIFORM_FAMILIES.values()]
    assert len(set(classes)) == len(classes) == len(U.UNIFORM_NAMES) == 5
    for name, entry in U.UNIFORM_FAMILIES.items():
        assert U.uniform_family(name) is entry and U.uniform_family(entry.cls.__name__) is entry
        assert callable(getattr(entry.cls, "exact_law_and_calls")) and name in U.DEFAULT_MODEL
        assert not set(U.UNIFORM_NAMES) & set(refimpl.samplers.NAMES)  # one spelling per family
    with pytest.raises(refimpl.RefimplError, match="must be one of renoise"):
        U.uniform_family("gemma")


@pytest.mark.parametrize("name", U.UNIFORM_NAMES)
def test_the_command_line_reads_each_family_from_its_fields(name):
    entry = U.uniform_family(name)
    args = parser().parse_args(["--sampler", name])
    built = builders.build_sampler(args, 4)
    assert type(built) is entry.cls
    for parameter in entry.parameters():
        assert getattr(built, parameter.field) == parameter.default
    help_text = parser().format_help()
    assert all(f"--{p.flag.replace('_', '-')}" in help_text for p in entry.parameters())


def test_flags_reach_the_fields_and_foreign_flags_are_refused():
    args = parser().parse_args(["--sampler", "renoise", "--steps", "5", "--confidence-threshold", "none"])
    assert builders.build_sampler(args, 4) == Renoise(5, confidence_threshold=None)
    args = parser().parse_args(["--sampler", "uniform_ancestral", "--duo-noise-removal", "greedy", "--steps", "3"])
    assert builders.build_sampler(args, 4) == UniformAncestral(3, noise_removal="greedy")
    with pytest.raises(refimpl.RefimplError, match="--corrector-k applies to discrete_ddim only, not renoise"):
        builders.build_sampler(parser().parse_args(["--sampler", "renoise", "--corrector-k", "2"]), 4)


@pytest.mark.parametrize("sampler, kind, model", [
    (DiscreteDDIM(3, 1.0), "told", lambda s: [uniform_oracle(COUPLED, a) for a in s.alphas()]),
    (UniformAncestral(3, noise_eps=0.0), "told_loo", lambda s: [loo_oracle(COUPLED, a) for a in s.alphas()]),
    (Renoise(4), "agnostic_noised", lambda s: time_agnostic_oracle(COUPLED, target="noised")),
])
def test_each_model_kind_is_the_exact_model_built_apart(sampler, kind, model):
    law, calls = U.law_and_calls(sampler, COUPLED, kind)
    expected, expected_calls = sampler.exact_law_and_calls(model(sampler), 4, 2)
    np.testing.assert_allclose(law, expected, atol=1e-15)
    assert calls == expected_calls


def test_a_sampler_asking_one_model_cannot_be_told_the_time():
    with pytest.raises(refimpl.RefimplError, match="cannot be told the time"):
        U.model_for(Renoise(2), COUPLED, "told")
    with pytest.raises(refimpl.RefimplError, match="the model must be one of"):
        U.model_for(Renoise(2), COUPLED, "oracle")


def test_refimpl_law_prints_the_exact_law_of_a_uniform_family():
    out = io.StringIO()
    assert main(["law", "--data", "coupled", "--sampler", "renoise", "--steps", "6", "--json", "--quiet"], out=out) == 0
    found = json.loads(out.getvalue())["reports"][0]["findings"]
    law, calls = Renoise(6).exact_law_and_calls(time_agnostic_oracle(COUPLED), 4, 2)
    assert found["kl_p_q"] == pytest.approx(refimpl.kl(COUPLED, law), abs=1e-12)
    assert found["expected_model_calls"] == pytest.approx(calls, abs=1e-12)
    assert found["model"].startswith("agnostic:")


def test_with_a_prompt_the_masked_positions_are_decoded_from_the_law_given_it():
    table = refimpl.datasets.dirichlet(3, 3, np.random.default_rng(4), concentration=0.5).table
    law = refimpl.datasets.from_table(table)
    report = uniform_sampler_report(law, DiscreteDDIM(2, 1.0), "agnostic", prompt=[3, 1, 3])
    given = refimpl.conditional_law(table, [3, 1, 3])  # (positions 0 and 2 given x_1 = 1)
    part, _ = DiscreteDDIM(2, 1.0).exact_law_and_calls(time_agnostic_oracle(given), 3, 2)
    full = np.zeros((3, 3, 3))
    full[:, 1, :] = part
    target = np.zeros((3, 3, 3))
    target[:, 1, :] = given
    assert report.findings["kl_p_q"] == pytest.approx(refimpl.kl(target, full), abs=1e-12)


def test_a_mask_models_checkpoint_or_a_mask_family_model_is_refused(capsys, tmp_path):
    config = refimpl.mlp.MLPConfig(vocab_size=4, length=2, hidden=(4,))
    path = str(tmp_path / "mask.npz")
    refimpl.checkpoint.save(path, refimpl.mlp.MLP(config, refimpl.mlp.init_params(config, np.random.default_rng(0))))
    assert main(["law", "--data", "coupled", "--sampler", "renoise", "--denoiser", path, "--quiet"],
                out=io.StringIO()) == 2
    assert "is not a uniform-state model" in capsys.readouterr().err
    assert main(["law", "--data", "coupled", "--sampler", "llada", "--uniform-model", "told", "--quiet"],
                out=io.StringIO()) == 2
    assert "--uniform-model applies to the uniform-state families only" in capsys.readouterr().err
