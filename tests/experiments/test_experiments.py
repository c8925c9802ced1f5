"""`refimpl paper`: every number checked against an independent computation (counts, matrix powers,
brute force over orders, Monte Carlo, a second engine path) — never against a stored copy of its output."""
import itertools
import math

import numpy as np
import pytest
import refimpl
from refimpl import samplers as S
from refimpl.experiments import homogenisation, toy
from refimpl.experiments.prescriptions import TRAINING, strategies
from refimpl.laws import metrics

pytestmark = pytest.mark.xdist_group("paper")  # one worker computes the shared fixture


@pytest.fixture(scope="module")
def paper(paper_run):
    reports, models = paper_run
    return {r.name: r for r in reports}, models


def test_toy_data_set_reproduces_the_paper_numbers_by_direct_count(paper):
    rows = ["".join(toy.TOKENS[t] for t in row) for row in toy.toy_sequences()]
    assert len(rows) == 100 and all(len(r) == 5 for r in rows)
    matching = [r for r in rows if r[2:4] == "CD"]
    a_first = sum(r[0] == "A" for r in matching) / len(matching)
    b_second = sum(r[1] == "B" for r in matching) / len(matching)
    ab = sum(r[:2] == "AB" for r in matching) / len(matching)
    assert (round(a_first, 2), round(b_second, 2)) == (0.55, 0.69)
    assert ab > a_first * b_second + 0.1
    findings = paper[0]["toy"].findings
    assert findings["P(x1=A | query)"] == pytest.approx(a_first, abs=1e-15)
    assert findings["P(x2=B | query)"] == pytest.approx(b_second, abs=1e-15)
    assert findings["P(x1x2=AB | query)"] == pytest.approx(ab, abs=1e-15)
    pairs = {(x, y): sum(r[:2] == x + y for r in matching) / len(matching) for x in toy.TOKENS for y in toy.TOKENS}
    first = {x: sum(v for (a, _), v in pairs.items() if a == x) for x in toy.TOKENS}
    second = {y: sum(v for (_, b), v in pairs.items() if b == y) for y in toy.TOKENS}
    never = sum(first[x] * second[y] for (x, y), v in pairs.items() if v == 0)
    assert findings["parallel: P(pair never in data)"] == pytest.approx(never, abs=1e-14)
    assert findings["one token at a time: TV to the joint"] < 1e-12


def test_toy_mlp_marginals_are_within_0_05_of_exact(paper_run_full):
    """With the paper's training (slow: tests/tiers.py)."""
    reports, models = paper_run_full
    reports = {r.name: r for r in reports}
    model = models["toy"]
    mu = model(toy.query()[None])[0]
    assert reports["toy"].findings["model: largest marginal error"] == pytest.approx(
        np.abs(mu - refimpl.conditional_marginals(refimpl.datasets.empirical(toy.toy_sequences(), 5), toy.query()))[
            [0, 1, 4]].max(), abs=1e-12)
    assert reports["toy"].findings["model: largest marginal error"] <= 0.05


def test_homogenisation_against_matrix_powers_and_its_bounds(paper):
    """Checks proofs/homogenisation.md."""
    transition, pi, lam = homogenisation.chain()
    moduli = sorted(abs(np.linalg.eigvals(transition)))
    assert lam == pytest.approx(moduli[-2])
    report = paper[0]["homogenisation"]
    for row in report.tables[0].rows:
        d = row[0]
        marginal = np.linalg.matrix_power(transition, d)[0]
        assert row[1] == pytest.approx(0.5 * np.abs(marginal - pi).sum(), abs=1e-12)
        assert row[1] <= row[2]
        assert row[3] == pytest.approx(-np.sum(marginal * np.log(marginal)), abs=1e-12)
    for row in report.tables[1].rows:
        d, m = row[0], row[1]
        unnormalised = np.linalg.matrix_power(transition, d)[0] * np.linalg.matrix_power(transition, m)[:, 3]
        marginal = unnormalised / unnormalised.sum()
        assert row[2] == pytest.approx(0.5 * np.abs(marginal - pi).sum(), abs=1e-12)
        assert row[2] <= row[3]
    tvs = [row[1] for row in report.tables[0].rows]
    assert all(b < a for a, b in zip(tvs, tvs[1:]))


