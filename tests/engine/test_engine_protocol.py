"""The step protocol (refimpl/engine/protocol.py) carries kernels that are not reveal-only.

``Remask`` is written here, against the protocol alone: each clean position among its eligible ones is
masked again with probability ``rho`` (the shape of ReMDM's remasking, value-independent).  A plan of
reveal-all, remask, reveal-all then has an exact law that the engine computes through ``transition``;
it is checked against a second algorithm (a walk over every partial sequence with the denoiser's
answers, no engine code) and against Monte Carlo draws (``Remask.draw``, written independently).
``RevealThenPark`` parks the sequences whose revealed token stops their loop: the exact law of a plan that
parks, against the branches summed by hand, its calls and its draws.
"""
import dataclasses
import itertools

import numpy as np
import pytest
import refimpl
from refimpl.engine.moves import BlockMove
from refimpl.engine.protocol import ALWAYS, PatternStep, Step
from refimpl.samplers.steps import IndependentStep

from tests.helpers import chi_square_pvalue, engine_run, random_denoiser, random_table


@dataclasses.dataclass(frozen=True)
class Remask(PatternStep):
    """Mask each clean eligible position again, independently, with probability ``rho``."""

    eligible: tuple
    rho: float
    calls: str = ALWAYS

    def candidates(self, patterns):
        return ~np.asarray(patterns, dtype=bool) & np.asarray(self.eligible, dtype=bool)[None, :]

    def reach(self, patterns, vocab_size):
        return None  # not listed: the engine scans the table for the patterns holding mass

    def outcomes(self, candidates, vocab_size):
        return 2**candidates

    def stay_probability(self, pattern):
        return (1.0 - self.rho) ** int(self.candidates(pattern[None]).sum())

    def transition(self, states):
        """One move per subset R of the candidates: the mass summed over R's tokens, R now masked."""
        vocab_size, pattern = states.vocab_size, states.pattern
        chosen = [j for j in states.clean if self.eligible[j]]
        moves = []
        for size in range(len(chosen) + 1):
            for remasked in itertools.combinations(chosen, size):
                weight = self.rho**size * (1.0 - self.rho) ** (len(chosen) - size)
                outcome = weight * states.mass.sum(axis=remasked, keepdims=True)
                index = tuple(slice(vocab_size, vocab_size + 1) if (pattern[a] or a in remasked)
                              else slice(0, vocab_size) for a in range(len(pattern)))
                moves.append(BlockMove(pattern, index, outcome, vocab_size))
        return moves

    def draw(self, z, mu, rng):
        vocab_size = mu.shape[-1]
        again = (z != vocab_size) & np.asarray(self.eligible)[None, :] & (rng.random(z.shape) < self.rho)
        return np.where(again, vocab_size, z)


@dataclasses.dataclass(frozen=True)
class RevealRemaskReveal:
    """Reveal every masked position in parallel, re-mask some, reveal them again."""

    rho: float

    def plan(self, masked, region):
        everything = tuple(bool(r) for r in region)
        reveal = IndependentStep(everything, tuple(1.0 for _ in everything))
        return [reveal, Remask(everything, self.rho), reveal]


def walk(denoiser, rho, length, vocab_size, prompt):
    """The same law by following every partial sequence: a dict of states, the denoiser's answers."""
    def reveal_all(states):
        out = {}
        for z, mass in states.items():
            mu = refimpl.denoisers.evaluate(denoiser, np.array([z]), vocab_size)[0]  # (L, V)
            masked = [i for i in range(length) if z[i] == vocab_size]
            for tokens in itertools.product(range(vocab_size), repeat=len(masked)):
                x = list(z)
                weight = mass
                for i, v in zip(masked, tokens):
                    x[i] = v
                    weight *= mu[i, v]
                out[tuple(x)] = out.get(tuple(x), 0.0) + weight
        return out

    def remask(states):
        out = {}
        for z, mass in states.items():
            for flags in itertools.product((False, True), repeat=length):
                weight = mass * np.prod([rho if f else 1.0 - rho for f in flags])
                x = tuple(vocab_size if f else v for f, v in zip(flags, z))
                out[x] = out.get(x, 0.0) + weight
        return out

    states = reveal_all(remask(reveal_all({tuple(prompt): 1.0})))
    law = np.zeros((vocab_size,) * length)
    for x, mass in states.items():
        law[x] += mass
    return law


CASES = [("oracle", None), ("oracle", "prompt"), ("random", None), ("random", "prompt")]


