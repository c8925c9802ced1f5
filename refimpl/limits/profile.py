"""The parallelism profile of a law (issue #23): per number of steps T, the three optima of
:mod:`refimpl.limits.optimal` and :mod:`refimpl.limits.adaptive` side by side with the KL of the law that
random-order decoding with (a)'s best step sizes actually produces, and the fewest steps for a KL budget."""
import numpy as np

from ..core import validate
from ..core.errors import InvalidParameterError
from ..core.types import LawLike
from .adaptive import adaptive_optima
from .information import subset_entropies
from .optimal import fixed_set_optima, step_size_optima
from .step_sizes import random_order_kl


def check_epsilon(epsilon: float) -> float:
    try:
        value = float(epsilon)
    except (TypeError, ValueError):
        value = float("nan")
    if not (np.isfinite(value) and value > 0):
        raise InvalidParameterError(f"epsilon must be a finite number > 0 (nats), got {epsilon!r}")
    return value


def parallelism_profile(p: LawLike, adaptive: bool = True) -> list:
    """Per T = 1 .. L: ``{"steps", "step_sizes", "order_averaged_kl", "random_order_kl", "fixed_sets",
    "fixed_set_kl", "adaptive_kl"}`` — (a) with the KL of the law its best schedule actually produces (the
    mixture over orders), (b) and (c) (``adaptive=False``: without (c))."""
    table = validate.law_table(p)
    entropies = subset_entropies(table)
    a, b = step_size_optima(table), fixed_set_optima(table, entropies)
    c = adaptive_optima(table).kls if adaptive else [None] * table.ndim
    rows = []
    for t in range(table.ndim):
        rows.append({"steps": t + 1, "step_sizes": list(a[t][1]), "order_averaged_kl": a[t][0],
                     "random_order_kl": random_order_kl(table, a[t][1]), "fixed_sets": [list(s) for s in b[t][1]],
                     "fixed_set_kl": b[t][0], "adaptive_kl": None if c[t] is None else float(c[t])})
    return rows


def fewest_steps(rows: list, epsilon: float, key: str) -> "int | None":
    """The fewest T whose ``key`` (a KL of :func:`parallelism_profile`'s rows) is at most ``epsilon``; the
    optima fall to 0 at T = L, so there is always one."""
    epsilon = check_epsilon(epsilon)
    for row in rows:
        if row[key] is not None and row[key] <= epsilon:
            return row["steps"]
    return None
