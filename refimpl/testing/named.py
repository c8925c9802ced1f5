"""refimpl's samplers by family name, so that a user's suite can name the semantics it claims with
``refimpl.testing`` alone: ``sampler("llada", steps=4, temperature=0.5)`` is ``refimpl.samplers.LLaDA(...)``.
The names are the registry's (:data:`refimpl.samplers.NAMES`)."""
from ..samplers import registry

CLASSES = {name: entry.cls for name, entry in registry.FAMILIES.items()}


def sampler(name: str, **params) -> object:
    """The refimpl sampler of family ``name`` (one of :data:`refimpl.samplers.NAMES`) with ``params``, validated.

    Parameters
    ----------
    name : str
        A family of :data:`refimpl.samplers.NAMES` (an alias or the class name is read too).
    **params
        Its parameters.

    Returns
    -------
    object
        The sampler.

    Examples
    --------
    >>> from refimpl.testing import sampler
    >>> sampler("left_to_right", temperature=0.5)
    LeftToRight(temperature=0.5)
    >>> sampler("fixed_order", sets=[[1], [0]]) == sampler("FixedOrder", sets=[[1], [0]])   # the class name is read too
    True
    """
    return registry.build(name, **params)
