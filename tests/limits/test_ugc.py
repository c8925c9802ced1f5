"""Wainwright's unmasking growth complexity (issue #39, statements W2-W10 and W16 of ../shared/THEORY.md, read in
arXiv 2608.13520) and Chen-Cong-Li's increments (CCL1, CCL4): refimpl.limits.ugc's closed forms against sums over
every set of positions computed here from the subset entropies, over random laws (hypothesis), and the examples'
closed forms.  Each test names its statements."""
import itertools
import math

import numpy as np
import pytest
import refimpl
from hypothesis import given, settings
from hypothesis import strategies as st
from refimpl.limits import ugc
from refimpl.limits.information import subset_entropies
from refimpl.testing.strategies import laws

LAWS = laws(max_vocab=3, max_length=4, min_length=2, zeros=True)
TIMES = st.floats(0.0, 1.0)


def entropies_of(table):
    """H(Z_A) by the tuple of positions A, from the subset entropies."""
    h = subset_entropies(table)
    return lambda positions: float(h[sum(1 << i for i in set(positions))])


def subsets(items):
    items = list(items)
    return [c for k in range(len(items) + 1) for c in itertools.combinations(items, k)]


def direct_gain(table, t):
    """h(t) = sum_i sum_{A in [d] - i} t^|A| (1 - t)^(d - 1 - |A|) I(Z_i; Z_A) (W2's definition (2a))."""
    H, d = entropies_of(table), table.ndim
    return sum(t ** len(A) * (1 - t) ** (d - 1 - len(A)) * (H((i,)) + H(A) - H(A + (i,)))
               for i in range(d) for A in subsets(j for j in range(d) if j != i))


def direct_slope(table, r):
    """h'(r) = sum_{i != j} sum_{A in [d] - {i, j}} r^|A| (1 - r)^(d - 2 - |A|) I(Z_i; Z_j | Z_A) (W8's (70b))."""
    H, d = entropies_of(table), table.ndim
    return sum(r ** len(A) * (1 - r) ** (d - 2 - len(A)) * (H(A + (i,)) + H(A + (j,)) - H(A + (i, j)) - H(A))
               for i in range(d) for j in range(d) if i != j for A in subsets(k for k in range(d) if k not in (i, j)))


def direct_information(table, t):
    """Info(Z; X_t) = E_A H(Z_A), A each position revealed with probability t."""
    H, d = entropies_of(table), table.ndim
    return sum(t ** len(A) * (1 - t) ** (d - len(A)) * H(A) for A in subsets(range(d)))


@settings(max_examples=20, deadline=None)
@given(LAWS)
def test_W3_CCL1_CCL4_the_gains_and_increments_are_the_set_averages(table):
    """W3: h^card_j = sum_i E_{|B| = j, i not in B} I(Z_i; Z_B), nondecreasing; CCL1: Z_j = E I(X_i; X_A) over
    |A| = j - 1, 0 = Z_1 <= ... <= Z_d; CCL4: TC = sum Z_j, DTC = d Z_d - TC. (proofs/ugc.md)"""
    H, d = entropies_of(table), table.ndim
    h, z = ugc.cardinality_gains(table), ugc.increments(table)
    for j in range(d):
        direct = sum(np.mean([H((i,)) + H(B) - H(B + (i,)) for B in itertools.combinations(
            [k for k in range(d) if k != i], j)]) for i in range(d))
        assert h[j] == pytest.approx(direct, abs=1e-12)
        assert z[j] == pytest.approx(direct / d, abs=1e-12)  # Z_{j+1} = h^card_j / d
    assert z[0] == pytest.approx(0, abs=1e-12) and np.all(np.diff(z) >= -1e-12) and np.all(np.diff(h) >= -1e-12)
    assert z.sum() == pytest.approx(refimpl.total_correlation(table), abs=1e-12)
    assert d * z[-1] - z.sum() == pytest.approx(refimpl.dual_total_correlation(table), abs=1e-12)


@settings(max_examples=20, deadline=None)
@given(LAWS, TIMES)
def test_W2_W4_W8_the_bernstein_gain_and_slope_are_the_definitions(table, t):
    """W4: h(t) in Bernstein form over h^card equals the definition (2a); h'(t) in Bernstein form equals W8's
    pairwise conditional-information sum (70b), and is >= 0. (proofs/ugc.md)"""
    assert ugc.gain(table, t) == pytest.approx(direct_gain(table, t), abs=1e-12)
    assert ugc.slope(table, t) == pytest.approx(direct_slope(table, t), abs=1e-11)
    assert ugc.slope(table, t) >= -1e-12


