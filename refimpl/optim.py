r"""Optimisers as pure functions: ``(params, grads, state) -> (params, state)``; nothing is mutated."""
import numpy as np


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


def adam(params, grads, state, lr, beta1=0.9, beta2=0.999, eps=1e-8):
    r"""Adam (Kingma & Ba): bias-corrected moments, :math:`\theta \leftarrow \theta - \eta \hat m / (\sqrt{\hat v} + \epsilon)`.

    ``eps`` is Adam's own hyper-parameter (torch's default 1e-8), not a numerical guard.
    """
    step = state["step"] + 1
    correction1, correction2 = 1 - beta1**step, 1 - beta2**step
    new, m, v = {}, {}, {}
    for k in params:
        g = grads[k]
        m[k] = beta1 * state["m"][k] + (1 - beta1) * g
        v[k] = beta2 * state["v"][k] + (1 - beta2) * (g * g)
        denominator = np.sqrt(v[k] / correction2)
        denominator += eps
        update = m[k] * (lr / correction1)
        update /= denominator
        new[k] = params[k] - update
    return new, {"step": step, "m": m, "v": v}
