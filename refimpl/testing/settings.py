"""The Monte Carlo scale of refimpl.testing's sampling assertions: 1 by default; the pytest option
``--refimpl-mc-scale`` or the environment variable ``REFIMPL_MC_SCALE`` raises it (nightly runs)."""
import os

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
