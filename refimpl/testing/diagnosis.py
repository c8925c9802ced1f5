"""What :func:`refimpl.testing.assert_sampler_matches` says beyond "differs": before sampling, the usual slips this
setting cannot see (:class:`BlindSpotWarning`, or a failure with ``blind_spots="error"``); after a failure, which
slips the sample fits, a chi-square p-value each (:mod:`refimpl.testing.slips`)."""
import warnings

import numpy as np

from ..core import validate
from ..interop.goodness import chi_square_fit
from ..laws import space
from ..reports.labels import sampler_label
from .slips import blind_spots, usual_slips

MODES = ("warn", "error", "ignore")


class BlindSpotWarning(UserWarning):
    """A sampling assertion's setting gives one of the usual slips exactly the correct law: the test cannot see it.

    Examples
    --------
    >>> import warnings, refimpl, refimpl.testing as rt
    >>> p = refimpl.datasets.coupled_pairs()
    >>> def one_at_a_time(denoiser, n, rng, length, vocab_size, prompt):
    ...     return refimpl.sample(denoiser, rt.sampler("llada", steps=2), n, rng, length=length, vocab_size=vocab_size)
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     _ = rt.assert_sampler_matches(one_at_a_time, rt.sampler("llada", steps=2), refimpl.oracle_denoiser(p), p,
    ...                                   n=2000)
    >>> "one step too many (steps=3)" in str(caught[0].message)      # two positions, two steps: a third commits nothing
    True
    """


def prepare(sampler, denoiser, length, vocab_size, prompt, law, mask_logit, mode):
    """``found()``, the usual slips and notes for this setting (computed once, when first needed: before sampling
    unless ``mode="ignore"``), after warning (or failing, ``mode="error"``) about its blind spots."""
    __tracebackhide__ = True
    mode = validate.choice(mode, MODES, "blind_spots")
    cache = []

    def found():
        if not cache:
            cache.append(usual_slips(sampler, denoiser, length, vocab_size, prompt, mask_logit))
        return cache[0]

    if mode == "ignore":
        return found
    slips, notes = found()
    unseen = [slip.name for slip in blind_spots(slips, law)] + [n for n in notes if "cannot show" in n]
    if unseen:
        text = (f"in this setting ({sampler_label(sampler)}, V={vocab_size}, L={length}) the test cannot see "
                f"{len(unseen)} of the usual slips, whose law here is the correct one: " + "; ".join(unseen) +
                ". refimpl.testing.propose_setting finds a setting that sees them.")
        if mode == "error":
            raise AssertionError(text)
        warnings.warn(text, BlindSpotWarning, stacklevel=3)
    return found


def outcome_counts(drawn, vocab_size, length):
    """``(clean, patterns)``: counts of the clean sequences (V^L,) and of the rows left masked at each pattern of
    positions (2^L,; bit i: position i) in what a loop returned, or None when it is not a (rows, L) array of ids in
    0..V (nothing to diagnose from)."""
    try:
        array = np.asarray(drawn)
    except (TypeError, ValueError):
        return None
    if array.dtype.kind not in "iu" or array.ndim != 2 or array.shape[1] != length or not len(array):
        return None
    if ((array < 0) | (array > vocab_size)).any():
        return None
    masks = (array == vocab_size) @ (1 << np.arange(length))
    clean = np.bincount(space.encode(array[masks == 0], vocab_size), minlength=vocab_size ** length)
    return clean, np.bincount(masks, minlength=2 ** length) * (np.arange(2 ** length) > 0)


def _p_value(slip, counts, alpha):
    clean, patterns = counts
    fine = slip.patterns is not None
    observed = np.append(clean, patterns if fine else patterns.sum())
    fit = chi_square_fit(observed, slip.outcomes(fine), alpha)
    return 0.0 if fit.impossible else fit.p_value


def explain(found, drawn, vocab_size, length, alpha, sampler):
    """The lines a failure adds: each usual slip (``found()``, :func:`prepare`) with the p-value of the sample under
    it, those it fits first."""
    counts = outcome_counts(drawn, vocab_size, length)
    if counts is None:
        return ""
    slips, notes = found()
    who = type(sampler).__name__
    if not slips:
        return f"\nno usual slip of {who} to try here" + "".join(f"\n  ({note})" for note in notes)
    scored = sorted(((_p_value(slip, counts, alpha), slip.name) for slip in slips), key=lambda pair: -pair[0])
    fits = [name for p, name in scored if p > alpha]
    head = (f"\nthe sample fits {len(fits)} of the usual slips of {who} (chi-square p > alpha = {alpha:g}): "
            f"{'; '.join(fits)}" if fits else f"\nthe sample fits none of the usual slips of {who} "
            f"(each has chi-square p <= alpha = {alpha:g}): the difference is something else")
    lines = [f"  {'fits' if p > alpha else 'no  '}  p = {p:.3g}  {name}" for p, name in scored]
    return head + "\n" + "\n".join(lines) + "".join(f"\n  ({note})" for note in notes)
