"""Wainwright's Bernoulli-subset sampler (issue #39, W1, W12-W14 of ../shared/THEORY.md): on the uniform grid it is
MDLM's ancestral sampler; its exact KL against the path bound — init, the one-step defects, completion — and the
UGC bounds over it; the Geo(rho) grid's corollary; the fixed-cardinality sampler's bound."""
import math

import numpy as np
import pytest
import refimpl
from hypothesis import given, settings
from hypothesis import strategies as st
from refimpl.diffusion.schedules import Linear
from refimpl.limits import information_profile, order_averaged_kl, random_order_kl, ugc
from refimpl.samplers.bernoulli import Bernoulli, geometric_times
from refimpl.testing.strategies import laws

LAWS = laws(max_vocab=3, max_length=4, min_length=2, zeros=True)
TIMES = st.lists(st.floats(0.02, 0.98), min_size=2, max_size=4, unique=True).map(sorted).filter(
    lambda t: all(b - a > 1e-3 for a, b in zip(t[:-1], t[1:])))


def psi(t):
    return t / (1 - t)


def exact(table, sampler):
    return refimpl.exact_law(refimpl.oracle_denoiser(table), sampler, table.ndim, table.shape[0])


@pytest.mark.parametrize("steps", [1, 2, 3, 5])
def test_W1_on_the_uniform_grid_it_is_mdls_ancestral_sampler(steps):
    """W1: t_0 = 0, t_N = 1, t_j = j/N: Ancestral(Linear(), steps=N, grid="float64") (proofs/ugc.md)."""
    table = refimpl.datasets.dirichlet(3, 4, np.random.default_rng(steps), concentration=0.5).table
    np.testing.assert_allclose(exact(table, Bernoulli(tuple(np.arange(steps + 1) / steps))),
                               exact(table, refimpl.samplers.Ancestral(Linear(), steps=steps, grid="float64")),
                               atol=1e-15)


@settings(max_examples=25, deadline=None)
@given(LAWS, TIMES, st.sampled_from(["exact", "step"]), st.sampled_from(["exact", "step"]))
def test_W12_the_kl_is_at_most_the_path_bound_and_its_ugc_bound(table, times, init, completion):
    """W12 (Theorem 1): KL(p || q) <= KL(P_t0 || Q_t0) + sum_j Gamma(t_j, t_j+1) + Gamma_C(T) <= sum_j
    (psi(t_j+1)/psi(t_j) - 1) H(t_j, t_j+1) + the same ends; a product-step start costs Gamma(0, t_0), a
    product-step completion Gamma(T, 1), the exact ones nothing (proofs/ugc.md)."""
    t = tuple(times)
    q = exact(table, Bernoulli(t, init, completion))
    ends = (ugc.defect(table, 0.0, t[0]) if init == "step" else 0.0) + (
        ugc.defect(table, t[-1], 1.0) if completion == "step" else 0.0)
    path = ends + sum(ugc.defect(table, a, b) for a, b in zip(t[:-1], t[1:]))
    bound = ends + sum((psi(b) / psi(a) - 1) * ugc.ugc(table, a, b) for a, b in zip(t[:-1], t[1:]))
    kl = refimpl.kl(table, q)
    assert kl <= path + 1e-12 and path <= bound + 1e-12


@settings(max_examples=25, deadline=None)
@given(LAWS, st.floats(0.02, 0.3), st.floats(0.7, 0.98), st.integers(1, 6))
def test_W13_the_geometric_grid_meets_its_corollary(table, start, end, steps):
    """W13 (Corollary 1): Geo(rho) takes exactly N steps and, when N >= log(psi(T)/psi(t_0)), the KL with exact ends
    is at most (2 H(t_0, T)/N) log(psi(T)/psi(t_0)) (proofs/ugc.md)."""
    times = geometric_times(start, end, steps)
    assert len(times) == steps + 1 and times[0] == start and times[-1] == end
    ratios = [psi(b) / psi(a) for a, b in zip(times[:-1], times[1:])]
    assert max(ratios) == pytest.approx(min(ratios), rel=1e-9)  # one odds ratio per step
    span = math.log(psi(end) / psi(start))
    if steps >= span:
        kl = refimpl.kl(table, exact(table, Bernoulli(times)))
        assert kl <= 2 * ugc.ugc(table, start, end) / steps * span + 1e-12


@settings(max_examples=25, deadline=None)
@given(LAWS, st.data())
def test_W14_the_fixed_cardinality_sampler_meets_its_bound(table, data):
    """W14 (17b): on t_j = a_j/d with exact ends (RandomK([1]*a_0 + [a_j+1 - a_j ...] + [1]*(d - a_N))), the mixture's
    KL <= the order-averaged KL = sum_j e(a_j, a_j+1 - a_j) <= sum_j (psi(t_j+1)/psi(t_j + 1/d) - 1) H^card(a_j, a_j+1)
    (proofs/ugc.md)."""
    d = table.ndim
    points = data.draw(st.lists(st.integers(1, d - 1), min_size=2, max_size=d, unique=True).map(sorted)) if d > 2 \
        else [1, 1]
    if len(set(points)) < 2:
        return
    sizes = [1] * points[0] + [b - a for a, b in zip(points[:-1], points[1:])] + [1] * (d - points[-1])
    profile = information_profile(table)
    averaged = order_averaged_kl(table, sizes)
    assert averaged == pytest.approx(sum(profile[a, b - a] for a, b in zip(points[:-1], points[1:])), abs=1e-12)
    assert random_order_kl(table, sizes) <= averaged + 1e-12
    bound = sum((psi(b / d) / psi(a / d + 1 / d) - 1) * ugc.ugc_card(table, a, b) for a, b in zip(points[:-1], points[1:]))
    assert averaged <= bound + 1e-12


