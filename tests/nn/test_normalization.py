"""Normalization layers: running statistics, train and eval modes, state dicts as PyTorch has them, float16, and clear errors that leave the layer as it was."""
import re

import numpy as np
import pytest

import tinygrad_bn as tg
from tinygrad_bn import nn
from tinygrad_bn.nn import functional as F
from tinygrad_bn.testing import gradcheck


def ref_norm(x, axes, eps):
    x = x.astype(np.float64)
    mean = x.mean(axis=axes, keepdims=True)
    var = x.var(axis=axes, keepdims=True)
    return (x - mean) / np.sqrt(var + eps), mean, var


def test_running_statistics_follow_the_momentum_formula(rng):
    bn = nn.BatchNorm1d(3, momentum=0.3)
    rm, rv = np.zeros(3), np.ones(3)
    for _ in range(4):
        x = rng.standard_normal((10, 3)) * 2 + 5
        bn(tg.tensor(x.astype(np.float32)))
        rm = 0.7 * rm + 0.3 * x.mean(0)
        rv = 0.7 * rv + 0.3 * x.var(0, ddof=1)  # running_var takes the unbiased variance
    np.testing.assert_allclose(bn.running_mean.numpy(), rm, rtol=1e-5)
    np.testing.assert_allclose(bn.running_var.numpy(), rv, rtol=1e-5)
    assert bn.num_batches_tracked.item() == 4


def test_cumulative_average_when_momentum_is_none(rng):
    bn = nn.BatchNorm2d(2, momentum=None)
    xs = [rng.standard_normal((4, 2, 3, 3)) for _ in range(3)]
    for x in xs:
        bn(tg.tensor(x))
    np.testing.assert_allclose(bn.running_mean.numpy(), np.mean([x.mean((0, 2, 3)) for x in xs], 0), rtol=1e-5)
    np.testing.assert_allclose(bn.running_var.numpy(), np.mean([x.var((0, 2, 3), ddof=1) for x in xs], 0), rtol=1e-5)


def test_eval_uses_running_statistics_and_is_affine_per_channel(rng):
    bn = nn.BatchNorm1d(4)
    for _ in range(3):
        bn(tg.tensor(rng.standard_normal((16, 4)).astype(np.float32) * 3 + 1))
    bn.eval()
    before = bn.running_mean.numpy().copy()
    x = rng.standard_normal((5, 4)).astype(np.float32)
    y = bn(tg.tensor(x)).detach().numpy()
    ref = (x - bn.running_mean.numpy()) / np.sqrt(bn.running_var.numpy() + bn.eps)
    np.testing.assert_allclose(y, ref, atol=1e-5)
    np.testing.assert_array_equal(bn.running_mean.numpy(), before)  # eval does not update
    y1 = bn(tg.tensor(x[:1])).detach().numpy()  # one sample works in eval
    np.testing.assert_allclose(y1, y[:1], atol=1e-6)
    bn.train()
    assert not np.allclose(bn(tg.tensor(x)).detach().numpy(), y, atol=1e-3)


def test_track_running_stats_false_uses_batch_stats_in_eval(rng):
    bn = nn.BatchNorm1d(3, track_running_stats=False, affine=False).eval()
    x = rng.standard_normal((6, 3))
    np.testing.assert_allclose(bn(tg.tensor(x)).detach().numpy(), ref_norm(x, (0,), 1e-5)[0], atol=1e-10)
    assert list(bn.state_dict()) == []


def test_state_dict_keys_match_pytorch():
    assert list(nn.BatchNorm1d(3).state_dict()) == ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"]
    assert list(nn.LayerNorm(4).state_dict()) == ["weight", "bias"]
    assert list(nn.LayerNorm(4, bias=False).state_dict()) == ["weight"]
    assert list(nn.GroupNorm(2, 4).state_dict()) == ["weight", "bias"]
    assert list(nn.InstanceNorm1d(3).state_dict()) == []
    assert list(nn.InstanceNorm1d(3, affine=True, track_running_stats=True).state_dict()) == \
        ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"]
    from tinygrad_bn.models import SimpleNetBN

    keys = list(SimpleNetBN().state_dict())
    assert "layers.1.running_var" in keys and "layers.4.num_batches_tracked" in keys


