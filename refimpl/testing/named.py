"""refimpl's samplers by family name, so that a user's suite can name the semantics it claims with
``refimpl.testing`` alone: ``sampler("llada", steps=4, temperature=0.5)`` is ``refimpl.samplers.LLaDA(...)``."""
from .. import samplers as smp
from ..core.errors import InvalidParameterError

CLASSES = {"ancestral": smp.Ancestral, "first_hitting": smp.FirstHitting, "random_k": smp.RandomK,
           "left_to_right": smp.LeftToRight, "fixed_order": smp.FixedOrder, "semi_ar": smp.SemiAR,
           "llada": smp.LLaDA, "dream": smp.Dream, "threshold": smp.Threshold, "factor": smp.Factor,
           "entropy_bound": smp.EntropyBound, "remdm": smp.ReMDM,
           "llada2": smp.LLaDA2}


def sampler(name: str, **params) -> object:
    """The refimpl sampler of family ``name`` (one of :data:`CLASSES`) with ``params``, validated by it."""
    if not isinstance(name, str) or name not in CLASSES:
        raise InvalidParameterError(f"sampler family must be one of {sorted(CLASSES)}, got {name!r}")
    try:
        return CLASSES[name](**params)
    except TypeError as error:  # an unknown or missing parameter
        raise InvalidParameterError(f"{name}: {error}") from None
