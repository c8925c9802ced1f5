r"""refimpl to torch and back, for samplers written in PyTorch (issue #36): a refimpl denoiser as a torch model with
the conventions of real ones, and a torch decoding loop as the ``sample_fn`` that :mod:`refimpl.testing` and
``refimpl verify`` take.  torch is imported only when these are called (it stays an optional extra).

- :func:`as_torch_model`: ``model(x) -> logits`` for a batch of token ids ``x`` (B, L) (the mask is id V), logits
  (B, L, V+1) with the mask's column at ``mask_logit`` (default 0, the logit of a token of probability 1: a loop that
  leaves the mask in its softmax then draws it, as it would from a real model that gives the mask any weight;
  :math:`-\infty` is MDLM's SUBS convention, under which that slip cannot show), or (B, L, V) without it; the logits
  of the data tokens are the log of refimpl's probabilities (:math:`-\infty` where a probability is 0), in the
  ``dtype`` and on the ``device`` asked for (default: float32 on ``x``'s device).
- :func:`from_torch_sampler`: a loop ``loop(model, x, mask_id, generator) -> x`` (or ``(x, calls)``, calls the model
  calls each row made) with ``x`` (n, L) holding the prompt and masks, as ``sample_fn(denoiser, n, rng, length,
  vocab_size, prompt)``; its ``torch.Generator`` is seeded from refimpl's ``numpy.random.Generator``, so a seed
  reproduces a run.
"""
from typing import Callable

import numpy as np

from ..core import validate
from ..core.errors import InvalidParameterError, InvalidTypeError
from ..core.types import Denoiser


def _torch():
    try:
        import torch
    except ImportError:
        raise InvalidParameterError("the torch adapters need torch: pip install 'refimpl[torch]'") from None
    return torch


def _mask_logit(value):
    try:
        logit = float(value)
    except (TypeError, ValueError):
        logit = float("nan")
    if np.isnan(logit) or logit == float("inf") or isinstance(value, bool):
        raise InvalidParameterError(f"mask_logit must be a number or -inf, got {value!r}")
    return logit


def as_torch_model(denoiser: Denoiser, vocab_size: int, mask_column: bool = True, mask_logit: float = 0.0,
                   dtype: object = None) -> Callable:  # a torch.dtype
    """``denoiser`` as a torch model: token ids (B, L) in, logits (B, L, V+1) (or (B, L, V) without ``mask_column``)
    out, as a torch tensor of ``dtype`` (default float32) on the input's device.

    Parameters
    ----------
    denoiser : callable
        A refimpl denoiser (the interop contract: ids (B, L), the mask V, to probabilities (B, L, V)).
    vocab_size : int
        V; the mask's id is V.
    mask_column : bool
        Logits over V+1 ids, the mask's column last (True), or over the V data tokens.
    mask_logit : float
        The mask column's logit: a number, or -inf (MDLM's convention, under which the mask is never drawn).
    dtype : torch.dtype, optional
        A floating dtype (default float32).

    Returns
    -------
    callable
        ``model(x) -> logits``, with ``model.vocab_size`` and ``model.mask_id``.

    Examples
    --------
    >>> import refimpl, torch
    >>> from refimpl.interop.torch_adapters import as_torch_model
    >>> p = refimpl.datasets.coupled_pairs()
    >>> model = as_torch_model(refimpl.oracle_denoiser(p), 4)
    >>> model(torch.tensor([[4, 4]])).softmax(-1)[0, 0].tolist()     # position 0: A or C, or the mask (id 4) at logit 0
    [0.25, 0.0, 0.25, 0.0, 0.5]
    >>> subs = as_torch_model(refimpl.oracle_denoiser(p), 4, mask_logit=float("-inf"))    # MDLM's convention
    >>> subs(torch.tensor([[4, 4]])).softmax(-1)[0, 0].tolist()
    [0.5, 0.0, 0.5, 0.0, 0.0]
    """
    vocab_size = validate.integer(vocab_size, "vocab_size", 2)
    if not callable(denoiser):
        raise InvalidTypeError(f"denoiser must be callable, got {type(denoiser).__name__}")
    mask_column, mask_logit = validate.flag(mask_column, "mask_column"), _mask_logit(mask_logit)
    torch = _torch()
    dtype = torch.float32 if dtype is None else dtype
    if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
        raise InvalidTypeError(f"dtype must be a floating torch.dtype (torch.float32, torch.float64, ...), got {dtype!r}")

    def model(x):
        ids = np.asarray(x.detach().cpu().numpy() if hasattr(x, "detach") else x, dtype=np.int64)
        with np.errstate(divide="ignore"):
            logits = np.log(np.asarray(denoiser(ids), dtype=np.float64))
        if mask_column:
            logits = np.concatenate([logits, np.full(logits.shape[:-1] + (1,), mask_logit)], axis=-1)
        device = x.device if hasattr(x, "device") else None
        return torch.as_tensor(logits, dtype=dtype, device=device)

    model.vocab_size, model.mask_id = vocab_size, vocab_size
    return model


