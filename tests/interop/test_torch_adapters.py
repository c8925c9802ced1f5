"""refimpl to torch and back (issue #36, build 1): a refimpl denoiser as a torch logits model, a torch decoding loop
as refimpl.testing's sample_fn — checked against closed forms and refimpl's exact laws."""
import numpy as np
import pytest
import refimpl
import refimpl.testing as rt
from refimpl.interop.torch_adapters import as_torch_model, from_torch_sampler

torch = pytest.importorskip("torch")
P = refimpl.datasets.dirichlet(3, 3, np.random.default_rng(5), concentration=0.5).table
ORACLE = refimpl.oracle_denoiser(P)


def test_the_model_gives_refimpls_probabilities_as_logits_with_the_mask_column_as_set():
    z = refimpl.space.partial_sequences(3, 3)
    probs = ORACLE(z)
    model = as_torch_model(ORACLE, 3, dtype=torch.float64)
    logits = model(torch.as_tensor(z))
    assert logits.dtype == torch.float64 and tuple(logits.shape) == (len(z), 3, 4)
    np.testing.assert_allclose(as_torch_model(ORACLE, 3, mask_logit=float("-inf"), dtype=torch.float64)(
        torch.as_tensor(z)).softmax(-1)[..., :3].numpy(), probs, atol=1e-12)
    assert torch.all(logits[..., 3] == 0.0)  # the default mask logit
    # a finite mask logit of 0 next to log-probabilities that sum to 1: softmax = p / 2 on the data, 1/2 on the mask
    half = logits.softmax(-1).numpy()
    np.testing.assert_allclose(half[..., :3], probs / 2, atol=1e-12)
    np.testing.assert_allclose(half[..., 3], 0.5, atol=1e-12)
    assert tuple(as_torch_model(ORACLE, 3, mask_column=False)(torch.as_tensor(z)).shape) == (len(z), 3, 3)
    assert as_torch_model(ORACLE, 3)(torch.as_tensor(z)).dtype == torch.float32  # the default, as real models
    with pytest.raises(refimpl.RefimplError, match="mask_logit"):
        as_torch_model(ORACLE, 3, mask_logit=float("nan"))


def left_to_right(model, x, mask_id, generator):
    """A user's torch loop: one position per call, left to right, drawn from the softmax over the data tokens."""
    x = x.clone()
    for i in range(x.shape[1]):
        logits = model(x)[:, i, :mask_id]
        x[:, i] = torch.multinomial(logits.softmax(-1), 1, generator=generator)[:, 0]
    return x, torch.full((x.shape[0],), x.shape[1])


def all_at_once(model, x, mask_id, generator):
    """The slip the paper is about: every position in one call, from the product of the marginals."""
    probs = model(x)[..., :mask_id].softmax(-1)
    return torch.multinomial(probs.reshape(-1, mask_id), 1, generator=generator).reshape(x.shape)


def test_a_torch_loop_is_checked_against_refimpls_exact_law():
    sample_fn = from_torch_sampler(left_to_right, dtype=torch.float64)
    rt.assert_sampler_matches(sample_fn, refimpl.samplers.LeftToRight(), ORACLE, P, n=20000, seed=3)
    with pytest.raises(AssertionError, match="do not follow the exact law"):
        rt.assert_sampler_matches(from_torch_sampler(all_at_once, dtype=torch.float64), refimpl.samplers.LeftToRight(),
                                  ORACLE, P, n=20000, seed=3)


def test_the_generator_is_seeded_from_refimpls_rng_and_the_prompt_reaches_the_loop():
    sample_fn = from_torch_sampler(left_to_right)
    one = sample_fn(ORACLE, 50, np.random.default_rng(9), 3, 3, None)[0]
    two = sample_fn(ORACLE, 50, np.random.default_rng(9), 3, 3, None)[0]
    other = sample_fn(ORACLE, 50, np.random.default_rng(10), 3, 3, None)[0]
    assert np.array_equal(one, two) and not np.array_equal(one, other)
    seen = []
    sample_fn = from_torch_sampler(lambda model, x, mask_id, generator: seen.append(x.clone()) or x)
    sample_fn(ORACLE, 4, np.random.default_rng(0), 3, 3, np.array([1, 3, 3]))
    assert seen[0].tolist() == [[1, 3, 3]] * 4 and seen[0].dtype == torch.int64
