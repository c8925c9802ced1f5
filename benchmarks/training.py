"""One MLP training step (forward, hand-written backward, Adam) in NumPy against the same model in torch.

Target (issue #5): batch 256, two hidden layers of 256 (GELU), V=8, L=8, on the CPU; NumPy time / torch
time <= 1.0, in float64 (both) and in float32 (both).  Needs torch; without it the case says so.
Run: ``python -m benchmarks.training``.
"""

import numpy as np
from tabulate import tabulate

from refimpl import mlp, optim

from .common import run_main, timed, verdict, write_result

GOAL_RATIO = 1.0
VOCAB, LENGTH, BATCH, HIDDEN = 8, 8, 256, (256, 256)


def batch(rng):
    x0 = rng.integers(0, VOCAB, size=(BATCH, LENGTH))
    masked = rng.random((BATCH, LENGTH)) < 0.5
    return np.where(masked, VOCAB, x0), x0, rng.uniform(1.0, 3.0, size=BATCH)


def numpy_step(dtype):
    config = mlp.MLPConfig(VOCAB, LENGTH, HIDDEN, "gelu")
    params = {k: v.astype(dtype) for k, v in mlp.init_params(config, np.random.default_rng(0)).items()}
    state = {"params": params, "opt": optim.adam_init(params)}
    z, x0, weights = batch(np.random.default_rng(1))
    weights = weights.astype(dtype)

    def step():
        _, grads = mlp.loss_and_grads(state["params"], config, z, x0, weights)
        state["params"], state["opt"] = optim.adam(state["params"], grads, state["opt"], 1e-3)

    return step


def torch_step(dtype):
    import torch

    torch_dtype = {np.float64: torch.float64, np.float32: torch.float32}[dtype]
    widths = mlp.MLPConfig(VOCAB, LENGTH, HIDDEN, "gelu").widths
    layers = []
    for k, (d_in, d_out) in enumerate(zip(widths[:-1], widths[1:])):
        layers.append(torch.nn.Linear(d_in, d_out, dtype=torch_dtype))
        if k < len(widths) - 2:
            layers.append(torch.nn.GELU())
    model = torch.nn.Sequential(*layers)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    z, x0, weights = batch(np.random.default_rng(1))
    features = torch.nn.functional.one_hot(torch.tensor(z), VOCAB + 1).to(torch_dtype).reshape(BATCH, -1)
    target = torch.tensor(x0)[..., None]
    masked = torch.tensor(z == VOCAB, dtype=torch_dtype)
    w = torch.tensor(weights, dtype=torch_dtype)

    def step():
        opt.zero_grad()
        logp = torch.log_softmax(model(features).reshape(BATCH, LENGTH, VOCAB), dim=-1)
        loss = (w * -(logp.gather(-1, target)[..., 0] * masked).sum(1)).mean()
        loss.backward()
        opt.step()

    return step


def run(quick=False):
    repeats = 20 if quick else 100
    rows = []
    try:
        import torch
        torch_version = torch.__version__
    except ImportError:
        torch_version = None
    for dtype in (np.float64, np.float32):
        ours = timed(numpy_step(dtype), repeats=repeats, warmup=5)
        row = {"dtype": np.dtype(dtype).name, "numpy_seconds": ours, "torch_seconds": None, "ratio": None,
               "verdict": "no torch"}
        if torch_version:
            theirs = timed(torch_step(dtype), repeats=repeats, warmup=5)
            ratio = ours["median"] / theirs["median"]
            row.update(torch_seconds=theirs, ratio=ratio, verdict=verdict(ratio, GOAL_RATIO))
        rows.append(row)
    return write_result("training", {"quick": quick, "torch": torch_version, "vocab_size": VOCAB, "length": LENGTH,
                                     "batch_size": BATCH, "hidden": list(HIDDEN), "cases": rows})


def table(result):
    return tabulate([(c["dtype"], c["numpy_seconds"]["median"] * 1e3,
                      c["torch_seconds"]["median"] * 1e3 if c["torch_seconds"] else None,
                      c["ratio"], f"<= {GOAL_RATIO}", c["verdict"]) for c in result["cases"]],
                    headers=("dtype", "numpy ms/step", "torch ms/step", "numpy/torch", "goal", ""), floatfmt=".3f")


def targets(result):
    return [(f"#5 MLP training step (batch {BATCH}, hidden {HIDDEN}, V={VOCAB}, L={LENGTH}) {c['dtype']}, numpy/torch",
             f"{c['ratio']:.3g}" if c["ratio"] is not None else "no torch", f"<= {GOAL_RATIO}", c["verdict"])
            for c in result["cases"]]


def main(argv=None):
    run_main(run, table, argv, header=lambda r: f"torch: {r['torch']}")


if __name__ == "__main__":
    main()
