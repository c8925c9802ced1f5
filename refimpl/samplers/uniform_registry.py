r"""The sampler families without a mask (uniform-state diffusion, issue #38), one entry each, and the exact models
they read.  Their exact laws run on clean canvases (:mod:`refimpl.engine.uniform_chain`), not on the absorbing
engine, so they have a registry of their own: the command line (``refimpl law --sampler renoise``), the hypothesis
strategies and the golden vectors read it.  Every family answers ``exact_law_and_calls(denoiser, V, L)``.

A uniform-state model is one of :data:`MODELS`, each exact for a data law p: ``agnostic`` (what DiffusionGemma's
public fine-tuning recipes train: not told t, every position scored), ``agnostic_noised`` (only the noised positions
scored, dllm's trainer), ``told`` (the posterior marginal at each call's alpha: cross-entropy told t) and ``told_loo``
(the leave-one-out posterior at each call's alpha: the uniform NELBO's minimiser, what Duo's steps read).
"""
import numpy as np

from ..core.errors import InvalidParameterError
from ..diffusion.uniform_elbo import loo_oracle
from ..diffusion.uniform_oracles import time_agnostic_oracle, uniform_oracle
from .block_refinement_uniform import UniformBlockRefinement
from .discrete_ddim import DiscreteDDIM
from .params import Parameter
from .registry import Family
from .renoise import Renoise, UniformEntropyBound
from .uniform_ancestral import REMOVALS, UniformAncestral

MODELS = {
    "agnostic": "the time-agnostic minimiser of the all-positions cross-entropy, t ~ U(1e-3, 1)",
    "agnostic_noised": "the time-agnostic minimiser of the noised-positions cross-entropy, t ~ U(1e-3, 1)",
    "told": "the posterior marginal p(x_0^i | x_t) at each call's alpha",
    "told_loo": "the leave-one-out posterior p(x_0^i | x_t without i) at each call's alpha",
}
AGNOSTIC, TOLD = ("agnostic", "agnostic_noised"), ("told", "told_loo")

UNIFORM_FAMILIES = {family.name: family for family in (
    Family("renoise", Renoise, "DiffusionGemma's renoising sampler as dllm runs it (DiffusionGemmaSampler 37f3e11; "
                               "transformers' and sglang's the same rule)",
           originals=(("steps", "max_denoising_steps"), ("max_temperature", "t_max"), ("min_temperature", "t_min"),
                      ("confidence_threshold", "entropy_threshold (dllm)"))),
    Family("entropy_bound_uniform", UniformEntropyBound, "diffusers' EntropyBoundScheduler without a mask, as "
                                                         "DiffusionGemmaPipeline drives it (0.42.1)",
           originals=(("steps", "num_inference_steps"), ("max_temperature", "t_max"), ("min_temperature", "t_min"))),
    Family("block_refinement_uniform", UniformBlockRefinement, "diffusers' BlockRefinementScheduler with "
                                                               "mask_token_id=None, as DiffusionGemmaPipeline drives it "
                                                               "(0.42.1)",
           originals=(("steps", "num_inference_steps"),)),
    Family("discrete_ddim", DiscreteDDIM, "diffusers' DiscreteDDIMScheduler, step and step_correct, as "
                                          "DiffusionGemmaPipeline drives it (0.42.1)",
           originals=(("steps", "num_inference_steps"),)),
    Family("uniform_ancestral", UniformAncestral, "UDLM/Duo's ancestral sampler for uniform noise (s-sahoo/duo "
                                                  "7c9b498, _ancestral_update)",
           extra=(Parameter("noise_removal", "duo_noise_removal", "Duo's last call (sampling.noise_removal)", str,
                            REMOVALS, "ancestral"),),
           originals=(("steps", "sampling.steps"), ("noise_removal", "sampling.noise_removal"))),
)}
UNIFORM_NAMES = tuple(UNIFORM_FAMILIES)
DEFAULT_MODEL = {"renoise": "agnostic", "entropy_bound_uniform": "agnostic", "block_refinement_uniform": "agnostic",
                 "discrete_ddim": "agnostic", "uniform_ancestral": "told_loo"}


def uniform_family(name: str) -> Family:
    """The uniform-state family called ``name`` (or its class's name).

    Examples
    --------
    >>> from refimpl.samplers.uniform_registry import uniform_family
    >>> uniform_family("Renoise").name
    'renoise'
    """
    for entry in UNIFORM_FAMILIES.values():
        if name in (entry.name, entry.cls.__name__):
            return entry
    raise InvalidParameterError(f"uniform-state sampler family must be one of {', '.join(UNIFORM_NAMES)}, got "
                                f"{name!r}")


def model_for(sampler, p, kind):
    """The exact model of kind ``kind`` (:data:`MODELS`) for the data law ``p``, as ``sampler`` takes it: one
    denoiser, or one per call for a model told the time (only the samplers with ``alphas()`` ask it per call).
    ``kind`` may also be a trained model (:class:`refimpl.models.uniform_mlp.UniformMLP`): as it was trained, told
    the time at each call or not."""
    if getattr(kind, "timed", None) is not None:  # a trained model
        return [kind.at(a) for a in _alphas_of(sampler)] if kind.timed else kind
    if kind not in MODELS:
        raise InvalidParameterError(f"the model must be one of {', '.join(MODELS)}, got {kind!r}")
    if kind in AGNOSTIC:
        return time_agnostic_oracle(p, target="all" if kind == "agnostic" else "noised")
    build = uniform_oracle if kind == "told" else loo_oracle
    return [build(p, a) for a in _alphas_of(sampler)]


def _alphas_of(sampler):
    alphas = getattr(sampler, "alphas", None)
    if alphas is None:
        raise InvalidParameterError(f"{type(sampler).__name__} asks one model at every call, so it cannot be told the "
                                    f"time: use a model {' or '.join(AGNOSTIC)}")
    return alphas()


def law_and_calls(sampler, p, kind=None):
    """(the exact output law, a table (V,)*L; the expected model calls) of ``sampler`` with the exact model of kind
    ``kind`` (default: the family's, :data:`DEFAULT_MODEL`) for the data law ``p`` (a table).

    Examples
    --------
    >>> import refimpl
    >>> from refimpl.samplers.discrete_ddim import DiscreteDDIM
    >>> from refimpl.samplers.uniform_registry import law_and_calls
    >>> law, calls = law_and_calls(DiscreteDDIM(1, temperature=1.0), refimpl.datasets.coupled_pairs().table, "told")
    >>> float(law[0, 3]), calls     # at alpha 0 the model ignores the canvas: AD has the product's 1/4
    (0.25, 1.0)
    """
    table = np.asarray(p, dtype=np.float64)
    kind = DEFAULT_MODEL[uniform_family(type(sampler).__name__).name] if kind is None else kind
    return sampler.exact_law_and_calls(model_for(sampler, table, kind), table.shape[0], table.ndim)
