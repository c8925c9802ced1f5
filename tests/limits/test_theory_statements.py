"""More statements of ../shared/THEORY.md (issue #39), each named: Dmitriev-Huang-Wei's identities for the masked
vector (D1-D3), Kawata-Hayakawa-Suzuki's Markov-chain formulas (KHS1), Wen-Liang-Lu's total-correlation lemmas and
chain rule (WLL1, WLL2, WLL7), ParallelBench's partition bounds (PB1, PB2), and Wainwright's cardinality defect and
block partitions (W11, W17, W18) — against refimpl's exact quantities, over random laws."""
import itertools
import math

import numpy as np
import pytest
import refimpl
from hypothesis import given, settings
from hypothesis import strategies as st
from refimpl.diffusion.forward import forward_law
from refimpl.laws import examples as E
from refimpl.limits import fixed_set_optima, information_profile, ugc
from refimpl.testing.strategies import laws

LAWS = laws(max_vocab=3, max_length=4, min_length=2, zeros=True)


def masked_tc(table, r):
    """TC and DTC of the masked vector X_r (each position revealed with probability r; the mask a symbol)."""
    law = forward_law(table, r)
    return refimpl.total_correlation(law), refimpl.dual_total_correlation(law)


@settings(max_examples=12, deadline=None)
@given(LAWS, st.floats(0.1, 0.9))
def test_D1_D2_the_masked_vectors_correlations_move_with_the_gain(table, r):
    """D1: DTC + TC = sum_i I(X_i; X_-i); D2: TC(X_r) + DTC(X_r) = r h(r), dTC(X_r)/dr = h(r), dDTC(X_r)/dr = r h'(r)
    (central differences, step 1e-4) (proofs/ugc.md)."""
    d = table.ndim
    mutual = sum(refimpl.mutual_information(table, [i], [j for j in range(d) if j != i]) for i in range(d))
    assert refimpl.total_correlation(table) + refimpl.dual_total_correlation(table) == pytest.approx(mutual, abs=1e-12)
    tc, dtc = masked_tc(table, r)
    assert tc + dtc == pytest.approx(r * ugc.gain(table, r), abs=1e-12)
    step = 1e-4
    (tc_up, dtc_up), (tc_down, dtc_down) = masked_tc(table, r + step), masked_tc(table, r - step)
    assert (tc_up - tc_down) / (2 * step) == pytest.approx(ugc.gain(table, r), abs=1e-6)
    assert (dtc_up - dtc_down) / (2 * step) == pytest.approx(r * ugc.slope(table, r), abs=1e-6)


@settings(max_examples=8, deadline=None)
@given(LAWS)
def test_D3_the_time_integral_of_the_masked_dtc_is_the_effective_total_correlation(table):
    """D3: int_0^1 DTC(X_{r = e^-t}) dt (CTMC time) = DHW's effective TC = W's int t min(1, log 1/t) h'(t) dt
    (Gauss-Legendre, 48 nodes) (proofs/ugc.md)."""
    x, w = np.polynomial.legendre.leggauss(48)
    t = 0.5 * (x + 1)
    integral = 0.5 * sum(weight * masked_tc(table, math.exp(-s))[1] for s, weight in zip(t, w))
    assert integral == pytest.approx(ugc.dhw(table), abs=1e-10)


@pytest.mark.parametrize("length", [3, 4, 5])
def test_KHS1_a_markov_chains_tc_and_dtc_are_sums_of_neighbours_informations(length):
    """KHS1 (220): TC = sum_j I(X_j; X_j+1); DTC = I(X_1; X_2) + sum_{i=2}^{N-1} I(X_i; X_i+1 | X_i-1)."""
    rng = np.random.default_rng(length)
    transition = rng.dirichlet(np.full(3, 0.6), size=3)
    table = refimpl.datasets.markov_chain(rng.dirichlet(np.ones(3)), transition, length).table
    mi = refimpl.mutual_information
    assert refimpl.total_correlation(table) == pytest.approx(sum(mi(table, [j], [j + 1]) for j in range(length - 1)),
                                                             abs=1e-12)
    conditional = sum(mi(table, [i], [i - 1, i + 1]) - mi(table, [i], [i - 1]) for i in range(1, length - 1))
    assert refimpl.dual_total_correlation(table) == pytest.approx(mi(table, [0], [1]) + conditional, abs=1e-12)


