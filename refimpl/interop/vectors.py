r"""Golden test vectors: canonical inputs and refimpl's outputs, as versioned, deterministic JSON.

Other implementations load the file, run the same inputs through their code and compare; ``refimpl
vectors --check FILE`` recomputes every output from the stored inputs and compares within the stated
tolerances.  Schema ``refimpl-vectors/1``::

    {"schema": "refimpl-vectors/1", "refimpl_version": str,
     "tolerances": {"exact": {"rtol": r, "atol": a}, "mlp": {...}},
     "conventions": {...},
     "cases": [{"name": str, "kind": str, "tolerance": "exact" | "mlp", "inputs": {...}, "outputs": {...}}]}

Arrays are ``{"shape": [...], "data": [flat values in C order]}``; tokens are ints, the mask is V.
Kinds: ``law`` (marginals, entropy, total correlation, conditionals), ``schedule`` (alpha, dalpha,
weight on a t grid), ``forward`` (the law of x_t), ``oracle`` (denoiser outputs at listed partial
sequences), ``nelbo`` (continuous and T-step, oracle and a fixed MLP), ``sampler`` (exact output law
of every sampler family, and the expected number of model calls of its original loop), ``mlp``
(forward log-probabilities, loss and gradients for fixed weights); without a mask (issue #38):
``uniform_forward`` (the law of x_t under uniform noise), ``uniform_oracle`` (the posterior marginal, the
leave-one-out posterior and both time-agnostic oracles at listed clean canvases; the continuous uniform NELBO of
the leave-one-out oracle) and ``uniform_sampler`` (the exact output law and expected calls of every uniform-state
family with its default exact model, :mod:`refimpl.samplers.uniform_registry`).
The bytes are deterministic: same inputs, same file.
"""
import json
import os

import numpy as np

from .._version import __version__
from ..core.errors import FileFormatError, InvalidTypeError
from ..core.files import atomic_write_bytes
from ..denoisers import oracle_denoiser
from ..diffusion import elbo, schedules
from ..diffusion.forward import forward_law
from ..engine.calls import exact_law_and_calls
from ..laws import datasets, joint, quantities
from ..models import mlp
from ..samplers.block_refinement_uniform import UniformBlockRefinement
from ..samplers.cases import CASES, VECTORS
from ..samplers.discrete_ddim import DiscreteDDIM
from ..samplers.renoise import Renoise, UniformEntropyBound
from ..samplers.uniform_ancestral import UniformAncestral

SCHEMA = "refimpl-vectors/1"
TOLERANCES = {"exact": {"rtol": 1e-12, "atol": 1e-14}, "mlp": {"rtol": 1e-10, "atol": 1e-13}}
T_GRID = [0.05, 0.25, 0.5, 0.75, 0.95, 1.0]
SCHEDULES = {"Linear()": schedules.Linear(), "Cosine()": schedules.Cosine(), "Polynomial(2.0)": schedules.Polynomial(2.0),
             "LogLinear(0.001)": schedules.LogLinear(1e-3), "Geometric(0.0001, 20.0)": schedules.Geometric(1e-4, 20.0)}
PARTIALS = [[3, 3, 3], [0, 3, 3], [3, 1, 3], [3, 3, 2], [2, 0, 3], [1, 3, 1]]
CANVASES = [[0, 0, 0], [0, 1, 2], [2, 2, 1], [1, 0, 1]]  # clean canvases (no mask) for the uniform-state oracles
UNIFORM_SAMPLERS = {  # each case's name (as in the file) and its sampler, run with its family's default exact model
    "Renoise(steps=4, confidence_threshold=0.3)": Renoise(steps=4, confidence_threshold=0.3),
    "UniformEntropyBound(steps=3, confidence_threshold=None)": UniformEntropyBound(steps=3, confidence_threshold=None),
    "UniformBlockRefinement(steps=3, temperature=1.0, editing_threshold=0.5, confidence_threshold=None)":
        UniformBlockRefinement(steps=3, temperature=1.0, editing_threshold=0.5, confidence_threshold=None),
    "DiscreteDDIM(steps=4, temperature=1.0, corrector_steps=1)":
        DiscreteDDIM(steps=4, temperature=1.0, corrector_steps=1),
    "UniformAncestral(steps=3, noise_eps=0.0)": UniformAncestral(steps=3, noise_eps=0.0)}


