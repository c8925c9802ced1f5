"""The engine's one entrance (refimpl.engine.problem, run, draw): one run gives what the views gave separately,
the tie probability from a second table beside the first equals the old two-run computation, and the views'
deprecated out-parameters still fill what they filled, with a warning."""
import dataclasses

import numpy as np
import pytest
import refimpl
from refimpl import samplers as S

from tests.helpers import random_table, sampler_law_and_denoisers

TABLE, DENOISERS = sampler_law_and_denoisers()
V, L = 3, 4
TIED = np.full((V,) * L, 1.0 / V**L)  # every confidence equal: ties decide every ranking step


@pytest.mark.parametrize("sampler", [S.LLaDA(2, temperature=1.0), S.Threshold(0.5, temperature=1.0),
                                     S.EntropyBound(0.5), S.LLaDA2(2, temperature=1.0), S.Ancestral(steps=3),
                                     S.ReMDM(3, "conf", eta=0.5), S.Dream(3, "entropy", 0.0)], ids=repr)
@pytest.mark.parametrize("which", ["oracle", "tied"])
def test_one_run_holds_the_law_the_calls_and_the_tie_probability(sampler, which):
    """The result's fields against the views, and its tie probability against the mass lost by the whole sampler
    with tie="exclude" (two runs, the sampler-level route the views used before)."""
    length = 3 if isinstance(sampler, S.ReMDM) else L
    table = TIED[(slice(None),) * length + (0,) * (L - length)] * V ** (L - length) if which == "tied" else \
        random_table(np.random.default_rng(4), V, length)
    denoiser = refimpl.oracle_denoiser(table)
    result = refimpl.run(refimpl.problem(denoiser, sampler, length, V), reveals=True, ties=True)
    np.testing.assert_array_equal(result.finished(), refimpl.exact_law(denoiser, sampler, length, V))
    np.testing.assert_array_equal(result.calls, refimpl.expected_calls(denoiser, sampler, length, V, by_step=True))
    assert result.expected_calls == refimpl.expected_calls(denoiser, sampler, length, V)
    assert len(result.reveals) == len(result.calls) == result.stats.steps
    if "tie" in {f.name for f in dataclasses.fields(sampler)}:
        excluded = refimpl.run(refimpl.problem(denoiser, dataclasses.replace(sampler, tie="exclude"), length, V)).law
        assert result.tie_probability == pytest.approx(max(result.law.sum() - excluded.sum(), 0.0), abs=1e-15)
    else:
        assert result.tie_probability == 0.0
    if which == "tied" and isinstance(sampler, (S.LLaDA, S.Dream)):
        assert result.tie_probability == pytest.approx(1.0, abs=1e-12)  # the first ranking step always meets one


def test_the_views_deprecated_out_parameters_still_fill_what_they_filled():
    denoiser, sampler = DENOISERS["random"], S.LLaDA(4, temperature=1.0)
    result = refimpl.run(refimpl.problem(denoiser, sampler, L, V), reveals=True, ties=True)
    stats, reveals, seen = refimpl.engine.EngineStats(), [], []
    with pytest.warns(DeprecationWarning) as caught:
        law = refimpl.exact_law(denoiser, sampler, L, V, stats=stats, reveals=reveals,
                                before_step=lambda step, patterns, probabilities: seen.append(probabilities.sum()))
    assert sorted(str(w.message).split("=")[0] for w in caught) == [f"exact_law({name}" for name in
                                                                     ("before_step", "reveals", "stats")]
    np.testing.assert_array_equal(law, result.law)
    assert stats == result.stats and reveals == result.reveals
    np.testing.assert_allclose(seen, 1.0, atol=1e-12)
    stats = refimpl.engine.EngineStats()
    with pytest.warns(DeprecationWarning, match="exact_law_and_calls\\(stats="):
        _, calls = refimpl.engine.exact_law_and_calls(denoiser, sampler, L, V, stats=stats)
    np.testing.assert_array_equal(calls, result.calls)
    assert stats == result.stats
    with pytest.warns(DeprecationWarning, match="law_mass"):
        assert refimpl.tie_probability(denoiser, sampler, L, V, law_mass=0.5) == result.tie_probability


def test_a_problem_is_validated_once_and_read_only():
    job = refimpl.problem(DENOISERS["oracle"], S.LLaDA(2), L, V, prompt=[1, V, V, V])
    assert job.prompt.tolist() == [1, V, V, V] and not job.prompt.flags.writeable
    assert job.masked.tolist() == [False, True, True, True] and len(job.steps) == 2 and not job.scored
    with pytest.raises(refimpl.InvalidSequenceError, match="prompt"):
        refimpl.problem(DENOISERS["oracle"], S.LLaDA(2), L, V, prompt=[1, V, V])
    with pytest.raises(refimpl.InvalidTypeError, match="plan"):
        refimpl.problem(DENOISERS["oracle"], object(), L, V)
    drawn = refimpl.engine.draw(job, 50, np.random.default_rng(0))
    assert np.all(drawn.sequences[:, 0] == 1) and drawn.calls.tolist() == [2] * 50


def test_refimpl_law_validates_its_prompt_once_plans_once_and_runs_the_engine_once(monkeypatch):
    """The walk of issue #34: ``refimpl law --sampler llada --steps 2 --prompt "0 M M M"`` (its tie probability
    included) checks the prompt once, builds LLaDA's plan once and runs the engine once."""
    import io

    from refimpl.cli.main import main
    from refimpl.core import validate
    from refimpl.engine import runner

    counted = {"prompt": 0, "plan": 0, "run": 0, "tables": 0}

    def counting(name, original, when=lambda *a, **k: True):
        def wrapper(*args, **kwargs):
            counted[name] += bool(when(*args, **kwargs))
            return original(*args, **kwargs)
        return wrapper

    is_prompt = lambda *args, **kwargs: kwargs.get("name") == "prompt"  # noqa: E731
    monkeypatch.setattr(validate, "tokens", counting("prompt", validate.tokens, is_prompt))
    monkeypatch.setattr(S.LLaDA, "plan", counting("plan", S.LLaDA.plan))
    monkeypatch.setattr(refimpl.engine, "run", counting("run", refimpl.engine.run))
    monkeypatch.setattr(runner, "_Track", counting("tables", runner._Track))
    out = io.StringIO()
    assert main(["law", "--sampler", "llada", "--steps", "2", "--prompt", "0 M M M", "--json"], out=out) == 0
    assert '"tie_probability"' in out.getvalue()
    # one run, with two tables: LLaDA's steps rank, so a second runs beside the first for the tie probability
    assert counted == {"prompt": 1, "plan": 1, "run": 1, "tables": 2}
