r"""Masking schedules in alpha-space: :math:`\alpha(t)` = probability a token is still clean at time t.

Every schedule has ``alpha(t)``, ``dalpha(t)`` and ``weight(t)`` :math:`= -\alpha'(t) / (1 - \alpha(t))`
(the continuous-time NELBO weight), vectorised over ``t`` in [0, 1].

Translating from MDLM / SEDD, which write the schedule in sigma-space with the total noise
:math:`\bar\sigma(t)`: ``move_chance = 1 - exp(-sigma_bar(t))`` is our :math:`1 - \alpha(t)`, i.e.
:math:`\alpha(t) = e^{-\bar\sigma(t)}` and :math:`\bar\sigma(t) = -\log \alpha(t)` (``schedule.sigma(t)``);
their ``dsigma`` is :math:`-\alpha'(t)/\alpha(t)`, and their loss weight ``dsigma / expm1(sigma)`` is our
``weight(t)``.

Examples
--------
>>> import refimpl
>>> linear = refimpl.schedules.Linear()
>>> float(linear.alpha(0.25)), float(linear.weight(0.5))
(0.75, 2.0)
>>> refimpl.schedules.named("cosine")
Cosine()
"""
import dataclasses

import numpy as np

from ..core import validate
from ..core.errors import InvalidParameterError, InvalidTypeError
from ..core.types import ArrayLike, ScheduleLike

ALPHA0_TOLERANCE = 1e-3  # |alpha(0) - 1| allowed by check_schedule (Geometric's default is 1e-4 off)


def times(t: ArrayLike, name: str = "t") -> np.ndarray:
    """Validated float64 times in [0, 1] (any shape)."""
    raw = validate.as_array(t, name)
    if raw.dtype.kind not in "fiu" or raw.dtype == np.bool_:
        raise InvalidParameterError(f"{name} must be real numbers in [0, 1], got {t!r}")
    arr = raw.astype(np.float64)
    if not np.all(np.isfinite(arr)) or np.any(arr < 0) or np.any(arr > 1):
        bad = arr[~(np.isfinite(arr) & (arr >= 0) & (arr <= 1))].ravel()[0]
        raise InvalidParameterError(f"{name} must lie in [0, 1], got {bad!r}")
    return arr


class Schedule:
    r"""Shared behaviour: ``weight`` from ``alpha`` and ``dalpha``; ``sigma`` for sigma-space readers.

    Subclasses define ``alpha(t)`` and ``dalpha(t)``.
    """

    def mask_prob(self, t):
        r""":math:`1 - \alpha(t)`, MDLM's ``move_chance`` (subclasses compute it without cancellation)."""
        return 1.0 - self.alpha(t)

    def weight(self, t):
        r""":math:`w(t) = -\alpha'(t) / (1 - \alpha(t))`; ``inf`` where :math:`\alpha(t) = 1`."""
        t = times(t)
        with np.errstate(divide="ignore", invalid="ignore"):
            w = np.divide(-self.dalpha(t), self.mask_prob(t))
        return np.where(self.mask_prob(t) == 0, np.inf, w)

    def sigma(self, t):
        r"""MDLM/SEDD total noise :math:`\bar\sigma(t) = -\log \alpha(t)`."""
        with np.errstate(divide="ignore"):
            return -np.log(self.alpha(times(t)))

    def alpha_range(self):
        """``(alpha(0), alpha(1))``: the part of [0, 1] in alpha that the schedule covers."""
        return float(self.alpha(0.0)), float(self.alpha(1.0))


@dataclasses.dataclass(frozen=True)
class Linear(Schedule):
    r""":math:`\alpha(t) = 1 - t` (MD4's and LLaDA's linear schedule; :math:`w(t) = 1/t`)."""

    def alpha(self, t):
        return 1.0 - times(t)

    def dalpha(self, t):
        return np.full_like(times(t), -1.0)

    def mask_prob(self, t):
        return times(t).copy()


