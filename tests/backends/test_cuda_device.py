"""The "cuda" device: moves, training steps like the CPU's, checks that wait for the next host read, every op, the tape, and a step that reads nothing back but the loss.

Runs in Numba's CUDA simulator (marker ``cuda_sim``, in the child pytest that
``tests/kernels/test_cuda_simulator.py`` starts) and on a real GPU (marker ``gpu``).
"""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinygrad_bn as tg
from tinygrad_bn import nn, optim
from tinygrad_bn.models import SimpleNetBN
from tinygrad_bn.nn import functional as F

pytestmark = [pytest.mark.cuda_sim, pytest.mark.gpu, pytest.mark.usefixtures("small_cuda_launches")]

pytest.importorskip("kernels.cuda.batchnorm")
from kernels.cuda import _common as kc  # noqa: E402

SIMULATED = kc.simulator()


def host(a):
    return a if isinstance(a, np.ndarray) else a.get()


def narrow_net_bn():
    """SimpleNetBN's layers (Linear, BatchNorm1d, ReLU twice, then Linear) at widths 20-8-16-10:
    the simulator runs each block's threads as Python threads, so a launch costs by its blocks."""
    return nn.Sequential(nn.Linear(20, 8), nn.BatchNorm1d(8), nn.ReLU(),
                         nn.Linear(8, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Linear(16, 10))


def test_a_training_step_of_simplenet_bn_on_cuda_matches_the_cpu(train_simplenet_bn):
    cpu_model, cpu_loss = train_simplenet_bn("cpu", steps=2)
    gpu_model, gpu_loss = train_simplenet_bn("cuda", steps=2)
    assert gpu_loss.device == "cuda"
    assert all(p.device == "cuda" and p.grad.device == "cuda" for p in gpu_model.parameters())
    assert abs(gpu_loss.item() - cpu_loss.item()) < 1e-5
    gpu_state, cpu_state = gpu_model.state_dict(), cpu_model.state_dict()
    assert list(gpu_state) == list(cpu_state)
    for k in cpu_state:
        got, want = gpu_state[k].cpu().numpy(), cpu_state[k].numpy()
        assert got.dtype == want.dtype, k
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-6, err_msg=k)


def test_device_moves_creation_and_mixing_errors():
    x = tg.tensor([[1.0, -2.0], [3.0, 4.0]], requires_grad=True)
    y = x.cuda()
    assert y.device == "cuda" and y.grad_fn.name == "ToDevice" and y.cpu().device == "cpu"
    assert x.to("cuda:0").device == "cuda"
    with pytest.raises(TypeError, match="cpu\\(\\).numpy\\(\\)"):
        y.detach().numpy()
    with pytest.raises(RuntimeError, match="same device.*cpu and cuda"):
        x + y
    w = tg.tensor([[0.5, 2.0], [-1.0, 3.0]], device="cuda")
    (y * w).sum().backward()
    assert x.grad.device == "cpu" and x.grad.tolist() == [[0.5, 2.0], [-1.0, 3.0]]
    for t in (tg.zeros(2, 3, device="cuda"), tg.ones(2, device="cuda"), tg.rand(4, device="cuda"),
              tg.randn(4, device="cuda"), tg.arange(5, device="cuda"), tg.full((2,), 7.0, device="cuda"),
              tg.tensor([1, 2], device="cuda"), tg.zeros_like(y), tg.randn_like(y)):
        assert t.device == "cuda"
    assert tg.arange(5, device="cuda").tolist() == [0, 1, 2, 3, 4]
    assert tg.cuda.is_available() and tg.cuda.device_count() == 1
    assert tg.cuda.is_simulated() == SIMULATED
    if SIMULATED:
        assert "simulator" in repr(tg.backends.get_backend("cuda"))
        assert "simulator" in tg.cuda.get_device_name()


