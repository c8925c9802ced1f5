"""Issue #38, build 5: absorbing and uniform-state samplers side by side.  The report's numbers against laws
enumerated here apart from the samplers' engines, the verdict's rule, the command and the figure."""
import io
import itertools
import json

import numpy as np
import pytest
import refimpl
from refimpl.cli.main import main
from refimpl.diffusion.uniform_oracles import time_agnostic_oracle, uniform_oracle
from refimpl.experiments import beyond_mask
from refimpl.samplers.discrete_ddim import DiscreteDDIM

COUPLED = refimpl.datasets.coupled_pairs().table


def one_call_law(model, vocab_size, length):
    """One DiscreteDDIM step (alpha 0 -> 1 commits the draw): the mean over uniform canvases z of the product of the
    model's answers at z, summed canvas by canvas."""
    law = np.zeros((vocab_size,) * length)
    for z in itertools.product(range(vocab_size), repeat=length):
        mu = np.asarray(model(np.array([z])), dtype=np.float64)[0]
        law += np.einsum("a,b->ab", mu[0], mu[1]) / vocab_size ** length
    return law


def test_one_call_from_a_random_canvas_keeps_coupling_one_call_from_masks_cannot():
    """A model told it is at alpha = 0 ignores the canvas: one call samples the product of the marginals, the
    absorbing sampler's one-call law (KL = TC(p) = log 2 on the coupled pairs).  A model not told the time reads
    the random canvas as evidence, so its answers at different positions share the canvas: the output is a mixture
    of products, at a KL below TC(p) (Theorem 2 of proofs/uniform_step.md)."""
    told = one_call_law(uniform_oracle(COUPLED, 0.0), 4, 2)
    np.testing.assert_allclose(told, np.outer(COUPLED.sum(axis=1), COUPLED.sum(axis=0)), atol=1e-15)
    agnostic = one_call_law(time_agnostic_oracle(COUPLED), 4, 2)
    np.testing.assert_allclose(DiscreteDDIM(1, 1.0).exact_law(time_agnostic_oracle(COUPLED), 4, 2), agnostic,
                               atol=1e-14)
    assert refimpl.kl(COUPLED, agnostic) < refimpl.total_correlation(COUPLED) - 0.1
    row = beyond_mask.uniform_row(COUPLED, DiscreteDDIM(1, 1.0), "agnostic")
    assert row["kl_p_q"] == pytest.approx(refimpl.kl(COUPLED, agnostic), abs=1e-12)
    assert row["incoherent_mass"] == pytest.approx(1 - agnostic[0, 1] - agnostic[2, 3], abs=1e-12)  # not AB, CD


def test_the_verdict_keeps_the_uniform_rows_below_l_calls_that_every_absorbing_row_at_their_calls_misses():
    absorbing = [{"expected_calls": 1.0, "kl_p_q": 0.7}, {"expected_calls": 2.0, "kl_p_q": 0.1},
                 {"expected_calls": 2.5, "kl_p_q": 0.0}]
    uniform = [{"label": "a", "model": "m", "expected_calls": 1.0, "kl_p_q": 0.5},   # beats 0.7 at one call
               {"label": "b", "model": "m", "expected_calls": 2.0, "kl_p_q": 0.2},   # 0.1 is reached at two
               {"label": "c", "model": "m", "expected_calls": 0.5, "kl_p_q": 9.0},   # no absorbing row this cheap
               {"label": "d", "model": "m", "expected_calls": 3.0, "kl_p_q": 0.0}]   # not below L = 3
    assert beyond_mask.verdict(absorbing, uniform, 3) == [("a", "m", 1.0, 0.5, 0.7), ("c", "m", 0.5, 9.0, float("inf"))]