@settings(max_examples=12, deadline=None)
@given(LAWS, st.data())
def test_WLL1_conditional_tc_grows_with_the_set_and_adds_over_independent_blocks(table, data):
    """WLL1 (Lemmas 1-2): TC(X_S | x_C) >= TC(X_A | x_C) for A in S, >= I(X_i; X_j | x_C); for a product of blocks it
    is the sum over the blocks it meets."""
    d, vocab_size = table.ndim, table.shape[0]
    x = np.unravel_index(int(np.argmax(table)), table.shape)
    known = data.draw(st.lists(st.integers(0, d - 1), unique=True, max_size=d - 2))
    z = np.array([x[i] if i in known else vocab_size for i in range(d)])
    free = [i for i in range(d) if i not in known]
    whole = refimpl.total_correlation(table, z, positions=free)
    for k in range(1, len(free) + 1):
        for part in itertools.combinations(free, k):
            assert refimpl.total_correlation(table, z, positions=list(part)) <= whole + 1e-12
    blocks = np.einsum("ab,cd->abcd", *(refimpl.datasets.dirichlet(2, 2, np.random.default_rng(i)).table
                                          for i in range(2)))
    pieces = [refimpl.total_correlation(blocks, positions=[0, 1]), refimpl.total_correlation(blocks, positions=[2, 3])]
    assert refimpl.total_correlation(blocks) == pytest.approx(sum(pieces), abs=1e-12)


@settings(max_examples=12, deadline=None)
@given(LAWS, st.integers(0, 2**32 - 1))
def test_WLL2_an_adaptive_policys_kl_is_its_expected_conditional_tc(table, seed):
    """WLL2 (Theorem 1): for a deterministic value-adaptive policy, q_pi(x) = prod_t prod_{i in S_t} p(x_i | x_C_t) and
    KL(p || q_pi) = E_p sum_t TC(X_S_t | x_C_t) — the policy here a seeded function of the state (proofs/serial_depth.md)."""
    d, vocab_size = table.ndim, table.shape[0]
    oracle = refimpl.oracle_denoiser(table)

    def policy(z):
        free = [i for i in range(d) if z[i] == vocab_size]
        rng = np.random.default_rng([seed, *z.tolist()])
        return sorted(rng.choice(free, size=int(rng.integers(1, len(free) + 1)), replace=False).tolist())

    q, cost = np.zeros(table.shape), 0.0
    for x in itertools.product(range(vocab_size), repeat=d):
        z, value, total = np.full(d, vocab_size), 1.0, 0.0
        while (z == vocab_size).any():
            chosen = policy(z)
            probs = oracle(z[None])[0]
            value *= float(np.prod([probs[i, x[i]] for i in chosen]))
            if table[x] > 0:
                total += refimpl.total_correlation(table, z, positions=chosen)
            z[chosen] = np.array(x)[chosen]
        q[x], cost = value, cost + table[x] * total
    assert q.sum() == pytest.approx(1.0, abs=1e-12)
    assert refimpl.kl(table, q) == pytest.approx(cost, abs=1e-10)


@pytest.mark.parametrize("M", [4, 6, 8, 10])
def test_WLL7_a_batch_of_a_balanced_string_costs_at_least_its_lower_bound(M):
    """WLL7 (Lemma 9), in bits: M positions left with k ones, any B of them: TC >= 2 theta log2(e) sum_{j=1}^{B-1}
    j/((M-1)(M-j)), theta = (k/M)(1 - k/M)."""
    for k in range(1, M):
        table = np.zeros((2,) * M)
        for ones in itertools.combinations(range(M), k):
            table[tuple(1 if i in ones else 0 for i in range(M))] = 1.0
        table /= table.sum()
        theta = (k / M) * (1 - k / M)
        for B in range(2, M + 1):
            bound = 2 * theta * math.log2(math.e) * sum(j / ((M - 1) * (M - j)) for j in range(1, B))
            assert refimpl.total_correlation(table, positions=list(range(B))) / math.log(2) >= bound - 1e-12