@pytest.mark.parametrize("times", [(0.5,), (0.5, 0.4), (0.2, 1.2), (-0.1, 0.5), "0.1,x"])
def test_bad_grids_are_one_clear_error(times):
    with pytest.raises(refimpl.RefimplError):
        Bernoulli(times if not isinstance(times, str) else refimpl.samplers.family("bernoulli").parameters()[0]
                  .convert(times))
    with pytest.raises(refimpl.RefimplError):
        geometric_times(0.5, 0.2, 3)


@settings(max_examples=20, deadline=None)
@given(LAWS, st.lists(st.floats(0.15, 0.85), min_size=0, max_size=2, unique=True), st.integers(0, 6))
def test_W17_geometric_steps_inside_blocks_meet_proposition_1(table, inner, extra):
    """W17 (Proposition 1): blocks b_0 = t_0 < ... < b_K = T with log-odds widths S_k and UGC H_k, C = (sum_k
    sqrt(S_k H_k))^2; Geo(rho_k) inside block k with rho_k = min(1, (4 sqrt(C)/N) sqrt(S_k/H_k)) and N >= 2(K + 2
    log(psi(T)/psi(t_0))) takes at most N steps and, with exact ends, KL <= 4C/N (proofs/ugc.md)."""
    start, end = 0.1, 0.9
    blocks = [start] + sorted(t for t in inner if start < t < end) + [end]
    K = len(blocks) - 1
    span = math.log(psi(end) / psi(start))
    N = math.ceil(2 * (K + 2 * span)) + extra
    S = [math.log(psi(b) / psi(a)) for a, b in zip(blocks[:-1], blocks[1:])]
    H = [max(ugc.ugc(table, a, b), 0.0) for a, b in zip(blocks[:-1], blocks[1:])]
    C = sum(math.sqrt(s * h) for s, h in zip(S, H)) ** 2
    times = [start]
    for (a, b), s, h in zip(zip(blocks[:-1], blocks[1:]), S, H):
        rho = 1.0 if h <= 0 or C <= 0 else min(1.0, 4 * math.sqrt(C) / N * math.sqrt(s / h))
        odds = psi(a)
        while odds < psi(b) * (1 - 1e-12):
            odds = min((1 + rho) * odds, psi(b))
            times.append(odds / (1 + odds))
    assert len(times) - 1 <= N
    kl = refimpl.kl(table, exact(table, Bernoulli(tuple(times))))
    assert kl <= 4 * C / N + 1e-12


@settings(max_examples=15, deadline=None)
@given(laws(max_vocab=3, max_length=3, min_length=2, zeros=True), TIMES, st.integers(0, 2**32 - 1),
       st.floats(0.05, 0.5))
def test_W12_a_learned_denoiser_adds_its_weighted_marginal_errors(table, inner, seed, mix):
    """W12 (18): with an estimated oracle the path bound gains E_don = sum_j beta_j E_{X_t_j}[sum_{i masked}
    KL(mu_i || mu_hat_i)] (the expectation under the true reveal law): on a grid from 0 to 1 (no ends to fill),
    KL(p || q_hat) <= sum_j Gamma(t_j, t_j+1) + E_don (proofs/ugc.md)."""
    from refimpl.diffusion.forward import forward_law

    learned = refimpl.testing.perturbed_oracle(table, mix, seed)
    oracle = refimpl.oracle_denoiser(table)
    vocab_size, d = table.shape[0], table.ndim
    t = (0.0, *inner, 1.0)
    grid = np.indices((vocab_size + 1,) * d).reshape(d, -1).T
    penalty = 0.0
    for a, b in zip(t[:-1], t[1:]):
        law = forward_law(table, a).ravel()
        keep = law > 0
        exact_rows, learned_rows = oracle(grid[keep]), np.asarray(learned(grid[keep]))
        masked = grid[keep] == vocab_size
        with np.errstate(divide="ignore", invalid="ignore"):
            terms = np.where(exact_rows > 0, exact_rows * (np.log(exact_rows) - np.log(learned_rows)), 0.0).sum(-1)
        penalty += (b - a) / (1 - a) * float(law[keep] @ (terms * masked).sum(axis=1))
    q_hat = refimpl.exact_law(learned, Bernoulli(t), d, vocab_size)
    path = sum(ugc.defect(table, a, b) for a, b in zip(t[:-1], t[1:]))
    assert refimpl.kl(table, q_hat) <= path + penalty + 1e-10


@settings(max_examples=20, deadline=None)
@given(laws(max_vocab=2, max_length=7, min_length=4, zeros=True), st.integers(1, 6))
def test_W13_the_cardinality_geometric_grid_meets_its_corollary(table, steps):
    """W13's cardinality analogue: on a_0 = 1, A = d - 1 with a_j+1 the largest integer with psi(a_j+1/d) <=
    (1 + rho) psi((a_j + 1)/d), the fixed-cardinality sampler with exact ends (RandomK) has, when N >=
    log(psi(T)/psi(t_0 + 1/d)), KL <= its order-averaged KL <= (2 H^card(a_0, A)/N) log(psi(T)/psi(t_0 + 1/d))
    (proofs/ugc.md)."""
    from refimpl.samplers.bernoulli import cardinality_geometric, cardinality_sizes

    d = table.ndim
    span = math.log(psi((d - 1) / d) / psi(2 / d))
    points = cardinality_geometric(1, d - 1, steps, d)
    sizes = cardinality_sizes(points, d)
    assert sum(sizes) == d
    if steps >= span:
        averaged = order_averaged_kl(table, sizes)
        assert random_order_kl(table, sizes) <= averaged + 1e-12
        assert averaged <= 2 * ugc.ugc_card(table, 1, d - 1) / steps * span + 1e-12
