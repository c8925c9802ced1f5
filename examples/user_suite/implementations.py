"""The user's code: LLaDA's sampler in PyTorch, as a serving engineer writes it from GSAI-ML/LLaDA's generate.py
(low-confidence remasking, blocks, Gumbel-max at a temperature), with five slips one can switch on; and an
MDLM-style training loss in NumPy."""
import numpy as np
import torch

SLIPS = ("steps", "temperature_twice", "tempered_confidence", "block_boundary", "mask_column")


def add_gumbel_noise(logits, temperature, generator):
    """LLaDA's Gumbel-max in float64: argmax of exp(logits) / (-log u)^T draws from softmax(logits / T)."""
    if temperature == 0:
        return logits
    logits = logits.to(torch.float64)
    noise = torch.rand(logits.shape, dtype=torch.float64, generator=generator)
    return logits.exp() / (-torch.log(noise)) ** temperature


def get_num_transfer_tokens(mask_index, steps):
    mask_num = mask_index.sum(dim=1, keepdim=True)
    base, remainder = mask_num // steps, mask_num % steps
    num = base.repeat(1, steps)
    num += torch.arange(steps)[None, :] < remainder
    return num


def generate(model, x, mask_id, generator, steps, block_length, temperature, slip=None):
    """LLaDA's generate with remasking="low_confidence" on the ids ``x`` (prompt and masks); ``slip`` one of SLIPS."""
    assert slip is None or slip in SLIPS
    x = x.clone()
    start = int((x[0] != mask_id).sum())  # the prompt's length
    num_blocks = (x.shape[1] - start) // block_length
    steps_per_block = steps // num_blocks - (slip == "steps")
    for b in range(num_blocks):
        end = start + (b + 1) * block_length
        num_transfer = get_num_transfer_tokens(x[:, end - block_length:end] == mask_id, steps_per_block)
        for i in range(steps_per_block):
            mask_index = x == mask_id
            logits = model(x).to(torch.float64)
            if slip != "mask_column":
                logits = logits[..., :mask_id]  # the model's logits over the data tokens only
            if slip == "temperature_twice":
                logits = logits / temperature
            x0 = torch.argmax(add_gumbel_noise(logits, temperature, generator), dim=-1)
            p = torch.softmax(logits / temperature if slip == "tempered_confidence" else logits, dim=-1)
            x0_p = torch.gather(p, -1, x0[..., None])[..., 0]
            x0_p[:, end + (slip == "block_boundary"):] = -np.inf
            x0 = torch.where(mask_index, x0, x)
            confidence = torch.where(mask_index, x0_p, torch.tensor(-np.inf, dtype=torch.float64))
            order = torch.argsort(confidence, dim=1, descending=True, stable=True)  # topk, ties to the left
            transfer = torch.argsort(order, dim=1) < num_transfer[:, i:i + 1]
            x[transfer] = x0[transfer]
    return x


def mdlm_loss(logits, x0, z, t, weighted=True):
    """MDLM's continuous-time loss for the linear schedule, per sequence: w(t) = 1/t times the
    cross-entropy summed over masked positions (weighted=False is the slip: w = 1)."""
    log_p = logits - np.logaddexp.reduce(logits, axis=-1, keepdims=True)
    log_p_x0 = np.take_along_axis(log_p, x0[..., None], axis=-1)[..., 0]
    masked = z == logits.shape[-1]
    cross_entropy = -np.where(masked, log_p_x0, 0.0).sum(axis=-1)
    return cross_entropy / t if weighted else cross_entropy
