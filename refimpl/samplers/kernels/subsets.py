r"""The outcomes of steps that reveal a k-subset of the candidates: which (subset, tokens) pairs can
happen and — for a confidence ranking — their exact probabilities.

Used by :class:`refimpl.samplers.steps.UniformKStep` (uniform subsets), ``TopKStep`` (the k most
confident: LLaDA low_confidence, Dream's confidence algorithms; or k drawn by confidence,
:func:`plackett_luce_reveals`, for Dream's alg_temp), ``ThresholdStep`` (Fast-dLLM's fallback to the most
confident one) and ``FactorStep`` (Fast-dLLM's factor rule: :func:`top_k_reveals` with ``left_out``,
:func:`grid_sum`).  The exact laws are proved in proofs/confidence_rules.md.
Arrays of candidates' rows are (e, V, S): e candidates (in
increasing position), V tokens, S sources (last and long — the sources of many mask patterns side
by side — so that array operations run along it).  Outcome laws are (n_sub, V**k, S): subsets in
:func:`subset_grid` order, tokens in ``value_grid`` order (the first slot most significant).
"""
import itertools

import numpy as np
from scipy.special import comb, logsumexp

from ...core.memory import check_memory
from ...core.numerics import FRESH, value_grid

LOWEST, HIGHEST, RANDOM, EXCLUDE = "lowest", "highest", "random", "exclude"
TIES = (LOWEST, HIGHEST, RANDOM)  # the tie rules of the ranking steps (or a ranking function: refimpl.samplers.kernels.ties)


def subset_grid(count, k, vocab_size):
    """``slots`` (n_sub, k): the k-subsets of ``range(count)``; ``grid`` (G, k): every token assignment."""
    combos = list(itertools.combinations(range(count), k))
    return np.array(combos, dtype=np.int64).reshape(len(combos), k), value_grid(vocab_size, k)


def _rows(rows, chosen, work, name):
    """``rows[chosen]`` — (len(chosen), V, S) — written into the workspace array ``name``."""
    out = work.scratch(name, (len(chosen),) + rows.shape[1:])
    return np.take(rows, chosen, axis=0, out=out, mode="clip")  # (indices are valid; clip skips buffering)


def grid_product(rows, slots, weight=None, work=FRESH):
    r"""(n_sub, V**k, S): :math:`w_s \prod_t \mathrm{rows}_{a_t}(x_t)` for every subset :math:`a` = ``slots[s]``
    and tokens x, from ``rows`` (e, V, S) and ``weight`` (S,) (default 1).  The result lives in ``work``
    (a :class:`refimpl.core.numerics.Workspace`; fresh by default) until its next call."""
    count, k = slots.shape
    vocab_size, sources = rows.shape[1:]
    if k == 0:
        out = work.scratch("product0", (count, 1, sources))
        out.fill(1.0)
    else:
        out = _rows(rows, slots[:, 0], work, "product0")
    if weight is not None:
        out *= weight
    for t in range(1, k):
        grown = work.scratch(f"product{t}", (count, out.shape[1], vocab_size, sources))
        np.multiply(out[:, :, None], _rows(rows, slots[:, t], work, "slot")[:, None], out=grown)
        out = grown.reshape(count, -1, sources)
    return out


def grid_sum(rows, slots):
    r"""(n_sub, V**k, S): :math:`\sum_t \mathrm{rows}_{a_t}(x_t)` over the subsets and tokens of
    :func:`grid_product` (fresh arrays) — with 0/1 rows, how many of the chosen candidates' tokens qualify."""
    count, k = slots.shape
    vocab_size, sources = rows.shape[1:]
    out = np.zeros((count, 1, sources))
    for t in range(k):
        out = (out[:, :, None] + rows[slots[:, t]][:, None]).reshape(count, -1, sources)
    return out


