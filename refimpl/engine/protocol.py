r"""The step protocol: what the exact-law engine asks of a step, and nothing else.

A sampler is a *plan*, a list of steps (``sampler.plan(masked, region)``).  The engine's state is a table
``mass`` of shape ``(V+1,)*L`` (mask = V) holding the probability of every partial sequence; a step maps
it to the next table through its exact transition kernel.  The engine never asks what class a step (or
a denoiser) is: every step answers the same questions, and the engine acts on the answers.

- ``candidates(patterns)`` — (P, L) bool for mask patterns (P, L): the positions the step may change in a
  sequence of each pattern.  Patterns with none are carried over untouched, and :func:`refimpl.sample`
  spends no model call on their rows.  A reveal step's candidates are its eligible masked positions; a
  step that re-masks or edits may name clean positions too.
- ``reach(patterns, vocab_size)`` — (R, L) bool, in C order (:func:`refimpl.engine.layout.pattern_codes`):
  every pattern the mass of these patterns can be in after the step (those the step does not act on
  included), or None when listing them would cost more than scanning the table (only for
  :data:`PER_PATTERN` steps).
- ``batching`` — how the engine hands states to ``transition``: :data:`PER_PATTERN`, one mask pattern at
  a time in block layout (:class:`refimpl.engine.states.PatternStates`), the patterns dealt to two threads;
  or :data:`BY_COUNTS`, all patterns with the same numbers of masked positions and of candidates together,
  by flat index (:class:`refimpl.engine.states.CountStates`), in chunks of about ``outcomes`` entries.
- ``outcomes(candidates, vocab_size)`` — :data:`BY_COUNTS` only: how many outcomes one source with that
  many candidates has (it sizes the chunks).
- ``transition(states)`` — the exact kernel: a sequence of *moves*
  (:class:`refimpl.engine.moves.BlockMove`, :class:`refimpl.engine.moves.ScatterMove`), each a set of
  destinations with the mass-weighted probability of reaching them; the engine adds every move into the
  next table (``move.add_to``).  Moves may send mass anywhere: a revealed token, a clean position
  masked again, a clean token replaced.
- ``stay_probability(pattern)`` — the probability that the step leaves a sequence of this pattern
  unchanged, the same for all of its sequences (what MDLM's cache needs, :mod:`refimpl.engine.calls`).
- ``calls`` — when the original loop calls the model for this step, one of :data:`CALL_RULES`.
- ``work(pattern, vocab_size)`` (optional, :data:`PER_PATTERN` only) — the entries the step computes for one
  pattern, when it differs from a reveal step's :math:`V^{clean}(V+1)^{masked}`: the engine deals the
  patterns to its threads by it.
- ``passes`` (optional, default 1) — how many model evaluations one call of this step costs (2 for LLaDA's
  classifier-free guidance, which evaluates the sequence and a copy with the prompt masked).
- ``draw(z, mu, rng)`` — the Monte Carlo side: advance a batch ``z`` (B, L) given the denoiser's answers
  ``mu`` (B, L, V); written independently of ``transition``, so that samples against exact laws is a check.

A step whose original loop stops for some sequences and not others (a stop that depends on the path, not on
the partial sequence: diffusers' LLaDA 2.x loop ends a block's edits when an iteration edits nothing) *parks*
them:

- ``parks`` (optional, default False; :data:`PER_PATTERN` only) — the step may return moves marked ``parked``
  (:mod:`refimpl.engine.moves`): their mass is kept aside, untouched by the steps that follow and not
  counted in their calls, until a step with ``releases`` (optional, default False) runs: the engine adds
  it back before that step (and after the last).  A plan that parks says when its steps call the model
  with :data:`IF_MASKED` (the engine refuses :data:`ALWAYS`: a parked sequence is not called).
- ``park(before, after)`` — the Monte Carlo side: (B,) bool, the rows of a batch that stop after the step.
- ``predicts(z, vocab_size)`` (optional) — (B, L) bool, the clean positions whose *prediction* the step reads
  (a step that edits tokens): :func:`refimpl.sample` puts the denoiser's answer with that position masked into
  those rows of ``mu``, as :meth:`refimpl.engine.states.PatternStates.clean_rows` does on the exact side.

A step whose state carries more than the partial sequence — ReMDM's confidence schedule remembers how
confident the model was in each token when it was revealed — has ``batching`` = :data:`SCORED`: it answers
``successors`` and ``draw_scored`` instead of ``transition`` and ``draw``, and the engine runs its plan on
(sequence, scores) states (:mod:`refimpl.engine.scored`).

A sampler may also define ``guide(denoiser, prompt, vocab_size)``: the denoiser its steps read, when the
sampler changes the model's answers before any step sees them (LLaDA's ``cfg_scale`` and
``logits_eos_inf``, :mod:`refimpl.denoisers.guidance`); :func:`refimpl.engine.exact.model` applies it.

``tests/engine/test_engine_protocol.py`` shows a step that is not reveal-only (it re-masks a clean position)
through this interface alone, its exact law against Monte Carlo.
"""
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


def passes(step) -> int:
    """Model evaluations per call of ``step`` (its optional ``passes``, default 1)."""
    return int(getattr(step, "passes", 1))


@runtime_checkable
class Move(Protocol):
    """Destinations and the mass that reaches them, added into the next table by the engine."""

    size: int  # transition entries computed (for EngineStats)

    def add_to(self, table: np.ndarray) -> None: ...

    def flows(self) -> list: ...  # [(pattern before (L,) bool, pattern after (L,) bool, probability)]


@runtime_checkable
class Step(Protocol):
    """One step of a sampler's plan (see the module docstring)."""

    calls: str
    batching: str

    def candidates(self, patterns: np.ndarray) -> np.ndarray: ...

    def reach(self, patterns: np.ndarray, vocab_size: int) -> "np.ndarray | None": ...

    def outcomes(self, candidates: int, vocab_size: int) -> int: ...

    def transition(self, states) -> Sequence[Move]: ...

    def stay_probability(self, pattern: np.ndarray) -> float: ...

    def draw(self, z: np.ndarray, mu: np.ndarray, rng: np.random.Generator) -> np.ndarray: ...
