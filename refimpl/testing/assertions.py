r"""Assertions for a user's test suite: laws close, a denoiser optimal, samples and a sampler against
refimpl's exact law, model calls against their exact expectation.  Each raises ``AssertionError`` with a
message that says what differs, where, and by how much; the sampling ones state their false-alarm rate
and the smallest deviation their sample size is sure (probability >= 0.99) to detect.

A sampler under test is a function ``sample_fn(denoiser, n, rng, length, vocab_size, prompt)`` returning
``(n, L)`` tokens, or ``(samples, calls)`` with ``calls`` (n,) the model calls each row made — the same
protocol as ``refimpl verify``.
"""
import numpy as np

from ..core import validate
from ..core.errors import InvalidParameterError
from ..core.types import ArrayLike, Denoiser, LawLike, Sampler
from ..interop.goodness import POWER, FitResult, MeanResult, chi_square_fit
from ..interop.verify import verify_denoiser
from ..laws import space
from ..laws.quantities import tv as total_variation
from ..reports.labels import sampler_label
from ..reports.tables import tokens
from .calls import check_calls, exact_setting
from .diagnosis import explain, prepare
from .outputs import draw, samples_of
from .settings import monte_carlo_size, next_seed

ALPHA = 1e-3  # default false-alarm rate of every sampling assertion
SAMPLES = 20000  # default Monte Carlo size (times the plugin's --refimpl-mc-scale)


def _alpha(alpha):
    return validate.rate(alpha, "alpha")


def _top(top):
    return validate.integer(top, "top", 1)


def _name(index, vocab_size, length, as_letters=False):
    return tokens(space.decode(int(index), vocab_size, length), as_letters=as_letters)


def assert_laws_close(actual: LawLike, expected: LawLike, atol: float = 1e-12, rtol: float = 0.0,
                      tv: float | None = None, top: int = 5) -> None:
    """Two laws over the same sequences agree: every probability within ``atol + rtol * expected``, or,
    given ``tv``, total variation at most ``tv``.  The message names the sequences that differ most.

    Parameters
    ----------
    actual, expected : array_like
        Two laws on the same space.
    atol, rtol : float
        Per-probability tolerance.
    tv : float, optional
        A total-variation tolerance instead.
    top : int
        How many sequences the message lists.

    Examples
    --------
    >>> import numpy as np, refimpl.testing as rt
    >>> rt.assert_laws_close(np.full((2, 2), 0.25), np.full((2, 2), 0.25))
    >>> rt.assert_laws_close(np.array([[0.3, 0.2], [0.25, 0.25]]), np.full((2, 2), 0.25), tv=0.05)
    """
    __tracebackhide__ = True  # pytest shows the message, not this frame
    a, e = validate.law_table(actual, "actual"), validate.law_table(expected, "expected")
    if a.shape != e.shape:
        raise InvalidParameterError(f"actual and expected live on different spaces: {a.shape} and {e.shape}")
    atol, rtol, top = validate.number(atol, "atol"), validate.number(rtol, "rtol"), _top(top)
    if not (atol >= 0 and rtol >= 0):
        raise InvalidParameterError(f"atol and rtol must be >= 0, got {atol!r}, {rtol!r}")
    distance = total_variation(a, e)
    diff = np.abs(a - e).ravel()
    if tv is None:
        limit = atol + rtol * e.ravel()
        failed = diff > limit
        if not failed.any():
            return
        verdict = (f"{int(failed.sum())} of {diff.size} probabilities differ by more than atol={atol:g} + "
                   f"rtol={rtol:g} x expected")
    else:
        tv = validate.number(tv, "tv")
        if distance <= tv:
            return
        verdict = f"TV = {distance:.6g} > tv = {tv:g}"
    vocab_size, length = a.shape[0], a.ndim
    rows = [f"  {_name(k, vocab_size, length)}: actual {a.ravel()[k]:.6g}, expected {e.ravel()[k]:.6g} "
            f"(diff {a.ravel()[k] - e.ravel()[k]:+.3g})" for k in np.argsort(-diff, kind="stable")[:top] if diff[k] > 0]
    raise AssertionError(f"laws differ: {verdict}; TV = {distance:.6g}, largest |diff| = {diff.max():.6g}.\n"
                         f"sequences that differ most:\n" + "\n".join(rows))