def test_optimizer_state_checkpoints_and_load_state_dict_across_devices(tmp_path):
    model = SimpleNetBN().to("cuda")
    opt = optim.Adam(model.parameters(), lr=1e-3)
    x = tg.randn(8, 784, device="cuda")
    loss = nn.CrossEntropyLoss()(model(x), tg.tensor([1, 2, 3, 4, 5, 6, 7, 8], device="cuda"))
    loss.backward()
    opt.step()
    be = tg.backends.get_backend("cuda")
    moments = [v for st in opt.state.values() for v in st.values() if hasattr(v, "shape") and v.ndim]
    assert len(moments) == 2 * len(list(model.parameters()))
    assert all(type(v) is be.ndarray for v in moments)  # on the parameters' device (CuPy arrays on a GPU)
    path = tmp_path / "m.npz"
    tg.save(model.state_dict(), str(path))  # through host memory
    loaded = tg.load(str(path))
    assert all(t.device == "cpu" for t in loaded.values())
    fresh = SimpleNetBN().to("cuda")
    fresh.load_state_dict(loaded)  # copied onto the module's device
    for k, v in fresh.state_dict().items():
        assert v.device == "cuda", k
        np.testing.assert_array_equal(v.cpu().numpy(), model.state_dict()[k].cpu().numpy(), err_msg=k)
    on_cpu = SimpleNetBN()
    on_cpu.load_state_dict(model.state_dict())  # from cuda tensors onto a cpu module
    assert all(v.device == "cpu" for v in on_cpu.state_dict().values())


def test_every_mixing_of_devices_is_refused_naming_both():
    c, g = tg.ones(3), tg.ones(3, device="cuda")
    cases = [
        (lambda: c.add_(g), "add_.*cuda.*cpu"),
        (lambda: g.mul_(c), "mul_.*cpu.*cuda"),
        (lambda: tg.where(c > 0, g, g), "where: expected all tensors on the same device, got cpu and cuda"),
        (lambda: tg.where(g > 0, c, 1.0), "where: expected all tensors on the same device, got cuda and cpu"),
        (lambda: c.__setitem__(slice(0, 2), g[0:2]), "cpu.*cuda"),
        (lambda: nn.functional.batch_norm(tg.ones(2, 3, device="cuda"), tg.zeros(3), tg.ones(3), training=True),
         r"batch_norm: expected all tensors on the same device, got cuda and cpu \(the input and running_mean\)"),
        (lambda: nn.functional.layer_norm(tg.ones(2, 3, device="cuda"), (3,), tg.ones(3)), "layer_norm.*got cuda and cpu .the input and weight"),
    ]
    for call, message in cases:
        with pytest.raises(RuntimeError, match=message):
            call()
    assert c.tolist() == [1.0, 1.0, 1.0] and g.cpu().tolist() == [1.0, 1.0, 1.0]  # nothing was written
    p = tg.ones(3, device="cuda", requires_grad=True)
    p.grad = tg.ones(3)
    with pytest.raises(RuntimeError, match="clip_grad_norm_.*on cpu.*cuda"):
        nn.utils.clip_grad_norm_([p], 1.0)
    q = tg.ones(3, device="cuda", requires_grad=True)
    q.register_hook(lambda grad: grad.cpu())
    with pytest.raises(RuntimeError, match="hook.*cpu.*cuda"):
        (q * 2).sum().backward()
    x = tg.zeros(3)
    x.copy_(tg.tensor([1.0, 2.0, 3.0], device="cuda"))  # copy_ copies across devices, as in PyTorch
    assert x.tolist() == [1.0, 2.0, 3.0]


def test_nan_in_a_norm_input_raises_at_the_next_host_read_naming_the_op():
    be = tg.backends.get_backend("cuda")
    bn = nn.BatchNorm1d(3).to("cuda")
    x = tg.tensor([[1.0, np.nan, 2.0], [3.0, 4.0, 5.0]], device="cuda")
    out = bn(x)  # queued, no wait
    with pytest.raises(ValueError, match="batch_norm: the input contains NaN or Inf.*next read"):
        out.sum().item()
    # the running statistics skipped the NaN channel on the device (no wait): state never turns NaN
    assert np.isfinite(host(bn.running_mean._data)).all() and np.isfinite(host(bn.running_var._data)).all()
    assert host(bn.running_mean._data)[1] == 0.0 and host(bn.running_mean._data)[0] != 0.0
    assert be._pending == [] and not host(be._flags).any()  # cleared: later reads work
    assert bn(tg.ones(2, 3, device="cuda")).sum().item() == 0.0
    ln = nn.LayerNorm(3).to("cuda")
    y = ln(tg.tensor([[1.0, np.inf, 2.0]], device="cuda"))
    with pytest.raises(ValueError, match="layer_norm"):
        y.tolist()


