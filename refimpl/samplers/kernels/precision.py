r"""The exact law of one token draw computed in low precision (issue #22, precision).

LLaDA draws a token as ``argmax(exp(logits) / (-log U) ** T)`` (``add_gumbel_noise``, in float64 — citing
arXiv 2409.02908, which found float32 Gumbel noise to lower the effective temperature); MDLM as
``argmax(q / (1e-10 - log(U + 1e-10)))`` (``_sample_categorical``, in the dtype of q: float32, or bfloat16
under autocast).  In float64 both are the ideal draw — q, or softmax(logits / T) — to rounding (refimpl's
laws are that ideal).  In a lower precision every quantity is rounded, and the uniform U takes finitely
many values, so the law of the argmax is a finite sum, computed here exactly:

- **The uniform.** ``torch.rand`` on the CPU (torch 2.13, measured: tests/samplers/test_precision.py):
  float64 k 2^-53; float32 k 2^-24, k = 0 .. 2^24 - 1 equally likely; float16 and bfloat16 the float32 value
  rounded to the dtype (to nearest, ties to even), a value that rounds to 1 given 0 instead — 12,300 and 1,950
  distinct values with their multiplicities (:func:`uniform_law`).
- **The other quantities.** The logits (LLaDA: the model's log-probabilities, log q — their offset, which a
  model's raw logits do not share, changes how they round) or the weights q (MDLM) are rounded to the
  precision; every operation is done as torch does it for that dtype: its exact value rounded to float32
  and then to the dtype (float16 and bfloat16: torch computes in float32 and rounds the result; a Python
  scalar is taken in float32, except as the left operand of a subtraction, where it is first rounded to the
  dtype — measured, tests/samplers/test_grids32.py).  Exact values of ``log``, ``exp`` and ``**`` are taken
  as float64 ones (correctly rounded to float32 but where the float64 value lies within 2^-29 of a
  rounding boundary; torch's own float32 ``log``/``exp`` may round differently in the last bit).
- **The argmax.** Each token's value is a nondecreasing function of its own uniform; ties go to the first
  (lowest) token, as ``torch.argmax``.  With :math:`W_v` the values over the uniform's support and
  :math:`F^{<}_u, F^{\le}_u` their distribution functions,
  :math:`P(v) = \sum_a P(W_v = a) \prod_{u < v} F^{<}_u(a) \prod_{u > v} F^{\le}_u(a)` (:func:`argmax_law`).

Cost: V arrays over the uniform's support and V(V - 1) sorted searches — 2^24 entries per token in float32
(seconds per draw: for small V), thousands in float16 and bfloat16 (benchmarks/precision.py).
"""
import functools
import itertools

import numpy as np

from ...core import validate
from ...core.errors import InvalidParameterError
from ...core.float32 import bfloat16
from ...core.memory import check_memory
from ...core.types import ArrayLike
from .subsets import _chosen_probability
from .tokens import temper

PRECISIONS = ("float64", "float32", "float16", "bfloat16")
FORMS = ("llada", "mdlm")
OFFSET = 1e-10  # MDLM's _sample_categorical: 1e-10 - log(U + 1e-10)


def rounded(x: ArrayLike, precision: str) -> np.ndarray:
    """``x`` (float64) rounded to ``precision``, to nearest with ties to even, returned as float64; bfloat16
    through float32, as torch converts a float64 value (and rounds a float32 result)."""
    x = np.asarray(x, dtype=np.float64)
    if precision == "float64":
        return x
    with np.errstate(over="ignore"):
        single = x.astype(np.float32)
        if precision == "float32":
            return single.astype(np.float64)
        if precision == "float16":
            return single.astype(np.float16).astype(np.float64)
    return bfloat16(single).astype(np.float64)


def operation(x: ArrayLike, precision: str) -> np.ndarray:
    """The result of one torch operation in ``precision`` whose exact value is ``x``: float32 for float32; for
    float16 and bfloat16 computed in float32, then rounded to the dtype."""
    return rounded(rounded(x, "float32") if precision != "float64" else x, precision)


