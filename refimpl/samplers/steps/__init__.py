r"""One reverse step of a sampler, twice: its exact transition and a Monte Carlo draw.

Every sampler in refimpl is a plan — a list of steps — built from the step kinds here, each following
the engine's step protocol (:mod:`refimpl.engine.protocol`).  A step
looks at the masked positions it may fill (``eligible`` and masked), draws tokens from the
denoiser's (tempered) probabilities, and reveals a subset of them:

- :class:`IndependentStep`: each eligible masked position is revealed independently with its own
  probability (MDLM's ancestral step, Dream's ``origin``, a fixed reveal set when it is 0/1);
- :class:`LeftmostStep`: the leftmost eligible masked position;
- :class:`UniformKStep`: k positions uniformly at random (random-k, LLaDA ``random`` remasking);
- :class:`TopKStep`: the k most confident (LLaDA ``low_confidence``, Dream's confidence algorithms), or k
  drawn by confidence (Dream's ``alg_temp``); Dream's ``top_p``/``top_k`` truncate the token law
  (:func:`truncate`);
- :class:`ThresholdStep`: all with confidence >= tau, at least the most confident (Fast-dLLM);
- :class:`FactorStep`: the top r for the first rank r failing 1 - factor/(r+2) (Fast-dLLM's factor rule);
- :class:`EntropyBoundStep`: the lowest-entropy prefix within an entropy budget (the EB-Sampler);
- :class:`RemaskStep`: reveal masked positions and mask clean ones again, independently (ReMDM) — not reveal-only;
- :class:`ConfidenceRemaskStep`: the same with each token's chance of being masked again set by the model's
  confidence when it was revealed (ReMDM-conf; its state carries that score, :mod:`refimpl.engine.scored`);
- :class:`RefineStep`: commit by confidence and replace committed tokens (LLaDA 2.x, diffusers' block refinement)
  — not reveal-only, and it parks the sequences whose loop has stopped.

The exact side is ``transition(states)``, which returns moves: the independent, threshold and factor
steps work one mask pattern at a time in block layout (:class:`refimpl.engine.states.PatternStates`);
the k-subset steps many patterns at once (:class:`refimpl.engine.states.CountStates`), through
``reveal_probabilities(mu, weight)``, the law of (subset, tokens).  ``draw(z, mu, rng)`` advances a batch.
The exact and the Monte Carlo sides are written
independently, so agreement between samples and exact laws is a real check.
Ties in confidence are broken by the lowest position first; ties in an argmax by the lowest token.
Each step also says when the original's loop calls the model for it (``calls``: :data:`CALL_RULES`),
which :func:`refimpl.engine.calls.expected_calls` turns into the expected number of model calls.
"""
from ...engine.protocol import ALWAYS, CALL_RULES, IF_CHANGED, IF_MASKED
from ..kernels.tokens import confidences, temper, truncate
from .choose_k import TopKStep, UniformKStep
from .entropy import EntropyBoundStep, entropy_bound_accepts
from .independent import AnchorStep, IndependentStep, LeftmostStep
from .random_size import RandomSizeKStep
from .refine import RefineStep
from .remask import ConfidenceRemaskStep, RemaskStep
from .reveal import FixedCount, FractionCount
from .threshold import FactorStep, ThresholdStep

__all__ = ["ALWAYS", "AnchorStep", "CALL_RULES", "ConfidenceRemaskStep", "EntropyBoundStep", "FactorStep", "FixedCount",
           "FractionCount", "IF_CHANGED", "IF_MASKED", "IndependentStep", "LeftmostStep", "RandomSizeKStep", "RefineStep",
           "RemaskStep", "ThresholdStep", "TopKStep", "UniformKStep", "confidences", "entropy_bound_accepts", "temper",
           "truncate"]
