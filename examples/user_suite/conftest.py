import numpy as np
import pytest
import refimpl.testing as rt


@pytest.fixture
def law():
    # V = 3, L = 4: a Dirichlet(0.5) law; seed 17 is one where refimpl.testing.propose_setting finds every slip of
    # the LLaDA loop in implementations.py visible (TV >= 0.3 from the correct law)
    return np.random.default_rng(17).dirichlet(np.full(3 ** 4, 0.5)).reshape(3, 3, 3, 3)


@pytest.fixture
def model(law):
    return rt.perturbed_oracle(law, mix=0.3, seed=1)  # a model that is close to, not at, the optimum