@settings(max_examples=12, deadline=None)
@given(LAWS)
def test_PB1_PB2_one_step_costs_tc_and_the_best_partitions_loss_falls_with_t(table):
    """PB1: the best factorised one-step model is the marginals, at KL = TC; PB2: C(S|Z) >= C(A|Z) + E_A C(B|Z, A)
    for S = A + B, and the best T-partition's loss L*_T (refimpl's fixed-set optimum) is nonincreasing in T, 0 at L."""
    d = table.ndim
    marginals = [table.sum(axis=tuple(j for j in range(d) if j != i)) for i in range(d)]
    product = marginals[0]
    for m in marginals[1:]:
        product = np.multiply.outer(product, m)
    assert refimpl.kl(table, product) == pytest.approx(refimpl.total_correlation(table), abs=1e-12)
    for cut in range(1, d):
        A, B = list(range(cut)), list(range(cut, d))
        pattern = np.array([0 if i in A else table.shape[0] for i in range(d)])  # A known (any tokens), B masked
        given_a = refimpl.total_correlation(table, pattern, positions=B, average=True)  # E_A TC(X_B | X_A)
        assert refimpl.total_correlation(table) >= refimpl.total_correlation(table, positions=A) + given_a - 1e-12
    losses = [value for value, _ in fixed_set_optima(table)]
    assert all(b <= a + 1e-12 for a, b in zip(losses[:-1], losses[1:])) and losses[-1] == pytest.approx(0, abs=1e-12)


@settings(max_examples=12, deadline=None)
@given(LAWS)
def test_W11_the_cardinality_defect_is_the_information_profile_and_meets_its_bound(table):
    """W11 (Lemma 5): Gamma_card(a, b) = (1/d) sum_{j=a+1}^{b-1} (b - j)(h^card_j - h^card_j-1) = e(a, b - a) <=
    (psi(b/d)/psi((a+1)/d) - 1) H^card(a, b), 0 <= a < b <= d - 1 (proofs/ugc.md)."""
    d = table.ndim
    h, e = ugc.cardinality_gains(table), information_profile(table)
    psi = lambda t: t / (1 - t)  # noqa: E731
    for a in range(d - 1):
        for b in range(a + 1, d):
            defect = sum((b - j) * (h[j] - h[j - 1]) for j in range(a + 1, b)) / d
            assert defect == pytest.approx(e[a, b - a], abs=1e-12)
            assert defect <= (psi(b / d) / psi((a + 1) / d) - 1) * ugc.ugc_card(table, a, b) + 1e-12


@settings(max_examples=12, deadline=None)
@given(LAWS, st.lists(st.floats(0.1, 0.9), min_size=1, max_size=3, unique=True))
def test_W17_W18_block_partitions_lie_between_the_square_root_mass_and_the_single_block(table, inner):
    """W17-W18: for blocks of [t_0, T] with S_k their log-odds widths and H_k their UGC, C_UGC(P) = (sum_k sqrt(S_k
    H_k))^2 <= (phi(T) - phi(t_0)) H(t_0, T) (one block), refining a partition lowers it, and every C_UGC(P) >= P_UGC
    = (int sqrt(q(lambda)) d lambda)^2, q(lambda) = r^2 (1 - r)^2 h'(r), r = e^lambda / (1 + e^lambda) (proofs/ugc.md)."""
    start, end = 0.05, 0.95
    phi = lambda t: math.log(t / (1 - t))  # noqa: E731

    def c_ugc(points):
        return sum(math.sqrt(max((phi(b) - phi(a)) * ugc.ugc(table, a, b), 0.0))
                   for a, b in zip(points[:-1], points[1:])) ** 2

    coarse = [start] + sorted(inner)[:1] + [end]
    fine = [start] + sorted(inner) + [end]
    single = (phi(end) - phi(start)) * ugc.ugc(table, start, end)
    assert c_ugc(coarse) <= single + 1e-12 and c_ugc(fine) <= c_ugc(coarse) + 1e-12
    x, w = np.polynomial.legendre.leggauss(200)
    lam = phi(start) + (phi(end) - phi(start)) * 0.5 * (x + 1)
    r = np.exp(lam) / (1 + np.exp(lam))
    density = r ** 2 * (1 - r) ** 2 * ugc.slope(table, r)
    root_mass = (0.5 * (phi(end) - phi(start)) * np.dot(w, np.sqrt(np.maximum(density, 0.0)))) ** 2
    assert root_mass <= c_ugc(fine) + 1e-9