def test_out_of_range_class_targets_raise_at_the_next_host_read_with_the_value():
    logits = tg.randn(3, 4, device="cuda", requires_grad=True)
    loss = nn.CrossEntropyLoss()(logits, tg.tensor([0, 9, 1], device="cuda"))
    with pytest.raises(IndexError, match="target 9 is out of bounds for 4 classes"):
        loss.item()
    with pytest.raises(RuntimeError, match="same device.*cuda and cpu"):  # the target's device is checked too
        nn.CrossEntropyLoss()(logits, tg.tensor([0, 1, 2]))


def test_more_queued_checks_than_flags_are_read_in_between():
    be = tg.backends.get_backend("cuda")
    from tinygrad_bn.backends.cuda import MAX_PENDING_CHECKS
    ln = nn.LayerNorm(4).to("cuda")
    x = tg.randn(2, 4, device="cuda")
    for _ in range(MAX_PENDING_CHECKS + 3):
        ln(x)
    assert len(be._pending) == 3
    assert ln(x).sum().item() == pytest.approx(0.0, abs=1e-5)


def _ops():
    a = np.random.default_rng(0).standard_normal((4, 5)).astype(np.float32)
    b = np.random.default_rng(1).standard_normal((5, 3)).astype(np.float32)
    return a, b, [
        ("add", lambda x, y: x + 1.5 * x), ("sub", lambda x, y: 2 - x), ("mul", lambda x, y: x * x),
        ("div", lambda x, y: x / (x.abs() + 1)), ("pow", lambda x, y: (x.abs() + 0.1) ** 1.5),
        ("exp_log", lambda x, y: (x.exp() + 1).log()), ("sqrt", lambda x, y: (x * x + 1).sqrt()),
        ("tanh", lambda x, y: x.tanh()), ("sigmoid", lambda x, y: x.sigmoid()), ("relu", lambda x, y: x.relu()),
        ("leaky_relu", lambda x, y: x.leaky_relu(0.1)), ("gelu", lambda x, y: x.gelu()),
        ("gelu_tanh", lambda x, y: x.gelu(approximate="tanh")), ("clip", lambda x, y: x.clip(-0.5, 0.5)),
        ("matmul", lambda x, y: x @ y), ("sum", lambda x, y: x.sum(1)), ("mean", lambda x, y: x.mean(0)),
        ("var", lambda x, y: x.var(1)), ("std", lambda x, y: x.std(0)), ("amax", lambda x, y: x.amax(1)),
        ("max", lambda x, y: x.max()), ("softmax", lambda x, y: x.softmax(1)),
        ("log_softmax", lambda x, y: x.log_softmax(1)), ("reshape", lambda x, y: x.reshape(20) * 2),
        ("permute", lambda x, y: x.permute(1, 0) * 2), ("getitem", lambda x, y: x[1:3, ::2] * 2),
        ("fancy_getitem", lambda x, y: x[[0, 2, 2]] * 2), ("cat", lambda x, y: tg.cat([x, x * 2], 0)),
        ("stack", lambda x, y: tg.stack([x, x], 1)), ("where", lambda x, y: tg.where(x > 0, x, x * 0.1)),
        ("maximum", lambda x, y: tg.maximum(x, x * 0.5)), ("expand", lambda x, y: x[:1].expand(3, 5) * 1.0),
        ("linear", lambda x, y: nn.functional.linear(x, y.permute(1, 0))),
        ("layer_norm", lambda x, y: nn.functional.layer_norm(x, (5,))),
        ("group_norm", lambda x, y: nn.functional.group_norm(x, 1)),
        ("mse", lambda x, y: nn.functional.mse_loss(x, x * 0.5)),
        ("nll", lambda x, y: nn.functional.nll_loss(x.log_softmax(1), tg.tensor([0, 1, 2, 4], device=x.device))),
        ("cross_entropy_ignore", lambda x, y: nn.functional.cross_entropy(
            x, tg.tensor([0, -100, 2, 4], device=x.device))),
        ("min_amin", lambda x, y: x.min(1)[0] + x.amin(0).sum()), ("sign_abs", lambda x, y: x.abs() * 2),
        ("transpose_flatten", lambda x, y: x.transpose(0, 1).flatten() * 3),
        ("squeeze_unsqueeze", lambda x, y: x.unsqueeze(0).squeeze(0) * 3),
        ("bool_index", lambda x, y: x[x.detach() > 0] * 2),
        ("minimum", lambda x, y: tg.minimum(x, 0.2)),
        ("batch_norm_3d", lambda x, y: nn.functional.batch_norm(x.reshape(2, 2, 5), None, None, training=True)),
        ("batch_norm_eval", lambda x, y: nn.functional.batch_norm(
            x, tg.zeros(5, device=x.device), tg.ones(5, device=x.device), training=False)),
        ("instance_norm", lambda x, y: nn.functional.instance_norm(x.reshape(2, 2, 5))),
        ("in_place", lambda x, y: (x * 1.0).add_(x).mul_(2).sub_(1).div_(3)),
        ("fill_copy", lambda x, y: (x * 1.0).fill_(2.0) + (x * 1.0).copy_(x * 3)),
        ("pointwise_math", lambda x, y: x.sin() + x.atan2(x * x + 1) + (x * 0.4).erfinv() + x.hypot(x + 1)),
        ("special_functions", lambda x, y: (x.abs() + 0.5).lgamma() + (x.abs() + 0.5).digamma() + x.i0()),
        ("prod_logsumexp", lambda x, y: x.prod(1, keepdim=True) + x.logsumexp(0)),
    ]


