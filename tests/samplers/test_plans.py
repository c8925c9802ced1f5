"""Sampler plans follow their originals' rules (independently of the exact/Monte Carlo agreement)."""
import numpy as np
import pytest
import refimpl
from refimpl import samplers as S
from refimpl.core.float32 import linspace32
from refimpl.diffusion import schedules as sch
from refimpl.samplers.llada import transfer_counts
from refimpl.samplers.steps import FixedCount, FractionCount, IndependentStep, TopKStep, UniformKStep

from tests.helpers import engine_run, random_table

ALL = np.ones(8, dtype=bool)


def test_llada_transfer_counts_give_the_remainder_to_the_first_steps():
    # LLaDA's get_num_transfer_tokens: base = n // steps; the first n % steps steps get one more
    assert transfer_counts(10, 4) == [3, 3, 2, 2]
    assert transfer_counts(3, 5) == [1, 1, 1, 0, 0]
    assert transfer_counts(8, 4) == [2, 2, 2, 2]


def test_llada_plan_tiles_the_suffix_after_the_prompt():
    masked = np.array([False, False, True, True, True, True, True, True])  # prompt of length 2
    plan = S.LLaDA(4, block_length=3, temperature=0.5).plan(masked, ALL)
    assert len(plan) == 4 and all(isinstance(step, TopKStep) for step in plan)
    assert [step.count for step in plan] == [FixedCount(2), FixedCount(1), FixedCount(2), FixedCount(1)]
    assert plan[0].eligible == (True,) * 5 + (False,) * 3  # nothing after the current block
    assert plan[2].eligible == (True,) * 8
    assert not plan[0].tempered_confidence and plan[0].confidence == "drawn" and plan[0].temperature == 0.5
    random = S.LLaDA(2, remasking="random").plan(masked, ALL)
    assert [type(step) for step in random] == [UniformKStep, UniformKStep]


def test_dream_counts_and_grid():
    """Default: Dream's float32 grid and counts (refimpl.core.float32, checked against torch in
    tests/core/test_float32.py); ``grid="float64"``: the float64 ideal."""
    grid64, grid32 = np.linspace(1, 1e-3, 5), linspace32(1.0, 1e-3, 5)
    for grid, plan in (("float64", S.Dream(4, "maskgit_plus", 0.5, 1e-3, grid="float64").plan(ALL, ALL)),
                       ("float32", S.Dream(4, "maskgit_plus", 0.5, 1e-3).plan(ALL, ALL))):
        for i, step in enumerate(plan[:-1]):
            if grid == "float64":
                fraction = 1 - grid64[i + 1] / grid64[i]
                assert step.count == FractionCount(fraction, False) and step.count(8) == int(8 * fraction)
            else:
                fraction = np.float32(1) - grid32[i + 1] / grid32[i]
                assert step.count == FractionCount(float(fraction), False, True)
                assert step.count(8) == int(np.float32(8) * fraction)
            assert step.tempered_confidence
        assert plan[-1].count(5) == 5
    origin = S.Dream(4, "origin").plan(ALL, ALL)
    assert origin[0].reveal[0] == float(np.float32(1) - grid32[1] / grid32[0]) and origin[-1].reveal[0] == 1.0
    assert S.Dream(4, "origin", grid="float64").plan(ALL, ALL)[0].reveal[0] == 1 - grid64[1] / grid64[0]


def test_dream_counts_where_float32_and_float64_round_apart():
    # 7 (1 - 0.4/0.7) = 3 exactly: 2.9999999999999996 in float64, 3 on Dream's float32 grid
    assert 7 * (1 - 0.4 / 0.7) < 3
    assert S.Dream(3, "maskgit_plus", eps=0.1).plan(ALL, ALL)[1].count(7) == 3
    assert S.Dream(3, "maskgit_plus", eps=0.1, grid="float64").plan(ALL, ALL)[1].count(7) == 2
    torch = pytest.importorskip("torch")
    grid = torch.linspace(1, 0.1, 4)
    assert int((torch.tensor(7.0) * (1 - grid[2] / grid[1])).item()) == 3  # Dream's float32, as torch rounds it


@pytest.mark.parametrize("schedule", [sch.Linear(), sch.Cosine(), sch.LogLinear(1e-3)], ids=repr)
def test_ancestral_unmask_probabilities(schedule):
    plan = S.Ancestral(schedule, steps=4, eps=1e-3, noise_removal=True, grid="float64").plan(ALL, ALL)  # the ideal
    grid = np.linspace(1, 1e-3, 5)
    for i, step in enumerate(plan[:-1]):
        alpha_t, alpha_s = schedule.alpha(grid[i]), schedule.alpha(grid[i + 1])
        assert step.reveal[3] == pytest.approx((alpha_s - alpha_t) / (1 - alpha_t), rel=1e-12)
    assert isinstance(plan[-1], IndependentStep) and plan[-1].temperature == 0 and plan[-1].reveal[0] == 1.0


def test_threshold_plan_is_blockwise():
    plan = S.Threshold(0.8, block_length=4).plan(ALL, ALL)
    assert len(plan) == 8 and plan[0].eligible == (True,) * 4 + (False,) * 4 and plan[4].eligible == tuple(ALL.tolist())


def test_engine_counts_the_ancestral_transition_entries():
    """Every partial sequence carries mass after the first step, so a step touches (2V+1)^L entries."""
    vocab_size, length = 3, 4
    table = random_table(np.random.default_rng(0), vocab_size, length)
    stats = engine_run(refimpl.oracle_denoiser(table), S.Ancestral(steps=3), length, vocab_size).stats
    assert stats.steps == 3
    # the last step reveals everything left, so its destinations hold no mask: (2V)^L entries
    assert stats.entries == (vocab_size + 1) ** length + (2 * vocab_size + 1) ** length + (2 * vocab_size) ** length


def test_reveal_statistics_match_closed_forms():
    table = random_table(np.random.default_rng(1), 3, 4)
    oracle = refimpl.oracle_denoiser(table)
    reveals = engine_run(oracle, S.Ancestral(steps=2), 4, 3, reveals=True).reveals
    # first step from all-masked, u = 1/2 per position: every subset has probability 1/16
    assert len(reveals[0]) == 16 and all(abs(v - 1 / 16) < 1e-15 for v in reveals[0].values())
    reveals = engine_run(oracle, S.RandomK(1), 4, 3, reveals=True).reveals
    for step in reveals:
        by_pattern = {}
        for (masked, revealed), probability in step.items():
            assert len(revealed) == 1 and revealed[0] in masked
            by_pattern.setdefault(masked, []).append(probability)
        for masked, probabilities in by_pattern.items():
            assert len(probabilities) == len(masked)
            np.testing.assert_allclose(probabilities, probabilities[0], rtol=1e-12)  # uniform over masked
    assert sum(reveals[-1].values()) == pytest.approx(1.0)
