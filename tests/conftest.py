import numpy as np
import pytest

import tinygrad_bn as tg


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


def leaf(rng, *shape, positive=False, dtype=np.float64):
    a = rng.standard_normal(shape)
    if positive:
        a = np.abs(a) + 0.5
    return tg.tensor(a.astype(dtype), requires_grad=True)


from tinygrad_bn.testing import load_profile  # noqa: E402

PROFILE = load_profile()