@pytest.mark.parametrize("name", [n for n, _ in _ops()[2]])
def test_every_op_runs_on_cuda_like_on_the_cpu_forward_and_backward(name):
    a, b, ops = _ops()
    fn = dict(ops)[name]
    outs, grads = {}, {}
    for device in ("cpu", "cuda"):
        x = tg.tensor(a, requires_grad=True, device=device)
        y = tg.tensor(b, requires_grad=True, device=device)
        out = fn(x, y)
        weight = tg.tensor(np.random.default_rng(2).standard_normal(out.shape).astype(np.float32), device=device)
        (out * weight).sum().backward()
        assert out.device == device
        outs[device] = out.detach().cpu().numpy()
        grads[device] = [None if t.grad is None else t.grad.cpu().numpy() for t in (x, y)]
    np.testing.assert_allclose(outs["cuda"], outs["cpu"], rtol=1e-5, atol=1e-6)
    for g_gpu, g_cpu in zip(grads["cuda"], grads["cpu"]):
        assert (g_gpu is None) == (g_cpu is None)
        if g_gpu is not None:
            np.testing.assert_allclose(g_gpu, g_cpu, rtol=1e-5, atol=1e-6)


def test_gradcheck_of_the_cuda_normalization_ops_in_float64():
    from tinygrad_bn.testing import gradcheck
    rng = np.random.default_rng(21)

    def leaf(*shape):
        return tg.tensor(rng.standard_normal(shape), dtype=tg.float64, requires_grad=True, device="cuda")
    x, w, b = leaf(6, 3), leaf(3), leaf(3)
    assert gradcheck(lambda x, w, b: nn.functional.batch_norm(x, None, None, w, b, training=True), (x, w, b))
    x4 = leaf(3, 4)
    assert gradcheck(lambda x, w, b: nn.functional.layer_norm(x, (4,), w, b), (x4, leaf(4), leaf(4)),
                     fast_mode=True)
    x3 = leaf(2, 4, 3)
    assert gradcheck(lambda x, w, b: nn.functional.group_norm(x, 2, w, b), (x3, leaf(4), leaf(4)), fast_mode=True)


def test_gradgradcheck_of_the_cuda_normalization_ops_in_float64():
    """Second derivatives on the device: the norms' recorded backward (composite ops) and the kernels' forward."""
    from tinygrad_bn.testing import gradgradcheck
    rng = np.random.default_rng(22)

    def leaf(*shape):
        return tg.tensor(rng.standard_normal(shape), dtype=tg.float64, requires_grad=True, device="cuda")
    x, w, b = leaf(5, 3), leaf(3), leaf(3)
    fast = dict(fast_mode=True, n_directions=2)
    assert gradgradcheck(lambda x, w, b: nn.functional.batch_norm(x, None, None, w, b, training=True), (x, w, b),
                         **fast)
    mean = tg.tensor([0.1, -0.2, 0.3], dtype=tg.float64, device="cuda")
    var = tg.tensor([0.5, 1.5, 2.0], dtype=tg.float64, device="cuda")
    assert gradgradcheck(lambda x, w: nn.functional.batch_norm(x, mean, var, w, None, training=False) * x, (x, w),
                         **fast)
    assert gradgradcheck(lambda x, w, b: nn.functional.layer_norm(x, (3,), w, b), (x, w, b), **fast)
    x3 = leaf(2, 4, 2)
    assert gradgradcheck(lambda x: nn.functional.group_norm(x, 2), (x3,), **fast)