def test_instance_norm_running_stats(rng):
    inorm = nn.InstanceNorm1d(2, momentum=0.5, track_running_stats=True)
    x = rng.standard_normal((3, 2, 8)) + 2
    inorm(tg.tensor(x))
    np.testing.assert_allclose(inorm.running_mean.numpy(), 0.5 * x.mean(2).mean(0), rtol=1e-6)
    np.testing.assert_allclose(inorm.running_var.numpy(), 0.5 + 0.5 * x.var(2, ddof=1).mean(0), rtol=1e-6)
    inorm.eval()
    y = inorm(tg.tensor(x)).detach().numpy()
    rm, rv = inorm.running_mean.numpy(), inorm.running_var.numpy()
    np.testing.assert_allclose(y, (x - rm[:, None]) / np.sqrt(rv[:, None] + 1e-5), atol=1e-10)


def test_layer_and_group_norm_modules(rng):
    x = rng.standard_normal((4, 6, 5))
    np.testing.assert_allclose(nn.LayerNorm((6, 5))(tg.tensor(x)).detach().numpy(), ref_norm(x, (1, 2), 1e-5)[0], atol=1e-10)
    gn = nn.GroupNorm(3, 6)(tg.tensor(x)).detach().numpy()
    np.testing.assert_allclose(gn, ref_norm(x.reshape(4, 3, -1), (2,), 1e-5)[0].reshape(x.shape), atol=1e-10)
    inn = nn.InstanceNorm1d(6)(tg.tensor(x)).detach().numpy()
    np.testing.assert_allclose(inn, ref_norm(x, (2,), 1e-5)[0], atol=1e-10)
    assert nn.InstanceNorm2d(6)(tg.tensor(x.reshape(4, 6, 5, 1).repeat(2, 3))).shape == (4, 6, 5, 2)


def test_one_value_per_channel_in_training():
    with pytest.raises(ValueError, match=r"batch_norm: expected more than 1 value per channel when training, got input size \(1, 4\)"):
        nn.BatchNorm1d(4)(tg.zeros(1, 4))
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        nn.BatchNorm2d(4)(tg.zeros(1, 4, 1, 1))


def test_errors_are_clear_and_leave_state_alone():
    bn = nn.BatchNorm1d(4)
    state = {k: v.numpy().copy() for k, v in bn.state_dict().items()}
    with pytest.raises(ValueError, match="expected 4 channels.*has 3"):
        bn(tg.zeros(5, 3))
    with pytest.raises(ValueError, match="expected 2D or 3D input, got 4D"):
        bn(tg.zeros(5, 4, 2, 2))
    with pytest.raises(ValueError, match="expected 4D input, got 2D"):
        nn.BatchNorm2d(4)(tg.zeros(5, 4))
    with pytest.raises(TypeError, match="floating point"):
        bn(tg.zeros(5, 4, dtype=tg.int64))
    with pytest.raises(ValueError, match="more than 1 value"):
        bn(tg.zeros(1, 4))
    for k, v in bn.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), state[k])
    with pytest.raises(ValueError, match=r"num_channels \(6\) must be divisible by num_groups \(4\)"):
        nn.GroupNorm(4, 6)
    with pytest.raises(ValueError, match="divisible"):
        F.group_norm(tg.zeros(2, 6), 4)
    with pytest.raises(ValueError, match="expected input"):
        nn.GroupNorm(2, 6)(tg.zeros(2, 4))
    with pytest.raises(ValueError, match="normalized_shape"):
        nn.LayerNorm(5)(tg.zeros(3, 4))
    with pytest.raises(ValueError, match="weight has shape"):
        F.layer_norm(tg.zeros(3, 4), (4,), weight=tg.ones(3))
    with pytest.raises(ValueError, match="empty input"):
        nn.LayerNorm(4)(tg.zeros(0, 4))
    with pytest.raises(ValueError, match="momentum"):
        nn.BatchNorm1d(3, momentum=2.0)
    with pytest.raises(ValueError, match="num_features"):
        nn.BatchNorm1d(0)


