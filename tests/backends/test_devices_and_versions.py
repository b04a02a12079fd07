"""State across devices and versions, on the devices a CPU-only machine has ("cpu"
and "alt", the CPU backend registered a second time): load_state_dict (a module's,
an optimizer's) puts each value on the device and in the dtype of the tensor it is
for, and owns it; every conversion of a module (``to`` a device or a dtype,
``double``, ``half``, ``type``, ``to_empty``) and every load makes the values saved
for a backward built before it stale, so that backward raises (or, where nothing
changed, is right), as PyTorch's autograd asks.

"cpu" and "alt" share NumPy arrays, so a state array left on the wrong one of them
computes the same numbers; the GPU twin of these checks (the arrays' type) is in
test_cuda_device.py. Here a tensor's ``device`` and a state array's dtype tell."""
import numpy as np
import pytest

import tinygrad_bn as tg
from tinygrad_bn import nn, optim

STALE = "modified by an in-place operation"


def net(seed=0):
    tg.manual_seed(seed)
    return nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Tanh(), nn.Linear(4, 2))


X = np.random.default_rng(8).standard_normal((5, 3))


def loss_of(model, device="cpu", dtype=tg.float32):
    return model(tg.tensor(X.astype(dtype), device=device)).pow(2).sum()


# ------------------------------------------------------------------ Module.load_state_dict
@pytest.mark.parametrize("source, target", [("cpu", "alt"), ("alt", "cpu")])
def test_module_load_state_dict_puts_each_value_on_the_tensors_device_and_dtype(alt_device, source, target):
    given = net(1).to(source, tg.float64).state_dict()
    want = {k: v.cpu().numpy().copy() for k, v in given.items()}
    model = net(2).to(target)
    before = {k: v for k, v in model.state_dict(keep_vars=True).items()}
    model.load_state_dict(given)
    for k, v in model.state_dict(keep_vars=True).items():
        assert v is before[k], k  # loaded in place: an optimizer built before still holds it
        assert v.device == target, k
        assert v.dtype == (tg.float32 if want[k].dtype == np.float64 else want[k].dtype), k
        np.testing.assert_array_equal(v.detach().cpu().numpy(), want[k].astype(v.dtype), err_msg=k)
        assert not np.shares_memory(v.detach().cpu().numpy(), given[k].detach().cpu().numpy()), k
    with tg.no_grad():
        for v in given.values():
            v.fill_(3)  # the caller's dict, changed after the load
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(v.cpu().numpy(), want[k].astype(v.dtype), err_msg=k)
    loss_of(model, target).backward()  # runs on the module's device
    assert all(p.grad.device == target and p.grad.dtype == tg.float32 for p in model.parameters())


def test_module_load_state_dict_between_forward_and_backward_makes_saved_values_stale(alt_device):
    for device in ("cpu", "alt"):
        model = net().to(device)
        loss = loss_of(model, device)
        model.load_state_dict(net(5).state_dict())
        with pytest.raises(RuntimeError, match=STALE):
            loss.backward()


# ------------------------------------------------------------------ Optimizer.load_state_dict
OPTIMIZERS = sorted(n for n in optim.__all__ if isinstance(getattr(optim, n), type)
                    and issubclass(getattr(optim, n), optim.Optimizer) and getattr(optim, n) is not optim.Optimizer)
KW = {"SGD": {"lr": 0.05, "momentum": 0.9}, "RMSprop": {"lr": 0.01, "momentum": 0.5, "centered": True},
      "Adam": {"lr": 0.05, "amsgrad": True}}


