"""String options are compared by value: an option built at run time (read from a config
file, joined from parts) means what the literal means. (CPython shares one object per
literal in a module, so a check written with ``is`` passes every test that spells the
option as a literal, and fails for a user whose string came from elsewhere.)"""
import numpy as np
import pytest

import tinygrad_bn as tg
import tinygrad_bn.nn.functional as F
from tinygrad_bn import nn


def built(text):
    """``text`` as a new str object: equal to the literal, not the same object."""
    out = "".join(list(text))
    assert out == text and out is not text
    return out


X = np.array([[-1.5, 0.25, 2.0], [3.0, -0.75, 0.5]])


def _t(a=X, dtype=tg.float64):
    return tg.tensor(a, dtype=dtype)


CASES = {
    "div rounding_mode trunc": lambda s: tg.div(tg.tensor([-7, 7, -6]), tg.tensor([2, 2, 4]), rounding_mode=s("trunc")),
    "div rounding_mode floor": lambda s: tg.div(tg.tensor([-7, 7, -6]), tg.tensor([2, 2, 4]), rounding_mode=s("floor")),
    "float div rounding_mode trunc": lambda s: tg.div(_t(), 0.7, rounding_mode=s("trunc")),
    "mse_loss reduction sum": lambda s: F.mse_loss(_t(), _t() * 0.5, reduction=s("sum")),
    "mse_loss reduction none": lambda s: F.mse_loss(_t(), _t() * 0.5, reduction=s("none")),
    "cross_entropy reduction sum": lambda s: F.cross_entropy(_t(), tg.tensor([2, 0]), reduction=s("sum")),
    "pad mode reflect": lambda s: F.pad(_t(), (2, 1), mode=s("reflect")),
    "pad mode replicate": lambda s: F.pad(_t(), (2, 1), mode=s("replicate")),
    "gelu approximate tanh": lambda s: F.gelu(_t(), approximate=s("tanh")),
    "searchsorted side right": lambda s: tg.searchsorted(tg.tensor([1.0, 2.0, 2.0, 3.0]), tg.tensor([2.0]),
                                                         side=s("right")),
    "calculate_gain leaky_relu": lambda s: nn.init.calculate_gain(s("leaky_relu"), 0.3),
    "calculate_gain tanh": lambda s: nn.init.calculate_gain(s("tanh")),
}


def _values(out):
    return out if isinstance(out, float) else out.detach().numpy()


@pytest.mark.parametrize("name", sorted(CASES))
def test_an_option_built_at_run_time_means_what_the_literal_means(name):
    literal = _values(CASES[name](lambda text: text))
    np.testing.assert_array_equal(_values(CASES[name](built)), literal)
