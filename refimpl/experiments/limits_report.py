r"""What any oracle sampler can reach on a law, next to what each sampler family reaches — the report behind
``refimpl limits`` (issue #23).

The parallelism profile: per number of steps T, (a) the best step sizes for random-order decoding (their
order-averaged KL, and the KL of the mixture law that decoding actually produces), (b) the best fixed reveal
sets, (c) the best deterministic adaptive policy (:mod:`refimpl.limits`; proofs/limits.md).  The fewest steps
for KL <= epsilon under each.  Then the frontier's settings (:mod:`refimpl.experiments.frontier`, oracle,
temperature 1) each against (c) at its expected model calls: a policy of T steps makes T calls, and a mix of the best T- and
(T+1)-step policies reaches at most the straight line between their values (KL is convex), so the gap is
measured against that line at E[NFE].
"""
import math

from ..core import validate
from ..denoisers import oracle_denoiser
from ..laws import quantities
from ..limits import adaptive_optima, fewest_steps, parallelism_profile
from ..limits.profile import check_epsilon
from ..reports.tables import Report, Table
from . import figures
from .frontier import default_samplers, frontier_rows, shown

KEYS = (("(a) step sizes, order-averaged", "order_averaged_kl"), ("(a) its random-order law", "random_order_kl"),
        ("(b) fixed sets", "fixed_set_kl"), ("(c) adaptive", "adaptive_kl"))


def reachable(kls, calls: float) -> float:
    """The least KL of (c) at ``calls`` expected calls: (c) at T = calls, on the straight line between the two
    integers around it; 0 at or past L, (c) at 1 below one call."""
    length = len(kls)
    if calls >= length:
        return 0.0
    if calls <= 1:
        return float(kls[0])
    low = math.floor(calls)
    share = calls - low
    return float((1 - share) * kls[low - 1] + share * kls[low])


def limits_report(p, epsilon: float = 0.01, samplers=None, quick: bool = False, progress=None) -> Report:
    """The parallelism profile, the fewest steps for KL <= ``epsilon``, and every sampler (default: the
    frontier's, oracle, temperature 1) against the best adaptive policy at its expected calls.  ``progress(message,
    detail=False)``, if given, hears each stage (and, with ``detail=True``, each sampler done)."""
    progress = (lambda message, detail=False: None) if progress is None else progress
    table = validate.law_table(p)
    epsilon = check_epsilon(epsilon)
    vocab_size, length = table.shape[0], table.ndim
    progress("the least KL at each number of steps (a), (b), (c)")
    rows = parallelism_profile(table)
    kls = adaptive_optima(table).kls
    profile = Table("The least KL(p || q) at T steps (nats): (a) the best step sizes for random-order decoding, "
                    "(b) the best fixed reveal sets, (c) the best adaptive policy; (a)'s order-averaged KL bounds "
                    "its own law's",
                    ("T", "(a) sizes", "(a) order-averaged", "(a) random-order law", "(b) sets", "(b)", "(c)"),
                    tuple((r["steps"], " ".join(map(str, r["step_sizes"])), shown(r["order_averaged_kl"]),
                           shown(r["random_order_kl"]), " | ".join(" ".join(map(str, s)) for s in r["fixed_sets"]),
                           shown(r["fixed_set_kl"]), shown(r["adaptive_kl"])) for r in rows))
    fewest = Table(f"The fewest steps for KL(p || q) <= {epsilon:g}",
                   ("optimum", "steps", "tokens per step"),
                   tuple((name, fewest_steps(rows, epsilon, key), length / fewest_steps(rows, epsilon, key))
                         for name, key in KEYS))
    oracle = oracle_denoiser(table)
    chosen = default_samplers(length, quick=quick) if samplers is None else samplers
    placed = []
    progress(f"{len(chosen)} sampler settings against (c)")
    for row in frontier_rows(table, oracle, chosen, ties=False, progress=progress):
        best = reachable(kls, row["expected_calls"])
        placed.append((row["label"], row["expected_calls"], shown(row["kl_p_q"]), shown(best),
                       shown(row["kl_p_q"] - best)))
    placed.sort(key=lambda r: (r[1], r[2]))
    families = Table("Each sampler (oracle, temperature 1) against the best adaptive policy (c) at its expected model "
                     "calls (between integers: the straight line, which a mix of two policies reaches)",
                     ("sampler", "E[NFE]", "KL(p||q)", "(c) at E[NFE]", "gap"), tuple(placed))
    mixture_wins = [r["steps"] for r in rows if r["random_order_kl"] < r["adaptive_kl"] - 1e-12]
    return Report(
        name="limits", title="The limits of parallel decoding for this law",
        tables=(profile, fewest, families),
        findings={"vocab_size": vocab_size, "length": length, "total_correlation": quantities.total_correlation(table),
                  "dual_total_correlation": quantities.dual_total_correlation(table), "epsilon": epsilon,
                  **{f"fewest_steps_{key}": fewest_steps(rows, epsilon, key) for _, key in KEYS},
                  "random_order_beats_adaptive_at_steps": mixture_wins,
                  "largest_gap": max((r[4] for r in placed), default=0.0)},
        notes=("(a), (b), (c) are optima over deterministic plans: (c) <= (b) <= (a) (proofs/limits.md).",
               "A randomised policy can beat all three: random-order decoding's own law is a mixture and KL is "
               "convex — where it beats (c) is listed in the findings.",
               "TC(p) is what one step loses; DTC(p) is the other published dependence measure (both in nats)."))


def write_figures(report: Report, folder: str) -> "list | None":
    """The parallelism profile plot (:func:`refimpl.experiments.figures.profile_figure`); None without
    matplotlib."""
    return figures.profile_figure(report, folder)
