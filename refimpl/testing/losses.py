r"""A user's training loss against refimpl's exact NELBO, with no Monte Carlo at all.

The loss under test is a callable ``loss_fn(logits, x0, z, t)`` on a batch: ``logits`` (B, L, V) float64
(the model's output; any real number, -inf allowed), ``x0`` (B, L) the clean tokens, ``z`` (B, L) the
noised tokens (mask = V), ``t`` (B,) the times.  It returns the per-sequence losses (B,), or, with
``reduction="mean"``, their mean over the batch (then it is called one row at a time).

MDLM/LLaDA-style losses are :math:`w(t) \sum_{i:\, z_i = V} -\log \mathrm{softmax}(\text{logits})_{i, x_0^i}`
per sequence (``per="sequence"``), or that divided by L (``per="token"``, LLaDA's ``/ (B * L)``).  The
check evaluates the loss on every (x0 in the support of p, mask pattern) at the nodes of a Gauss-Legendre
rule in t, rows shuffled so that a batch mixes times.  Two numbers result, both exact up to quadrature:

- pointwise, the loss against refimpl's value on every row (the logits at clean positions are random, as
  a model's are, so a sum that includes clean positions shows);
- :math:`\mathbb E[\text{loss}] = \int_0^1 \sum_{x_0, z} p(x_0)\, q_t(z \mid x_0)\, \text{loss}\, dt`
  against refimpl's exact NELBO of the same denoiser (:func:`refimpl.nelbo`; less its t = 0 term when
  alpha(0) < 1, which a continuous-time loss does not estimate): the size of the error.
"""
import numpy as np

from ..core import validate
from ..core.errors import InvalidParameterError, InvalidTypeError
from ..core.memory import check_memory
from ..core.types import Denoiser, LawLike, ScheduleLike
from ..denoisers import evaluate_rows
from ..diffusion.elbo import cross_entropy_by_mask_count, nelbo, reconstruction_weights
from ..diffusion.schedules import Linear, check_schedule
from ..laws import space
from ..reports.tables import tokens
from .denoisers import perturbed_oracle

BATCH = 4096  # rows per call of the loss under test
FIT = 1e-6  # relative spread under which a diagnosis (a constant factor, a missing weight) is said to fit


def _design(table, nodes, rng):
    """Rows (x0 index, mask pattern, node) for every support sequence, pattern and node, shuffled."""
    vocab_size, length = table.shape[0], table.ndim
    support = np.flatnonzero(table.ravel() > 0)
    patterns = space.clean_sequences(2, length).astype(bool)  # (2^L, L), True = masked
    count = len(support) * len(patterns) * nodes
    check_memory(count * length * (vocab_size + 4) * 8 * 3, f"the loss check's {count} rows")
    s, m, j = np.meshgrid(np.arange(len(support)), np.arange(len(patterns)), np.arange(nodes), indexing="ij")
    order = rng.permutation(count)
    return support, patterns, s.ravel()[order], m.ravel()[order], j.ravel()[order]


def _nodes(schedule, nodes):
    r"""Times and weights of a Gauss-Legendre rule in :math:`\alpha` (between alpha(1) and alpha(0)) mapped
    to t: :math:`dt = d\alpha / |\alpha'(t)|`.  In :math:`\alpha` the NELBO's integrand is a polynomial,
    so the rule is exact for it whatever the schedule; t is found by bisection (alpha decreases)."""
    low, high = float(schedule.alpha(np.array(1.0))), float(schedule.alpha(np.array(0.0)))
    node, weight = np.polynomial.legendre.leggauss(nodes)
    alphas = low + (high - low) * (node + 1.0) / 2.0
    t_low, t_high = np.zeros(nodes), np.ones(nodes)
    for _ in range(100):
        mid = (t_low + t_high) / 2.0
        later = schedule.alpha(mid) > alphas  # alpha still above the target: t lies later
        t_low, t_high = np.where(later, mid, t_low), np.where(later, t_high, mid)
    t = (t_low + t_high) / 2.0
    return t, weight * (high - low) / 2.0 / np.abs(schedule.dalpha(t))


def _numbers(value, what):
    try:
        return np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise InvalidParameterError(f"loss_fn must return numbers ({what}), got {type(value).__name__}") from None


def _call(loss_fn, logits, x0, z, t, reduction):
    if reduction == "mean":
        out = []
        for b in range(len(t)):
            value = _numbers(loss_fn(logits[b:b + 1], x0[b:b + 1], z[b:b + 1], t[b:b + 1]), "the batch's mean loss")
            if value.size != 1:
                raise InvalidParameterError(f"with reduction='mean', loss_fn must return one number for a batch, "
                                            f"got shape {value.shape}")
            out.append(float(value.reshape(())))
        return np.array(out)
    out = _numbers(loss_fn(logits, x0, z, t), "one loss per sequence")
    if out.shape != t.shape:
        raise InvalidParameterError(f"loss_fn must return one loss per sequence, shape {t.shape}; got shape "
                                    f"{out.shape} (a loss that averages over the batch: reduction='mean')")
    return out


