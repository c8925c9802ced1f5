r"""The step protocol: what the exact-law engine asks of a step, declared as base classes with their defaults.

A sampler is a *plan*, a list of steps (``sampler.plan(masked, region)``).  The engine's state is a table
``mass`` of shape ``(V+1,)*L`` (mask = V) holding the probability of every partial sequence; a step maps
it to the next table through its exact transition kernel.  Every step is an instance of one of three kinds,
named by how the engine hands it states (``batching``); the engine checks that once, when it builds the plan
(:func:`refimpl.engine.problem`), and otherwise acts only on the answers below — it never asks what class a
step is, and never probes for an attribute: the optional answers have declared defaults in :class:`Step`.

Every step (:class:`Step`) answers

- ``candidates(patterns)`` — (P, L) bool for mask patterns (P, L): the positions the step may change in a
  sequence of each pattern.  Patterns with none are carried over untouched, and :func:`refimpl.sample`
  spends no model call on their rows.  A reveal step's candidates are its eligible masked positions; a
  step that re-masks or edits may name clean positions too;
- ``calls`` — when the original loop calls the model for this step, one of :data:`CALL_RULES`;

and may change the defaults of

- ``passes`` (1) — model evaluations one call costs (0 for a step that reads a pass counted by another step: the
  anchor a block-causal decoder takes from its causal pass over the block before; 2 for LLaDA's classifier-free
  guidance, which evaluates the sequence and a copy with the prompt masked);
- ``parks`` / ``releases`` (False) — a step whose original loop stops for some sequences and not others (a
  stop that depends on the path, not on the partial sequence: diffusers' LLaDA 2.x loop ends a block's edits
  when an iteration edits nothing) *parks* them: it returns moves marked ``parked``
  (:mod:`refimpl.engine.moves`), whose mass is kept aside, untouched by the steps that follow and not counted
  in their calls, until a step with ``releases`` runs (and after the last).  ``park(before, after)`` is the Monte
  Carlo side: (B,) bool, the rows of a batch that stop.  A plan that parks says when it calls with
  :data:`IF_MASKED` (the engine refuses :data:`ALWAYS`: a parked sequence is not called);
- ``predicts(z, vocab_size)`` (None) — (B, L) bool, the clean positions whose *prediction* the step reads (a
  step that edits tokens): :func:`refimpl.sample` puts the denoiser's answer with that position masked into
  those rows of ``mu``, as :meth:`refimpl.engine.states.PatternStates.clean_rows` does on the exact side;
- ``queries`` (False) — a step that reads the model at partial sequences other than its source (speculative
  decoding's draft and verify passes, lookahead): its ``transition`` asks
  :meth:`refimpl.engine.states.PatternStates.query`, and its ``draw`` is handed ``model=``, a function of (B, L)
  partial sequences returning the model's (B, L, V) answers;
- ``without_ties()`` (the step itself) — the step with every draw whose kept set a tie decides dropped: the
  engine runs these beside the steps to find :func:`refimpl.tie_probability`.

The two kinds on the table (:class:`PatternStep`, :class:`CountStep`) also answer

- ``reach(patterns, vocab_size)`` — (R, L) bool, in C order (:func:`refimpl.engine.layout.pattern_codes`):
  every pattern the mass of these patterns can be in after the step (those the step does not act on
  included), or None when listing them would cost more than scanning the table (:data:`PER_PATTERN` only);
- ``transition(states)`` — the exact kernel: a sequence of *moves* (:class:`refimpl.engine.moves.BlockMove`,
  :class:`refimpl.engine.moves.ScatterMove`, :class:`refimpl.engine.moves.FlatMove`), each a set of
  destinations with the mass-weighted probability of reaching them; the engine adds every move into the
  next table (``move.add_to``).  Moves may send mass anywhere: a revealed token, a clean position
  masked again, a clean token replaced;
- ``stay_probability(pattern)`` — the probability that the step leaves a sequence of this pattern
  unchanged, the same for all of its sequences (what MDLM's cache needs, :mod:`refimpl.engine.calls`); read only
  when the next step calls :data:`IF_CHANGED`, so a step whose answer depends on the tokens (an edit, a bypass)
  returns NaN and stays out of such plans;
- ``draw(z, mu, rng)`` — the Monte Carlo side: advance a batch ``z`` (B, L) given the denoiser's answers
  ``mu`` (B, L, V); written independently of ``transition``, so that samples against exact laws is a check.

:class:`PatternStep` (:data:`PER_PATTERN`): one mask pattern at a time in block layout
(:class:`refimpl.engine.states.PatternStates`), the patterns dealt to two threads; ``work(pattern, vocab_size)``
(None) says what a pattern costs when it is not a reveal step's :math:`V^{clean}(V+1)^{masked}`, and the engine
deals the patterns by it.  :class:`CountStep` (:data:`BY_COUNTS`): all patterns with the same numbers of masked
positions and of candidates together, by flat index (:class:`refimpl.engine.states.CountStates`), in chunks
sized by ``outcomes(candidates, vocab_size)``.  :class:`ScoredStep` (:data:`SCORED`): a step whose state carries
more than the partial sequence — ReMDM's confidence schedule remembers how confident the model was in each
token when it was revealed — answers ``successors``, ``successor_count`` and ``draw_scored`` instead, and the
engine runs its plan on (sequence, scores) states (:mod:`refimpl.engine.scored`).

A sampler may also define ``guide(denoiser, prompt, vocab_size)``: the denoiser its steps read, when the
sampler changes the model's answers before any step sees them (LLaDA's ``cfg_scale`` and
``logits_eos_inf``, :mod:`refimpl.denoisers.guidance`); :func:`refimpl.engine.problem` applies it.

``tests/engine/test_engine_protocol.py`` shows a step that is not reveal-only (it re-masks a clean position)
through this interface alone, its exact law against Monte Carlo, and checks every step of refimpl's samplers
against the protocol.
"""
import abc
from typing import Protocol, Sequence, runtime_checkable

