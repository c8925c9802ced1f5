"""The MLP's hand-written gradients: random-direction checks, full finite differences, torch (optional)."""
import numpy as np
import pytest
from refimpl.models import mlp, optim

RTOL = 1e-7


def directional_check(f, inputs, backward, rng, h=1e-6):
    """<u, J v> by central differences against <J^T u, v> from the backward pass (HIPS/autograd style)."""
    out = f(*inputs)
    u = rng.standard_normal(np.shape(out))
    v = [rng.standard_normal(np.shape(x)) for x in inputs]
    plus = f(*[x + h * d for x, d in zip(inputs, v)])
    minus = f(*[x - h * d for x, d in zip(inputs, v)])
    numeric = np.sum(u * (plus - minus)) / (2 * h)
    analytic = sum(np.sum(g * d) for g, d in zip(backward(u), v))
    assert abs(numeric - analytic) <= RTOL * max(abs(numeric), abs(analytic), 1.0)


def test_linear_layer():
    rng = np.random.default_rng(0)
    X, W, b = rng.standard_normal((5, 4)), rng.standard_normal((4, 3)), rng.standard_normal(3)
    _, cache = mlp.linear_forward(X, W, b)
    directional_check(lambda X, W, b: mlp.linear_forward(X, W, b)[0], [X, W, b],
                      lambda u: mlp.linear_backward(u, cache), rng)


@pytest.mark.parametrize("kind", mlp.ACTIVATIONS)
def test_activation_layers(kind):
    rng = np.random.default_rng(1)
    Z = rng.standard_normal((6, 7))
    Z = np.where(np.abs(Z) < 1e-3, 0.5, Z)  # keep ReLU's kink out of the finite differences
    _, cache = mlp.activation_forward(Z, kind)
    directional_check(lambda Z: mlp.activation_forward(Z, kind)[0], [Z],
                      lambda u: [mlp.activation_backward(u, cache)], rng)


def test_log_softmax_layer():
    rng = np.random.default_rng(2)
    logits = 3 * rng.standard_normal((4, 3, 5))
    _, cache = mlp.log_softmax_forward(logits)
    directional_check(lambda x: mlp.log_softmax_forward(x)[0], [logits],
                      lambda u: [mlp.log_softmax_backward(u, cache)], rng)


def test_gelu_is_torch_exact_gelu():
    z = np.array([-3.0, -0.5, 0.0, 0.7, 2.0])
    from scipy.stats import norm
    np.testing.assert_allclose(mlp.activation_forward(z, "gelu")[0], z * norm.cdf(z), rtol=1e-15, atol=1e-16)


def tiny_problem(vocab_size=3, length=3, hidden=(5, 4), activation="tanh", batch=7, seed=3):
    rng = np.random.default_rng(seed)
    config = mlp.MLPConfig(vocab_size, length, hidden, activation)
    params = mlp.init_params(config, rng)
    params = {k: v + 0.1 * rng.standard_normal(v.shape) for k, v in params.items()}  # non-zero biases
    x0 = rng.integers(0, vocab_size, size=(batch, length))
    masked = rng.random((batch, length)) < 0.6
    masked[:, 0] = True
    z = np.where(masked, vocab_size, x0)
    weights = rng.uniform(0.5, 3.0, size=batch)
    return config, params, z, x0, weights


@pytest.mark.parametrize("activation", mlp.ACTIVATIONS)
def test_whole_loss_random_direction(activation):
    config, params, z, x0, weights = tiny_problem(activation=activation)
    names = sorted(params)
    rng = np.random.default_rng(4)

    def loss(*values):
        return np.array(mlp.loss_and_grads(dict(zip(names, values)), config, z, x0, weights)[0])

    grads = mlp.loss_and_grads(params, config, z, x0, weights)[1]
    directional_check(loss, [params[k] for k in names], lambda u: [u * grads[k] for k in names], rng)


def test_whole_loss_full_finite_differences():
    config, params, z, x0, weights = tiny_problem(vocab_size=2, length=2, hidden=(3,), activation="gelu", batch=4)
    _, grads = mlp.loss_and_grads(params, config, z, x0, weights)
    h = 1e-6
    for name, value in params.items():
        numeric = np.zeros_like(value)
        for index in np.ndindex(value.shape):
            for sign in (1, -1):
                shifted = dict(params)
                shifted[name] = value.copy()
                shifted[name][index] += sign * h
                numeric[index] += sign * mlp.loss_and_grads(shifted, config, z, x0, weights)[0] / (2 * h)
        scale = max(np.abs(numeric).max(), np.abs(grads[name]).max(), 1.0)
        assert np.abs(numeric - grads[name]).max() <= RTOL * scale, name


def test_loss_counts_only_masked_positions_and_matches_its_formula():
    config, params, z, x0, weights = tiny_problem()
    logp, _ = mlp.forward(params, config, z)
    expected = np.mean([weights[b] * sum(-logp[b, i, x0[b, i]] for i in range(config.length) if z[b, i] == 3)
                        for b in range(len(z))])
    assert mlp.loss_and_grads(params, config, z, x0, weights)[0] == pytest.approx(expected, rel=1e-14)


