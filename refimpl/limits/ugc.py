r"""Wainwright's unmasking growth complexity and the quantities around it, exactly (issue #39, build 1; W2-W11 of
../shared/THEORY.md, read in the paper: Wainwright, *The data geometry of masking diffusion*, arXiv 2608.13520,
equations (2a)-(4), (15)-(16), (48)-(53), (60)-(71)).  Natural logarithms (nats).

Everything is a function of the information curve :math:`e_m = \bar H_m` (the mean entropy of the sets of m
positions, :func:`refimpl.limits.information.information_curve`), one definition each:

- Chen, Cong and Li's increments :math:`Z_j = e_1 + e_{j-1} - e_j`, j = 1 .. d (:func:`increments`);
- the fixed-cardinality gains :math:`h^{card}_j = d\,Z_{j+1} = d(e_1 + e_j - e_{j+1})`, j = 0 .. d-1
  (:func:`cardinality_gains`): the information a masked position gets from j uniformly chosen others, summed over
  positions;
- the Bernoulli unmasking gain :math:`h(t) = \sum_i \mathrm{Info}(Z_i; X_t \mid i \text{ masked})`, in Bernstein form
  :math:`h(t) = \sum_j \binom{d-1}{j} t^j (1-t)^{d-1-j} h^{card}_j` (W4), and its slope (:func:`gain`, :func:`slope`);
- the UGC :math:`H(p, q) = \int_p^q t(1-t) h'(t)\,dt` and its cardinality form
  :math:`H^{card}(a, b) = \sum_{j=a+1}^{b-1} (j/d)(1-j/d)(h^{card}_j - h^{card}_{j-1})` (:func:`ugc`,
  :func:`ugc_card`);
- the one-step defect :math:`\Gamma(p, q) = \int_p^q (q - u) h'(u)\,du` (W10, :func:`defect`), TSE (W6), the DHW
  effective total correlation :math:`\int_0^1 t \min\{1, \log(1/t)\} h'(t)\,dt` (W8) and
  :math:`\mathrm{Info}(Z; X_t) = \sum_k \binom{d}{k} t^k (1-t)^{d-k} e_k` (W9).

The polynomial integrals are exact by Gauss-Legendre (h' has degree d - 2); the one with a logarithm is
integrated to machine precision (its integrand is analytic on [1/e, 1]).

Examples
--------
>>> import numpy as np, refimpl
>>> from refimpl.limits import ugc
>>> bit = np.array([[0.5, 0.0], [0.0, 0.5]])          # Z_1 = Z_2, a fair bit repeated
>>> round(float(ugc.ugc(bit, 0.0, 1.0) / np.log(2)), 12)   # ((d - 1)/(d + 1)) log 2 at d = 2 (W16)
0.333333333333
"""
import numpy as np
from scipy.special import comb

from ..core import validate
from ..core.errors import InvalidParameterError
from ..core.types import LawLike
from .information import information_curve


def increments(p: LawLike, curve=None) -> np.ndarray:
    r"""(d,): Chen-Cong-Li's :math:`Z_j = e_1 + e_{j-1} - e_j`, j = 1 .. d (:math:`Z_1 = 0`, nondecreasing:
    Han's inequality)."""
    e = information_curve(p) if curve is None else np.asarray(curve, dtype=np.float64)
    return np.array([e[1] + e[j - 1] - e[j] for j in range(1, len(e))])


def cardinality_gains(p: LawLike, curve=None) -> np.ndarray:
    r"""(d,): :math:`h^{card}_j = d(e_1 + e_j - e_{j+1})`, j = 0 .. d-1 (W3; :math:`h^{card}_0 = 0`)."""
    e = information_curve(p) if curve is None else np.asarray(curve, dtype=np.float64)
    d = len(e) - 1
    return np.array([d * (e[1] + e[j] - e[j + 1]) for j in range(d)])


def _times(t, name="t"):
    values = np.asarray(t, dtype=np.float64)
    if not np.all(np.isfinite(values)) or np.any(values < 0) or np.any(values > 1):
        raise InvalidParameterError(f"{name} must lie in [0, 1], got {t!r}")
    return values