import numpy as np

# When the original's loop calls the model for a step (``calls``, counted by refimpl.engine.calls):
ALWAYS = "always"  # every iteration, whether or not anything is left to reveal (LLaDA, Dream, MDLM's ddpm)
IF_MASKED = "if masked"  # only while the step has candidates (Fast-dLLM's loop after a block's first call)
IF_CHANGED = "if changed"  # only when the previous step changed something (MDLM's ddpm_cache reuses the answer)
CALL_RULES = (ALWAYS, IF_MASKED, IF_CHANGED)

PER_PATTERN = "per pattern"  # transition(PatternStates) for one mask pattern, block layout
BY_COUNTS = "by counts"  # transition(CountStates) for many patterns with equal counts, flat indices
SCORED = "scored"  # successors(z, scores, mu) for a batch of (sequence, scores) states (refimpl.engine.scored)
BATCHINGS = (PER_PATTERN, BY_COUNTS, SCORED)


def call_probability(rule: str, acting: float, changed: float) -> float:
    """The probability that the original calls the model for a step with call rule ``rule``, given the
    probability ``acting`` that the step has candidates and ``changed`` that the step before changed the
    sequence (both sums of probabilities: clipped to [0, 1])."""
    if rule == ALWAYS:
        called = 1.0
    elif rule == IF_MASKED:
        called = acting
    elif rule == IF_CHANGED:
        called = changed
    else:
        raise AssertionError(f"unknown call rule {rule!r}")
    return min(max(called, 0.0), 1.0)


@runtime_checkable
class Move(Protocol):
    """Destinations and the mass that reaches them, added into the next table by the engine."""

    size: int  # transition entries computed (for EngineStats)
    parked: bool  # the move stops its sequences' loop: its mass is kept aside (PatternStep.parks)

    def add_to(self, table: np.ndarray) -> None: ...

    def flows(self) -> list: ...  # [(pattern before (L,) bool, pattern after (L,) bool, probability)]