@pytest.mark.parametrize("which, prompt", CASES)
def test_a_remasking_step_has_its_exact_law_through_the_protocol(which, prompt):
    vocab_size, length, rho = 3, 3, 0.4
    rng = np.random.default_rng(5)
    table = random_table(rng, vocab_size, length, concentration=0.7)
    denoiser = refimpl.oracle_denoiser(table) if which == "oracle" else random_denoiser(rng, vocab_size, length)
    start = np.array([vocab_size, 1, vocab_size]) if prompt else np.full(length, vocab_size)
    assert isinstance(Remask((True,) * length, rho), Step)
    law = refimpl.exact_law(denoiser, RevealRemaskReveal(rho), length, vocab_size, prompt=start)
    np.testing.assert_allclose(law, walk(denoiser, rho, length, vocab_size, start), rtol=1e-12, atol=1e-15)
    assert law.sum() == pytest.approx(1.0, abs=1e-12)
    # re-masking the prompt's clean token makes the law differ from a reveal-only plan's
    assert rho == 0 or not np.allclose(law, refimpl.exact_law(denoiser, RevealRemaskReveal(0.0), length, vocab_size,
                                                              prompt=start))


@pytest.mark.parametrize("which, prompt", CASES)
def test_a_remasking_step_samples_its_exact_law(which, prompt):
    """Monte Carlo against exact: chi-square, false-alarm rate 1e-3, seeded."""
    vocab_size, length, rho, n = 3, 3, 0.4, 30000
    rng = np.random.default_rng(6)
    table = random_table(rng, vocab_size, length, concentration=0.7)
    denoiser = refimpl.oracle_denoiser(table) if which == "oracle" else random_denoiser(rng, vocab_size, length)
    start = np.array([vocab_size, 1, vocab_size]) if prompt else None
    law = refimpl.exact_law(denoiser, RevealRemaskReveal(rho), length, vocab_size, prompt=start)
    draws = refimpl.sample(denoiser, RevealRemaskReveal(rho), n, np.random.default_rng(7), length, vocab_size,
                           prompt=start)
    counts = np.bincount(refimpl.space.encode(draws, vocab_size), minlength=law.size)
    assert chi_square_pvalue(counts, law.ravel()) > 1e-3


def test_a_remasking_step_counts_its_calls_and_reveals():
    """expected_calls and the reveal statistics read the protocol too: three calls always; the reveal-all
    steps commit every masked position; the remask step's stay probability is (1 - rho)^(clean)."""
    vocab_size, length, rho = 2, 3, 0.3
    denoiser = refimpl.oracle_denoiser(random_table(np.random.default_rng(8), vocab_size, length))
    reveals = engine_run(denoiser, RevealRemaskReveal(rho), length, vocab_size, reveals=True).reveals
    assert reveals[0] == {((0, 1, 2), (0, 1, 2)): pytest.approx(1.0)}
    assert refimpl.expected_calls(denoiser, RevealRemaskReveal(rho), length, vocab_size) == 3.0
    remask = Remask((True,) * length, rho)
    assert remask.stay_probability(np.array([False, True, False])) == pytest.approx((1 - rho) ** 2)


@dataclasses.dataclass(frozen=True)
class RevealThenPark(PatternStep):
    """Reveal ``position`` from the denoiser; a sequence that gets ``token`` there stops (is parked) until a
    step releases it — the protocol's parking, written here against the protocol alone."""

    position: int
    token: int
    releases: bool = False
    calls: str = "if masked"
    parks = True

    def candidates(self, patterns):
        out = np.zeros(np.shape(patterns), dtype=bool)
        out[:, self.position] = np.asarray(patterns, dtype=bool)[:, self.position]
        return out

    def reach(self, patterns, vocab_size):
        return None

    def outcomes(self, candidates, vocab_size):
        return vocab_size

    def stay_probability(self, pattern):
        return 0.0 if pattern[self.position] else 1.0

    def transition(self, states):
        outcome = states.mass * states.mu(self.position)  # the token on the position's axis
        stops = np.zeros(states.vocab_size, dtype=bool)
        stops[self.token] = True
        shape = [1] * states.length
        shape[self.position] = states.vocab_size
        stops = stops.reshape(shape)
        return [states.reveal(outcome * stops, parked=True), states.reveal(outcome * ~stops)]

    def draw(self, z, mu, rng):
        out = z.copy()
        out[:, self.position] = [rng.choice(mu.shape[-1], p=row) for row in mu[:, self.position]]
        return out

    def park(self, before, after):
        return after[:, self.position] == self.token


@dataclasses.dataclass(frozen=True)
class ParkedPlan:
    """Reveal position 0 (a 0 there stops the sequence), then position 1 (a 1 stops it), then release and reveal
    every masked position at once: a sequence parked early has its later positions revealed together."""

    calls: str = "if masked"

    def plan(self, masked, region):
        everything = tuple(bool(r) for r in region)
        last = Released(everything, tuple(1.0 for _ in everything), calls=self.calls)
        return [RevealThenPark(0, 0), RevealThenPark(1, 1), last]