def _cuda_leaf(a):
    return tg.tensor(a, dtype=tg.float64, requires_grad=True, device="cuda")


@pytest.mark.parametrize("kind", ["batch", "layer", "group", "instance"])
@settings(max_examples=4, deadline=None)
@given(data=st.data())
def test_gradgradcheck_of_every_norm_on_drawn_shapes_on_cuda(kind, data):
    """The norms' second derivatives on the device over drawn shapes (every simulated
    kernel launch is Python threads, so fewer examples than on the CPU)."""
    from tinygrad_bn.testing import gradgradcheck
    from tinygrad_bn.testing import strategies as tst
    case = data.draw(tst.normalization_inputs(kind, scale="well", max_side=3))
    args = [_cuda_leaf(case.x)] + ([_cuda_leaf(case.weight), _cuda_leaf(case.bias)] if case.weight is not None else [])
    assert gradgradcheck(lambda *a: case.call(*a), tuple(args), fast_mode=True, n_directions=2)


@settings(max_examples=4, deadline=None)
@given(data=st.data())
def test_gradgradcheck_of_eval_mode_batch_norm_on_drawn_shapes_on_cuda(data):
    from tinygrad_bn.testing import gradgradcheck
    from tinygrad_bn.testing import strategies as tst
    case = data.draw(tst.normalization_inputs("batch", scale="well", affine=True, max_side=3))
    c = case.x.shape[1]
    mean = tg.tensor(np.linspace(-0.5, 0.5, c), device="cuda")
    var = tg.tensor(np.linspace(0.5, 2.0, c), device="cuda")

    def fn(x, w, b):  # affine in x: times x, so the second derivative is not zero
        return nn.functional.batch_norm(x, mean, var, w, b, training=False) * x
    assert gradgradcheck(fn, (_cuda_leaf(case.x), _cuda_leaf(case.weight), _cuda_leaf(case.bias)),
                         fast_mode=True, n_directions=2)


CUDA_OPS = {  # one of each family the CPU file checks (tests/ops/test_double_backward.py), on the device
    "tanh": lambda x: x.tanh(), "gelu": lambda x: x.gelu(), "relu": lambda x: x.relu() * x,
    "div": lambda x: x / (x * x + 1), "pow": lambda x: (x * x + 1) ** x,
    "softmax": lambda x: x.softmax(-1), "log_softmax": lambda x: x.log_softmax(-1) * x,
    "var": lambda x: x.var(0) if x.shape[0] > 1 else x.sum(),
    "matmul": lambda x: x @ x.transpose(-1, -2) if x.ndim > 1 else (x * x).sum(),
    "where": lambda x: tg.where(x > 0, x * x, x.exp()),
    "cat_slice": lambda x: tg.cat([x, x * x], 0)[1:] * x.sum(),
    "special": lambda x: (x * x + 0.5).lgamma() * x.sin() + x.atan2(x * x + 1),
    "prod": lambda x: x.prod(0) * x.logsumexp(0),
}


@pytest.mark.parametrize("name", sorted(CUDA_OPS))
@settings(max_examples=6, deadline=None)
@given(x=hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=3),
                    elements=st.floats(-2, 2).filter(lambda v: abs(v) > 0.05)))
def test_gradgradcheck_of_the_ops_on_drawn_shapes_on_cuda(name, x):
    from tinygrad_bn.testing import gradgradcheck
    assert gradgradcheck(CUDA_OPS[name], _cuda_leaf(x), fast_mode=True, n_directions=2)


@settings(max_examples=6, deadline=None)
@given(data=st.data())
def test_gradgradcheck_of_cross_entropy_on_drawn_shapes_on_cuda(data):
    from tinygrad_bn.testing import gradgradcheck
    n, c = data.draw(st.integers(1, 4)), data.draw(st.integers(2, 4))
    x = data.draw(hnp.arrays(np.float64, (n, c), elements=st.floats(-3, 3)))
    target = tg.tensor(np.array(data.draw(st.lists(st.integers(0, c - 1), min_size=n, max_size=n))), device="cuda")
    reduction = data.draw(st.sampled_from(["mean", "sum", "none"]))
    assert gradgradcheck(lambda a: nn.functional.cross_entropy(a, target, reduction=reduction), _cuda_leaf(x),
                         fast_mode=True, n_directions=2)


