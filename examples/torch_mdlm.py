"""Worked example: check a PyTorch MDLM-style loss and a LLaDA-style sampler against refimpl.

Run: ``python examples/torch_mdlm.py`` (needs torch).  It builds a small torch denoiser that returns
logits over V+1 tokens with a mask column (as LLaDA and MDLM models do), then

1. compares the torch training loss, sample by sample, with refimpl's continuous-time NELBO loss —
   a loss with the wrong weight (1 instead of w(t) = 1/t for the linear schedule) is caught at once;
2. runs a torch LLaDA-style sampler through ``refimpl.interop.verify.verify_sampler`` against refimpl's exact
   law of ``LLaDA(steps, temperature)`` — ranking by the *tempered* probability is caught.
"""
import numpy as np
import refimpl
import torch
from refimpl import samplers
from refimpl.diffusion import schedules
from refimpl.interop import adapters
from refimpl.interop.verify import reference_losses, verify_sampler
from refimpl.laws import datasets

V, L = 3, 4
MASK = V


def torch_model(law):
    """A 'trained model': the oracle's log-probabilities with an extra mask column, as torch logits."""
    oracle = refimpl.oracle_denoiser(law)

    def model(z):  # z: LongTensor (B, L) -> logits (B, L, V+1)
        probs = torch.as_tensor(oracle(z.numpy()))
        logits = torch.log(probs)  # log 0 = -inf is a valid logit
        return torch.cat([logits, torch.full(z.shape + (1,), -float("inf"), dtype=logits.dtype)], dim=-1)

    return model


def mdlm_loss(model, x0, t, correct_weight=True):
    """MDLM's continuous-time loss for the linear schedule alpha = 1 - t: per sample
    w(t) * sum over masked positions of -log p(x0); w(t) = 1/t (correct) or 1 (a common bug)."""
    generator = torch.Generator().manual_seed(0)
    masked = torch.rand(x0.shape, generator=generator, dtype=torch.float64) < t[:, None]
    z = torch.where(masked, torch.full_like(x0, MASK), x0)
    logp = torch.log_softmax(model(z)[..., :V], dim=-1)
    nll = -(logp.gather(-1, x0[..., None])[..., 0] * masked).sum(dim=1)
    weight = 1.0 / t if correct_weight else torch.ones_like(t)
    return weight * nll, z


def llada_sample(model, n, rng, steps, temperature, tempered_confidence=False):
    """LLaDA-style generation (one block): Gumbel-max draws, keep the most confident."""
    torch.manual_seed(int(rng.integers(2**31)))
    z = torch.full((n, L), MASK, dtype=torch.long)
    base, remainder = divmod(L, steps)
    for step in range(steps):
        k = base + (1 if step < remainder else 0)
        logits = model(z)[..., :V].to(torch.float64)
        gumbel = -torch.log(-torch.log(torch.rand(logits.shape, dtype=torch.float64)))
        drawn = torch.argmax(logits / temperature + gumbel, dim=-1)
        probs = torch.softmax(logits / temperature if tempered_confidence else logits, dim=-1)
        confidence = probs.gather(-1, drawn[..., None])[..., 0]
        confidence = torch.where(z == MASK, confidence, torch.full_like(confidence, -float("inf")))
        for b in range(n):
            order = np.argsort(-confidence[b].numpy(), kind="stable")[:k]
            z[b, order] = drawn[b, order]
    return z.numpy()


def main():
    law = datasets.dirichlet(V, L, np.random.default_rng(2), concentration=1.0)
    model = torch_model(law)
    denoiser = adapters.from_model(model, V, output="logits", mask_column=True, to_input=torch.as_tensor)

    results = {}
    # 1. the training loss, sample by sample
    x0 = torch.as_tensor(refimpl.elbo.sample_data(law, 512, np.random.default_rng(0)))
    t = torch.as_tensor(np.random.default_rng(1).uniform(0.01, 1.0, size=512))
    for correct in (True, False):
        theirs, z = mdlm_loss(model, x0, t, correct_weight=correct)
        ours = reference_losses(denoiser, x0.numpy(), z.numpy(), t.numpy(), schedules.Linear(), V)
        error = float(np.max(np.abs(theirs.numpy() - ours) / np.abs(ours)[ours > 0].min()))
        results[f"loss {'correct' if correct else 'wrong weight'}"] = error
        print(f"loss, {'w(t) = 1/t' if correct else 'w(t) = 1  '}: largest relative difference {error:.2e}"
              f" -> {'AGREES' if error < 1e-10 else 'DIFFERS'}")

    # 2. the sampler, against the exact law of LLaDA(steps=3, temperature=0.5)
    claimed = samplers.LLaDA(3, temperature=0.5)
    for tempered in (False, True):
        def sample_fn(den, n, rng, length, vocab_size, prompt):
            return llada_sample(model, n, rng, steps=3, temperature=0.5, tempered_confidence=tempered)

        result = verify_sampler(sample_fn, claimed, denoiser, law, n=20000, seed=0)
        results[f"sampler {'tempered' if tempered else 'untempered'}"] = result
        print(f"sampler, confidence from {'tempered  ' if tempered else 'untempered'} probabilities: "
              f"p = {result['p_value']:.3g} -> {'AGREES' if result['passed'] else 'DIFFERS'}")
    return results


if __name__ == "__main__":
    main()