def assert_loss_matches_nelbo(loss_fn, p: LawLike, schedule: ScheduleLike | None = None,
                              denoiser: Denoiser | None = None, per: str = "sequence", reduction: str = "none",
                              pointwise: bool = True, rtol: float = 1e-7, tolerance: float = 1e-6, nodes: int = 48,
                              seed: int = 0) -> dict:
    """``loss_fn`` is refimpl's continuous-time NELBO estimator for ``schedule`` (default linear):
    with ``pointwise``, every row within ``rtol``; always, its exact expectation within ``tolerance``
    nats of the exact NELBO (per token when ``per="token"``).  ``denoiser`` (default: a perturbed oracle
    of ``p``) supplies the logits at masked positions.  Returns the numbers; the message on failure gives
    the worst row, the size of the error in nats, and which common slip the numbers fit.

    Parameters
    ----------
    loss_fn : callable
        The user's loss, ``loss_fn(logits, x0, z, t) -> per-row losses`` (docs/testing.md).
    p : array_like or Law
        The data law.
    schedule : Schedule, optional
        The schedule the loss weights by (default linear).
    denoiser : callable, optional
        Supplies the logits (default: a perturbed oracle of ``p``).
    per, reduction, pointwise, rtol, tolerance, nodes, seed
        docs/testing.md.

    Returns
    -------
    dict

    Examples
    --------
    >>> import numpy as np, refimpl, refimpl.testing as rt
    >>> def mdlm_loss(logits, x0, z, t):                        # w(t) = 1/t for the linear schedule
    ...     logp = logits - np.logaddexp.reduce(logits, axis=-1, keepdims=True)
    ...     picked = np.take_along_axis(logp, x0[..., None], axis=-1)[..., 0]
    ...     return -(picked * (z == logits.shape[-1])).sum(axis=1) / t
    >>> result = rt.assert_loss_matches_nelbo(mdlm_loss, refimpl.datasets.coupled_pairs())
    """
    __tracebackhide__ = True  # pytest shows the message, not this frame
    if not callable(loss_fn):
        raise InvalidTypeError(f"loss_fn must be callable (logits, x0, z, t), got {type(loss_fn).__name__}")
    table = validate.law_table(p)
    vocab_size, length = table.shape[0], table.ndim
    schedule = check_schedule(Linear() if schedule is None else schedule)
    validate.choice(per, ("sequence", "token"), "per")
    validate.choice(reduction, ("none", "mean"), "reduction")
    validate.flag(pointwise, "pointwise")
    rtol, tolerance = validate.number(rtol, "rtol"), validate.number(tolerance, "tolerance")
    if not (rtol >= 0 and tolerance >= 0):
        raise InvalidParameterError(f"rtol and tolerance must be >= 0, got {rtol!r}, {tolerance!r}")
    nodes, seed = validate.integer(nodes, "nodes", 2), validate.integer(seed, "seed", 0)
    rng = np.random.default_rng(seed)
    denoiser = perturbed_oracle(table, 0.25, seed) if denoiser is None else denoiser
    support, patterns, s, m, j = _design(table, nodes, rng)
    x_all = space.decode(support, vocab_size, length)  # (S, L)
    z_all = np.where(patterns[None], vocab_size, x_all[:, None]).reshape(-1, length)  # (S 2^L, L)
    with np.errstate(divide="ignore"):
        log_mu = np.log(evaluate_rows(denoiser, z_all, vocab_size))  # (S 2^L, L, V)
    logits_all = np.where((z_all == vocab_size)[..., None], log_mu, rng.standard_normal(log_mu.shape))
    target = np.take_along_axis(logits_all, np.repeat(x_all, len(patterns), axis=0)[..., None], axis=-1)[..., 0]
    log_softmax = target - np.logaddexp.reduce(logits_all, axis=-1)  # (S 2^L, L): log p of the clean token
    masked_ce = -np.where(z_all == vocab_size, log_softmax, 0.0).sum(axis=1)
    clean_ce = -np.where(z_all == vocab_size, 0.0, log_softmax).sum(axis=1)

    t_nodes, node_weight = _nodes(schedule, nodes)
    alpha, weight = schedule.alpha(t_nodes), schedule.weight(t_nodes)
    cell = s * len(patterns) + m
    n_masked = patterns.sum(axis=1)[m]
    t = t_nodes[j]
    prob = table.ravel()[support][s] * alpha[j] ** (length - n_masked) * (1.0 - alpha[j]) ** n_masked * node_weight[j]
    scale = 1.0 if per == "sequence" else 1.0 / length
    reference = np.where(n_masked > 0, weight[j] * masked_ce[cell], 0.0) * scale
    yours = np.concatenate([_call(loss_fn, logits_all[cell[a:a + BATCH]], x_all[s[a:a + BATCH]],
                                  z_all[cell[a:a + BATCH]], t[a:a + BATCH], reduction)
                            for a in range(0, len(t), BATCH)])
    totals = cross_entropy_by_mask_count(denoiser, table)  # (L+1,) refimpl's exact A_k
    reconstruction = reconstruction_weights(schedule, length) * totals
    exact = (nelbo(denoiser, table, schedule) - float(reconstruction.sum())) * scale
    expected_yours = float(np.sum(prob * yours)) if np.all(np.isfinite(yours)) else float("nan")
    error = np.abs(yours - reference)
    relative = np.where(np.abs(reference) > 0, error / np.maximum(np.abs(reference), 1e-300), error)
    bad = ~(error <= rtol * np.abs(reference) + 1e-12 * scale)
    result = {"expected_loss": expected_yours, "nelbo": exact, "error": expected_yours - exact,
              "reconstruction": float(reconstruction.sum()) * scale,
              "quadrature_error": float(abs(np.sum(prob * reference) - exact)), "rows": len(t),
              "rows_that_differ": int(bad.sum()), "max_relative_error": float(np.nanmax(relative))}
    if not ((pointwise and bad.any()) or not abs(expected_yours - exact) <= tolerance):
        return result
    recon = f" (less its t = 0 term, {result['reconstruction']:.3g})" if result["reconstruction"] else ""
    worst = int(np.nanargmax(np.where(np.isfinite(relative), relative, np.inf)))
    names = "[" + " ".join("M" if v == vocab_size else str(int(v)) for v in z_all[cell[worst]]) + "]"
    lines = [f"the loss is not refimpl's NELBO estimator ({'per token' if per == 'token' else 'per sequence'}, "
             f"{type(schedule).__name__} schedule): {int(bad.sum())} of {len(t)} rows differ by more than rtol={rtol:g}.",
             f"worst row: t = {t[worst]:.4g}, x0 = [{tokens(x_all[s[worst]])}], z = {names}: yours {yours[worst]:.6g}, "
             f"refimpl {reference[worst]:.6g} (w(t) = {weight[j[worst]]:.4g} x the masked cross-entropy "
             f"{masked_ce[cell[worst]] + 0.0:.4g}{' / L' if per == 'token' else ''}).",
             f"E[your loss] = {expected_yours:.6g} nats, the exact NELBO is {exact:.6g}{recon}: error "
             f"{expected_yours - exact:+.4g} nats ({(expected_yours - exact) / exact:+.1%}); tolerance {tolerance:g}."]
    lines += _diagnoses(yours, reference, weight[j], scale, masked_ce[cell], clean_ce[cell], n_masked, length)
    raise AssertionError("\n".join(lines))