def test_models_and_optimizers_on_cuda_deepcopy_and_pickle_onto_cuda():
    import copy
    import pickle
    tg.manual_seed(0)
    model = SimpleNetBN().to("cuda")
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    x = tg.randn(4, 784, device="cuda")
    y = tg.tensor([1, 2, 3, 4], device="cuda")
    nn.functional.cross_entropy(model(x), y).backward()
    opt.step()
    for twin_model, twin_opt in (copy.deepcopy((model, opt)), pickle.loads(pickle.dumps((model, opt)))):
        for (k, a), b in zip(model.state_dict().items(), twin_model.state_dict().values()):
            assert b.device == "cuda" and b.dtype == a.dtype, k
            np.testing.assert_array_equal(b.cpu().numpy(), a.cpu().numpy(), err_msg=k)
        moments = [v for st in twin_opt.state.values() for v in st.values() if hasattr(v, "shape") and v.ndim]
        assert moments and all(isinstance(v, type(x._data)) for v in moments)
        assert twin_opt.param_groups[0]["params"][0] is twin_model.layers[0].weight


def test_a_tensor_state_dicts_and_optimizer_state_on_cuda_deepcopy_and_pickle_independently():
    """A lone tensor (a leaf with its grad, 0-d, int64, float16), a model's state_dict and an
    optimizer's state_dict round-trip through deepcopy and pickle; each copy is on cuda where the
    original is, and changing the copy leaves the original as it was."""
    import copy
    import pickle

    def round_trips(obj):
        return copy.deepcopy(obj), pickle.loads(pickle.dumps(obj))

    tg.manual_seed(0)
    t = tg.randn(3, 2, device="cuda", requires_grad=True)
    (t * t).sum().backward()
    values, grad = t.detach().cpu().numpy().copy(), t.grad.cpu().numpy().copy()
    deep, pickled = round_trips(t)
    assert deep.grad.device == "cuda" and pickled.grad is None  # a pickle drops .grad, as PyTorch's
    np.testing.assert_array_equal(deep.grad.cpu().numpy(), grad)
    deep.grad.fill_(7.0)
    for twin in (deep, pickled):
        assert twin.device == "cuda" and twin.requires_grad and twin.is_leaf
        np.testing.assert_array_equal(twin.detach().cpu().numpy(), values)
        with tg.no_grad():
            twin.mul_(0)
        np.testing.assert_array_equal(t.detach().cpu().numpy(), values)  # the original is its own
        np.testing.assert_array_equal(t.grad.cpu().numpy(), grad)
    for lone, dtype in ((tg.tensor(2.5, device="cuda"), np.float32), (tg.tensor([1, 2], device="cuda"), np.int64),
                        (tg.ones(2, dtype=tg.float16, device="cuda"), np.float16)):
        for twin in round_trips(lone):
            assert twin.device == "cuda" and twin.dtype == dtype and twin.shape == lone.shape
            np.testing.assert_array_equal(twin.cpu().numpy(), lone.cpu().numpy())

    model = nn.Sequential(nn.Linear(6, 5), nn.BatchNorm1d(5), nn.ReLU(), nn.Linear(5, 3)).to("cuda")
    opt = optim.Adam(model.parameters(), lr=1e-3)
    x, y = tg.randn(4, 6, device="cuda"), tg.tensor([1, 2, 0, 1], device="cuda")
    nn.functional.cross_entropy(model(x), y).backward()
    opt.step()
    state = {k: v.cpu().numpy().copy() for k, v in model.state_dict().items()}
    for sd in round_trips(model.state_dict()):
        assert list(sd) == list(state)
        for k, v in sd.items():
            assert v.device == "cuda", k
            np.testing.assert_array_equal(v.cpu().numpy(), state[k], err_msg=k)
        with tg.no_grad():
            for v in sd.values():
                v.add_(1)
        for k, v in model.state_dict().items():  # the model's tensors were not shared with the copy
            np.testing.assert_array_equal(v.cpu().numpy(), state[k], err_msg=k)

    opt_state = opt.state_dict()
    moments = {i: {n: np.array(v) for n, v in s.items() if hasattr(v, "shape")} for i, s in opt_state["state"].items()}
    assert moments and all(moments.values())
    for osd in round_trips(opt_state):
        assert osd["param_groups"] == opt_state["param_groups"]
        twin_model = copy.deepcopy(model)
        twin_opt = optim.Adam(twin_model.parameters(), lr=1e-3)
        twin_opt.load_state_dict(osd)
        on_device = [v for st in twin_opt.state.values() for v in st.values() if hasattr(v, "shape") and v.ndim]
        assert on_device and all(isinstance(v, type(x._data)) for v in on_device)  # loaded onto cuda
        for i, s in osd["state"].items():
            for n, v in moments[i].items():
                np.testing.assert_array_equal(np.asarray(s[n]), v)
                s[n][...] = 0  # change the copy
        for m in (twin_model, model):
            nn.functional.cross_entropy(m(x), y).backward()
        twin_opt.step()
        for i, s in opt.state_dict()["state"].items():  # the original's state is as it was
            for n, v in moments[i].items():
                np.testing.assert_array_equal(np.asarray(s[n]), v)
        model.zero_grad()