def test_near_autoregressive_random_order_by_brute_force_over_orders(paper):
    rows = {row[0]: row for row in paper[0]["near_autoregressive"].tables[0].rows}
    length, masked = homogenisation.LENGTH, list(range(1, homogenisation.LENGTH))
    adjacent = leftmost = 0
    orders = list(itertools.permutations(masked))
    for order in orders:
        known = {0}
        for i in order:
            adjacent += (i - 1 in known) or (i + 1 in known)
            leftmost += i == min(set(range(length)) - known)
            known.add(i)
    total = len(orders) * len(masked)
    assert rows["random order (FirstHitting)"][1] == pytest.approx(adjacent / total, abs=1e-12)
    assert rows["random order (FirstHitting)"][2] == pytest.approx(leftmost / total, abs=1e-12)
    assert rows["left to right"][1] == rows["left to right"][2] == pytest.approx(1.0)


def test_near_autoregressive_llada_by_monte_carlo(paper):
    """Adjacency frequency of LLaDA low_confidence T=1 from simulated runs: 99.9% interval."""
    table = homogenisation.law()
    oracle = refimpl.oracle_denoiser(table)
    prompt = np.full(8, 4)
    prompt[0] = 0
    plan = S.LLaDA(7, temperature=1.0).plan(prompt == 4, np.ones(8, dtype=bool))
    rng = np.random.default_rng(0)
    z = np.tile(prompt, (20000, 1))
    hits = []
    for step in plan:
        new = step.draw(z, oracle(z), rng)
        revealed = new != z
        clean = z != 4
        neighbour = np.zeros_like(clean)
        neighbour[:, 1:] |= clean[:, :-1]
        neighbour[:, :-1] |= clean[:, 1:]
        hits.append((revealed & neighbour).sum(axis=1))
        z = new
    per_run = np.sum(hits, axis=0) / 7.0
    stderr = per_run.std(ddof=1) / np.sqrt(len(per_run))
    exact = {row[0]: row for row in paper[0]["near_autoregressive"].tables[0].rows}["LLaDA low_confidence, T=1"][1]
    assert abs(per_run.mean() - exact) <= 3.2905 * stderr


def test_prescriptions_oracle_column_follows_the_theorems(paper):
    """Checks proofs/kl_decomposition.md."""
    table = homogenisation.law()
    report = paper[0]["prescriptions"]
    oracle_column = report.tables[0].headers.index("oracle")
    for (block, k), row in zip(strategies(8), report.tables[0].rows):
        if k == 1:
            assert abs(row[oracle_column]) < 1e-12  # one token per step: exact
        if k == block:  # whole blocks at once, left to right: a fixed schedule
            sets = [list(range(s, s + block)) for s in range(0, 8, block)]
            assert row[oracle_column] == pytest.approx(sum(metrics.reveal_decomposition(table, sets)), abs=1e-10)


def test_prescriptions_trained_cells_by_the_untabulated_engine_path(paper):
    reports, models = paper
    table = homogenisation.law()
    report = reports["prescriptions"]
    name = TRAINING[1][0]
    column = report.tables[0].headers.index(name)
    model = models[name]
    for (block, k), row in zip(strategies(8), report.tables[0].rows):
        if (block, k) in ((2, 1), (4, 2)):
            q = refimpl.exact_law(lambda z: model(z), S.SemiAR(block, S.RandomK(k)), 8, 4)
            assert row[column] == pytest.approx(refimpl.kl(table, q), rel=1e-9)
    assert "winner" in report.findings and math.isfinite(report.findings["winner KL / runner-up KL"])