def mass_below(q, conf, work=FRESH, tie=LOWEST):
    r"""(e, e, V, S): ``below[j, i, v]`` :math:`= B_j(i, v) = P(\mathrm{key}_j < \mathrm{key}_i(v)) = \sum_u q_j(u)
    [\mathrm{key}_j(u) < \mathrm{key}_i(v)]` for candidates j != i (the diagonal is not written), from ``q``,
    ``conf`` (e, V, S).  Each sum runs over u in the same order for every (i, v), so a larger key never
    gets a smaller B (what :func:`top_k_reveals` relies on).

    ``tie="lowest"``: :math:`\mathrm{key}_i(v) = (\mathrm{conf}_i(v), -\mathrm{position}_i)`, on equal
    confidence the later candidate is below, so for j after i the comparison is ``<=``, before i ``<``;
    ``"highest"``: the key's second part is +position, the comparisons swapped; ``"exclude"``: ``<`` on both
    sides (a tie counts as not below: the mass of a kept set that a tie decides is left out).
    The comparisons are written as 0.0/1.0 and contracted with ``einsum`` (faster than a boolean
    mask times q, then a sum).
    """
    count, vocab_size, sources = q.shape
    below = work.scratch("below", (count, count, vocab_size, sources))
    under = work.scratch("under", (vocab_size, count, vocab_size, sources))  # u, i, v, s: 1.0 where below
    earlier, later = {LOWEST: (np.less_equal, np.less), HIGHEST: (np.less, np.less_equal),
                      EXCLUDE: (np.less, np.less)}[tie]
    for j in range(count):
        c_j = conf[j][:, None, None, :]  # (V_u, 1, 1, S)
        for others, compare in ((slice(0, j), earlier), (slice(j + 1, count), later)):
            if others.start < others.stop:  # i before j (lowest: ties put j below), i after j
                compare(c_j, conf[others], out=under[:, others], casting="unsafe")
                np.einsum("us,uivs->ivs", q[j], under[:, others], out=below[j, others])
    return below


def top_k_reveals(q, conf, slots, weight=None, work=FRESH, left_out=None, tie=LOWEST):
    r"""Exact law of (S, x_S) when every candidate draws :math:`x_i \sim q_i` and the k with the highest key
    (confidence of the drawn token, then the tie rule: lower position first by default) are kept.

    .. math::  P(S, x_S) = \prod_{i \in S} q_i(x_i) \, H_S(w), \qquad H_S(i, v) = \prod_{j \notin S} B_j(i, v),

    w the weakest chosen candidate (with its token) and :math:`B_j` from :func:`mass_below`: the kept set
    is S exactly when every other candidate's key is below the weakest kept key.  :math:`H_S` is
    nondecreasing in the key it is evaluated at (each :math:`B_j` is a sum over a growing set of
    nonnegative terms, and rounding preserves that order), so :math:`H_S(w) = \min_{i \in S} H_S(i, x_i)`
    — the same floating-point number, found with one minimum per entry instead of a comparison and a
    selection.  ``q``, ``conf`` (e, V, S) for S sources; ``slots`` (n_sub, k) from :func:`subset_grid`;
    ``weight`` (S,) multiplies each source.  ``left_out`` (e, V, S), default ``q``, is the sub-law the
    candidates left out are held to (:math:`B_j` sums it instead of :math:`q_j`): the probability that they
    draw a lower key *and* a token it allows (Fast-dLLM's factor rule: a confidence under its threshold).
    ``tie``: ``"lowest"``, ``"highest"`` position first, ``"exclude"`` (:func:`mass_below`), or ``"random"``
    (ties in a uniformly random order: :func:`top_k_random_ties`).
    Returns (n_sub, V**k, S), living in ``work`` until its next call.
    """
    count, vocab_size, sources = q.shape
    n_sub, k = slots.shape
    if k in (0, count):
        return grid_product(q, slots, weight, work)
    held = q if left_out is None else left_out
    if tie == RANDOM:
        return top_k_random_ties(q, conf, slots, weight, held)
    below = mass_below(held, conf, work, tie).reshape(count * count, vocab_size, sources)  # row j e + i
    others = np.array([[j for j in range(count) if j not in chosen] for chosen in slots.tolist()], dtype=np.int64)

    def outside(t):  # (n_sub, V, S): H_S(a_t, v) = prod_{j not in S} B_j(a_t, v)
        out = _rows(below, others[:, 0] * count + slots[:, t], work, f"outside{t}")
        for u in range(1, count - k):
            out *= _rows(below, others[:, u] * count + slots[:, t], work, "factor")
        return out

    prob = _rows(q, slots[:, 0], work, "prob0")  # (n_sub, V**t, S) over the first t slots
    if weight is not None:
        prob *= weight
    floor = outside(0)  # H_S at the weakest of the first t slots
    for t in range(1, k):
        shape = (n_sub, prob.shape[1], vocab_size, sources)
        grown = work.scratch(f"prob{t}", shape)
        np.multiply(prob[:, :, None], _rows(q, slots[:, t], work, "slot")[:, None], out=grown)
        prob = grown.reshape(n_sub, -1, sources)
        lowest = work.scratch(f"floor{t}", shape)
        np.minimum(floor[:, :, None], outside(t)[:, None], out=lowest)
        floor = lowest.reshape(n_sub, -1, sources)
    prob *= floor
    return prob


