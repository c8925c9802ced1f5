import pytest
import refimpl.testing as rt


@pytest.fixture
def law(refimpl_small_law):
    return refimpl_small_law  # V = 3, L = 3, from refimpl's pytest plugin


@pytest.fixture
def model(law):
    return rt.perturbed_oracle(law, mix=0.3, seed=1)  # a model that is close to, not at, the optimum