class Released(IndependentStep):
    """An IndependentStep that releases the parked mass before it runs."""

    releases = True


def test_parked_mass_skips_steps_until_released():
    """The exact law of ParkedPlan by hand: x0 = 0 stops at once (x1, x2 then revealed together from the
    conditionals given x0); x0 != 0 and x1 = 1 stops after x1; else x2 alone — each branch a product of the
    oracle's conditionals; calls: the second step only for x0 != 0, the last for everyone; and the draws."""
    vocab_size, length = 2, 3
    table = random_table(np.random.default_rng(9), vocab_size, length)
    denoiser = refimpl.oracle_denoiser(table)
    mu = lambda z: refimpl.denoisers.evaluate(denoiser, np.array([z]), vocab_size)[0]  # noqa: E731
    M = vocab_size
    expected = np.zeros((vocab_size,) * length)
    for x0 in range(vocab_size):
        p0 = mu([M, M, M])[0][x0]
        if x0 == 0:
            rows = mu([x0, M, M])
            expected[x0] += p0 * np.outer(rows[1], rows[2])
            continue
        for x1 in range(vocab_size):
            p1 = mu([x0, M, M])[1][x1]
            expected[x0, x1] += p0 * p1 * mu([x0, x1, M])[2]
    law, calls = refimpl.engine.calls.exact_law_and_calls(denoiser, ParkedPlan(), length, vocab_size)
    np.testing.assert_allclose(law, expected, atol=1e-15)
    np.testing.assert_allclose(calls, [1.0, 1.0 - mu([M, M, M])[0][0], 1.0], atol=1e-15)
    drawn = refimpl.sample(denoiser, ParkedPlan(), 20000, np.random.default_rng(10), length, vocab_size)
    counts = np.bincount(refimpl.space.encode(drawn, vocab_size), minlength=law.size)
    assert chi_square_pvalue(counts, law.ravel()) > 1e-3


def test_a_plan_that_parks_and_calls_always_is_refused():
    with pytest.raises(refimpl.core.errors.InvalidTypeError, match="parks mass and has a step that calls"):
        refimpl.exact_law(refimpl.oracle_denoiser(random_table(np.random.default_rng(9), 2, 3)),
                          ParkedPlan(calls=ALWAYS), 3, 2)


def shipped_step_classes():
    """Every step class refimpl ships (refimpl.samplers.steps) that can be built: the abstract ones are the kinds."""
    import importlib
    import inspect
    import pkgutil

    import refimpl.samplers.steps as package

    found = set()
    for info in pkgutil.iter_modules(package.__path__):
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        for value in vars(module).values():
            if (inspect.isclass(value) and issubclass(value, Step) and value.__module__ == module.__name__
                    and not inspect.isabstract(value)):
                found.add(value)
    return found


def test_every_step_of_every_case_follows_the_declared_protocol():
    """Each step in the plan of each row of the case table is one of the protocol's kinds, answers what its kind
    declares with the right shapes, and every shipped step class appears in some row's plan."""
    import inspect

    from refimpl.engine.protocol import BATCHINGS, CALL_RULES, IF_CHANGED, KINDS, SCORED
    from refimpl.samplers.cases import CASES, VOCAB_SIZE

    seen = set()
    for case in CASES:
        masked = np.full(case.length, True) if case.prompt is None else np.asarray(case.prompt) == VOCAB_SIZE
        patterns = np.array(list(itertools.product((False, True), repeat=case.length)))
        z = np.where(patterns, VOCAB_SIZE, 0)
        plan = case.sampler.plan(masked, np.full(case.length, True))
        parking = any(step.parks for step in plan)  # (then no step's stay probability is read, or defined)
        read = any(step.calls == IF_CHANGED for step in plan)  # only a step calling if changed reads the one before
        for step in plan:
            seen.add(type(step))
            assert sum(isinstance(step, kind) for kind in KINDS) == 1 and step.batching in BATCHINGS
            assert not inspect.isabstract(type(step)) and step.calls in CALL_RULES and step.passes in (0, 1, 2)
            assert step.candidates(patterns).shape == patterns.shape and step.candidates(patterns).dtype == bool
            assert type(step.without_ties()) is type(step)
            predicted = step.predicts(z, VOCAB_SIZE)
            assert predicted is None or (predicted.shape == z.shape and predicted.dtype == bool)
            assert step.park(z, z).shape == (len(z),)
            if step.batching == SCORED:
                continue
            reached = step.reach(patterns, VOCAB_SIZE)
            assert reached is None or (reached.dtype == bool and reached.shape[1] == case.length)
            stay = [step.stay_probability(p) for p in patterns]
            assert all(0.0 <= s <= 1.0 for s in stay) or parking or not read
    assert seen == shipped_step_classes()