def top_k_random_ties(q, conf, slots, weight=None, held=None):
    r"""The law of :func:`top_k_reveals` when candidates of equal confidence are ranked in a uniformly random
    order (drawn independently of everything else).

    Given all draws, let m be the lowest confidence in S, :math:`t_{in}` the members of S at m and R the
    candidates left out at m: S is kept iff every other candidate is at or below m, and then with
    probability :math:`1/\binom{t_{in} + |R|}{t_{in}}` (the random order puts S's tied members first).  So
    :math:`P(S, x_S) = \prod_{i \in S} q_i(x_i) \sum_r c_r / \binom{t_{in} + r}{t_{in}}`, :math:`c_r` the
    coefficients of :math:`\prod_{j \notin S} (b_j + e_j z)`, :math:`b_j = P(\mathrm{conf}_j < m)` and
    :math:`e_j = P(\mathrm{conf}_j = m)` under ``held`` (default ``q``; see :func:`top_k_reveals`'s
    ``left_out``).  Fresh arrays, one subset at a time (for small problems; proofs/confidence_rules.md).
    """
    count, vocab_size, sources = q.shape
    n_sub, k = slots.shape
    held = q if held is None else held
    grid = value_grid(vocab_size, k)  # (V**k, k)
    out = np.empty((n_sub, len(grid), sources))
    for s, chosen in enumerate(slots.tolist()):
        conf_in = np.stack([conf[c][grid[:, t]] for t, c in enumerate(chosen)])  # (k, V**k, S)
        prob = np.prod([q[c][grid[:, t]] for t, c in enumerate(chosen)], axis=0) * (1.0 if weight is None else weight)
        lowest = conf_in.min(axis=0)  # (V**k, S)
        tied_in = (conf_in == lowest).sum(axis=0)
        coefficients = [np.ones_like(lowest)]  # of prod (b_j + e_j z), lowest power first
        for j in (j for j in range(count) if j not in chosen):
            c_j = conf[j][:, None, :]  # (V_u, 1, S)
            strict = np.einsum("us,uks->ks", held[j], (c_j < lowest[None]).astype(np.float64))
            equal = np.einsum("us,uks->ks", held[j], (c_j == lowest[None]).astype(np.float64))
            grown = [coefficients[0] * strict]
            grown += [coefficients[r] * strict + coefficients[r - 1] * equal for r in range(1, len(coefficients))]
            coefficients = grown + [coefficients[-1] * equal]
        kept = sum(c / comb(tied_in + r, tied_in) for r, c in enumerate(coefficients))
        out[s] = prob * kept
    return out


