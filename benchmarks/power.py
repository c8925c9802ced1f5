"""False alarms and power of refimpl.testing's sampling assertions (issue #36), by seeded repeated runs.

False alarms: each assertion on *correct* input — samples drawn by refimpl's own Monte Carlo (``refimpl.engine.draw``,
written independently of the exact engine), at the default size, run R times with seeds 0..R-1; the number of
failures must stay within what a binomial(R, alpha) exceeds with probability 1e-3.  Settings: a LLaDA run whose calls
are all alike (the exact test for equal counts), MDLM's cached sampler whose calls vary (the normal test), and issue
#36's degenerate case (V=2, L=4, a near point mass, Threshold(0.5, T=1), E[calls] = 1.00032, n = 5000), through
``assert_sampler_matches``, ``assert_calls_match``, ``assert_samples_match`` and ``refimpl verify``'s
``verify_sampler``.

Power: in examples/user_suite's setting (V=3, L=4, LLaDA(steps=4, block_length=2, temperature=0.3)), samples drawn
from the exact law of each usual slip (masks left by pattern), R runs each: how often ``assert_sampler_matches``
fails, and how often its message names that slip as the only one the sample fits.

Run: ``python -m benchmarks.power [--runs R]`` (default 1000; several minutes) — not part of ``python -m
benchmarks``; ``tests/testing/test_power.py``'s slow check runs it.  Results: benchmarks/results/power.json.
"""
import sys
import time
import warnings

import numpy as np
import refimpl
import refimpl.testing as rt
from refimpl import samplers
from refimpl.interop.verify import verify_sampler
from refimpl.laws import space
from refimpl.testing.slips import usual_slips
from scipy import stats
from tabulate import tabulate

from benchmarks.common import machine, smoke, write_result

ALARM_LEVEL = 1e-3  # the chance that a correct assertion's alarm count exceeds the bound


def user_suite_setting():
    law = np.random.default_rng(17).dirichlet(np.full(3 ** 4, 0.5)).reshape(3, 3, 3, 3)
    return law, rt.perturbed_oracle(law, mix=0.3, seed=1), samplers.LLaDA(4, 2, 0.3)


def degenerate_setting():
    table = np.full((2,) * 4, 1.5e-4 / 15)
    table[0, 0, 0, 0] = 1 - 1.5e-4
    return table, refimpl.oracle_denoiser(table), samplers.Threshold(0.5, temperature=1.0)


def cached_setting():
    law = refimpl.datasets.dirichlet(3, 3, np.random.default_rng(4), concentration=0.5).table
    return law, rt.perturbed_oracle(law, mix=0.2, seed=2), samplers.Ancestral(steps=4, cache=True)


def engine_sampler(sampler):
    """refimpl's own Monte Carlo of ``sampler`` as a sample_fn, with its model calls."""
    def sample_fn(denoiser, n, rng, length, vocab_size, prompt):
        out = refimpl.engine.draw(refimpl.problem(denoiser, sampler, length, vocab_size, prompt), n, rng)
        return out.sequences, out.calls
    return sample_fn


def _fails(check):
    try:
        check()
    except AssertionError as error:
        return str(error)
    return None


def false_alarms(name, check, runs, alpha):
    """Failures of ``check(seed)`` on correct input in ``runs`` seeded runs, against the binomial bound."""
    start = time.perf_counter()
    alarms = sum(_fails(lambda: check(seed)) is not None for seed in range(runs))
    bound = int(stats.binom.ppf(1 - ALARM_LEVEL, runs, alpha))
    return {"assertion": name, "runs": runs, "alpha": alpha, "alarms": alarms, "bound": bound,
            "ok": alarms <= bound, "seconds": round(time.perf_counter() - start, 1)}


