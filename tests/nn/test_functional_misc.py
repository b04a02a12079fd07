"""F.pad against NumPy's np.pad, alpha_dropout's moments, gumbel_softmax's
frequencies and straight-through gradient, Tensor.hardshrink."""
import math

import numpy as np
import pytest

import tinygrad_bn as tg
from tinygrad_bn import nn
from tinygrad_bn.nn import functional as F
from tinygrad_bn.testing import gradcheck

RNG = np.random.default_rng(5)
NUMPY_MODE = {"constant": "constant", "reflect": "reflect", "replicate": "edge", "circular": "wrap"}


@pytest.mark.parametrize("mode", sorted(NUMPY_MODE))
@pytest.mark.parametrize("shape, pads", [((5,), (2, 1)), ((3, 4), (1, 2)), ((3, 4), (2, 0, 1, 2)), ((2, 3, 4), (0, 3))])
def test_pad_matches_numpy(mode, shape, pads):
    x = RNG.standard_normal(shape)
    widths = [(0, 0)] * len(shape)
    for k in range(len(pads) // 2):
        widths[len(shape) - 1 - k] = (pads[2 * k], pads[2 * k + 1])
    want = np.pad(x, widths, mode=NUMPY_MODE[mode])
    np.testing.assert_array_equal(F.pad(tg.tensor(x), pads, mode=mode).numpy(), want)
    assert gradcheck(lambda t: F.pad(t, pads, mode=mode), (tg.tensor(x, requires_grad=True),))


def test_replicate_pads_any_width_and_circular_up_to_the_dims_size_as_pytorch():
    """Only reflect needs pads smaller than the dim (replicate repeats the edge any number of times)."""
    x = RNG.standard_normal((2, 3))
    np.testing.assert_array_equal(F.pad(tg.tensor(x), (5, 4), mode="replicate").numpy(),
                                  np.pad(x, [(0, 0), (5, 4)], mode="edge"))
    np.testing.assert_array_equal(F.pad(tg.tensor(x), (3, 3), mode="circular").numpy(),
                                  np.pad(x, [(0, 0), (3, 3)], mode="wrap"))
    with pytest.raises(ValueError, match="reflect padding"):
        F.pad(tg.tensor(x), (3, 0), mode="reflect")


def test_constant_pad_takes_a_value_and_crops_with_negative_pads():
    x = tg.arange(6.0).reshape(2, 3)
    np.testing.assert_array_equal(F.pad(x, (1, 1), value=-1.0).numpy(), np.pad(x.numpy(), ((0, 0), (1, 1)),
                                                                              constant_values=-1.0))
    np.testing.assert_array_equal(F.pad(x, (-1, 1)).numpy(), [[1.0, 2.0, 0.0], [4.0, 5.0, 0.0]])
    with pytest.raises(ValueError, match="pad: reflect padding"):
        F.pad(x, (3, 0), mode="reflect")
    with pytest.raises(ValueError, match="pad: mode must be one of"):
        F.pad(x, (1, 1), mode="mirror")
    with pytest.raises(ValueError, match="pad: pad must be a tuple of an even number of ints"):
        F.pad(x, (1,))
    with pytest.raises(ValueError, match="pad: value is only for mode='constant'"):
        F.pad(x, (1, 1), mode="reflect", value=2.0)


@pytest.mark.parametrize("drop", [lambda x: F.alpha_dropout(x, 1.0, training=True), nn.AlphaDropout(1.0),
                                  lambda x: F.dropout(x, 1.0, training=True), nn.Dropout(1.0)])
def test_dropout_with_p_1_drops_everything_to_zero_as_pytorch(drop):
    """PyTorch returns input * 0 for p=1 (the kept values' scale, 1 / (1 - p), would divide by zero)."""
    x = tg.randn(5, 6, dtype=tg.float64, requires_grad=True)
    y = drop(x)
    assert y.shape == x.shape and (y.detach().numpy() == 0).all()
    y.sum().backward()
    assert (x.grad.numpy() == 0).all()


def test_alpha_dropout_keeps_zero_mean_and_unit_variance():
    tg.manual_seed(0)
    x = tg.randn(200_000, dtype=tg.float64)
    y = F.alpha_dropout(x, 0.2, training=True).numpy()
    n = y.size
    assert abs(y.mean()) < 5 / math.sqrt(n) * 1.5 and abs(y.var() - 1.0) < 0.02
    assert F.alpha_dropout(x, 0.2, training=False) is x
    layer = nn.AlphaDropout(0.3)
    assert layer(x).shape == x.shape and "p=0.3" in repr(layer)
    layer.eval()
    assert layer(x) is x
    with pytest.raises(ValueError, match="AlphaDropout"):
        nn.AlphaDropout(1.5)


def test_gumbel_softmax_samples_the_softmax_and_passes_the_soft_gradient():
    tg.manual_seed(1)
    logits = np.log(np.array([0.1, 0.2, 0.7]))
    draws = F.gumbel_softmax(tg.tensor(np.tile(logits, (20_000, 1))), tau=0.5, hard=True).numpy()
    assert set(np.unique(draws)) == {0.0, 1.0} and (draws.sum(1) == 1).all()
    freq = draws.mean(0)
    for f, p in zip(freq, [0.1, 0.2, 0.7]):
        assert abs(f - p) < 5 * math.sqrt(p * (1 - p) / 20_000)
    soft = F.gumbel_softmax(tg.tensor(np.tile(logits, (4, 1))), tau=2.0).numpy()
    np.testing.assert_allclose(soft.sum(1), 1.0, rtol=1e-12)
    # hard's gradient is the soft sample's (straight through): same seed, same noise
    w = tg.tensor(RNG.standard_normal((4, 3)))
    grads = []
    for hard in (False, True):
        tg.manual_seed(2)
        x = tg.tensor(np.tile(logits, (4, 1)), requires_grad=True)
        (F.gumbel_softmax(x, tau=0.7, hard=hard) * w).sum().backward()
        grads.append(x.grad.numpy())
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-12)
    with pytest.raises(ValueError, match="gumbel_softmax: tau must be > 0"):
        F.gumbel_softmax(tg.ones(3), tau=0)