@dataclasses.dataclass(frozen=True)
class Cosine(Schedule):
    r""":math:`\alpha(t) = 1 - \cos(\tfrac{\pi}{2}(1 - t)) = 1 - \sin(\tfrac{\pi}{2} t)` (MD4's cosine
    schedule; written with the sine so that alpha(0) = 1 and alpha(1) = 0 exactly)."""

    def alpha(self, t):
        return 1.0 - np.sin(0.5 * np.pi * times(t))

    def dalpha(self, t):
        return -0.5 * np.pi * np.cos(0.5 * np.pi * times(t))

    def mask_prob(self, t):
        return np.sin(0.5 * np.pi * times(t))


@dataclasses.dataclass(frozen=True)
class Polynomial(Schedule):
    r""":math:`\alpha(t) = 1 - t^{k}` with ``power`` k > 0 (MD4's polynomial schedule)."""

    power: float = 2.0

    def __post_init__(self):
        object.__setattr__(self, "power", validate.number(self.power, "Polynomial power"))
        if not self.power > 0:
            raise InvalidParameterError(f"Polynomial power must be positive, got {self.power!r}")

    def alpha(self, t):
        return 1.0 - times(t) ** self.power

    def dalpha(self, t):
        with np.errstate(divide="ignore"):
            return -self.power * times(t) ** (self.power - 1.0)

    def mask_prob(self, t):
        return times(t) ** self.power


@dataclasses.dataclass(frozen=True)
class LogLinear(Schedule):
    r"""MDLM's default: :math:`\bar\sigma(t) = -\log(1 - (1-\epsilon) t)`, so
    :math:`\alpha(t) = 1 - (1 - \epsilon) t`, from 1 down to :math:`\alpha(1) = \epsilon`."""

    eps: float = 1e-3

    def __post_init__(self):
        object.__setattr__(self, "eps", validate.number(self.eps, "LogLinear eps"))
        if not (0.0 <= self.eps < 1.0):
            raise InvalidParameterError(f"LogLinear eps must lie in [0, 1), got {self.eps!r}")

    def alpha(self, t):
        return 1.0 - (1.0 - self.eps) * times(t)

    def dalpha(self, t):
        return np.full_like(times(t), -(1.0 - self.eps))

    def mask_prob(self, t):
        return (1.0 - self.eps) * times(t)


@dataclasses.dataclass(frozen=True)
class Geometric(Schedule):
    r"""SEDD's geometric noise: :math:`\bar\sigma(t) = \sigma_{min}^{1-t} \sigma_{max}^{t}`,
    :math:`\alpha(t) = e^{-\bar\sigma(t)}`; :math:`\alpha(0) = e^{-\sigma_{min}}` is 1 only up to
    :math:`\sigma_{min}` and :math:`\alpha(1) = e^{-\sigma_{max}}`."""

    sigma_min: float = 1e-4
    sigma_max: float = 20.0

    def __post_init__(self):
        object.__setattr__(self, "sigma_min", validate.number(self.sigma_min, "Geometric sigma_min"))
        object.__setattr__(self, "sigma_max", validate.number(self.sigma_max, "Geometric sigma_max"))
        if not (0 < self.sigma_min < self.sigma_max):
            raise InvalidParameterError(
                f"Geometric needs 0 < sigma_min < sigma_max, got {self.sigma_min!r}, {self.sigma_max!r}")

    def _sigma_bar(self, t):
        return self.sigma_min ** (1.0 - t) * self.sigma_max**t

    def alpha(self, t):
        return np.exp(-self._sigma_bar(times(t)))

    def dalpha(self, t):
        t = times(t)
        sigma_bar = self._sigma_bar(t)
        return -np.exp(-sigma_bar) * sigma_bar * np.log(self.sigma_max / self.sigma_min)

    def mask_prob(self, t):
        return -np.expm1(-self._sigma_bar(times(t)))


@dataclasses.dataclass(frozen=True)
class FromFunctions(Schedule):
    """A user schedule from two vectorised callables; check it with :func:`check_schedule`."""

    alpha_fn: object
    dalpha_fn: object
    name: str = "custom"

    def alpha(self, t):
        return np.asarray(self.alpha_fn(times(t)), dtype=np.float64)

    def dalpha(self, t):
        return np.asarray(self.dalpha_fn(times(t)), dtype=np.float64)