def _array(values):
    values = np.asarray(values)
    data = values.ravel().tolist()
    return {"shape": list(values.shape), "data": data}


def _unarray(obj, where):
    try:
        return np.array(obj["data"], dtype=np.float64).reshape(obj["shape"])
    except (KeyError, TypeError, ValueError) as error:
        raise FileFormatError(f"{where} is not an array record {{shape, data}}: {error}") from None


def _inputs():
    rng = np.random.default_rng(20251126)
    law = datasets.dirichlet(3, 3, rng, concentration=0.7).table
    other = datasets.dirichlet(3, 3, rng, concentration=2.0).table
    config = mlp.MLPConfig(3, 3, (5,), "gelu")
    params = mlp.init_params(config, rng)
    params = {k: v + 0.1 * rng.standard_normal(v.shape) for k, v in params.items()}
    x0 = rng.integers(0, 3, size=(4, 3))
    z = np.where(rng.random((4, 3)) < 0.6, 3, x0)
    z[:, 0] = 3
    return law, other, config, params, {"z": z, "x0": x0, "weights": rng.uniform(0.5, 2.0, size=4)}


def _mlp_model(inputs):
    config = mlp.MLPConfig(**inputs["config"])
    params = {k: _unarray(v, f"mlp params {k}") for k, v in inputs["params"].items()}
    return mlp.MLP(config, params)


def _compute(case):
    """Outputs of one case, recomputed from its stored inputs."""
    kind, inputs = case["kind"], case["inputs"]
    if kind == "law":
        p, q = _unarray(inputs["p"], "p"), _unarray(inputs["q"], "q")
        return {"marginals": _array(joint.marginals(p)), "entropy": quantities.entropy(p),
                "total_correlation": quantities.total_correlation(p), "kl_p_q": quantities.kl(p, q),
                "tv_p_q": quantities.tv(p, q),
                "conditional_marginals": _array([joint.conditional_marginals(p, z) for z in inputs["partials"]])}
    if kind == "schedule":
        s, t = SCHEDULES[inputs["schedule"]], np.array(inputs["t"])
        return {"alpha": _array(s.alpha(t)), "dalpha": _array(s.dalpha(t)), "weight": _array(s.weight(t))}
    if kind == "forward":
        return {"law_of_x_t": _array(forward_law(_unarray(inputs["p"], "p"), inputs["alpha_t"]))}
    if kind == "oracle":
        oracle = oracle_denoiser(_unarray(inputs["p"], "p"))
        return {"probs": _array(oracle(np.array(inputs["partials"])))}
    if kind == "nelbo":
        p = _unarray(inputs["p"], "p")
        den = oracle_denoiser(p) if inputs["denoiser"] == "oracle" else _mlp_model(inputs["mlp"])
        return {"continuous": elbo.nelbo(den, p),
                "steps_4_linear": elbo.nelbo(den, p, schedules.Linear(), steps=4),
                "steps_4_cosine": elbo.nelbo(den, p, schedules.Cosine(), steps=4)}
    if kind == "sampler":
        p = _unarray(inputs["p"], "p")
        prompt = None if inputs["prompt"] is None else np.array(inputs["prompt"])
        if inputs["sampler"] not in VECTORS:
            raise FileFormatError(f"unknown sampler case {inputs['sampler']!r}")
        law, calls = exact_law_and_calls(oracle_denoiser(p), VECTORS[inputs["sampler"]], 3, 3, prompt=prompt)
        return {"law": _array(law), "expected_calls": float(calls.sum())}
    if kind in UNIFORM_KINDS:
        return _uniform(kind, inputs)
    if kind == "mlp":
        model = _mlp_model(inputs)
        z, x0, w = np.array(inputs["z"]), np.array(inputs["x0"]), np.array(inputs["weights"])
        logp = mlp.forward(model.params, model.config, z)[0]
        loss, grads = mlp.loss_and_grads(model.params, model.config, z, x0, w)
        return {"log_probs": _array(logp), "loss": loss, "grads": {k: _array(v) for k, v in sorted(grads.items())}}
    raise FileFormatError(f"unknown case kind {kind!r}")