def assert_denoiser_optimal(denoiser: Denoiser, p: LawLike, tolerance: float = 1e-6) -> None:
    """The denoiser answers every reachable partial sequence with the conditionals of ``p`` (largest
    probability error at most ``tolerance``), and so its NELBO is H(p).  Names the worst partial sequence.

    Parameters
    ----------
    denoiser : callable
        The denoiser under test.
    p : array_like or Law
        The data law it should be optimal for.
    tolerance : float
        The largest probability error allowed.

    Examples
    --------
    >>> import refimpl, refimpl.testing as rt
    >>> p = refimpl.datasets.coupled_pairs()
    >>> rt.assert_denoiser_optimal(refimpl.oracle_denoiser(p), p)
    >>> try:
    ...     rt.assert_denoiser_optimal(rt.perturbed_oracle(p, mix=0.2), p)
    ... except AssertionError:
    ...     print("not optimal")
    not optimal
    """
    __tracebackhide__ = True  # pytest shows the message, not this frame
    report = verify_denoiser(denoiser, p, tolerance)  # (which checks the tolerance)
    if report["passed"]:
        return
    raise AssertionError(
        f"the denoiser is not optimal for the law: largest error {report['max_deviation']:.6g} > tolerance "
        f"{report['tolerance']:g} at the {report['where']}.\nNELBO {report['nelbo']:.9g} nats against H(p) = "
        f"{report['entropy']:.9g} (gap {report['nelbo_gap']:.3g}; 0 only at the oracle).")


def assert_samples_match(samples: ArrayLike, law: LawLike, alpha: float = ALPHA, top: int = 5,
                         what: str = "the samples", letters: bool = False) -> FitResult:
    """Pearson's chi-square test of ``samples`` (n, L) against an exact ``law`` at false-alarm rate
    ``alpha`` (cells of expected count < 5 pooled); any sample where the law is 0 fails at once.
    Returns the test's numbers; raises with the most over- and under-represented sequences (token ids; with
    ``letters``, A, B, ...).  Samples that are not (n, L) clean token ids — masks left, tokens out of range, the
    wrong shape or dtype — fail as well, with an AssertionError that says how (:mod:`refimpl.testing.outputs`).

    Parameters
    ----------
    samples : array_like of int
        (n, L) clean sequences.
    law : array_like
        The exact law, (V,)*L.
    alpha : float
        The false-alarm rate.
    top : int
        How many sequences the message lists.
    what : str
        What the message calls the samples.
    letters : bool
        Print tokens as letters A, B, ... instead of their ids.

    Returns
    -------
    FitResult

    Examples
    --------
    >>> import numpy as np, refimpl.testing as rt
    >>> samples = np.random.default_rng(0).integers(0, 2, size=(4000, 2))
    >>> fit = rt.assert_samples_match(samples, np.full((2, 2), 0.25))
    """
    __tracebackhide__ = True  # pytest shows the message, not this frame
    table = validate.law_table(law, "law")
    vocab_size, length = table.shape[0], table.ndim
    alpha, top = _alpha(alpha), _top(top)
    samples = samples_of(samples, vocab_size, length, what=what, as_letters=letters)
    counts = np.bincount(space.encode(samples, vocab_size), minlength=table.size)
    fit = chi_square_fit(counts, table.ravel(), alpha)
    if not fit.rejects(alpha):
        return fit
    expected = table.ravel() * fit.samples

    def row(k):
        sd = "impossible" if expected[k] == 0 else f"{fit.residuals[k]:+.1f} sd"
        return f"  {_name(k, vocab_size, length, letters)}: observed {int(counts[k])}, expected {expected[k]:.1f} ({sd})"

    over, under = ([row(k) for k in cells] for cells in fit.most_off(counts, table, top))
    why = (f"{fit.impossible} samples fall where the exact law is 0" if fit.impossible else
           f"chi-square p = {fit.p_value:.3g} <= alpha = {alpha:g}")
    raise AssertionError(
        f"{what} do not follow the exact law: {why} ({fit.samples} samples, {fit.dof + 1} cells tested; "
        f"this check fails a correct implementation with probability {alpha:g}).\n"
        f"most over-represented:\n" + "\n".join(over or ["  (none)"]) + "\n"
        "most under-represented:\n" + "\n".join(under or ["  (none)"]) + "\n"
        f"at this size the test detects any deviation of TV >= {fit.detectable_tv:.3g} on the tested cells "
        f"with probability >= {POWER}.")


