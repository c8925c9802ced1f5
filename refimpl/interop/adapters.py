r"""Adapters that turn the models of other frameworks into refimpl denoisers (docs/DESIGN.md, the denoiser protocol).

A refimpl denoiser maps int partial sequences ``z`` (B, L), mask = V, to float64 probabilities
(B, L, V), one-hot at clean positions.  Real models differ in three ways, each handled here:

- they return *logits*, often over V+1 tokens with a column for the mask (LLaDA, MDLM); MDLM's SUBS
  parameterisation sets the mask logit to minus infinity, which is what dropping the column does;
- they return torch tensors (duck-typed: anything with ``.detach()``, ``.cpu()``, ``.numpy()`` or
  ``__array__``; torch is never imported by refimpl itself);
- they expect torch tensors as input (``to_input``, e.g. ``torch.as_tensor``, supplied by the caller).
"""
from typing import Callable

import numpy as np
from scipy.special import softmax

from ..core import validate
from ..core.errors import InvalidDenoiserOutputError
from ..core.types import ArrayLike, Denoiser


def to_numpy(value: ArrayLike) -> np.ndarray:
    """A torch tensor (or any array-like) as a float64 numpy array, without importing torch."""
    if hasattr(value, "detach"):
        value = value.detach()
    if hasattr(value, "cpu"):
        value = value.cpu()
    if hasattr(value, "numpy"):
        value = value.numpy()
    try:
        array = np.asarray(value)
    except (ValueError, TypeError) as error:
        raise InvalidDenoiserOutputError(f"the model's output cannot be read as an array: {error}") from None
    if array.dtype.kind not in "fiu":
        raise InvalidDenoiserOutputError(f"the model returned values of dtype {array.dtype}, not numbers")
    return array.astype(np.float64)


def from_model(model: Callable, vocab_size: int, output: str = "logits", mask_column: bool = False,
               to_input: Callable | None = None) -> Denoiser:
    r"""Wrap ``model(z) -> (B, L, V or V+1)`` logits or probabilities as a refimpl denoiser.

    ``output``: ``"logits"`` (softmax over the data tokens) or ``"probs"``; ``mask_column``: the last
    column is the mask token and is dropped (probabilities: renormalised over the data tokens);
    ``to_input``: converts the int64 numpy batch before the call (``torch.as_tensor`` for torch models).
    Clean positions are carried over (one-hot), as masked diffusion models do.
    """
    validate.choice(output, ("logits", "probs"), "output")
    validate.flag(mask_column, "mask_column")
    vocab_size = validate.integer(vocab_size, "vocab_size", 2)
    if not callable(model) or (to_input is not None and not callable(to_input)):
        raise validate.InvalidTypeError("model (and to_input, when given) must be callable")
    width = vocab_size + (1 if mask_column else 0)

    def denoiser(z):
        try:
            raw = model(to_input(z) if to_input is not None else z)
        except Exception as error:  # the wrapped model failed: say so, keep the cause for --debug
            raise InvalidDenoiserOutputError(f"the model raised {type(error).__name__}: {error}") from error
        raw = to_numpy(raw)
        if raw.shape != z.shape + (width,):
            hint = ""
            if raw.shape == z.shape + (vocab_size + 1,) and not mask_column:
                hint = "; it looks like V+1 columns with a mask column: pass mask_column=True"
            raise InvalidDenoiserOutputError(
                f"the model returned shape {raw.shape}; expected {z.shape + (width,)} "
                f"({'V+1 with a mask column' if mask_column else 'V data tokens'}){hint}")
        data = raw[..., :vocab_size]
        with np.errstate(invalid="ignore", divide="ignore"):  # NaN rows are refused by the caller's check
            probs = softmax(data, axis=-1) if output == "logits" else data / data.sum(axis=-1, keepdims=True)
        clean = z != vocab_size
        probs[clean] = np.eye(vocab_size)[z[clean]]
        return probs

    return denoiser