UNIFORM_KINDS = ("uniform_forward", "uniform_oracle", "uniform_sampler")


def _uniform(kind, inputs):
    """Outputs of a case without a mask (issue #38)."""
    from ..diffusion import uniform, uniform_elbo, uniform_oracles
    from ..samplers import uniform_registry

    p = _unarray(inputs["p"], "p")
    if kind == "uniform_forward":
        return {"law_of_x_t": _array(uniform.forward_law(p, inputs["alpha_t"]))}
    if kind == "uniform_oracle":
        z, alpha = np.array(inputs["canvases"]), inputs["alpha_t"]
        return {"posterior_marginal": _array(uniform_oracles.uniform_oracle(p, alpha)(z)),
                "leave_one_out": _array(uniform_elbo.loo_oracle(p, alpha)(z)),
                "time_agnostic_all": _array(uniform_oracles.time_agnostic_oracle(p)(z)),
                "time_agnostic_noised": _array(uniform_oracles.time_agnostic_oracle(p, target="noised")(z)),
                "nelbo_leave_one_out": uniform_elbo.continuous_nelbo(p, lambda a: uniform_elbo.loo_oracle(p, a))}
    if inputs["sampler"] not in UNIFORM_SAMPLERS:
        raise FileFormatError(f"unknown uniform-state sampler case {inputs['sampler']!r}")
    law, calls = uniform_registry.law_and_calls(UNIFORM_SAMPLERS[inputs["sampler"]], p)
    return {"law": _array(law), "expected_calls": float(calls)}


def build() -> dict:
    """The golden vectors as a JSON-ready dict."""
    law, other, config, params, batch = _inputs()
    p = _array(law)
    mlp_inputs = {"config": config.to_dict(), "params": {k: _array(v) for k, v in sorted(params.items())}}
    cases = [{"name": "law", "kind": "law", "tolerance": "exact",
              "inputs": {"p": p, "q": _array(other), "partials": PARTIALS}}]
    cases += [{"name": f"schedule {name}", "kind": "schedule", "tolerance": "exact",
               "inputs": {"schedule": name, "t": T_GRID}} for name in SCHEDULES]
    cases.append({"name": "forward alpha_t=0.3", "kind": "forward", "tolerance": "exact",
                  "inputs": {"p": p, "alpha_t": 0.3}})
    cases.append({"name": "oracle", "kind": "oracle", "tolerance": "exact", "inputs": {"p": p, "partials": PARTIALS}})
    cases.append({"name": "nelbo oracle", "kind": "nelbo", "tolerance": "exact", "inputs": {"p": p, "denoiser": "oracle"}})
    cases.append({"name": "nelbo mlp", "kind": "nelbo", "tolerance": "mlp",
                  "inputs": {"p": p, "denoiser": "mlp", "mlp": mlp_inputs}})
    for case in CASES:  # the case table's golden rows, in its order (refimpl.samplers.cases)
        if case.vector is None:
            continue
        prompt = None if case.prompt is None else list(case.prompt)
        shown = "" if prompt is None else " with prompt [" + ", ".join("M" if t == 3 else str(t) for t in prompt) + "]"
        cases.append({"name": f"sampler {case.vector}{shown}", "kind": "sampler", "tolerance": "exact",
                      "inputs": {"p": p, "sampler": case.vector, "prompt": prompt}})
    cases.append({"name": "uniform forward alpha_t=0.3", "kind": "uniform_forward", "tolerance": "exact",
                  "inputs": {"p": p, "alpha_t": 0.3}})
    cases.append({"name": "uniform oracles alpha_t=0.4", "kind": "uniform_oracle", "tolerance": "exact",
                  "inputs": {"p": p, "alpha_t": 0.4, "canvases": CANVASES}})
    cases += [{"name": f"uniform sampler {name}", "kind": "uniform_sampler", "tolerance": "exact",
               "inputs": {"p": p, "sampler": name}} for name in UNIFORM_SAMPLERS]
    cases.append({"name": "mlp forward and backward", "kind": "mlp", "tolerance": "mlp",
                  "inputs": dict(mlp_inputs, z=batch["z"].tolist(), x0=batch["x0"].tolist(),
                                 weights=batch["weights"].tolist())})
    for case in cases:
        case["outputs"] = _compute(case)
    return {"schema": SCHEMA, "refimpl_version": __version__, "tolerances": TOLERANCES,
            "conventions": {"mask": "V (the vocabulary size)", "order": "C order, position 0 varies slowest",
                            "units": "nats", "denoiser": "(B, L) ints -> (B, L, V) probabilities"},
            "cases": cases}