def test_mlp_is_a_valid_denoiser():
    from refimpl import denoisers

    config, params, z, _, _ = tiny_problem()
    model = mlp.MLP(config, params)
    probs = denoisers.evaluate(model, z, config.vocab_size)
    clean = z != config.vocab_size
    np.testing.assert_array_equal(probs[clean], np.eye(3)[z[clean]])


def test_optimisers_are_pure_and_follow_their_formulas():
    params = {"w": np.array([1.0, -2.0])}
    grads = {"w": np.array([0.5, 0.25])}
    state = optim.adam_init(params)
    new, state2 = optim.adam(params, grads, state, lr=0.1)
    np.testing.assert_array_equal(params["w"], [1.0, -2.0])
    np.testing.assert_array_equal(state["m"]["w"], 0)
    # first Adam step: m_hat = g, v_hat = g^2, so the step is lr * g / (|g| + eps)
    np.testing.assert_allclose(new["w"], params["w"] - 0.1 * grads["w"] / (np.abs(grads["w"]) + 1e-8), rtol=1e-15)
    new, _ = optim.sgd(params, grads, optim.sgd_init(params), lr=0.1, momentum=0.9)
    np.testing.assert_allclose(new["w"], [0.95, -2.025])


def test_torch_autograd_gives_the_same_loss_and_gradients():
    torch = pytest.importorskip("torch")
    for activation in mlp.ACTIVATIONS:
        config, params, z, x0, weights = tiny_problem(activation=activation, hidden=(6, 5), batch=9)
        loss, grads = mlp.loss_and_grads(params, config, z, x0, weights)
        tp = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in params.items()}
        act = {"tanh": torch.tanh, "relu": torch.relu, "gelu": torch.nn.functional.gelu}[activation]
        h = torch.nn.functional.one_hot(torch.tensor(z), config.vocab_size + 1).to(torch.float64).reshape(len(z), -1)
        layers = len(config.widths) - 1
        for k in range(layers):
            h = h @ tp[f"W{k}"] + tp[f"b{k}"]
            if k < layers - 1:
                h = act(h)
        logp = torch.log_softmax(h.reshape(len(z), config.length, config.vocab_size), dim=-1)
        picked = logp.gather(-1, torch.tensor(x0)[..., None])[..., 0]
        masked = torch.tensor(z == config.vocab_size, dtype=torch.float64)
        torch_loss = (torch.tensor(weights) * -(picked * masked).sum(1)).mean()
        torch_loss.backward()
        assert loss == pytest.approx(torch_loss.item(), rel=1e-10)
        for name in params:
            np.testing.assert_allclose(grads[name], tp[name].grad.numpy(), rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize("activation", mlp.ACTIVATIONS)
def test_workspace_path_is_bit_identical_to_fresh_arrays(activation):
    """The training loop's path (a reusing workspace, Adam in place) against the pure functions, 3 steps."""
    from refimpl.core.numerics import Workspace

    config, params, z, x0, weights = tiny_problem(activation=activation, hidden=(40, 30), batch=64)
    pure_params, pure_state = params, optim.adam_init(params)
    copies = {k: v.copy() for k, v in params.items()}
    ws_params, ws_state = dict(copies), optim.adam_init(copies)
    ws = Workspace()
    for step in range(3):
        loss, grads = mlp.loss_and_grads(pure_params, config, z, x0, weights)
        ws_loss, ws_grads = mlp.loss_and_grads(ws_params, config, z, x0, weights, ws=ws)
        assert ws_loss == loss
        for name in grads:
            np.testing.assert_array_equal(ws_grads[name], grads[name])
        pure_params, pure_state = optim.adam(pure_params, grads, pure_state, 1e-2)
        before = {k: id(v) for k, v in ws_params.items()}
        ws_params, ws_state = optim.adam(ws_params, ws_grads, ws_state, 1e-2, ws=ws)
        assert {k: id(v) for k, v in ws_params.items()} == before  # updated in place
        for name in params:
            np.testing.assert_array_equal(ws_params[name], pure_params[name])
            np.testing.assert_array_equal(ws_state["v"][name], pure_state["v"][name])
    np.testing.assert_array_equal(params["W0"], tiny_problem(activation=activation, hidden=(40, 30), batch=64)[1]["W0"])


def test_float32_parameters_stay_float32_and_agree_with_float64():
    """The benchmarks' float32 path: every array float32, gradients within float32 round-off of float64's."""
    config, params, z, x0, weights = tiny_problem(activation="gelu", hidden=(40, 30), batch=64)
    loss, grads = mlp.loss_and_grads(params, config, z, x0, weights)
    single = {k: v.astype(np.float32) for k, v in params.items()}
    loss32, grads32 = mlp.loss_and_grads(single, config, z, x0, weights.astype(np.float32))
    assert loss32 == pytest.approx(loss, rel=1e-5)
    for name in grads:
        assert grads32[name].dtype == np.float32
        np.testing.assert_allclose(grads32[name], grads[name], rtol=1e-3, atol=1e-5 * np.abs(grads[name]).max())