def _fits(a, b):
    keep = np.isfinite(a) & np.isfinite(b) & (np.abs(b) > 0)
    return keep.any() and bool(np.all(np.abs(a[keep] - b[keep]) <= FIT * np.abs(b[keep])))


def _diagnoses(yours, reference, weight, scale, masked_ce, clean_ce, n_masked, length):
    """The common slips whose predictions the numbers fit exactly (``weight`` = w(t) per row)."""
    found = []
    if _fits(yours, masked_ce * scale * (n_masked > 0)):
        found.append("it fits a loss without the weight w(t) (w = 1): your loss is the masked cross-entropy alone.")
    if _fits(yours, weight * scale * (masked_ce + clean_ce)):
        found.append("it fits a sum over every position: clean positions' cross-entropy is included.")
    used = n_masked > 0
    ratio = yours[used] / reference[used]
    if used.any() and np.all(np.isfinite(ratio)) and np.ptp(ratio) <= FIT * np.abs(ratio).max() and abs(ratio[0] - 1) > FIT:
        hint = " (1/L: a per-token loss; pass per='token')" if abs(ratio[0] * length - 1) < FIT else ""
        hint = " (L: a per-sequence loss; pass per='sequence')" if abs(ratio[0] - length) < FIT * length else hint
        found.append(f"it fits a constant factor {ratio[0]:.6g} x refimpl's: a normalisation{hint}.")
    per_mask = yours[used] * n_masked[used] / reference[used]
    if used.any() and np.all(np.isfinite(per_mask)) and np.ptp(per_mask) <= FIT * np.abs(per_mask).max():
        found.append("it fits a loss divided by the number of masked positions (a mean over masked tokens).")
    return found or ["it fits none of the usual slips (missing w(t), clean positions included, a constant factor, "
                     "a mean over masked tokens)."]
