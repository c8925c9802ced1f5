r"""Checking another implementation against refimpl: a denoiser against the oracle, a sampler's
samples against the exact law of the semantics it claims.

Both return a plain dict (``passed``, the numbers, and what differs most) that ``refimpl verify``
prints and turns into its exit status.
"""
import dataclasses
import importlib
import sys
from typing import Callable

import numpy as np

from ..core import validate
from ..core.errors import InvalidParameterError, InvalidTypeError, RefimplError
from ..core.types import ArrayLike, Denoiser, LawLike, Sampler, ScheduleLike
from ..denoisers import CHUNK, each_chunk, evaluate, oracle_denoiser
from ..diffusion.elbo import masked_cross_entropy, nelbo
from ..diffusion.schedules import check_schedule
from ..engine import exact_law, problem, run
from ..engine.calls import call_range
from ..laws import space
from ..laws.quantities import entropy
from ..reports.tables import tokens
from ..samplers.kernels.subsets import TIES
from .goodness import chi_square_fit, counts_per_row, mean_test


def load_target(spec: str) -> Callable:
    """``module:function`` -> the callable (the current folder is importable)."""
    if ":" not in spec:
        raise InvalidParameterError(f"TARGET must look like module:function, got {spec!r}")
    module_name, _, attribute = spec.partition(":")
    if "" not in sys.path and "." not in sys.path:
        sys.path.insert(0, "")
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise InvalidParameterError(f"cannot import {module_name!r}: {error}") from None
    target = getattr(module, attribute, None)
    if not callable(target):
        raise InvalidTypeError(f"{spec} is not a callable in {module_name}")
    return target


def verify_denoiser(denoiser: Denoiser, p: LawLike, tolerance: float = 1e-6, chunk: int = CHUNK,
                    letters: bool = False) -> dict:
    r"""Exact NELBO next to H(p), and the largest deviation from the oracle over all partial sequences.

    Passes when the largest absolute difference of a probability is at most ``tolerance``.  ``where`` names the
    worst partial sequence (token ids, M for a mask; ``letters``: A, B, ...), its position (from 0) and token.
    """
    table = validate.law_table(p)
    tolerance = validate.nonnegative(validate.number(tolerance, "tolerance"), "tolerance")
    vocab_size, length = table.shape[0], table.ndim
    oracle = oracle_denoiser(table)
    worst = (-1.0, None, None)
    for index, z, theirs in each_chunk(denoiser, vocab_size, length, chunk):
        ours = oracle(z)
        reachable = oracle.lattice.ravel()[index] > 0  # p(z_C) > 0: the oracle is defined
        diff = np.where(reachable[:, None, None], np.abs(ours - theirs), 0.0)
        flat = int(np.argmax(diff))
        b, i, v = np.unravel_index(flat, diff.shape)
        if diff[b, i, v] > worst[0]:
            worst = (float(diff[b, i, v]), z[b].copy(), (int(i), int(v), float(ours[b, i, v]), float(theirs[b, i, v])))
    value, h = nelbo(denoiser, table), entropy(table)
    deviation, z, (i, v, expected, got) = worst
    where = " ".join("M" if t == vocab_size else tokens([t], as_letters=letters) for t in z)
    return {"passed": deviation <= tolerance, "nelbo": value, "entropy": h, "nelbo_gap": value - h,
            "max_deviation": deviation, "tolerance": tolerance,
            "where": f"partial sequence [{where}], position {i}, token {tokens([v], as_letters=letters)}: "
                     f"refimpl {expected:.6g}, target {got:.6g}"}


