"""The normalization ops on the tape: gradients against central differences through a randomly weighted loss, what their entries record, dtypes, and errors inside an op named by the op."""
import numpy as np
import pytest

import tinygrad_bn as tg
from tinygrad_bn import nn
from tinygrad_bn.nn import functional as F
from tinygrad_bn.testing import gradcheck


def dbl(rng, *shape, scale=1.0, shift=0.0):
    return tg.tensor(rng.standard_normal(shape) * scale + shift, requires_grad=True)


@pytest.mark.parametrize("shape", [(6, 3), (4, 3, 5), (3, 2, 3, 4)])
def test_batch_norm_gradcheck(rng, shape):
    x = dbl(rng, *shape, scale=2, shift=1)
    w, b = dbl(rng, shape[1]), dbl(rng, shape[1])
    assert gradcheck(lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True), (x, w, b))
    rm, rv = tg.tensor(rng.standard_normal(shape[1])), tg.tensor(rng.random(shape[1]) + 0.5)
    assert gradcheck(lambda x, w, b: F.batch_norm(x, rm, rv, w, b, training=False), (x, w, b))


@pytest.mark.parametrize("shape,ns", [((5, 4), (4,)), ((3, 2, 5), (2, 5)), ((2, 3, 4), (4,))])
def test_layer_norm_gradcheck(rng, shape, ns):
    x, w, b = dbl(rng, *shape, scale=2), dbl(rng, *ns), dbl(rng, *ns)
    assert gradcheck(lambda x, w, b: F.layer_norm(x, ns, w, b), (x, w, b))
    assert gradcheck(lambda x: F.layer_norm(x, ns), (x,))


@pytest.mark.parametrize("shape,groups", [((3, 4, 5), 2), ((2, 6, 2, 3), 3), ((4, 6), 3)])
def test_group_and_instance_norm_gradcheck(rng, shape, groups):
    x, w, b = dbl(rng, *shape, scale=2), dbl(rng, shape[1]), dbl(rng, shape[1])
    assert gradcheck(lambda x, w, b: F.group_norm(x, groups, w, b), (x, w, b))
    if len(shape) >= 3:
        assert gradcheck(lambda x, w, b: F.instance_norm(x, weight=w, bias=b), (x, w, b))


def test_float32_ops_return_float32_grads(rng):
    bn = nn.BatchNorm1d(5)
    x = tg.tensor(rng.standard_normal((7, 5)).astype(np.float32), requires_grad=True)
    (bn(x) * tg.tensor(rng.standard_normal((7, 5)).astype(np.float32))).sum().backward()
    assert x.grad.dtype == np.float32 and bn.weight.grad.dtype == np.float32


def test_numpy_errors_inside_an_op_name_the_op():
    with pytest.raises(ValueError, match=r"^Add: operands could not be broadcast"):
        tg.ones(2, 3) + tg.ones(4)
