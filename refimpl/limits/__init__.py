"""The limits of parallel decoding for a law (issue #23): information quantities, the information profile of
random-order decoding, the KL of step-size schedules, and the exact optima over schedules, fixed reveal
sets and adaptive policies (docs/DESIGN.md, "Limits").

Examples
--------
>>> import numpy as np, refimpl
>>> p = refimpl.datasets.coupled_pairs()
>>> profile = refimpl.limits.parallelism_profile(p)      # the least KL in T steps, per kind of policy
>>> [round(float(row["adaptive_kl"]), 4) for row in profile]   # one step loses TC = ln 2; two lose nothing
[0.6931, 0.0]
"""
from .adaptive import AdaptiveOptimum, adaptive_optima
from .information import information_curve, information_profile, subset_entropies
from .optimal import fixed_set_optima, step_size_optima
from .profile import fewest_steps, parallelism_profile
from .step_sizes import order_averaged_kl, random_order_kl, random_order_law, schedule_law_kls

__all__ = ["AdaptiveOptimum", "adaptive_optima", "information_curve", "information_profile", "subset_entropies",
           "fewest_steps", "fixed_set_optima", "parallelism_profile", "step_size_optima", "order_averaged_kl",
           "random_order_kl", "random_order_law", "schedule_law_kls"]