def check_schedule(schedule: "ScheduleLike", alpha0_tolerance: float = ALPHA0_TOLERANCE, grid: int = 1025) -> "ScheduleLike":
    r"""Validate any object with ``alpha`` and ``dalpha``; returns it.

    Checks on a grid of ``grid`` times: :math:`|\alpha(0) - 1| \le` ``alpha0_tolerance``, alpha finite in
    [0, 1] and non-increasing with :math:`\alpha(1) < \alpha(0)`, and ``dalpha`` finite, :math:`\le 0`
    and equal to a central difference of ``alpha`` (relative 1e-4) in the interior.
    """
    if not (callable(getattr(schedule, "alpha", None)) and callable(getattr(schedule, "dalpha", None))):
        raise InvalidTypeError(
            f"a schedule needs alpha(t) and dalpha(t) methods, got {type(schedule).__name__}; "
            f"use refimpl.schedules.FromFunctions(alpha, dalpha) for plain functions")
    name = type(schedule).__name__
    t = np.linspace(0.0, 1.0, grid)
    try:
        alpha = np.asarray(schedule.alpha(t), dtype=np.float64)
        dalpha = np.asarray(schedule.dalpha(t), dtype=np.float64)
    except InvalidParameterError:
        raise
    except Exception as error:  # a user schedule that fails on a grid of t is not a schedule
        raise InvalidParameterError(f"{name}.alpha/dalpha failed on t in [0, 1]: {type(error).__name__}: {error}") from None
    if alpha.shape != t.shape or not np.all(np.isfinite(alpha)):
        raise InvalidParameterError(f"{name}.alpha must return finite values of t's shape")
    if abs(alpha[0] - 1.0) > alpha0_tolerance:
        raise InvalidParameterError(
            f"{name} has alpha(0) = {float(alpha[0])!r}; a masking schedule starts clean, alpha(0) = 1 "
            f"(tolerance {alpha0_tolerance})")
    if np.any(alpha < 0) or np.any(alpha > 1):
        raise InvalidParameterError(f"{name}.alpha leaves [0, 1] (min {float(alpha.min())!r}, max {float(alpha.max())!r})")
    rises = np.flatnonzero(np.diff(alpha) > 0)
    if rises.size or not alpha[-1] < alpha[0]:
        where = t[rises[0]] if rises.size else 1.0
        raise InvalidParameterError(
            f"{name}.alpha must decrease in t (the clean fraction shrinks), but it increases at t = {where:.4g}")
    if dalpha.shape != t.shape or not np.all(np.isfinite(dalpha[1:-1])) or np.any(dalpha[1:-1] > 0):
        raise InvalidParameterError(f"{name}.dalpha must be finite and <= 0 inside (0, 1)")
    inner = t[1:-1:8]
    h = 1e-6
    numeric = (np.asarray(schedule.alpha(inner + h)) - np.asarray(schedule.alpha(inner - h))) / (2 * h)
    exact = np.asarray(schedule.dalpha(inner), dtype=np.float64)
    off = np.abs(numeric - exact) > 1e-4 * (1.0 + np.abs(exact))
    if np.any(off):
        k = int(np.argmax(off))
        raise InvalidParameterError(
            f"{name}.dalpha({inner[k]:.4g}) = {float(exact[k])!r} but alpha changes at rate {float(numeric[k])!r} there; "
            f"dalpha must be the derivative of alpha")
    return schedule


NAMED = {"linear": Linear, "cosine": Cosine, "loglinear": LogLinear, "polynomial": Polynomial, "geometric": Geometric}


def named(name: str) -> Schedule:
    """The schedule ``name`` with its default parameters (the command line's and the sweep specs' spelling):
    one of :data:`NAMED`."""
    if not isinstance(name, str) or name not in NAMED:
        raise InvalidParameterError(f"schedule must be one of {', '.join(NAMED)}, got {name!r}")
    return NAMED[name]()


def name_of(schedule: object) -> "str | None":
    """The name :func:`named` gives ``schedule`` back from, or None (a schedule with other parameters)."""
    return next((name for name, cls in NAMED.items() if repr(schedule) == repr(cls())), None)