@pytest.mark.parametrize("who, shape, call", [
    ("batch_norm", (4,), lambda x: F.batch_norm(x, None, None, training=True)),
    ("batch_renorm", (4,), lambda x: F.batch_renorm(x, tg.zeros(4), tg.ones(4), training=True)),
    ("group_norm", (4,), lambda x: F.group_norm(x, 1)),
    ("instance_norm", (2, 4), lambda x: F.instance_norm(x)),
    ("layer_norm", (), lambda x: F.layer_norm(x, (1,))),
    ("rms_norm", (), lambda x: F.rms_norm(x, (1,)))])
def test_a_functional_norm_names_the_dims_it_needs(who, shape, call):
    """One dim fewer than the norm needs ((N, C) for the batch and group norms, (N, C, L)
    for instance norm, one normalized dim for layer and RMS norm) is refused with the
    number it needs, before any shape is read from the missing dims."""
    need = len(shape) + 1
    with pytest.raises(ValueError, match=rf"{who}: expected an input with at least {need} dims .*got shape"):
        call(tg.zeros(shape))


def test_simplenet_bn_trains_on_bundled_digits():
    from tinygrad_bn.train import train

    model, hist = train("simplenet-bn", epochs=2, seed=0, log=lambda s: None, progress=False)
    assert hist[-1]["test_acc"] > 0.88
    assert model.layers[1].num_batches_tracked.item() == 2 * 63


def test_batch_norm_with_one_running_buffer_refuses_and_changes_nothing(rng):
    x = tg.tensor(rng.standard_normal((8, 3)).astype(np.float32))
    rm, rv = tg.zeros(3), tg.ones(3)
    for args in ((rm, None), (None, rv)):
        with pytest.raises(ValueError, match="pass both running buffers"):
            F.batch_norm(x, *args, training=True)
    np.testing.assert_array_equal(rm.numpy(), [0, 0, 0])
    np.testing.assert_array_equal(rv.numpy(), [1, 1, 1])


def test_a_batch_norm_state_dict_without_num_batches_tracked_loads(rng):
    bn = nn.BatchNorm1d(3)
    bn(tg.tensor(rng.standard_normal((8, 3)).astype(np.float32)))
    state = {k: v for k, v in bn.state_dict().items() if k != "num_batches_tracked"}
    fresh = nn.BatchNorm1d(3)
    fresh.num_batches_tracked.fill_(5)
    result = fresh.load_state_dict(state)
    assert result.missing_keys == [] and fresh.num_batches_tracked.item() == 0  # filled in, as PyTorch
    np.testing.assert_array_equal(fresh.running_mean.numpy(), bn.running_mean.numpy())
    del state["running_var"]
    with pytest.raises(RuntimeError, match="missing keys: \\['running_var'\\]"):
        nn.BatchNorm1d(3).load_state_dict(state)


@pytest.mark.parametrize("layer", [nn.Linear(2, 3), nn.BatchNorm1d(2), nn.LayerNorm(2), nn.GroupNorm(1, 2)],
                         ids=["Linear", "BatchNorm1d", "LayerNorm", "GroupNorm"])
@pytest.mark.parametrize("bad", [[[1.0, 2.0]], None, np.ones((2, 2))], ids=["list", "None", "ndarray"])
def test_a_non_tensor_input_is_a_type_error_naming_the_layer(layer, bad):
    with pytest.raises(TypeError, match="(must be|expected) a Tensor"):
        layer(bad)


@pytest.mark.parametrize("make", [lambda e: nn.BatchNorm1d(2, eps=e), lambda e: nn.LayerNorm(2, eps=e),
                                  lambda e: nn.GroupNorm(1, 2, eps=e)], ids=["BatchNorm1d", "LayerNorm", "GroupNorm"])
@pytest.mark.parametrize("eps", [0, -1.0, float("nan"), "1e-5"])
def test_eps_must_be_a_positive_number(make, eps):
    with pytest.raises((ValueError, TypeError), match=r"eps must be (> 0|a finite number|a number)"):
        make(eps)


@pytest.mark.parametrize("make", [lambda: nn.BatchNorm1d(3), lambda: nn.LayerNorm(3), lambda: nn.GroupNorm(1, 3)],
                         ids=["BatchNorm1d", "LayerNorm", "GroupNorm"])