@settings(max_examples=20, deadline=None)
@given(LAWS, st.floats(0.05, 0.95))
def test_W9_the_gain_is_the_derivative_of_the_information(table, t):
    """W9: Info(Z; X_t) = sum_k C(d, k) t^k (1 - t)^(d - k) e_k; h(t) = S(Z) - d/dt Info; h'(t) = -d^2/dt^2 Info
    (central differences of the direct sum, step 1e-4). (proofs/ugc.md)"""
    assert ugc.information(table, t) == pytest.approx(direct_information(table, t), abs=1e-12)
    step, S = 1e-4, sum(entropies_of(table)((i,)) for i in range(table.ndim))
    first = (direct_information(table, t + step) - direct_information(table, t - step)) / (2 * step)
    second = (direct_information(table, t + step) - 2 * direct_information(table, t)
              + direct_information(table, t - step)) / step ** 2
    assert ugc.gain(table, t) == pytest.approx(S - first, abs=1e-6)
    assert ugc.slope(table, t) == pytest.approx(-second, abs=1e-5)


@settings(max_examples=20, deadline=None)
@given(LAWS)
def test_W5_W6_W7_W8_the_aggregate_ugc_between_its_bounds(table):
    """W5: TC = int (1-t) h' = int h, DTC = int t h', h(1) = TC + DTC; W6: H(0,1) = 2 TSE/(d+1)
    = sum_j (2j - d + 1) h^card_j / (d(d+1)) <= min(TC, DTC); W7: H(0,1) = (d/(d+1)) H^card(0, d) and
    H(0,1) <= H^card(0, d) <= 2 H(0,1); W8: H(0,1) <= DHW <= (e/(e-1)) H(0,1) and DHW <= min(TC, DTC). (proofs/ugc.md)"""
    d, tc, dtc = table.ndim, refimpl.total_correlation(table), refimpl.dual_total_correlation(table)
    x, w = np.polynomial.legendre.leggauss(d + 2)
    t, w = 0.5 * (x + 1), 0.5 * w
    slope = ugc.slope(table, t)
    assert np.dot(w, (1 - t) * slope) == pytest.approx(tc, abs=1e-12)
    assert np.dot(w, ugc.gain(table, t)) == pytest.approx(tc, abs=1e-12)
    assert np.dot(w, t * slope) == pytest.approx(dtc, abs=1e-12)
    assert ugc.gain(table, 1.0) == pytest.approx(tc + dtc, abs=1e-12)
    whole, h = ugc.ugc(table, 0.0, 1.0), ugc.cardinality_gains(table)
    assert whole == pytest.approx(2 * ugc.tse(table) / (d + 1), abs=1e-12)
    assert whole == pytest.approx(sum((2 * j - d + 1) * h[j] for j in range(d)) / (d * (d + 1)), abs=1e-12)
    assert whole <= min(tc, dtc) + 1e-12
    card = ugc.ugc_card(table, 0, d)
    assert whole == pytest.approx(d / (d + 1) * card, abs=1e-12) and whole - 1e-12 <= card <= 2 * whole + 1e-12
    effective = ugc.dhw(table)
    assert whole - 1e-12 <= effective <= math.e / (math.e - 1) * whole + 1e-12
    assert effective <= min(tc, dtc) + 1e-12


@settings(max_examples=15, deadline=None)
@given(LAWS, st.floats(0.0, 1.0), st.floats(0.0, 1.0))
def test_W2_W7_the_ugc_is_additive_and_a_multinomial_average_of_its_cardinality_form(table, a, b):
    """W2: H(p, q) is additive over adjacent intervals; W7 (19): H(p, q) = (d/(d+1)) E H^card(A_U, B_U) with
    (U_0, U_1, U_2) ~ Multinomial(d + 1; p, q - p, 1 - q), A_U = max(U_0 - 1, 0), B_U = min(U_0 + U_1, d). (proofs/ugc.md)"""
    p, q = min(a, b), max(a, b)
    d = table.ndim
    middle = (p + q) / 2
    assert ugc.ugc(table, p, q) == pytest.approx(ugc.ugc(table, p, middle) + ugc.ugc(table, middle, q), abs=1e-12)
    expected = 0.0
    for u0 in range(d + 2):
        for u1 in range(d + 2 - u0):
            u2 = d + 1 - u0 - u1
            weight = math.factorial(d + 1) / (math.factorial(u0) * math.factorial(u1) * math.factorial(u2))
            weight *= p ** u0 * (q - p) ** u1 * (1 - q) ** u2
            expected += weight * ugc.ugc_card(table, max(u0 - 1, 0), min(u0 + u1, d))
    assert ugc.ugc(table, p, q) == pytest.approx(d / (d + 1) * expected, abs=1e-12)