def test_a_hessian_vector_product_on_cuda_matches_the_cpu():
    rng = np.random.default_rng(23)
    tg.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 6), nn.BatchNorm1d(6), nn.Tanh(), nn.Linear(6, 3), nn.LayerNorm(3)).double()
    x_np, v_np = rng.standard_normal((8, 4)), [rng.standard_normal(p.shape) for p in model.parameters()]

    def hvp(device):
        m = model.to(device)
        params = list(m.parameters())
        loss = (m(tg.tensor(x_np, device=device)) ** 2).mean()
        grads = tg.grad(loss, params, create_graph=True)
        dot = sum((g * tg.tensor(v, device=device)).sum() for g, v in zip(grads, v_np))
        return [h.cpu().numpy() for h in tg.grad(dot, params)]

    for got, want in zip(hvp("cuda"), hvp("cpu")):
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)


def test_dropout_in_place_updates_and_comparisons_on_cuda():
    tg.manual_seed(0)
    x = tg.ones(200, 10, device="cuda")
    d = nn.Dropout(0.5)(x)
    kept = (d > 0).float().mean().item()
    assert d.device == "cuda" and 0.4 < kept < 0.6 and set(np.unique(d.cpu().numpy())) <= {0.0, 2.0}
    p = tg.zeros(3, device="cuda")
    p.add_(tg.ones(3, device="cuda")).mul_(2)
    assert p.tolist() == [2.0, 2.0, 2.0] and bool((p == 2).all())
    assert int(tg.tensor([3, 1, 2], device="cuda").argmax()) == 0


def test_a_training_step_reads_nothing_back_from_the_device_but_the_loss(monkeypatch):
    """No host round trip inside a step: every path from the device to the host
    goes through one of these backend methods, counted here."""
    from tinygrad_bn.backends.cuda import CudaBackend
    reads = []
    for name in ("to_numpy", "any", "finite_stats", "raise_pending_checks"):
        original = getattr(CudaBackend, name)

        def counted(self, *args, _original=original, _name=name):
            reads.append(_name)
            return _original(self, *args)
        monkeypatch.setattr(CudaBackend, name, counted)
    model = SimpleNetBN().to("cuda")
    opt = optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    x = tg.randn(32, 784, device="cuda")
    y = tg.tensor(np.arange(32) % 10, device="cuda")
    for _ in range(2):
        opt.zero_grad()
        loss = nn.CrossEntropyLoss()(model(x), y)
        loss.backward()
        opt.step()
    assert reads == []
    loss.item()
    assert reads and set(reads) <= {"to_numpy", "raise_pending_checks"}


@pytest.mark.skipif(not SIMULATED, reason="on a GPU, run the benchmark itself")
def test_the_cuda_benchmark_script_runs_in_the_simulator(capsys, monkeypatch):
    import importlib.util
    import pathlib
    path = pathlib.Path(__file__).resolve().parents[2] / "benchmarks" / "bench_cuda.py"
    monkeypatch.syspath_prepend(str(path.parent))  # as when run as a script: its folder's modules import
    spec = importlib.util.spec_from_file_location("bench_cuda", path)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    assert bench.main(["--smoke"]) == 0
    out = capsys.readouterr().out
    assert "copy bandwidth" in out and "% copy" in out and "training steps per second" in out
    assert out.count("forward") >= 4 and out.count("backward") >= 4