class Step(abc.ABC):
    """One step of a sampler's plan (the module docstring): the answers every step gives, with the optional ones
    declared here with their defaults.  Subclass one of :class:`PatternStep`, :class:`CountStep` or
    :class:`ScoredStep`; the engine refuses anything else."""

    batching: str  # one of BATCHINGS, set by the three kinds below
    calls: str = ALWAYS  # when the original calls the model for this step, one of CALL_RULES
    passes: int = 1  # model evaluations one call costs (2 for LLaDA's classifier-free guidance)
    parks: bool = False  # the step may return moves marked parked (PER_PATTERN steps only)
    releases: bool = False  # the engine adds the parked mass back before this step
    queries: bool = False  # the step reads the model at other partial sequences (PatternStates.query; draw's model=)

    @abc.abstractmethod
    def candidates(self, patterns: np.ndarray) -> np.ndarray:
        """(P, L) bool for mask patterns (P, L): the positions the step may change in a sequence of each pattern."""

    def predicts(self, z: np.ndarray, vocab_size: int) -> "np.ndarray | None":
        """(B, L) bool, the clean positions whose *prediction* the step reads (an editing step), or None (the
        default): none."""
        return None

    def park(self, before: np.ndarray, after: np.ndarray) -> np.ndarray:
        """(B,) bool: the rows of a batch whose loop stops after the step (the Monte Carlo side of ``parks``);
        by default none."""
        return np.zeros(len(before), dtype=bool)

    def without_ties(self) -> "Step":
        """The step with every draw whose kept set a tie decides dropped (:func:`refimpl.tie_probability` runs
        it beside the step itself); a step that ranks nothing is its own (the default)."""
        return self


class _TableStep(Step):
    """What the two table runners ask of a step besides its candidates."""

    @abc.abstractmethod
    def reach(self, patterns: np.ndarray, vocab_size: int) -> "np.ndarray | None":
        """(R, L) bool in C order: every pattern the mass of ``patterns`` can be in after the step, or None."""

    @abc.abstractmethod
    def transition(self, states) -> Sequence[Move]:
        """The exact kernel, as moves."""

    @abc.abstractmethod
    def stay_probability(self, pattern: np.ndarray) -> float:
        """The probability that the step leaves a sequence of ``pattern`` unchanged (the same for all of them)."""

    @abc.abstractmethod
    def draw(self, z: np.ndarray, mu: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """The Monte Carlo side: the batch ``z`` (B, L) advanced, given the denoiser's answers ``mu`` (B, L, V)."""


class PatternStep(_TableStep):
    """A step the engine runs one mask pattern at a time, in block layout (:data:`PER_PATTERN`)."""

    batching = PER_PATTERN

    def work(self, pattern: np.ndarray, vocab_size: int) -> "int | None":
        """The entries the step computes for one pattern, when they are not a reveal step's
        :math:`V^{clean}(V+1)^{masked}`; None (the default): a reveal step's, and the runner's own deal."""
        return None


class CountStep(_TableStep):
    """A step the engine runs on all patterns with equal numbers of masked positions and candidates, by flat
    index (:data:`BY_COUNTS`)."""

    batching = BY_COUNTS

    @abc.abstractmethod
    def outcomes(self, candidates: int, vocab_size: int) -> int:
        """How many outcomes one source with ``candidates`` candidates has (it sizes the chunks)."""


class ScoredStep(Step):
    """A step on (sequence, scores) states (:data:`SCORED`, :mod:`refimpl.engine.scored`)."""

    batching = SCORED

    @abc.abstractmethod
    def successors(self, z: np.ndarray, scores: np.ndarray, mu: np.ndarray) -> tuple:
        """``(parent (K,), z' (K, L), scores' (K, L), probability (K,))`` for N states."""

    @abc.abstractmethod
    def successor_count(self, z: np.ndarray, scores: np.ndarray, vocab_size: int) -> np.ndarray:
        """(N,) how many successors each state has, at most."""

    @abc.abstractmethod
    def draw_scored(self, z: np.ndarray, scores: np.ndarray, mu: np.ndarray, rng: np.random.Generator) -> tuple:
        """The Monte Carlo side: ``(z', scores')`` for a batch."""


KINDS = (PatternStep, CountStep, ScoredStep)
