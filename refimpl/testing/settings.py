"""The Monte Carlo scale of refimpl.testing's sampling assertions: 1 by default; the pytest option
``--refimpl-mc-scale`` or the environment variable ``REFIMPL_MC_SCALE`` raises it (nightly runs).  And the seed a
sampling assertion uses when its caller gives none: inside pytest (the plugin) each test's own, from its node id
plus ``--refimpl-seed``, a fresh one for each such call in the test; outside pytest 0, as before."""
import os
import zlib

import numpy as np

from ..core.errors import InvalidParameterError

ENVIRONMENT = "REFIMPL_MC_SCALE"
_scale = None  # set by set_scale (the plugin); None: read the environment


def _parse(value, where):
    try:
        scale = float(value)
    except (TypeError, ValueError):
        scale = float("nan")
    if not (scale > 0 and scale < float("inf")):
        raise InvalidParameterError(f"the Monte Carlo scale ({where}) must be a number > 0, got {value!r}")
    return scale


def set_scale(value: float | None) -> None:
    """Multiply every default Monte Carlo size by ``value`` (None: back to the environment's, or 1).

    Parameters
    ----------
    value : float or None
        The scale (None: the environment's).

    Examples
    --------
    >>> import refimpl.testing as rt
    >>> rt.set_scale(10); rt.monte_carlo_size(2000)
    20000
    >>> rt.set_scale(None)
    """
    global _scale
    _scale = None if value is None else _parse(value, "set_scale")


def scale() -> float:
    """The current Monte Carlo scale.

    Returns
    -------
    float

    Examples
    --------
    >>> import refimpl.testing as rt
    >>> rt.scale()                                           # without --refimpl-mc-scale or REFIMPL_MC_SCALE
    1.0
    """
    if _scale is not None:
        return _scale
    value = os.environ.get(ENVIRONMENT)
    return 1.0 if value in (None, "") else _parse(value, ENVIRONMENT)


def monte_carlo_size(base: int) -> int:
    """``base`` samples times the scale, at least 1.

    Parameters
    ----------
    base : int
        The sample size at scale 1.

    Returns
    -------
    int

    Examples
    --------
    >>> import refimpl.testing as rt
    >>> rt.monte_carlo_size(20000)
    20000
    """
    return max(1, int(round(base * scale())))


_test = None  # (the running test's base seed, how many seedless draws it has made), set by the plugin


def node_seed(nodeid: str, offset: int = 0) -> int:
    """The base seed of the test ``nodeid``: crc32 of the node id plus ``offset`` (``--refimpl-seed``), mod 2**32 —
    the seed of the ``refimpl_rng`` fixture."""
    return (zlib.crc32(nodeid.encode()) + int(offset)) % 2**32


def start_test(base: "int | None") -> None:
    """The plugin's hook: a test with base seed ``base`` starts (None: it ended)."""
    global _test
    _test = None if base is None else [int(base), 0]


def next_seed() -> int:
    """The seed for a sampling assertion called without one: in a test run by the plugin, the k-th such call of
    the test (k = 0, 1, ...) gets ``SeedSequence([base, k])``'s first word, so that two tests, or two calls in
    one test, draw different streams and ``--refimpl-seed`` re-rolls them all; outside pytest, 0.

    Returns
    -------
    int

    Examples
    --------
    >>> import refimpl.testing as rt
    >>> seed = rt.next_seed()          # 0 outside pytest; under pytest (as here, in refimpl's suite) the test's own
    >>> 0 <= seed < 2**32
    True
    """
    if _test is None:
        return 0
    base, count = _test
    _test[1] += 1
    return int(np.random.SeedSequence([base, count]).generate_state(1, np.uint32)[0])
