r"""Optimisers as pure functions: ``(params, grads, state) -> (params, state)``; nothing is mutated
(unless the training loop hands :func:`adam` its workspace, see there)."""
import numpy as np

from ..core.numerics import FRESH


def sgd_init(params):
    return {"step": 0, "velocity": {k: np.zeros_like(v) for k, v in params.items()}}


def sgd(params, grads, state, lr, momentum=0.0):
    r""":math:`v \leftarrow \mu v + g`, :math:`\theta \leftarrow \theta - \eta v`."""
    velocity = {k: momentum * state["velocity"][k] + grads[k] for k in params}
    new = {k: params[k] - lr * velocity[k] for k in params}
    return new, {"step": state["step"] + 1, "velocity": velocity}


def adam_init(params):
    return {"step": 0, "m": {k: np.zeros_like(v) for k, v in params.items()},
            "v": {k: np.zeros_like(v) for k, v in params.items()}}


def adam(params, grads, state, lr, beta1=0.9, beta2=0.999, eps=1e-8, ws=FRESH):
    r"""Adam (Kingma & Ba): bias-corrected moments,
    :math:`\theta \leftarrow \theta - \eta \hat m / (\sqrt{\hat v} + \epsilon)`.

    .. math::  m \leftarrow \beta_1 m + (1 - \beta_1) g, \quad v \leftarrow \beta_2 v + (1 - \beta_2) g^2,
               \quad \hat m = m / (1 - \beta_1^t), \quad \hat v = v / (1 - \beta_2^t)

    ``eps`` is Adam's own hyper-parameter (torch's default 1e-8), not a numerical guard.
    Nothing is mutated unless a reusing workspace (:class:`refimpl.core.numerics.Workspace`) is given:
    then (the training loop, which owns its arrays) the arrays of ``params`` and ``state`` are
    updated in place and the temporaries come from the workspace.  Every bit is the same either way.
    """
    step = state["step"] + 1
    hyper = (lr, beta1, beta2, eps, 1 - beta1**step, 1 - beta2**step)
    own = (lambda x: x) if ws.reuse else np.copy
    new, m, v = {}, {}, {}
    for k in params:
        new[k], m[k], v[k] = own(params[k]), own(state["m"][k]), own(state["v"][k])
        _adam_update(new[k], grads[k], m[k], v[k], hyper, ws, k)
    return new, {"step": step, "m": m, "v": v}


def _adam_update(p, g, m, v, hyper, ws, name):
    """One Adam update of p, m, v in place (the arithmetic of :func:`adam`)."""
    lr, beta1, beta2, eps, correction1, correction2 = hyper
    scratch, update = ws.array("adam a " + name, g.shape, g.dtype), ws.array("adam b " + name, g.shape, g.dtype)
    m *= beta1
    m += np.multiply(g, 1 - beta1, out=scratch)
    v *= beta2
    square = np.multiply(g, g, out=scratch)
    square *= 1 - beta2
    v += square
    denominator = np.divide(v, correction2, out=scratch)
    np.sqrt(denominator, out=denominator)
    denominator += eps
    np.multiply(m, lr / correction1, out=update)
    update /= denominator
    p -= update