def _bernstein(coefficients, t):
    n = len(coefficients) - 1
    return sum(c * comb(n, j) * t ** j * (1 - t) ** (n - j) for j, c in enumerate(coefficients))


def gain(p: LawLike, t) -> np.ndarray:
    r""":math:`h(t)` (nats) at reveal times ``t`` in [0, 1] (W2, W4)."""
    return _bernstein(cardinality_gains(p), _times(t))


def slope(p: LawLike, t) -> np.ndarray:
    r""":math:`h'(t) = (d-1)\sum_j \binom{d-2}{j} t^j (1-t)^{d-2-j} (h^{card}_{j+1} - h^{card}_j) \ge 0` (W4)."""
    h = cardinality_gains(p)
    t = _times(t)
    if len(h) < 2:
        return np.zeros_like(t)
    return (len(h) - 1) * _bernstein(np.diff(h), t)


def _integral(f, a, b, nodes):
    x, w = np.polynomial.legendre.leggauss(nodes)
    u = a + (b - a) * 0.5 * (x + 1.0)
    return float(0.5 * (b - a) * np.dot(w, f(u)))


def _interval(p_, q_):
    a, b = float(_times(p_, "p")), float(_times(q_, "q"))
    if a > b:
        raise InvalidParameterError(f"the interval must have p <= q, got [{p_}, {q_}]")
    return a, b


def ugc(p: LawLike, start: float, end: float) -> float:
    r"""The unmasking growth complexity :math:`H(p, q) = \int_p^q t(1-t)h'(t)\,dt` on [``start``, ``end``] (W2)."""
    table = validate.law_table(p)
    a, b = _interval(start, end)
    return _integral(lambda u: u * (1 - u) * slope(table, u), a, b, table.ndim + 2)


def ugc_card(p: LawLike, a: int, b: int) -> float:
    r""":math:`H^{card}(a, b) = \sum_{j=a+1}^{b-1} (j/d)(1 - j/d)(h^{card}_j - h^{card}_{j-1})`, 0 <= a, b <= d
    (0 when a >= b) (W2)."""
    h = cardinality_gains(p)
    d = len(h)
    a, b = validate.integer(a, "a", 0), validate.integer(b, "b", 0)
    if max(a, b) > d:
        raise InvalidParameterError(f"a and b must lie in 0 .. d = {d}, got {a} and {b}")
    return float(sum((j / d) * (1 - j / d) * (h[j] - h[j - 1]) for j in range(a + 1, b)))


def defect(p: LawLike, start: float, end: float) -> float:
    r"""The one-step defect :math:`\Gamma(p, q) = \int_p^q (q - u) h'(u)\,du` of a frozen product step revealing each
    masked position with probability (q - p)/(1 - p) from reveal time p (W10)."""
    table = validate.law_table(p)
    a, b = _interval(start, end)
    return _integral(lambda u: (b - u) * slope(table, u), a, b, table.ndim + 1)


def tse(p: LawLike, curve=None) -> float:
    r"""Tononi-Sporns-Edelman complexity :math:`\sum_{k=1}^d (e_k - (k/d) e_d)` (W6)."""
    e = information_curve(p) if curve is None else np.asarray(curve, dtype=np.float64)
    d = len(e) - 1
    return float(sum(e[k] - k / d * e[d] for k in range(1, d + 1)))


def dhw(p: LawLike, nodes: int = 64) -> float:
    r"""The DHW effective total correlation :math:`\int_0^1 t \min\{1, \log(1/t)\} h'(t)\,dt` (W8): the polynomial
    part on [0, 1/e] exactly, the logarithmic part on [1/e, 1] by ``nodes``-point Gauss-Legendre."""
    table = validate.law_table(p)
    cut = np.exp(-1.0)
    head = _integral(lambda u: u * slope(table, u), 0.0, cut, table.ndim + 1)
    return head + _integral(lambda u: -u * np.log(u) * slope(table, u), cut, 1.0, nodes)


def information(p: LawLike, t) -> np.ndarray:
    r""":math:`\mathrm{Info}(Z; X_t) = \sum_k \binom{d}{k} t^k (1-t)^{d-k} e_k` (W9): the mutual information between
    the sequence and its reveal-process state at time t."""
    return _bernstein(information_curve(p), _times(t))
