"""The user's code: NumPy versions of LLaDA's sampler and an MDLM-style loss, as their originals read."""
import numpy as np


def add_gumbel_noise(logits, temperature, rng):
    """LLaDA's Gumbel-max in float64: argmax of exp(logits) / (-log u)^T draws from softmax(logits / T)."""
    if temperature == 0:
        return logits
    gumbel_noise = (-np.log(rng.random(logits.shape))) ** temperature
    return np.exp(logits) / gumbel_noise


def get_num_transfer_tokens(mask_index, steps):
    mask_num = mask_index.sum(axis=1, keepdims=True)
    base, remainder = mask_num // steps, mask_num % steps
    num = np.repeat(base, steps, axis=1)
    num += np.arange(steps)[None, :] < remainder
    return num


def softmax(logits):
    e = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def generate(model, n, rng, length, vocab_size, steps, block_length, temperature, tempered_confidence=False):
    """LLaDA's generate with remasking='low_confidence' and no prompt; mask_id = vocab_size."""
    mask_id = vocab_size
    x = np.full((n, length), mask_id)
    num_blocks = length // block_length
    steps_per_block = steps // num_blocks
    for b in range(num_blocks):
        end = (b + 1) * block_length
        num_transfer = get_num_transfer_tokens(x[:, b * block_length:end] == mask_id, steps_per_block)
        for i in range(steps_per_block):
            mask_index = x == mask_id
            with np.errstate(divide="ignore"):
                logits = np.log(model(x))
            x0 = np.argmax(add_gumbel_noise(logits, temperature, rng), axis=-1)
            p = softmax(logits / temperature if tempered_confidence else logits)  # the slip: tempered
            x0_p = np.take_along_axis(p, x0[..., None], axis=-1)[..., 0]
            x0_p[:, end:] = -np.inf
            x0 = np.where(mask_index, x0, x)
            confidence = np.where(mask_index, x0_p, -np.inf)
            rank = np.argsort(np.argsort(-confidence, axis=1, kind="stable"), axis=1)  # topk, ties to the left
            transfer = rank < num_transfer[:, i:i + 1]
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
