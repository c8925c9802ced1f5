"""The calls check of the sampling assertions, and the exact setting both checks read: refimpl's law, the exact
expected number of model calls, and the fewest and most calls the plan can make."""
from ..engine.calls import call_range
from ..engine.problem import problem
from ..engine.runner import run
from ..interop.goodness import POWER, mean_test
from ..reports.labels import sampler_label
from .outputs import calls_of


def exact_setting(denoiser, sampler, length, vocab_size, prompt):
    """The exact law, expected calls, and the fewest and most calls the plan can make: ``(least, most)``, the passes
    of the steps whose call is certain (always; the first step if it calls after a change: nothing is cached before
    it) and of every step."""
    job = problem(denoiser, sampler, length, vocab_size, prompt)
    result = run(job)
    return result.finished(type(sampler).__name__), result.expected_calls, call_range(job)


def check_calls(calls, rows, exact, bounds, alpha, sampler):
    __tracebackhide__ = True  # pytest shows the message, not this frame
    least, most = bounds
    calls = calls_of(calls, rows)
    test = mean_test(calls, exact, alpha, upper=most, lower=least)
    if not test.rejects(alpha):
        return test
    noise = (f"standard error {test.standard_error:.3g}, p = {test.p_value:.3g} <= alpha = {alpha:g}; at this size "
             f"the test detects a difference of {test.detectable_shift:.3g} calls with probability >= {POWER}"
             if test.standard_error > 0 else f"every sequence made the same number of calls; with at most {most} calls "
             f"per sequence, all {len(calls)} alike has probability <= {test.p_value:.3g} <= alpha = {alpha:g}")
    raise AssertionError(f"model calls per sequence: mean {test.mean:.6g} over {len(calls)} sequences, but "
                         f"{sampler_label(sampler)}'s original loop makes {exact:.6g} on average ({noise}).")
