r"""refimpl.testing: what a researcher or engineer imports into their own test suite.

- assertions (need only numpy and scipy): :func:`assert_laws_close`, :func:`assert_denoiser_optimal`,
  :func:`assert_loss_matches_nelbo`, :func:`assert_samples_match`, :func:`assert_sampler_matches`,
  :func:`assert_calls_match`;
- denoisers to test with: :func:`random_denoiser`, :func:`perturbed_oracle`, :func:`fixed_mlp`; refimpl's
  samplers by name: :func:`sampler`;
- hypothesis strategies in :mod:`refimpl.testing.strategies` (``pip install 'refimpl[testing]'``);
- a pytest plugin (:mod:`refimpl.testing.plugin`, registered as ``pytest11``): fixtures ``refimpl_rng``,
  ``refimpl_small_law``, ``refimpl_coupled_law``, the options ``--refimpl-mc-scale`` and ``--refimpl-seed``, and
  each test's own seed for the sampling assertions called without one (:func:`next_seed`).

docs/testing.md has complete examples and says what a false-alarm rate means in a suite of many checks.
"""
from ..interop.torch_adapters import as_torch_model, from_torch_sampler
from .assertions import (
                         ALPHA,
                         SAMPLES,
                         assert_calls_match,
                         assert_denoiser_optimal,
                         assert_laws_close,
                         assert_sampler_matches,
                         assert_samples_match,
)
from .denoisers import fixed_mlp, perturbed_oracle, random_denoiser
from .diagnosis import BlindSpotWarning
from .losses import assert_loss_matches_nelbo
from .named import sampler
from .propose import Setting, propose_setting
from .settings import monte_carlo_size, next_seed, scale, set_scale

__all__ = ["ALPHA", "SAMPLES", "BlindSpotWarning", "as_torch_model", "assert_calls_match",
           "assert_denoiser_optimal", "assert_laws_close",
           "assert_loss_matches_nelbo", "assert_sampler_matches", "assert_samples_match", "fixed_mlp", "from_torch_sampler",
           "monte_carlo_size", "next_seed", "perturbed_oracle", "propose_setting", "random_denoiser", "sampler", "scale",
           "set_scale", "Setting"]