def from_torch_sampler(loop: Callable, mask_column: bool = True, mask_logit: float = 0.0,
                       dtype: object = None) -> Callable:  # a torch.dtype
    """``loop(model, x, mask_id, generator) -> x`` (or ``(x, calls)``) as refimpl's ``sample_fn``: the denoiser
    handed in becomes :func:`as_torch_model` (``mask_column``, ``mask_logit``, ``dtype``), ``x`` the (n, L)
    int64 tensor of the prompt (all masks without one), the generator a ``torch.Generator`` seeded from the
    ``numpy.random.Generator``; what the loop returns comes back as numpy (checked by the assertion, not here).
    The returned function's ``mask_logit`` attribute (None without a mask column) tells
    :func:`refimpl.testing.assert_sampler_matches` whether the mask column's slip can show.

    Parameters
    ----------
    loop : callable
        ``loop(model, x, mask_id, generator) -> x`` or ``(x, calls)``.
    mask_column, mask_logit, dtype
        The model's conventions, as :func:`as_torch_model`.

    Returns
    -------
    callable
        ``sample_fn(denoiser, n, rng, length, vocab_size, prompt)``.

    Examples
    --------
    >>> import torch, refimpl, refimpl.testing as rt
    >>> def left_to_right(model, x, mask_id, generator):
    ...     for i in range(x.shape[1]):
    ...         probs = model(x)[:, i, :mask_id].softmax(-1)
    ...         x[:, i] = torch.multinomial(probs, 1, generator=generator)[:, 0]
    ...     return x
    >>> p = refimpl.datasets.coupled_pairs()
    >>> fit = rt.assert_sampler_matches(rt.from_torch_sampler(left_to_right), rt.sampler("left_to_right"),
    ...                                 refimpl.oracle_denoiser(p), p, n=2000)
    """
    if not callable(loop):
        raise InvalidTypeError(f"loop must be callable (model, x, mask_id, generator), got {type(loop).__name__}")
    mask_column, mask_logit = validate.flag(mask_column, "mask_column"), _mask_logit(mask_logit)

    def sample_fn(denoiser, n, rng, length, vocab_size, prompt):
        torch = _torch()
        start = np.full((n, length), vocab_size, dtype=np.int64) if prompt is None else \
            np.tile(np.asarray(prompt, dtype=np.int64), (n, 1))
        generator = torch.Generator().manual_seed(int(rng.integers(2**63)))
        model = as_torch_model(denoiser, vocab_size, mask_column, mask_logit, dtype)
        out = loop(model, torch.as_tensor(start), vocab_size, generator)
        if isinstance(out, tuple) and len(out) == 2:
            return _numpy(out[0]), _numpy(out[1])
        return _numpy(out)

    sample_fn.mask_logit = float(mask_logit) if mask_column else None
    return sample_fn


def _numpy(value):
    return value.detach().cpu().numpy() if hasattr(value, "detach") else value
