"""The frontier's rows of the decoding rules 2026's serving stacks ship (issue #37): every family is shown, and its
rows agree with computations that do not go through the frontier."""
import itertools

import numpy as np
import pytest
import refimpl
from refimpl import samplers
from refimpl.experiments.frontier import default_samplers, frontier_report, frontier_rows

SERVING = ("entropy_threshold", "multi_block", "joint_threshold", "hierarchy_block", "shift_confidence", "linear_spec",
           "nemotron", "low_confidence", "dllm_mdlm", "pc_sampler", "info_gain")


@pytest.mark.parametrize("quick", [False, True])
def test_every_serving_family_has_frontier_rows_at_four_positions(quick):
    shown = {samplers.family_of(s).name for s in default_samplers(4, quick=quick)}
    assert set(SERVING) <= shown


def greedy_autoregressive(table):
    """The sequence left-to-right argmax decoding of p writes (first token on ties), by summing the table."""
    prefix = ()
    for i in range(table.ndim):
        marginal = table[prefix].sum(axis=tuple(range(1, table.ndim - i)))
        prefix += (int(np.argmax(marginal)),)
    return prefix


def test_serving_rows_equal_the_exact_law_and_calls_computed_apart():
    rng = np.random.default_rng(11)
    table = rng.dirichlet(np.full(81, 0.5)).reshape((3,) * 4)
    oracle = refimpl.oracle_denoiser(table)
    chosen = [s for s in default_samplers(4, quick=True) if samplers.family_of(s).name in SERVING]
    rows = frontier_rows(table, oracle, chosen, ties=False)
    for sampler, row in zip(chosen, rows):
        q = refimpl.exact_law(oracle, sampler, 4, 3)
        assert row["expected_calls"] == pytest.approx(refimpl.expected_calls(oracle, sampler, 4, 3), abs=1e-12)
        assert row["tv"] == pytest.approx(refimpl.tv(table, q), abs=1e-12)
        assert row["tokens_per_call"] == pytest.approx(4 / row["expected_calls"])
    # LinearSpec is greedy autoregressive decoding: its row's TV is 1 - p(the greedy sequence), whatever the calls
    (spec,) = [row for sampler, row in zip(chosen, rows) if isinstance(sampler, samplers.LinearSpec)]
    assert spec["tv"] == pytest.approx(1 - table[greedy_autoregressive(table)], abs=1e-12)
    assert spec["kl_p_q"] == np.inf


def test_a_joint_threshold_row_with_one_token_per_step_on_a_product_law_is_llada_one_at_a_time_plus_a_call():
    """On a product law with distinct per-position confidences above no threshold, JointThreshold (hf) reveals one
    token per call (the oracle's marginals do not change as tokens are revealed) and then one forward that finds no
    mask and no edit above 0.99 and ends the block (LLaDA2.1's generate): calls = L + 1; and its law is LLaDA's with
    one token per step (both keep the drawn token of highest probability at temperature 1)."""
    marginals = np.array([[0.6, 0.3, 0.1], [0.5, 0.25, 0.25], [0.45, 0.35, 0.2]])
    table = np.einsum("a,b,c->abc", *marginals)
    sampler = samplers.JointThreshold(0.99, temperature=1.0, original="hf", max_post_edit_steps=2, edit_threshold=0.99)
    (row,) = frontier_rows(table, refimpl.oracle_denoiser(table), [sampler], ties=False)
    assert row["expected_calls"] == pytest.approx(3 + 1, abs=1e-12)
    one_at_a_time = refimpl.exact_law(refimpl.oracle_denoiser(table), samplers.LLaDA(3, temperature=1.0), 3, 3)
    assert row["kl_p_q"] == pytest.approx(refimpl.kl(table, one_at_a_time), abs=1e-12)
    assert row["kl_p_q"] > 0.01  # (keeping the most probable draw first is not drawing from p)


def test_the_frontier_report_marks_serving_rows_on_the_frontier_only_when_nothing_beats_them():
    rng = np.random.default_rng(5)
    table = rng.dirichlet(np.full(81, 0.5)).reshape((3,) * 4)
    report = frontier_report(table, refimpl.oracle_denoiser(table), default_samplers(4, quick=True))
    rows = report.tables[0].rows
    for (label, calls, _, kl, *_, star, _), (_, calls2, _, kl2, *_) in itertools.permutations(rows, 2):
        if star == "*" and np.isfinite(kl):
            assert not (calls2 <= calls and kl2 < kl - 1e-12) and not (calls2 < calls - 1e-12 and kl2 <= kl), label


def test_a_prompt_that_is_not_a_prefix_leaves_out_the_families_that_refuse_it():
    """The toy query [M] [M] C D [M]: the families whose blocks see only earlier ones refuse it (each is shown to),
    so the frontier's default settings leave them out — and keep them for a prefix prompt."""
    from refimpl.experiments.frontier import PREFIX_ONLY
    from refimpl.experiments.toy import query, toy_sequences

    law = refimpl.datasets.empirical(toy_sequences(), vocab_size=5)
    oracle = refimpl.oracle_denoiser(law.table)
    left_out = [s for s in default_samplers(3, 5, quick=True, prompted=True) if samplers.family_of(s).name in PREFIX_ONLY]
    assert {samplers.family_of(s).name for s in left_out} == set(PREFIX_ONLY) - {"shift_confidence"}
    for sampler in left_out:
        with pytest.raises(refimpl.RefimplError, match="prefix"):
            frontier_rows(law.table, oracle, [sampler], query(), ties=False)
    chosen = default_samplers(3, 5, quick=True, prompted=True, prefix=False)
    assert not {samplers.family_of(s).name for s in chosen} & set(PREFIX_ONLY)
    report = frontier_report(law.table, oracle, samplers=None, prompt=query())  # the default settings all run
    assert report.findings["settings"] == len(default_samplers(3, 5, prompted=True, prefix=False))