def _trained_optimizer(name, device, dtype, steps=3):
    model = net().to(device, dtype)
    opt = getattr(optim, name)(model.parameters(), **KW.get(name, {}))
    for _ in range(steps):
        opt.zero_grad()
        loss_of(model, device, dtype).backward()
        opt.step()
    return model, opt


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_optimizer_load_state_dict_casts_and_moves_state_to_each_parameter(alt_device, name):
    """A float64 checkpoint taken on "cpu" loads into an optimizer over float32
    parameters on "alt": every state array takes its parameter's dtype (as PyTorch
    casts floating state), and training goes on on "alt" exactly as it does after
    loading the same checkpoint cast to float32 by hand on "cpu"."""
    _, opt64 = _trained_optimizer(name, "cpu", tg.float64)
    sd = opt64.state_dict()
    cast = {**sd, "state": {i: {n: v.astype(np.float32) if isinstance(v, np.ndarray) and v.ndim else v
                                for n, v in s.items()} for i, s in sd["state"].items()}}
    runs = []
    for device, checkpoint in (("alt", sd), ("cpu", cast)):
        model = net(3).to(device)
        opt = getattr(optim, name)(model.parameters(), lr=0.5)
        opt.load_state_dict(checkpoint)
        arrays = [(p, n, v) for p in model.parameters() for n, v in opt.state[p].items() if hasattr(v, "ndim")
                  and v.ndim]
        assert arrays, "no array state: the test would check nothing"
        for p, n, v in arrays:
            assert v.dtype == p.dtype == tg.float32 and v.shape == p.shape, (n, v.dtype)
        for _ in range(2):
            opt.zero_grad()
            loss_of(model, device).backward()
            opt.step()
        assert all(p.device == device for p in model.parameters())
        runs.append([p.detach().cpu().numpy() for p in model.parameters()])
    for a, b in zip(*runs):
        np.testing.assert_array_equal(a, b)


# ------------------------------------------------------------------ Module conversions
CONVERSIONS = {
    "to alt": lambda m: m.to("alt"),
    "to float64": lambda m: m.to(tg.float64),
    "to alt float64": lambda m: m.to("alt", tg.float64),
    "to a tensor's device and dtype": lambda m: m.to(tg.zeros(1, device="alt", dtype=tg.float64)),
    "double": lambda m: m.double(),
    "half": lambda m: m.half(),
    "type": lambda m: m.type(tg.float64),
    "to_empty on alt": lambda m: m.to_empty(device="alt"),
    "to_empty in place": lambda m: m.to_empty(device=None),
}


@pytest.mark.parametrize("how", list(CONVERSIONS))
def test_a_backward_built_before_a_conversion_raises_and_one_built_after_runs_there(alt_device, how):
    model = net()
    loss = loss_of(model)
    loss_of(model).backward()  # gradients to convert along
    CONVERSIONS[how](model)
    with pytest.raises(RuntimeError, match=STALE):
        loss.backward()
    p = next(model.parameters())
    device, dtype = p.device, p.dtype
    assert all(q.device == device and q.dtype == dtype for q in model.parameters())
    assert all(q.grad is None or (q.grad.device == device and q.grad.dtype == dtype) for q in model.parameters())
    model.zero_grad()
    loss_of(model, device, dtype).backward()
    for q in model.parameters():
        assert q.grad.device == device and q.grad.dtype == dtype and q.grad.shape == q.shape


def test_a_conversion_that_changes_nothing_leaves_a_backward_built_before_it_working():
    """``to("cpu")`` and ``float()`` on a float32 CPU module change no array, so, as in
    PyTorch (the same tensors come back), a backward built before them runs and gives
    the gradient it would have given."""
    for convert in (lambda m: m.to("cpu"), lambda m: m.float(), lambda m: m.to("cpu", tg.float32),
                    lambda m: m.to(tg.float32)):
        twin = net()
        loss_of(twin).backward()
        model = net()
        loss = loss_of(model)
        convert(model)
        loss.backward()
        for p, q in zip(model.parameters(), twin.parameters()):
            assert p.grad.device == "cpu" and p.grad.dtype == p.dtype
            np.testing.assert_array_equal(p.grad.numpy(), q.grad.numpy())


def test_a_second_derivative_flows_back_through_a_device_move(alt_device):
    """create_graph through ToDevice: the recorded backward of the move lives on the
    output's device and moves the gradient back, so it can be differentiated again."""
    x = tg.tensor([1.0, 2.0], dtype=tg.float64, requires_grad=True)
    (g,) = tg.autograd.grad((x.to("alt") ** 3).sum(), x, create_graph=True)
    assert g.device == "cpu" and g.requires_grad and g.tolist() == [3.0, 12.0]
    (h,) = tg.autograd.grad(g.sum(), x)
    assert h.tolist() == [6.0, 12.0]
