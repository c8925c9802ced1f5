r"""The fewest steps any oracle sampler needs, exactly (issue #23): three optima of the KL at T steps.

(a) :func:`step_size_optima` — the best step sizes :math:`(k_1..k_T)` for random-order decoding, by the
    order-averaged KL :math:`\sum_t e(j_t, k_t)` (dynamic programming over the known count j);
(b) :func:`fixed_set_optima` — the best fixed sequence of reveal sets :math:`(S_1..S_T)`, chosen for the law
    but not for the tokens drawn: KL :math:`= \sum_t TC(X_{S_t} \mid X_{S_{<t}})` (chain rule; dynamic
    programming over the set of known positions);
(c) :func:`refimpl.limits.adaptive.adaptive_optima` — the best deterministic adaptive policy, the next set a
    function of the tokens seen (Bellman recursion over partial sequences).

Each is an optimum over deterministic plans: (a) over the averages of deterministic plans that random
orders give, (b) over non-adaptive ones, (c) over adaptive ones, so (c) <= (b) <= (a) at every T.  A
randomised policy — random-order decoding's own law, a mixture — can do better than its average and than
(c) (KL is convex): :func:`refimpl.limits.profile.parallelism_profile` reports the mixture of (a)'s best
schedule next to them.
Splitting a step never raises the KL (proofs/limits.md), so "exactly T steps" and "at most T" agree.
"""
import numpy as np

from ..core import validate
from ..core.memory import check_memory
from ..core.types import LawLike
from ..laws.lattice import lattice_bytes
from .information import information_profile, set_positions, submasks, subset_entropies


def step_size_optima(p: LawLike, profile: np.ndarray | None = None) -> list:
    """``[(kl, sizes)]`` for T = 1 .. L: (a), the least order-averaged KL of T step sizes and the sizes."""
    table = validate.law_table(p)
    length = table.ndim
    e = information_profile(table) if profile is None else profile
    best = np.full((length + 1, length + 1), np.inf)  # best[t, j]: t steps left, j known
    choice = np.zeros((length + 1, length + 1), dtype=np.int64)
    best[0, length] = 0.0
    for t in range(1, length + 1):
        for j in range(length):
            costs = [e[j, k] + best[t - 1, j + k] for k in range(1, length - j + 1)]
            k = int(np.argmin(costs))
            best[t, j], choice[t, j] = costs[k], k + 1
    out = []
    for steps in range(1, length + 1):
        sizes, known = [], 0
        for t in range(steps, 0, -1):
            sizes.append(int(choice[t, known]))
            known += sizes[-1]
        out.append((float(best[steps, 0]), tuple(sizes)))
    return out


def fixed_set_bytes(vocab_size: int, length: int) -> int:
    """The estimated memory of (b): the lattice, the entropies and the per-pair costs (3^L)."""
    return lattice_bytes(vocab_size, length) + 8 * (1 << length) * (length + 2) + 24 * 3 ** length


def fixed_set_optima(p: LawLike, entropies: np.ndarray | None = None) -> list:
    """``[(kl, sets)]`` for T = 1 .. L: (b), the least KL of T fixed reveal sets and the sets (tuples of
    positions, in order)."""
    table = validate.law_table(p)
    vocab_size, length = table.shape[0], table.ndim
    check_memory(fixed_set_bytes(vocab_size, length),
                 f"the best fixed reveal sets for V={vocab_size}, L={length} (3^{length} = {3 ** length} pairs of sets)")
    h = subset_entropies(table) if entropies is None else entropies
    full = (1 << length) - 1
    options = {}
    for known in range(full):
        subs = np.array(submasks(full & ~known), dtype=np.int64)
        singles = np.array([h[known | 1 << i] - h[known] if not known >> i & 1 else 0.0 for i in range(length)])
        bits = (subs[:, None] >> np.arange(length)[None, :]) & 1
        cost = np.maximum(0.0, bits @ singles - (h[known | subs] - h[known]))
        options[known] = (subs, cost)
    best = np.full((length + 1, full + 1), np.inf)
    choice = np.zeros((length + 1, full + 1), dtype=np.int64)
    best[0, full] = 0.0  # exactly t steps (splitting a step never raises the KL: the same optimum as "at most")
    for t in range(1, length + 1):
        for known in range(full):
            subs, cost = options[known]
            total = cost + best[t - 1, known | subs]
            a = int(np.argmin(total))
            best[t, known], choice[t, known] = total[a], subs[a]
    out = []
    for steps in range(1, length + 1):
        sets, known = [], 0
        for t in range(steps, 0, -1):
            revealed = int(choice[t, known])
            sets.append(set_positions(revealed, length))
            known |= revealed
        out.append((float(best[steps, 0]), tuple(sets)))
    return out