def test_PB3_copy_and_replace_index_cost_nothing():
    """PB3: a deterministic output (Copy, Replace Index) is a point mass: C = 0."""
    point = np.zeros((3, 3, 3))
    point[2, 0, 1] = 1.0
    assert refimpl.total_correlation(point) == 0.0 and refimpl.total_correlation(E.repeated_bit(1, 3)) == 0.0


def reveal_table(table, keep):
    """The law of the masked vector whose position j is revealed with probability keep[j] (the mask is V)."""
    vocab_size, d = table.shape[0], table.ndim
    out = np.zeros((vocab_size + 1,) * d)
    for x in itertools.product(range(vocab_size), repeat=d):
        if table[x] == 0:
            continue
        for shown in itertools.product((0, 1), repeat=d):
            weight = table[x] * np.prod([keep[j] if s else 1 - keep[j] for j, s in enumerate(shown)])
            out[tuple(x[j] if s else vocab_size for j, s in enumerate(shown))] += weight
    return out


@settings(max_examples=10, deadline=None)
@given(laws(max_vocab=3, max_length=3, min_length=2, zeros=True), st.floats(0.05, 0.9), st.floats(0.05, 0.95))
def test_W15_the_forced_mask_increments_sandwich_the_ugc(table, p, fraction):
    """W15 (Lemma 1): D(p, q) = (q - p) sum_i E KL(mu_i(X_q|i) || mu_i(X_p|i)) over the coupled forced-mask process (i
    kept masked, the others revealed at p inside those at q) equals (q - p)(h(q) - h(p)); with c = psi(q)/psi(p) - 1,
    D/c <= H(p, q) <= (1 + c) D/c; on the dyadic odds grid psi(v_j) = min(2^j psi(p), psi(q)), sum_j D(v_j, v_j+1) <=
    H(p, q) <= 2 sum_j D (proofs/ugc.md)."""
    q = p + fraction * (0.99 - p)
    d = table.ndim
    H = lambda positions: refimpl.entropy(table.sum(axis=tuple(j for j in range(d) if j not in positions))) \
        if positions else 0.0  # noqa: E731

    def forced(a, b):
        total = 0.0
        for i in range(d):
            others = [j for j in range(d) if j != i]
            for early in itertools.chain.from_iterable(itertools.combinations(others, k) for k in range(d)):
                rest = [j for j in others if j not in early]
                for late in itertools.chain.from_iterable(itertools.combinations(rest, k) for k in range(len(rest) + 1)):
                    chance = a ** len(early) * (b - a) ** len(late) * (1 - b) ** (len(rest) - len(late))
                    A, B = list(early), list(early) + list(late)
                    info = H(A + [i]) - H(A) - (H(B + [i]) - H(B))  # I(X_i; X_late | X_early)
                    total += chance * info
        return (b - a) * total

    value = forced(p, q)
    assert value == pytest.approx((q - p) * (ugc.gain(table, q) - ugc.gain(table, p)), abs=1e-12)
    psi = lambda t: t / (1 - t)  # noqa: E731
    c = psi(q) / psi(p) - 1
    H_pq = ugc.ugc(table, p, q)
    assert value / c <= H_pq + 1e-12 <= (1 + c) * value / c + 2e-12
    odds, grid = psi(p), [p]
    while odds < psi(q):
        odds = min(2 * odds, psi(q))
        grid.append(odds / (1 + odds))
    dyadic = sum(forced(a, b) for a, b in zip(grid[:-1], grid[1:]))
    assert dyadic <= H_pq + 1e-12 <= 2 * dyadic + 2e-12