def test_hardshrink_as_a_tensor_method():
    x = tg.tensor([-1.0, -0.3, 0.0, 0.4, 0.6])
    assert x.hardshrink().tolist() == F.hardshrink(x).tolist() == [-1.0, 0.0, 0.0, 0.0, 0.6000000238418579]
    assert x.hardshrink(0.35).tolist()[3] == pytest.approx(0.4)


@pytest.mark.parametrize("p", [0.0, 0.3, 1.0])
@pytest.mark.parametrize("module", [False, True])
def test_in_place_dropout_writes_the_out_of_place_result_into_its_input(p, module):
    """Same seed, same mask: the input itself holds the result (a version bump), and the
    gradient reaching the layer before is the out-of-place one; eval leaves it alone."""
    rng = np.random.default_rng(0)
    z = tg.tensor(rng.standard_normal((5, 4)), dtype=tg.float32)
    project = tg.tensor(rng.standard_normal((5, 6)), dtype=tg.float32)
    results = []
    for inplace in (False, True):
        tg.manual_seed(3)
        lin = nn.Linear(4, 6)
        x = lin(z)
        drop = nn.Dropout(p, inplace=inplace) if module else (lambda t: F.dropout(t, p, True, inplace=inplace))
        version = x._version
        y = drop(x)
        assert (y is x) == (inplace or p == 0) and (x._version > version) == (inplace and p > 0)  # p = 0: x itself
        (y * project).sum().backward()
        results.append((y.detach().numpy().copy(), lin.weight.grad.numpy().copy()))
    np.testing.assert_array_equal(results[0][0], results[1][0])
    np.testing.assert_array_equal(results[0][1], results[1][1])
    x = tg.ones(3)
    assert F.dropout(x, 0.5, training=False, inplace=True) is x and x.tolist() == [1.0, 1.0, 1.0]