@functools.lru_cache(maxsize=None)
def uniform_law(precision: str) -> tuple:
    """``(values, probabilities)``: the values ``torch.rand`` takes in ``precision`` on the CPU (increasing) and
    their probabilities (module docstring; float64 is the continuous ideal and has none here)."""
    validate.choice(precision, PRECISIONS[1:], "precision of the uniform noise")
    grid = np.arange(2 ** 24, dtype=np.float64) * 2.0 ** -24
    if precision == "float32":
        values, probabilities = grid, np.full(len(grid), 2.0 ** -24)
    else:
        low = rounded(grid, precision)  # nondecreasing: runs of equal values
        starts = np.flatnonzero(np.concatenate([[True], low[1:] != low[:-1]]))
        values, counts = low[starts], np.diff(np.append(starts, len(low)))
        if values[-1] == 1.0:  # torch gives 0 where the dtype rounds the float32 uniform up to 1
            counts[0] += counts[-1]
            values, counts = values[:-1], counts[:-1]
        probabilities = counts * 2.0 ** -24
    values.setflags(write=False)
    probabilities.setflags(write=False)
    return values, probabilities


def noise_values(weights: ArrayLike, temperature: float, precision: str, form: str) -> np.ndarray:
    """(V, N): each entry's value as a function of its uniform — nondecreasing along N (the uniform's support,
    :func:`uniform_law`).  ``weights``: LLaDA's logits (log-probabilities) or MDLM's q, already in
    ``precision``."""
    u, _ = uniform_law(precision)
    weights = np.asarray(weights, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if form == "llada":  # exp(logits) / (-log U) ** T
            gumbel = operation(operation(-np.log(u), precision) ** temperature, precision)
            numerator = operation(np.exp(weights), precision)
            return operation(numerator[:, None] / gumbel[None, :], precision)
        shifted = operation(u + rounded(OFFSET, "float32"), precision)  # (U + 1e-10): the scalar in float32
        norm = operation(rounded(OFFSET, precision) - operation(np.log(shifted), precision), precision)  # rsub
        return operation(weights[:, None] / norm[None, :], precision)


def argmax_law(values: ArrayLike, probabilities: ArrayLike) -> np.ndarray:
    """(V,): the law of the first argmax over entries whose values ``values`` (V, N), each row nondecreasing,
    are functions of independent uniforms with law ``probabilities`` (N,) (module docstring)."""
    if np.isnan(values).any():
        raise InvalidParameterError("the draw's values hold NaN (an infinite numerator over an infinite noise "
                                    "value: logits too large for the precision); torch.argmax would pick it")
    law = top_k_law(values, probabilities, 1)  # the first argmax is the top 1, ties to the lowest entry
    return np.array([law[(v,)] for v in range(len(values))])


def _probabilities(probs):
    """A probability vector (V,): finite, >= 0, summing to 1 within 1e-9."""
    probs = validate.as_array(probs, "probs").astype(np.float64)
    if probs.ndim != 1 or len(probs) < 1 or not np.all(np.isfinite(probs)) or np.any(probs < 0) \
            or abs(probs.sum() - 1.0) > validate.SUM_TOLERANCE:
        raise InvalidParameterError(f"probs must be a (V,) vector of probabilities summing to 1, got {probs!r}")
    return probs


def gumbel_law(probs: ArrayLike, temperature: float, precision: str, axis: int = -1) -> np.ndarray:
    """The law of LLaDA's ``add_gumbel_noise`` then ``argmax`` along ``axis`` (as Fast-dLLM and the EB-Sampler
    run inside LLaDA's loop draw), the noise in ``precision``: the ideal softmax(logits / T) in float64, else
    :func:`rows_law`."""
    if precision == "float64":
        return temper(probs, temperature, axis)
    return rows_law(probs, temperature, precision, axis)


def draw_law(probs: ArrayLike, temperature: float = 1.0, precision: str = "float64", form: str = "llada",
             values: str | None = None) -> np.ndarray:
    r"""The exact law (V,) of one token drawn from ``probs`` (V,) the way ``form`` writes it ("llada": Gumbel
    noise on the logits log q at ``temperature``; "mdlm": exponential noise on q itself, ``temperature``
    not read) with the noise in ``precision`` and the logits or weights first rounded to ``values`` (default:
    ``precision``).  ``precision="float64"``: the ideal law, q tempered (:func:`refimpl.samplers.steps.temper`),
    exactly refimpl's law of every draw (the float64 code differs from it by its 2^-53 uniform and MDLM's
    1e-10 offsets, which refimpl does not model).  Temperature 0 (LLaDA): the first argmax of the rounded logits."""
    probs = _probabilities(probs)
    temperature = validate.temperature(temperature)
    validate.choice(precision, PRECISIONS, "precision")
    validate.choice(form, FORMS, "form")
    values = precision if values is None else validate.choice(values, PRECISIONS, "values precision")
    if form == "llada" and temperature == 0:
        with np.errstate(divide="ignore"):
            logits = rounded(np.log(probs), values)
        return np.eye(len(probs))[int(np.argmax(logits))]
    if precision == "float64" and values == "float64":
        return temper(probs, temperature) if form == "llada" else probs / probs.sum()
    if precision == "float64":
        raise InvalidParameterError("rounded logits or weights need a noise precision below float64 here")
    check_memory(3 * len(probs) * len(uniform_law(precision)[0]) * 8,
                 f"the exact law of a {precision} draw over {len(probs)} tokens")
    with np.errstate(divide="ignore"):
        weights = rounded(np.log(probs) if form == "llada" else probs, values)
    weights = rounded(weights, precision)  # the code casts them to the noise's dtype
    drawn = noise_values(weights, temperature, precision, form).astype(np.float32)  # exact: float32 values
    return argmax_law(drawn, uniform_law(precision)[1])


def rows_law(probs: ArrayLike, temperature: float, precision: str, axis: int = -1) -> np.ndarray:
    """:func:`draw_law` (LLaDA's form) along ``axis`` of ``probs`` for every row — each distinct row computed
    once; rows with zeros of a masked vocabulary are left to the draw as they are."""
    moved = np.moveaxis(np.asarray(probs, dtype=np.float64), axis, -1)
    flat = moved.reshape(-1, moved.shape[-1])
    out = np.empty_like(flat)
    seen = {}
    for r, row in enumerate(flat):
        key = row.tobytes()
        if key not in seen:
            seen[key] = draw_law(row / row.sum(), temperature, precision, "llada")
        out[r] = seen[key]
    return np.moveaxis(out.reshape(moved.shape), -1, axis)


def categorical_law(weights: ArrayLike, precision: str) -> np.ndarray:
    """(V,): the exact law of MDLM's ``_sample_categorical`` over ``weights`` (V,) — its q, not normalised,
    held in ``precision`` (rounded to it here) — drawn in ``precision`` (float64: q normalised, the ideal)."""
    weights = np.asarray(weights, dtype=np.float64)
    if np.any(weights < 0) or not np.any(weights > 0) or not np.all(np.isfinite(weights)):
        raise InvalidParameterError(f"MDLM's categorical needs finite weights >= 0, not all 0, got {weights!r}")
    validate.choice(precision, PRECISIONS, "precision")
    if precision == "float64":
        return weights / weights.sum()
    held = rounded(weights, precision)
    if not np.any(held > 0):
        raise InvalidParameterError(f"every weight of MDLM's categorical rounds to 0 in {precision}: {weights!r}")
    drawn = noise_values(held, 1.0, precision, "mdlm").astype(np.float32)
    return argmax_law(drawn, uniform_law(precision)[1])


def top_k_law(values: ArrayLike, probabilities: ArrayLike, k: int) -> dict:
    """{S: P(S)} over the k-subsets S (tuples, increasing) of entries whose values ``values`` (n, N), each row
    nondecreasing, are functions of independent uniforms with law ``probabilities`` (N,): the k largest kept,
    equal values ranked lowest entry first.  S is kept with its weakest member i at value a exactly when
    every other member ranks above (i, a) and every entry left out below it."""
    count = len(values)
    at_most = np.concatenate([[0.0], np.cumsum(probabilities)])  # P(W <= a) or P(W < a) by the search side
    out = {}
    for chosen in itertools.combinations(range(count), k):
        total = 0.0
        for i in chosen:
            prob = np.array(probabilities, dtype=np.float64)
            for j in range(count):
                if j == i:
                    continue
                # entry j ranks below (i, a): W_j < a, or W_j = a with j after i
                below = at_most[np.searchsorted(values[j], values[i], side="right" if j > i else "left")]
                prob *= (1.0 - below) if j in chosen else below
            total += prob.sum()
        out[chosen] = float(total)
    return out


def gumbel_top_k_law(scores: ArrayLike, k: int, precision: str, temperature: float = 1.0) -> dict:
    r"""{S: P(S)}: the law of the k entries kept by Gumbel-top-k — the k largest of ``scores / temperature +
    G``, G = -log(-log U) — with U, G and the sums in ``precision`` (the scores rounded to it; equal values:
    the lowest entry first).  In float64, the ideal: k draws without replacement with probabilities
    proportional to exp(score / temperature) (Plackett-Luce)."""
    scores = validate.as_array(scores, "scores").astype(np.float64)
    k = validate.integer(k, "k", 0)
    if scores.ndim != 1 or k > len(scores) or not np.all(np.isfinite(scores)):
        raise InvalidParameterError(f"scores must be a finite (n,) vector and k <= n, got {scores!r} and k={k}")
    temperature = validate.temperature(temperature)
    if temperature == 0:
        raise InvalidParameterError("Gumbel-top-k needs temperature > 0 (at 0 it is the plain top-k)")
    validate.choice(precision, PRECISIONS, "precision")
    if precision == "float64":
        log_w = (scores / temperature)[:, None]
        return {s: float(_chosen_probability(log_w, list(s))[0]) for s in itertools.combinations(range(len(scores)), k)}
    u, probabilities = uniform_law(precision)
    with np.errstate(divide="ignore", invalid="ignore"):
        gumbel = -operation(np.log(operation(-np.log(u), precision)), precision)  # U = 0: -inf, never kept first
    shifted = operation(rounded(scores, precision) / rounded(temperature, "float32"), precision)
    drawn = operation(shifted[:, None] + gumbel[None, :], precision).astype(np.float32)
    return top_k_law(drawn, probabilities, k)


def dream_probabilities(probs: ArrayLike, temperature: float, precision: str, axis: int = -1) -> np.ndarray:
    """Dream's ``sample_tokens`` in ``precision`` (its model's dtype): the logits (log-probabilities) rounded,
    divided by T (T > 0), and softmax in the dtype (its value rounded through float32, as torch's reduced
    softmax) — the probabilities Dream draws from (``Categorical`` normalises them; measured consistent with
    torch's draws, docs/DESIGN.md) and reads its confidences from."""
    with np.errstate(divide="ignore"):
        logits = rounded(np.log(np.asarray(probs, dtype=np.float64)), precision)
    if temperature > 0:
        logits = operation(logits / rounded(temperature, "float32"), precision)
    with np.errstate(invalid="ignore"):
        shifted = np.exp(logits - np.max(logits, axis=axis, keepdims=True))
    return operation(shifted / shifted.sum(axis=axis, keepdims=True), precision)


def dream_confidences(shaped: np.ndarray, kind: str, precision: str, axis: int = -1) -> np.ndarray:
    """Dream's confidences from its probabilities ``shaped`` held in ``precision``: the drawn token's
    probability; top-1 minus top-2 (one operation); ``sum(p * log(p + 1e-10))`` with each product rounded and
    the sum rounded once (torch accumulates a reduced-precision sum in float32)."""
    if kind == "drawn":
        return shaped
    if kind == "margin":
        top2 = np.sort(shaped, axis=axis).take([-1, -2], axis=axis)
        first, second = np.split(top2, 2, axis=axis)
        return np.broadcast_to(operation(first - second, precision), shaped.shape)
    with np.errstate(divide="ignore"):
        logs = operation(np.log(operation(shaped + rounded(OFFSET, "float32"), precision)), precision)
    products = operation(shaped * logs, precision)
    total = operation(rounded(products, "float32").sum(axis=axis, keepdims=True), precision)
    return np.broadcast_to(total, shaped.shape)