def alarm_rows(runs):
    rows = []
    law, model, llada = user_suite_setting()
    for label, (table, den, sampler), n in (("LLaDA, calls all alike", (law, model, llada), None),
                                           ("MDLM cached, calls vary", cached_setting(), None),
                                           ("degenerate Threshold", degenerate_setting(), None)):
        fn = engine_sampler(sampler)
        rows.append(dict(false_alarms("assert_sampler_matches", lambda seed: rt.assert_sampler_matches(
            fn, sampler, den, table, n=n, seed=seed, blind_spots="ignore"), runs, rt.ALPHA), setting=label))
    table, den, sampler = degenerate_setting()
    job = refimpl.problem(den, sampler, 4, 2)
    rows.append(dict(false_alarms("assert_calls_match", lambda seed: rt.assert_calls_match(
        refimpl.engine.draw(job, 5000, np.random.default_rng([36, seed])).calls, sampler, den, 4, 2), runs, rt.ALPHA),
        setting="degenerate Threshold, n = 5000"))
    cells = space.clean_sequences(3, 4)
    for alpha in (rt.ALPHA, 0.05):
        rows.append(dict(false_alarms("assert_samples_match", lambda seed: rt.assert_samples_match(
            np.repeat(cells, np.random.default_rng(seed).multinomial(rt.SAMPLES, law.ravel()), axis=0), law,
            alpha=alpha), runs, alpha), setting="multinomial draws of the user-suite law"))
    fn = engine_sampler(llada)

    def verify(seed):
        report = verify_sampler(fn, llada, model, law, n=rt.SAMPLES, seed=seed)
        assert report["passed"], report
    rows.append(dict(false_alarms("verify_sampler (refimpl verify)", verify, runs, rt.ALPHA), setting="LLaDA"))
    return rows


def slip_sampler(slip, vocab_size, length):
    """Draws from a slip's exact law of outcomes; a row left masked holds masks at its pattern's positions."""
    fine = slip.patterns is not None
    probs = slip.outcomes(fine)
    clean = space.clean_sequences(vocab_size, length)

    def sample_fn(denoiser, n, rng, length_, vocab_size_, prompt):
        picks = rng.choice(len(probs), size=n, p=probs / probs.sum())
        rows = np.zeros((n, length), dtype=np.int64)
        is_clean = picks < len(clean)
        rows[is_clean] = clean[picks[is_clean]]
        bits = picks[~is_clean] - len(clean) if fine else np.full((~is_clean).sum(), 2 ** length - 1)
        rows[~is_clean] = np.where((bits[:, None] >> np.arange(length)) & 1, vocab_size, 0)
        return rows
    sample_fn.mask_logit = 0.0  # the user suite's torch model: the mask column's slip can show
    return sample_fn


def power_rows(runs):
    law, model, llada = user_suite_setting()
    slips, _ = usual_slips(llada, model, 4, 3, None, 0.0)
    correct = refimpl.exact_law(model, llada, 4, 3)
    rows = []
    for slip in slips:
        if slip.tv(correct) <= 1e-9:
            continue
        fn, detected, named = slip_sampler(slip, 3, 4), 0, 0
        for seed in range(runs):
            message = _fails(lambda: rt.assert_sampler_matches(fn, llada, model, law, seed=seed, blind_spots="ignore"))
            if message is not None:
                detected += 1
                named += f"the sample fits 1 of the usual slips of LLaDA (chi-square p > alpha = {rt.ALPHA:g}): " \
                         f"{slip.name}" in message
        rows.append({"slip": slip.name, "tv": round(slip.tv(correct), 4), "runs": runs, "detected": detected,
                     "named alone": named})
    return rows


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    runs = 5 if smoke() else int(argv[argv.index("--runs") + 1]) if "--runs" in argv else 1000
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", rt.BlindSpotWarning)
        alarms, power = alarm_rows(runs), power_rows(runs)
    print(machine())
    print(f"false alarms on correct input, {runs} seeded runs each (bound: binomial(runs, alpha) exceeds it with "
          f"probability {ALARM_LEVEL:g})")
    print(tabulate([{k: r[k] for k in ("assertion", "setting", "alpha", "alarms", "bound", "ok", "seconds")}
                    for r in alarms], headers="keys"))
    print(f"\npower against the usual slips in examples/user_suite's setting ({runs} runs each)")
    print(tabulate(power, headers="keys"))
    write_result("power", {"runs": runs, "false_alarms": alarms, "power": power})
    return 0 if all(r["ok"] for r in alarms) else 1


if __name__ == "__main__":
    sys.exit(main())