@settings(max_examples=12, deadline=None)
@given(LAWS, st.floats(0.05, 0.9), st.floats(0.0, 1.0))
def test_W10_the_one_step_defect_is_the_expected_total_correlation_of_the_revealed_set(table, p, fraction):
    """W10: Gamma(p, q) = E_{X_p} E_A TC(Z_A | X_p), A each masked position w.p. (q - p)/(1 - p) (enumerated)
    = int_p^q (q - u) h' = (q - p)(S(Z) - h(p)) - Info(Z; X_q | X_p) <= (psi(q)/psi(p) - 1) H(p, q). (proofs/ugc.md)"""
    q = p + fraction * (0.999 - p)
    H, d = entropies_of(table), table.ndim
    beta = (q - p) / (1 - p)
    expected = 0.0
    for R in subsets(range(d)):
        free = [i for i in range(d) if i not in R]
        for A in subsets(free):
            weight = p ** len(R) * (1 - p) ** len(free) * beta ** len(A) * (1 - beta) ** (len(free) - len(A))
            expected += weight * (sum(H(R + (i,)) - H(R) for i in A) - (H(R + A) - H(R)))
    value = ugc.defect(table, p, q)
    assert value == pytest.approx(expected, abs=1e-12)
    S = sum(H((i,)) for i in range(d))
    info = ugc.information(table, q) - ugc.information(table, p)  # X_p is a function of X_q
    assert value == pytest.approx((q - p) * (S - ugc.gain(table, p)) - info, abs=1e-12)
    psi = lambda t: t / (1 - t)  # noqa: E731
    assert value <= (psi(q) / psi(p) - 1) * ugc.ugc(table, p, q) + 1e-12


@pytest.mark.parametrize("d", [3, 4, 5, 6])
def test_W16_the_repeated_bit_and_the_parity_have_their_closed_forms(d):
    """W16: the repeated bit (Z_i = V, V a fair bit) has h(r) = d log 2 (1 - (1 - r)^(d-1)), the global parity
    h(r) = d log 2 r^(d-1); both H(0, 1) = ((d-1)/(d+1)) log 2; in CCL terms Z_j = log 2 [j >= 2] and
    log 2 [j = d]. (proofs/ugc.md)"""
    repeated = np.zeros((2,) * d)
    repeated[(0,) * d] = repeated[(1,) * d] = 0.5
    parity = refimpl.datasets.parity(2, d).table
    r = np.linspace(0, 1, 11)
    log2 = math.log(2)
    np.testing.assert_allclose(ugc.gain(repeated, r), d * log2 * (1 - (1 - r) ** (d - 1)), atol=1e-12)
    np.testing.assert_allclose(ugc.gain(parity, r), d * log2 * r ** (d - 1), atol=1e-12)
    for table in (repeated, parity):
        assert ugc.ugc(table, 0, 1) == pytest.approx((d - 1) / (d + 1) * log2, abs=1e-12)
    np.testing.assert_allclose(ugc.increments(repeated), log2 * (np.arange(1, d + 1) >= 2), atol=1e-12)
    np.testing.assert_allclose(ugc.increments(parity), log2 * (np.arange(1, d + 1) == d), atol=1e-12)


@pytest.mark.parametrize("call", [lambda t: ugc.gain(t, 1.5), lambda t: ugc.ugc(t, 0.6, 0.2),
                                  lambda t: ugc.ugc_card(t, 0, 9), lambda t: ugc.defect(t, -0.1, 0.5)])
def test_bad_input_is_one_clear_error(call):
    with pytest.raises(refimpl.RefimplError):
        call(refimpl.datasets.parity(2, 3).table)