def verify_sampler(sample_fn: Callable, sampler: Sampler, denoiser: Denoiser, p: LawLike, n: int = 20000, seed: int = 0,
                   prompt: ArrayLike | None = None, alpha: float = 1e-3, top: int = 5, progress: Callable | None = None,
                   letters: bool = False) -> dict:
    r"""Chi-square test of ``sample_fn``'s samples against refimpl's exact law for ``sampler``.

    ``sample_fn(denoiser, n, rng, length, vocab_size, prompt) -> (n, L)`` is the implementation under
    test.  Passes when the p-value exceeds ``alpha`` and no sample falls where the exact law has no mass.
    A ``sample_fn`` that also counts its model calls returns ``(samples, calls)``, ``calls`` (n,) the calls
    each row made as a batch of one: their mean is then tested against the exact expectation
    (:func:`refimpl.expected_calls`) with a two-sided normal test at the same ``alpha`` — or, when every
    row made the same number, must equal it.  ``n`` >= 1, ``seed`` >= 0, ``0 < alpha < 1`` and ``top`` >= 1 are
    checked before anything is computed (a :class:`refimpl.RefimplError` otherwise): a verdict is only ever
    returned for a test that ran.  ``progress(message)``, if given, hears each stage; sequences print as token
    ids (``letters``: A, B, ...).
    """
    progress = (lambda message: None) if progress is None else progress
    n, seed = validate.integer(n, "n", 1), validate.integer(seed, "seed", 0)
    alpha, top = validate.rate(alpha, "alpha"), validate.integer(top, "top", 1)
    table = validate.law_table(p)
    vocab_size, length = table.shape[0], table.ndim
    progress(f"the exact law of {sampler!r}")
    job = problem(denoiser, sampler, length, vocab_size, prompt)
    result = run(job, ties=True)
    law, step_calls = result.finished(type(sampler).__name__), result.calls
    progress(f"drawing {n} samples from the target")
    try:
        drawn = sample_fn(denoiser, n, np.random.default_rng(seed), length, vocab_size, prompt)
    except RefimplError:
        raise
    except Exception as error:  # the implementation under test failed: report it, do not crash
        return {"passed": False, "error": f"the target raised {type(error).__name__}: {error}"}
    calls = None
    if isinstance(drawn, tuple):
        if len(drawn) != 2:
            raise InvalidParameterError(f"a sampler target returns samples or (samples, calls), got a tuple of {len(drawn)}")
        drawn, calls = drawn
    samples = validate.tokens(np.asarray(drawn), vocab_size, length, partial=False, name="target samples", ndim=2)
    counts = np.bincount(space.encode(samples, vocab_size), minlength=law.size)
    expected = law.ravel() * len(samples)
    fit = chi_square_fit(counts, law.ravel(), alpha)
    progress("the chi-square test")
    describe = lambda k: {"sequence": tokens(space.decode(int(k), vocab_size, length), as_letters=letters),  # noqa: E731
                          "observed": int(counts[k]), "expected": float(expected[k])}
    out = {"passed": not fit.rejects(alpha), "p_value": fit.p_value, "alpha": alpha, "samples": len(samples),
           "samples_where_exact_law_is_zero": fit.impossible, "detectable_tv": fit.detectable_tv}
    if calls is not None:
        out.update(_calls_test(calls, len(samples), step_calls.sum(), alpha, call_range(job)))
        out["passed"] = out["passed"] and out["calls_p_value"] > alpha
    out.update(_tie_verdicts(counts, law, result.tie_probability, sampler, denoiser, length, vocab_size, prompt,
                             alpha))
    over, under = fit.most_off(counts, law, top)
    out.update({"most_over_represented": [describe(k) for k in over],
                "most_under_represented": [describe(k) for k in under]})
    return out


def _tie_verdicts(counts, law, chance, sampler, denoiser, length, vocab_size, prompt, alpha):
    """``tie_probability`` (:func:`refimpl.tie_probability`) and, where ties decide something, the same samples
    tested against the exact law under each tie rule (and the sampler's own ranking function):
    ``tie_rule_p_values``, ``tie_rules_passing``, ``verdict_depends_on_tie_rule``."""
    out = {"tie_probability": chance}
    if chance <= 0:
        return out
    rules = list(TIES) + ([sampler.tie] if callable(sampler.tie) else [])
    p_values, passing = {}, []
    for rule in rules:
        name = rule if isinstance(rule, str) else "ranking function"
        other = law if rule is sampler.tie else exact_law(denoiser, dataclasses.replace(sampler, tie=rule), length,
                                                           vocab_size, prompt)
        fit = chi_square_fit(counts, other.ravel(), alpha)
        p_values[name] = fit.p_value
        if not fit.rejects(alpha):
            passing.append(name)
    out.update({"tie_rule_p_values": p_values, "tie_rules_passing": passing,
                "verdict_depends_on_tie_rule": 0 < len(passing) < len(rules)})
    return out


def _calls_test(calls, rows, exact, alpha, bounds):
    """The target's model calls per row against their exact expectation: mean, exact value, p-value (``bounds``: the
    fewest and most counts the plan allows, for a test conservative at alpha: :func:`mean_test`)."""
    calls = counts_per_row(calls, rows, "the target's calls", "sample")
    least, most = bounds
    test = mean_test(calls, float(exact), alpha, upper=most, lower=least)
    return {"calls_mean": test.mean, "calls_expected": test.expected, "calls_p_value": test.p_value}


def reference_losses(denoiser: Denoiser, x0: ArrayLike, z: ArrayLike, t: ArrayLike, schedule: ScheduleLike,
                     vocab_size: int) -> np.ndarray:
    r"""refimpl's per-sample continuous-time NELBO loss for a batch, to compare a training loss with:
    :math:`w(t_b) \sum_{i:\, z_{bi} = V} -\log \mu(z_b)_{i, x_0^{bi}}`, shape (B,)."""
    check_schedule(schedule)
    x0 = validate.tokens(x0, vocab_size, partial=False, name="x0", ndim=2)
    z = validate.tokens(z, vocab_size, x0.shape[1], partial=True, name="z", ndim=2)
    mu = evaluate(denoiser, z, vocab_size)
    return schedule.weight(np.asarray(t, dtype=np.float64)) * masked_cross_entropy(mu, z, x0, vocab_size)