def dumps(vectors: dict) -> str:
    return json.dumps(vectors, indent=1, sort_keys=True) + "\n"


def write(path: str | os.PathLike) -> None:
    """Write the golden vectors to ``path`` atomically."""
    atomic_write_bytes(path, dumps(build()).encode("utf-8"))


def _compare(expected, got, tolerance, where, problems):
    if isinstance(expected, dict) and "shape" in expected and "data" in expected:
        a, b = _unarray(expected, where), _unarray(got, where)
        if a.shape != b.shape:
            problems.append(f"{where}: shape {list(a.shape)} in the file, {list(b.shape)} recomputed")
            return
        bad = ~np.isclose(b, a, rtol=tolerance["rtol"], atol=tolerance["atol"], equal_nan=False)
        if bad.any():
            k = int(np.flatnonzero(bad.ravel())[0])
            problems.append(f"{where}[{k}]: file {a.ravel()[k]!r}, recomputed {b.ravel()[k]!r}")
    elif isinstance(expected, dict):
        for key in expected:
            if key not in got:
                problems.append(f"{where}.{key}: not recomputed")
                continue
            _compare(expected[key], got[key], tolerance, f"{where}.{key}", problems)
    elif isinstance(expected, (int, float)) and not isinstance(expected, bool):
        if not np.isclose(got, expected, rtol=tolerance["rtol"], atol=tolerance["atol"]):
            problems.append(f"{where}: file {expected!r}, recomputed {got!r}")
    else:
        raise FileFormatError(f"{where} holds {type(expected).__name__}, not a number or an array record")


def check(path: str | os.PathLike) -> list[str]:
    """Recompute every case of a vectors file; returns the list of differences (empty: all agree)."""
    if not isinstance(path, (str, bytes, os.PathLike)):
        raise InvalidTypeError(f"a vectors path must be a file path, got {type(path).__name__}")
    try:
        with open(path, encoding="utf-8") as handle:
            vectors = json.load(handle)
    except FileNotFoundError:
        raise FileFormatError(f"no vectors file at {path}") from None
    except (json.JSONDecodeError, UnicodeDecodeError, IsADirectoryError, PermissionError) as error:
        raise FileFormatError(f"{path} is not valid JSON (truncated?): {error}") from None
    if not isinstance(vectors, dict) or "schema" not in vectors:
        raise FileFormatError(f"{path} is not a refimpl vectors file (no schema field)")
    if vectors["schema"] != SCHEMA:
        raise FileFormatError(f"{path} has schema {vectors['schema']!r}; this refimpl reads {SCHEMA!r}")
    problems = []
    try:
        tolerances = vectors["tolerances"]
        for index, case in enumerate(vectors["cases"]):
            where = f"cases[{index}] ({case['name']}).outputs"
            _compare(case["outputs"], _compute(case), tolerances[case["tolerance"]], where, problems)
    except (KeyError, TypeError) as error:
        raise FileFormatError(f"{path} is malformed: missing or wrong field {error}") from None
    return problems