def test_float16_layers_compute_in_float32_and_return_float16(rng, make):
    x64 = rng.standard_normal((6, 3))
    w = tg.tensor(rng.standard_normal((6, 3)).astype(np.float16))
    half, single = make().to(tg.float16), make()
    xh = tg.tensor(x64.astype(np.float16), requires_grad=True)
    xs = tg.tensor(x64.astype(np.float16).astype(np.float32), requires_grad=True)
    yh, ys = half(xh), single(xs)
    assert yh.dtype == np.float16
    np.testing.assert_allclose(yh.detach().numpy(), ys.detach().numpy(), atol=2e-3)
    (yh * w).sum().backward()
    (ys * w.float()).sum().backward()
    assert xh.grad.dtype == np.float16 and half.weight.grad.dtype == np.float16
    np.testing.assert_allclose(xh.grad.numpy(), xs.grad.numpy(), atol=5e-3)


def test_big_endian_arrays_become_native_tensors():
    x = tg.tensor(np.arange(6, dtype=">f4").reshape(3, 2))
    assert x.dtype == np.float32 and x._data.dtype.isnative
    assert nn.BatchNorm1d(2)(x).dtype == np.float32
    with pytest.raises(TypeError, match="byte order"):
        tg.from_numpy(np.ones(2, dtype=">f4"))


def test_instance_norm_running_stats_follow_pytorchs_rule():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((4, 3, 10))
    layer = nn.InstanceNorm1d(3, track_running_stats=True, momentum=0.2).double()
    layer(tg.tensor(x))
    var = x.var(axis=2, ddof=1).mean(axis=0)
    mean = x.mean(axis=2).mean(axis=0)
    np.testing.assert_allclose(layer.running_mean.numpy(), 0.8 * 0 + 0.2 * mean, rtol=1e-12)
    np.testing.assert_allclose(layer.running_var.numpy(), 0.8 * 1 + 0.2 * var, rtol=1e-12)


def test_layer_norm_and_rms_norm_take_a_1d_input_as_pytorch():
    """One sample of 1-d features: the statistics are taken over all of it."""
    x = tg.tensor([1.0, -2.0, 4.0, 0.5], dtype=tg.float64, requires_grad=True)
    a = x.detach().numpy()
    y = F.layer_norm(x, (4,), eps=1e-5)
    np.testing.assert_allclose(y.detach().numpy(), (a - a.mean()) / np.sqrt(a.var() + 1e-5), rtol=1e-12)
    np.testing.assert_allclose(nn.LayerNorm(4, dtype=tg.float64)(x).detach().numpy(), y.detach().numpy(), rtol=1e-15)
    r = F.rms_norm(x, (4,), eps=1e-5)
    np.testing.assert_allclose(r.detach().numpy(), a / np.sqrt((a * a).mean() + 1e-5), rtol=1e-12)
    w = tg.tensor([0.3, -1.0, 2.0, 0.7], dtype=tg.float64)  # a fixed weighting: the sum of y is constant
    assert gradcheck(lambda t: F.layer_norm(t, (4,)) * w, (x,))
    assert gradcheck(lambda t: F.rms_norm(t, (4,)) * w, (x,))


@pytest.mark.parametrize("layer", [lambda: nn.BatchNorm1d(3), lambda: nn.BatchNorm2d(3),
                                   lambda: nn.InstanceNorm1d(3, track_running_stats=True),
                                   lambda: nn.BatchRenorm1d(3)])
def test_reset_running_stats_gives_mean_0_variance_1_and_no_batches(layer):
    """As PyTorch: after training moved them, reset_running_stats puts the running
    statistics back to where a new layer starts (reset_parameters also resets the affine)."""
    m = layer()
    x = tg.randn(8, 3, 5) * 3 + 2 if not isinstance(m, (nn.BatchNorm1d, nn.BatchRenorm1d)) else tg.randn(8, 3) * 3 + 2
    if isinstance(m, nn.BatchNorm2d):
        x = x.reshape(8, 3, 5, 1)
    m.train()
    m(x)
    with tg.no_grad():
        m.num_batches_tracked.fill_(5)  # (instance norm does not count its batches, as PyTorch's)
    assert m.running_mean.abs().sum().item() > 0 and abs(m.running_var.sum().item() - 3) > 0.1
    m.reset_running_stats()
    assert m.running_mean.tolist() == [0.0] * 3 and m.running_var.tolist() == [1.0] * 3
    assert m.num_batches_tracked.item() == 0