def test_the_tape_shows_the_device_and_the_cuda_kernels():
    # one BN layer: in the simulator the Tape's statistics of each array cost a launch of many blocks
    model = nn.Sequential(nn.Linear(20, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 10)).to("cuda")
    x = tg.randn(16, 20, device="cuda")
    with tg.Tape() as tape:
        loss = nn.CrossEntropyLoss()(model(x), tg.tensor([1] * 16, device="cuda"))
    loss.backward()
    text = tape.table()
    assert "cuda.batchnorm" in text and "cpu" not in text.split("\n", 2)[2]
    assert all(r.output["device"] == "cuda" for r in tape.entries)
    assert any(r.kernel == "kernels.cuda.batchnorm" for r in tape.entries)


def test_creation_and_sampling_on_cuda_stay_on_the_device():
    tg.manual_seed(0)
    p = tg.full((2000,), 0.25, device="cuda")
    draws = [tg.bernoulli(p), tg.poisson(p * 8), tg.normal(p, 1.0), tg.zeros(2000, device="cuda").exponential_(4.0),
             tg.linspace(0, 1, 5, device="cuda"), tg.eye(3, device="cuda"), tg.logspace(0, 1, 3, device="cuda")]
    assert all(d.device == "cuda" for d in draws)
    assert abs(draws[0].cpu().numpy().mean() - 0.25) < 0.05 and abs(draws[1].cpu().numpy().mean() - 2.0) < 0.2
    assert abs(draws[3].cpu().numpy().mean() - 0.25) < 0.03
    np.testing.assert_allclose(draws[4].cpu().numpy(), np.linspace(0, 1, 5), rtol=1e-6)
    x = tg.tensor([0.3, 1.7], device="cuda")
    np.testing.assert_allclose(x.lgamma().cpu().numpy(), [math.lgamma(0.3), math.lgamma(1.7)], rtol=1e-6)


def test_a_compiled_training_step_on_cuda_ends_where_the_eager_one_does():
    """tg.compile records the "cuda" backend's calls as it does the CPU's (no fused runs over CuPy
    arrays; in the simulator the arrays are NumPy's and runs fuse as on the CPU)."""
    finals = []
    for compiled in (False, True):
        tg.manual_seed(0)
        model = narrow_net_bn().to("cuda")
        opt = optim.SGD(model.parameters(), lr=0.05, momentum=0.9)

        def step(x, y, model=model, opt=opt):
            opt.zero_grad()
            loss = nn.CrossEntropyLoss()(model(x), y)
            loss.backward()
            opt.step()
            return loss
        if compiled:
            step = tg.compile(step)
        rng = np.random.default_rng(0)
        losses = []
        for _ in range(5):
            x = tg.tensor(rng.standard_normal((16, 20)).astype(np.float32)).to("cuda")
            y = tg.tensor(rng.integers(0, 10, 16)).to("cuda")
            losses.append(step(x, y).item())
        finals.append((losses, {k: host(v._data).copy() for k, v in model.state_dict().items()}))
        if compiled:
            assert next(iter(step._entries.values())).replays == 2
    assert finals[0][0] == finals[1][0]
    for k in finals[0][1]:
        np.testing.assert_array_equal(finals[0][1][k], finals[1][1][k], err_msg=k)


def test_weighted_smoothed_and_probability_cross_entropy_run_on_cuda_as_on_the_cpu():
    """The composed cross entropy (weights, smoothing, probability targets, K-dim) on the device:
    the same values and gradients as on the CPU, and an out-of-range class raises there too."""
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((3, 4, 2)), rng.random(4) + 0.5
    targets = (np.array([[0, 3], [-100, 1], [2, 2]]), rng.dirichlet(np.ones(4), (3, 2)).transpose(0, 2, 1))
    for t in targets:
        results = []
        for device in ("cpu", "cuda"):
            logits = tg.tensor(x, device=device, requires_grad=True)
            loss = F.cross_entropy(logits, tg.tensor(t, device=device), weight=tg.tensor(w, device=device),
                                   label_smoothing=0.2)
            loss.backward()
            results.append((loss.item(), host(logits.grad._data)))
        assert results[0][0] == pytest.approx(results[1][0], rel=1e-12)
        np.testing.assert_allclose(results[1][1], results[0][1], rtol=1e-12, atol=1e-15)
    with pytest.raises(IndexError, match="cross_entropy: target 7 is out of bounds for 4 classes"):
        F.cross_entropy(tg.tensor(x, device="cuda"), tg.tensor([[0, 7], [1, 1], [2, 2]], device="cuda"),
                        weight=tg.tensor(w, device="cuda")).item()