PL_BATCH = 1 << 21  # log weights (e x V**e per source) formed together by plackett_luce_reveals


def plackett_luce_reveals(q, conf, slots, position_temperature, weight=None):
    r"""Exact law of (S, x_S) when every candidate draws :math:`x_i \sim q_i` and then k of them are drawn
    without replacement with probabilities proportional to :math:`w_i = \exp(\mathrm{conf}_i(x_i) / \tau)`
    — Dream's ``alg_temp`` :math:`\tau > 0`: a softmax of the confidences, then ``torch.multinomial``
    without replacement (Plackett-Luce).

    .. math::  P(S, x_S) = \sum_{x_{\bar S}} \prod_i q_i(x_i) \sum_{\text{orders } a \text{ of } S}
               \prod_{t=1}^{k} \frac{w_{a_t}}{W_{\bar S} + w_{a_t} + \dots + w_{a_k}},

    :math:`W_{\bar S}` the weight of the candidates left out.  Each factor is formed in log space,
    :math:`\exp(\log w_{a_t} - \mathrm{logsumexp})` over the candidates not yet drawn, so no weight
    underflows to 0/0 however small :math:`\tau` is.  All :math:`V^e` draws of the e candidates are
    enumerated, :data:`PL_BATCH` entries at a time.  ``q``, ``conf`` (e, V, S); ``slots`` (n_sub, k) from
    :func:`subset_grid`; ``weight`` (S,).  Returns a fresh (n_sub, V**k, S).
    """
    count, vocab_size, sources = q.shape
    n_sub, k = slots.shape
    if k in (0, count):  # nothing or everything is chosen: no choice to weigh
        return grid_product(q, slots, weight)
    log_w = conf / position_temperature  # (e, V, S)
    if np.all(conf == conf[:, :1]):  # confidences of the position, not of the token (margin, entropy)
        out = grid_product(q, slots, weight)  # x_S independent of the choice: the order sum multiplies
        for s, chosen in enumerate(slots.tolist()):
            out[s] *= _chosen_probability(log_w[:, 0], chosen)
        return out
    draws = vocab_size ** count
    step = max(1, PL_BATCH // (count * draws))
    check_memory((2 * count + 12) * draws * min(step, sources) * 8,
                 f"the alg_temp (Plackett-Luce) law over {count} masked positions, enumerating all {draws} draws")
    grid = value_grid(vocab_size, count)  # (V**e, e): every draw, the first candidate most significant
    out = np.empty((n_sub, vocab_size ** k, sources))
    for start in range(0, sources, step):
        part = slice(start, start + step)
        drawn = log_w[np.arange(count)[:, None], grid.T, part]  # (e, V**e, s): each candidate's log weight
        prob = np.ones(drawn.shape[1:]) if weight is None else np.broadcast_to(weight[part], drawn.shape[1:]).copy()
        for i in range(count):
            prob *= q[i, grid[:, i], part]
        for s, chosen in enumerate(slots.tolist()):
            joint = (prob * _chosen_probability(drawn, chosen)).reshape((vocab_size,) * count + (-1,))
            summed = tuple(i for i in range(count) if i not in chosen)
            out[s, :, part] = joint.sum(axis=summed).reshape(vocab_size ** k, -1)
    return out


def _chosen_probability(log_w, chosen):
    """Probability that k draws without replacement, by weights exp(log_w) (e, ...), take exactly the
    candidates ``chosen``: the sum over their orders, each factor exp(log w - logsumexp of those left)."""
    left_out = logsumexp(log_w[[i for i in range(len(log_w)) if i not in chosen]], axis=0)
    total = np.zeros(log_w.shape[1:])
    for order in itertools.permutations(chosen):
        log_term = np.zeros(log_w.shape[1:])
        for t, a in enumerate(order):
            log_term += log_w[a] - logsumexp(np.concatenate([left_out[None], log_w[list(order[t:])]]), axis=0)
        total += np.exp(log_term)
    return total