@pytest.mark.parametrize("make, shape", [
    (lambda **kw: nn.BatchNorm1d(4, **kw), (6, 4)),
    (lambda **kw: nn.BatchNorm2d(4, **kw), (3, 4, 2, 2)),
    (lambda **kw: nn.InstanceNorm1d(4, affine=True, **kw), (3, 4, 5)),
    (lambda **kw: nn.GroupNorm(2, 4, **kw), (3, 4, 5)),
    (lambda **kw: nn.LayerNorm(4, **kw), (3, 4)),
    (lambda **kw: nn.BatchRenorm1d(4, **kw), (6, 4)),
])
def test_bias_false_is_gamma_alone_as_pytorchs_keyword(make, shape, rng):
    """bias=False: no beta in the parameters, the state dict or the repr's bias=; the
    output and gamma's gradient are those of the layer with beta at 0, train and eval."""
    plain, with_zero = make(bias=False), make()
    assert plain.bias is None and [n for n, _ in plain.named_parameters()] == ["weight"]
    assert "bias" not in plain.state_dict() and "bias=False" in repr(plain) and "bias=True" in repr(with_zero)
    x = rng.standard_normal(shape) * 2 + 1
    project = tg.tensor(rng.standard_normal(shape), dtype=tg.float64)
    for module in (plain, with_zero):
        module.weight.data = tg.tensor(rng.uniform(0.5, 2, module.weight.shape), dtype=tg.float64)
        module.double()
    with_zero.weight.data = plain.weight.data.clone()
    for train in (True, False):
        plain.train(train)
        with_zero.train(train)
        outs = []
        for module in (plain, with_zero):
            module.weight.grad = None
            xt = tg.tensor(x, dtype=tg.float64)
            out = module(xt)
            (out * project).sum().backward()
            outs.append((out.detach().numpy(), module.weight.grad.numpy()))
        np.testing.assert_allclose(outs[0][0], outs[1][0], rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(outs[0][1], outs[1][1], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("stored, loads", [((1,), True), ((), True), ((2,), False), ((1, 1), False)])
def test_a_0_d_buffer_loads_from_a_1_element_tensor_and_no_other_shape(stored, loads):
    """num_batches_tracked is 0-d; PyTorch loads it from a [1] tensor too (old checkpoints),
    and refuses any other shape, changing nothing."""
    m = nn.BatchNorm1d(3)
    state = m.state_dict()
    state["num_batches_tracked"] = tg.tensor(np.full(stored, 7, np.int64))
    if loads:
        m.load_state_dict(state)
        assert m.num_batches_tracked.shape == () and m.num_batches_tracked.item() == 7
    else:
        with pytest.raises(RuntimeError, match=rf"num_batches_tracked: shape {re.escape(str(stored))} in the state "
                                               r"dict, \(\) in the model"):
            m.load_state_dict(state)
        assert m.num_batches_tracked.item() == 0


@pytest.mark.parametrize("defers", [True, False])
def test_a_device_that_checks_later_keeps_running_statistics_where_the_batch_is_not_finite(monkeypatch, defers):
    """On a device whose checks raise at the next host read (CUDA), batch norm's update
    of a running statistic has run before the error: each channel whose batch value is
    NaN or inf keeps its old value, and the others move as always. On a device that
    checks at once the op raised before the update, which then applies to every channel."""
    from tinygrad_bn.nn.functional import _update_running
    from tinygrad_bn.tensor_base import backend_of
    running = tg.tensor([1.0, 2.0, 3.0, 4.0], dtype=tg.float32)
    monkeypatch.setattr(backend_of(running), "defers_checks", defers)
    batch = np.array([5.0, np.nan, np.inf, 8.0])
    with np.errstate(invalid="ignore"):
        _update_running(running, batch, 0.25)
    got = running.tolist()
    assert got[0] == 0.75 * 1.0 + 0.25 * 5.0 and got[3] == 0.75 * 4.0 + 0.25 * 8.0
    if defers:
        assert got[1:3] == [2.0, 3.0]
    else:
        assert np.isnan(got[1]) and got[2] == np.inf