def assert_sampler_matches(sample_fn, sampler: Sampler, denoiser: Denoiser, p: LawLike, n: int | None = None,
                           seed: int | None = None, prompt: ArrayLike | None = None, alpha: float = ALPHA,
                           top: int = 5, letters: bool = False, blind_spots: str = "warn") -> FitResult:
    """``sample_fn``'s samples follow refimpl's exact law for ``sampler`` with ``denoiser`` (chi-square at
    false-alarm rate ``alpha``, ``n`` samples, default 20000 x the plugin's scale, drawn with
    ``numpy.random.default_rng(seed)``, by default the test's own seed (:func:`refimpl.testing.next_seed`: node id
    plus ``--refimpl-seed`` under pytest, 0 outside; the message names it)); when ``sample_fn`` also returns its
    model calls, their mean must match the exact expectation too (:func:`assert_calls_match`, same ``alpha``).

    Parameters
    ----------
    sample_fn : callable
        ``sample_fn(denoiser, n, rng, length, vocab_size, prompt) -> (n, L)`` samples (or ``(samples, calls)``).
    sampler : object
        The refimpl sampler whose semantics it claims.
    denoiser : callable
        The denoiser to run both with.
    p : array_like or Law
        The data law (its shape gives V and L).
    n, seed, prompt, alpha, top
        Sample size, seed, prompt, false-alarm rate, sequences listed on failure.
    letters : bool
        Print tokens as letters A, B, ... instead of their ids.
    blind_spots : {"warn", "error", "ignore"}
        Before sampling, the usual slips of the sampler's family (:mod:`refimpl.testing.slips`) whose law in this
        setting is the correct one are named in a :class:`BlindSpotWarning` ("warn"), a failure ("error"), or not at
        all.  On failure the message names the slips the sample fits, a p-value each.

    Returns
    -------
    FitResult

    Examples
    --------
    >>> import numpy as np, refimpl, refimpl.testing as rt
    >>> def one_at_a_time(denoiser, n, rng, length, vocab_size, prompt):   # a user's left-to-right loop
    ...     z = np.full((n, length), vocab_size)
    ...     for i in range(length):
    ...         mu = denoiser(z)[:, i]
    ...         z[:, i] = (rng.random((n, 1)) > mu.cumsum(axis=1)).sum(axis=1)
    ...     return z
    >>> p = refimpl.datasets.coupled_pairs()
    >>> fit = rt.assert_sampler_matches(one_at_a_time, refimpl.samplers.LeftToRight(), refimpl.oracle_denoiser(p), p)
    """
    __tracebackhide__ = True  # pytest shows the message, not this frame
    table = validate.law_table(p)
    vocab_size, length = table.shape[0], table.ndim
    n = monte_carlo_size(SAMPLES) if n is None else validate.integer(n, "n", 1)
    seed = next_seed() if seed is None else validate.integer(seed, "seed", 0)
    alpha = _alpha(alpha)
    law, exact, bounds = exact_setting(denoiser, sampler, length, vocab_size, prompt)
    slips = prepare(sampler, denoiser, length, vocab_size, prompt, law, getattr(sample_fn, "mask_logit", None),
                    blind_spots)
    drawn, calls = draw(sample_fn, denoiser, n, seed, length, vocab_size, prompt)
    try:
        samples = samples_of(drawn, vocab_size, length, n, "the samples sample_fn returned", letters)
        fit = assert_samples_match(samples, law, alpha, top, letters=letters,
                                   what=f"the samples of sample_fn (as {sampler_label(sampler)}, seed {seed})")
    except AssertionError as error:
        raise AssertionError(str(error) + explain(slips, drawn, vocab_size, length, alpha, sampler)) from None
    if calls is not None:
        check_calls(calls, fit.samples, exact, bounds, alpha, sampler)
    return fit


def assert_calls_match(calls: ArrayLike, sampler: Sampler, denoiser: Denoiser, length: int, vocab_size: int,
                       prompt: ArrayLike | None = None, alpha: float = ALPHA) -> MeanResult:
    """The model calls per sequence ``calls`` (n,) of a user's loop have the exact expected mean of
    ``sampler``'s original loop (:func:`refimpl.expected_calls`), by a two-sided test conservative at ``alpha``
    whatever the law of the counts (:func:`refimpl.interop.goodness.mean_test` with the fewest and most calls the
    plan can make: the normal test and the empirical Bernstein bound must both reject; an exact test when every row made the
    same number).

    Parameters
    ----------
    calls : array_like of int
        (n,) the model calls each sequence of the user's loop made.
    sampler : object
        The refimpl sampler whose semantics the loop claims.
    denoiser : callable
        The denoiser the loop ran with.
    length, vocab_size : int
        L and V.
    prompt : array_like of int, optional
        The prompt the loop started from.
    alpha : float
        The false-alarm rate.

    Returns
    -------
    MeanResult

    Examples
    --------
    >>> import numpy as np, refimpl, refimpl.testing as rt
    >>> oracle = refimpl.oracle_denoiser(refimpl.datasets.coupled_pairs())
    >>> rt.assert_calls_match(np.full(100, 2), refimpl.samplers.LeftToRight(), oracle, 2, 4).expected
    2.0
    """
    __tracebackhide__ = True  # pytest shows the message, not this frame
    alpha = _alpha(alpha)
    _, exact, bounds = exact_setting(denoiser, sampler, length, vocab_size, prompt)
    return check_calls(calls, None, exact, bounds, alpha, sampler)
