"""Every row of the case table (refimpl.samplers.cases): refimpl's draws against the exact law of the same plan,
and each draw's model calls against the exact expected calls — one run of the engine and one batch of draws per
row and denoiser.  The two sides are written independently (``transition`` and ``draw`` of each step)."""
import numpy as np
import pytest
import refimpl
from refimpl.reports.labels import sampler_label
from refimpl.samplers import family_of
from refimpl.samplers.cases import CASES, VOCAB_SIZE
from scipy import stats

from tests.helpers import chi_square_pvalue, sampler_law_and_denoisers

FALSE_ALARM = 1e-4  # per check (the law's chi-square, the calls' interval): about 2% for the whole table; seeded
N_SAMPLES = 20000
LAWS = {length: sampler_law_and_denoisers(length) for length in sorted({case.length for case in CASES})}


def case_id(index):
    case = CASES[index]
    prompt = "" if case.prompt is None else f" from {list(case.prompt)}"
    return f"{index}: {sampler_label(case.sampler)}{prompt} L={case.length}"


def calls_agree(counted, exact, most, alpha=FALSE_ALARM):
    """Whether the calls counted per draw agree with their exact expectation: a two-sided normal interval for the
    mean at level ``alpha`` — or, when every draw made the same number c, the bound that with probability
    1 - alpha a count other than c has probability at most 1 - alpha^(1/n), so E differs from c by at most that
    times ``most`` (the largest count the plan can make)."""
    n, spread = len(counted), counted.std(ddof=1)
    if spread == 0:
        return abs(exact - counted[0]) <= (1.0 - alpha ** (1.0 / n)) * most + 1e-12
    z = stats.norm.ppf(1 - alpha / 2)
    return abs(counted.mean() - exact) <= z * spread / np.sqrt(n)


def rows():
    """Every row's index; a family's rows after its first are ``slow`` (the suite's time: tests/tiers.py; the full
    benchmarks run them), as is the oracle's half of every row (tests/tiers.py)."""
    seen = {}
    for index, case in enumerate(CASES):
        family = family_of(case.sampler).name
        seen[family] = seen.get(family, 0) + 1
        yield pytest.param(index, id=case_id(index), marks=[pytest.mark.slow] if seen[family] > 1 else [])


@pytest.mark.parametrize("which", ["oracle", "random"])
@pytest.mark.parametrize("index", rows())
def test_draws_follow_the_exact_law_and_the_exact_calls(index, which):
    case = CASES[index]
    _, denoisers = LAWS[case.length]
    job = refimpl.engine.problem(denoisers[which], case.sampler, case.length, VOCAB_SIZE, prompt=case.prompt)
    result = refimpl.engine.run(job)
    law = result.finished()
    assert law.min() >= 0 and law.sum() == pytest.approx(1.0, abs=1e-12)
    if case.prompt is not None:  # the prompt's tokens are kept
        kept = [i for i, token in enumerate(case.prompt) if token != VOCAB_SIZE]
        assert np.moveaxis(law, kept, range(len(kept)))[tuple(case.prompt[i] for i in kept)].sum() == pytest.approx(1.0)
    drawn = refimpl.engine.draw(job, N_SAMPLES, np.random.default_rng([index, which == "random"]))
    counts = np.bincount(refimpl.space.encode(drawn.sequences, VOCAB_SIZE), minlength=law.size)
    assert chi_square_pvalue(counts, law.ravel()) > FALSE_ALARM
    most = sum(step.passes for step in job.steps)
    assert drawn.calls.max() <= most
    assert calls_agree(drawn.calls, result.expected_calls, most), (drawn.calls.mean(), result.expected_calls)