@settings(max_examples=8, deadline=None)
@given(laws(max_vocab=3, max_length=3, min_length=2, zeros=True), st.floats(0.05, 1.0), st.floats(0.05, 1.5))
def test_D4_the_ctmc_discretisation_error_is_the_one_step_defect(table, u, width):
    """D4 (Theorem 2 (17), (45), with W): sum_i I(X_t^i; X_v^-i) = e^-t h(e^-v) (position i at CTMC time t, the others
    at v >= t; enumerated), so L_discr on [u, l] = int_u^l int_t^l d2/dt dv of it = Gamma(e^-l, e^-u) (W10's defect)
    (proofs/ugc.md)."""
    d = table.ndim
    t, v = u, u + width
    total = 0.0
    for i in range(d):
        keep = [math.exp(-t) if j == i else math.exp(-v) for j in range(d)]
        total += refimpl.mutual_information(reveal_table(table, keep), [i], [j for j in range(d) if j != i])
    assert total == pytest.approx(math.exp(-t) * ugc.gain(table, math.exp(-v)), abs=1e-12)
    end = u + width
    x, w = np.polynomial.legendre.leggauss(40)
    double = 0.0
    for s, ws in zip(u + (end - u) * 0.5 * (x + 1), 0.5 * (end - u) * w):  # t
        inner = s + (end - s) * 0.5 * (x + 1)  # v in [t, l]
        values = math.exp(-s) * np.exp(-inner) * ugc.slope(table, np.exp(-inner))  # d2/dt dv of e^-t h(e^-v), in sign
        double += ws * 0.5 * (end - s) * np.dot(w, values)
    assert double == pytest.approx(ugc.defect(table, math.exp(-end), math.exp(-u)), abs=1e-9)


@pytest.mark.parametrize("s, length", [(1, 3), (2, 4), (3, 5)])
def test_KHS3_the_type_path_law_is_stationary_with_tc_n_minus_one_pair_informations(s, length):
    """KHS3 (Proposition I.1): the type path law with pair joint J = [[1 - 3p/2, p/2], [p/2, p/2]], p = 2^-s, has the
    marginal pi = (1 - p, p) at every position and TC = (N - 1) I(T_j; T_j+1)."""
    p = 2.0 ** -s
    J = np.array([[1 - 1.5 * p, 0.5 * p], [0.5 * p, 0.5 * p]])
    pi = J.sum(axis=1)
    table = refimpl.datasets.markov_chain(pi, J / pi[:, None], length).table
    for i in range(length):
        np.testing.assert_allclose(table.sum(axis=tuple(j for j in range(length) if j != i)), [1 - p, p], atol=1e-15)
    pair = float((J * np.log(J / np.outer(pi, pi))).sum())
    assert refimpl.total_correlation(table) == pytest.approx((length - 1) * pair, abs=1e-12)


@pytest.mark.parametrize("S, masked, delta", [(2, 0.5, 0.5), (3, 0.3, 0.7), (5, 0.1, 2.0)])
def test_D8_the_remasking_kernels_entries_and_the_misprinted_one(S, masked, delta):
    """D8 (Lemmas 2-3, remasking, outside masking): the generator on S tokens, REMASK and MASK — a token leaves at rate
    1, to REMASK at rate rho^2 = 1 - p_M and to MASK at p_M; REMASK turns into each token at rate 1/S — reconstructed
    from the lemma's entries, whose matrix exponential gives token->token e^-D [a=b] + (e^-D/S)(cosh D rho - 1),
    token->REMASK e^-D rho sinh D rho, REMASK->REMASK e^-D cosh D rho, and REMASK->token e^-D sinh(D rho)/(S rho): the
    index text's e^-D sinh(D rho)/(S D rho) differs wherever D != 1 (THEORY.md's fourth misprint; the PDF unread)."""
    from scipy.linalg import expm

    rho = math.sqrt(1 - masked)
    Q = np.zeros((S + 2, S + 2))
    for a in range(S):
        Q[a, a], Q[a, S], Q[a, S + 1] = -1.0, rho ** 2, masked
    Q[S, S], Q[S, :S] = -1.0, 1.0 / S
    P = expm(delta * Q)
    e = math.exp(-delta)
    assert P[0, 0] == pytest.approx(e + e / S * (math.cosh(delta * rho) - 1), abs=1e-12)
    assert P[0, 1] == pytest.approx(e / S * (math.cosh(delta * rho) - 1), abs=1e-12)
    assert P[0, S] == pytest.approx(e * rho * math.sinh(delta * rho), abs=1e-12)
    assert P[S, S] == pytest.approx(e * math.cosh(delta * rho), abs=1e-12)
    assert P[S, 0] == pytest.approx(e * math.sinh(delta * rho) / (S * rho), abs=1e-12)
    printed = e * math.sinh(delta * rho) / (S * delta * rho)
    assert abs(P[S, 0] - printed) > 1e-3