def test_the_report_on_the_coupled_pairs_holds_both_kinds_and_the_one_call_verdict():
    report = beyond_mask.beyond_mask_report(quick=True, laws=[("coupled", refimpl.datasets.coupled_pairs(), None)])
    rows, verdicts = report.tables[0].rows, report.tables[1].rows
    assert {r[1] for r in rows} == {"absorbing", "uniform"}
    assert len([r for r in rows if r[1] == "uniform"]) == len(beyond_mask.uniform_settings(2, quick=True))
    assert all(r[5] == pytest.approx(np.log(2)) for r in rows if r[1] == "absorbing" and r[4] == 1)  # TC(p)
    assert verdicts == (("coupled", "DiscreteDDIM(steps=1, temperature=1.0)", beyond_mask.MODELS["agnostic"], 1.0,
                         pytest.approx(refimpl.kl(COUPLED, one_call_law(time_agnostic_oracle(COUPLED), 4, 2))),
                         pytest.approx(np.log(2))),)


def test_the_toy_query_decodes_the_law_given_the_prompt():
    """With a prompt the uniform-state samplers decode the masked positions from p(. | prompt): a table on those."""
    (_, toy, prompt), = [law for law in beyond_mask.data_laws() if law[0].startswith("toy")]
    decoded = refimpl.conditional_law(toy.table, prompt)
    assert decoded.shape == (5, 5, 5)
    row = beyond_mask.uniform_row(decoded, DiscreteDDIM(1, 1.0), "told")
    product = np.einsum("a,b,c->abc", *(decoded.sum(axis=tuple(j for j in range(3) if j != i)) for i in range(3)))
    assert row["kl_p_q"] == pytest.approx(refimpl.kl(decoded, product), abs=1e-12)


def test_the_command_prints_the_report_and_draws_the_figure(tmp_path, monkeypatch):
    monkeypatch.setattr(beyond_mask, "data_laws", lambda: [("coupled", refimpl.datasets.coupled_pairs(), None)])
    out = io.StringIO()
    assert main(["beyond-mask", "--quick", "--json", "--quiet"], out=out) == 0
    found = json.loads(out.getvalue())["reports"][0]
    assert found["findings"] == {"coupled: uniform settings below L calls beating every absorbing one": 1}
    pytest.importorskip("matplotlib")
    report = beyond_mask.beyond_mask_report(quick=True)
    assert beyond_mask.beyond_mask_figure(report, str(tmp_path)) == [str(tmp_path / "beyond_mask.png")]
    assert (tmp_path / "beyond_mask.png").read_bytes()[:4] == b"\x89PNG"


def test_the_readme_quotes_the_one_call_numbers_computed_here():
    import pathlib
    import re

    text = pathlib.Path(__file__).resolve().parents[2].joinpath("README.md").read_text()
    kl, tc = map(float, re.search(r"\(([0-9.]+) nats against TC = ([0-9.]+) on the coupled pairs", text).groups())
    assert kl == round(refimpl.kl(COUPLED, one_call_law(time_agnostic_oracle(COUPLED), 4, 2)), 3)
    assert tc == round(refimpl.total_correlation(COUPLED), 3)


def test_the_frontier_with_uniform_rows_puts_the_one_call_mixture_on_it():
    """``refimpl frontier --uniform``: the uniform-state rows are uniform_row's numbers, and on the coupled pairs the
    one-call DiscreteDDIM with the time-agnostic model is undominated (below TC(p) at one call)."""
    from refimpl.experiments.frontier import frontier_report

    one_call = [refimpl.samplers.LLaDA(1, temperature=1.0)]
    report = frontier_report(COUPLED, refimpl.oracle_denoiser(COUPLED), samplers=one_call, uniform=True)
    rows = {row[0]: row for row in report.tables[0].rows}
    label = "DiscreteDDIM(steps=1, temperature=1.0) [agnostic model]"
    expected = beyond_mask.uniform_row(COUPLED, DiscreteDDIM(1, 1.0), "agnostic")
    assert rows[label][3] == pytest.approx(expected["kl_p_q"], abs=1e-15) and rows[label][6] == "*"
    assert rows["LLaDA(steps=1, temperature=1.0)"][6] == ""  # beaten at one call
    assert len(rows) == 1 + len(beyond_mask.uniform_settings(2))
