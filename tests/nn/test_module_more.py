"""nn.Module beyond registration: lookup by path, casts, extra state, state dict hooks,
backward hooks; ParameterList, ParameterDict and nn.Buffer. Each test checks the
behaviour itself; where PyTorch is installed, the same program in torch is compared."""
import copy

import numpy as np
import pytest

import tinygrad_bn as tg
from tinygrad_bn import nn
from tinygrad_bn.nn.containers import ParameterDict, ParameterList
from tinygrad_bn.nn.module import Module
from tinygrad_bn.nn.parameter import Buffer, Parameter


class Net(Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(3, 4), nn.ReLU())
        self.bn = nn.BatchNorm1d(4)
        self.head = nn.Linear(4, 2)

    def forward(self, x):
        return self.head(self.bn(self.body(x)))


def _torch():
    return pytest.importorskip("torch")


# --------------------------------------------------------------- lookup by path

def test_get_submodule_parameter_and_buffer_by_dotted_path():
    net = Net()
    assert net.get_submodule("") is net
    assert net.get_submodule("body.0") is net.body[0]
    assert net.get_parameter("body.0.weight") is net.body[0].weight
    assert net.get_parameter("head.bias") is net.head.bias
    assert net.get_buffer("bn.running_mean") is net.bn.running_mean
    with pytest.raises(AttributeError, match="has no attribute `nope`"):
        net.get_submodule("body.nope")
    with pytest.raises(AttributeError, match="`weight` is not an nn.Module"):
        net.get_submodule("head.weight.x")
    with pytest.raises(AttributeError, match="`running_mean` is not an nn.Parameter"):
        net.get_parameter("bn.running_mean")
    with pytest.raises(AttributeError, match="`weight` is not a buffer"):
        net.get_buffer("bn.weight")
    with pytest.raises(AttributeError, match="has no attribute `missing`"):
        net.get_buffer("bn.missing")
    with pytest.raises(TypeError, match="get_submodule: target must be a dotted name"):
        net.get_submodule(0)


def test_set_submodule_replaces_or_adds_and_strict_only_replaces():
    net = Net()
    new = nn.Linear(4, 5)
    net.set_submodule("head", new)
    assert net.head is new and "head.weight" in net.state_dict()
    net.set_submodule("body.2", nn.Tanh())  # a new child of an existing parent
    assert isinstance(net.body[2], nn.Tanh)
    with pytest.raises(AttributeError, match="strict=True"):
        net.set_submodule("body.7", nn.ReLU(), strict=True)
    with pytest.raises(ValueError, match="without a target name"):
        net.set_submodule("", nn.ReLU())
    with pytest.raises(ValueError, match="is not an nn.Module"):
        net.set_submodule("head", 3)
    with pytest.raises(AttributeError, match="`weight` is not an nn.Module"):
        net.set_submodule("head.weight", nn.ReLU())
    with pytest.raises(AttributeError, match="has no attribute `zzz`"):
        net.set_submodule("zzz.a", nn.ReLU())


def test_register_module_is_add_module():
    m = Module()
    child = nn.Linear(2, 2)
    m.register_module("child", child)
    assert m.child is child and [n for n, _ in m.named_children()] == ["child"]
    with pytest.raises(KeyError, match="contain no '.'"):
        m.register_module("a.b", child)


def test_named_modules_counts_a_shared_module_once_unless_asked():
    shared = nn.Linear(2, 2)
    seq = nn.Sequential(shared, nn.ReLU(), shared)
    assert [n for n, _ in seq.named_modules()] == ["", "0", "1"]
    assert [n for n, _ in seq.named_modules(remove_duplicate=False)] == ["", "0", "1", "2"]
    assert [n for n, _ in seq.named_parameters(remove_duplicate=False)] == ["0.weight", "0.bias", "2.weight",
                                                                            "2.bias"]
    assert list(seq.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]  # as PyTorch


# ------------------------------------------------------------------- casts

def test_half_casts_floating_state_only_and_keeps_identity():
    net = Net()
    w = net.head.weight
    assert net.half() is net
    assert net.head.weight is w and w.dtype == tg.float16
    assert net.bn.running_var.dtype == tg.float16
    assert net.bn.num_batches_tracked.dtype == tg.int64


def test_type_casts_every_tensor_including_integer_buffers():
    net = Net()
    w = net.head.weight
    values = w.detach().numpy().copy()
    net.type(tg.float64)
    assert net.head.weight is w and w.dtype == tg.float64
    np.testing.assert_allclose(w.detach().numpy(), values)
    assert net.bn.num_batches_tracked.dtype == tg.float64  # as PyTorch's Module.type
    net.type("torch.FloatTensor")
    assert w.dtype == tg.float32
    with pytest.raises(ValueError, match="Module.type: .*unknown tensor type"):
        net.type("torch.NopeTensor")
    assert w.dtype == tg.float32
    with pytest.raises(TypeError, match="requires grad, so it must stay floating point"):
        net.type(tg.int32)
    assert w.dtype == tg.float32  # nothing changed


def test_type_matches_pytorch_dtypes():
    torch = _torch()
    tnet = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4)).type(torch.float64)
    net = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4)).type(tg.float64)
    assert {k: str(v.dtype).replace("torch.", "") for k, v in tnet.state_dict().items()} == \
        {k: str(v.dtype) for k, v in net.state_dict().items()}


def test_to_empty_gives_new_storage_of_the_same_shapes():
    net = Net()
    w = net.head.weight
    w.grad = tg.ones(*w.shape)
    assert net.to_empty(device="cpu") is net
    assert net.head.weight is w and w.shape == (2, 4) and w.dtype == tg.float32
    np.testing.assert_array_equal(w.detach().numpy(), 0)
    assert w.grad.shape == w.shape
    assert net.bn.num_batches_tracked.dtype == tg.int64
    net.to_empty(device=None)
    with pytest.raises(ValueError, match="Module.to_empty"):
        net.to_empty(device="nodevice")


# ------------------------------------------------------------ extra state

class WithExtra(Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(2, 2)
        self.counter = 0

    def get_extra_state(self):
        return {"counter": self.counter}

    def set_extra_state(self, state):
        self.counter = state["counter"]


def test_extra_state_is_saved_and_loaded_under_its_key():
    outer = nn.Sequential(WithExtra(), nn.Linear(2, 2))
    outer[0].counter = 7
    sd = outer.state_dict()
    assert list(sd) == ["0._extra_state", "0.lin.weight", "0.lin.bias", "1.weight", "1.bias"]  # as PyTorch
    assert sd["0._extra_state"] == {"counter": 7}
    fresh = nn.Sequential(WithExtra(), nn.Linear(2, 2))
    fresh.load_state_dict(sd)
    assert fresh[0].counter == 7
    del sd["0._extra_state"]
    with pytest.raises(RuntimeError, match=r"missing keys: \['0._extra_state'\]"):
        fresh.load_state_dict(sd)
    keys = fresh.load_state_dict(sd, strict=False)
    assert keys.missing_keys == ["0._extra_state"]
    # a module without set_extra_state: the key is unexpected
    plain = nn.Linear(2, 2)
    sd2 = dict(plain.state_dict(), _extra_state=1)
    assert plain.load_state_dict(sd2, strict=False).unexpected_keys == ["_extra_state"]
    with pytest.raises(RuntimeError, match="get_extra_state: the base Module has no extra state"):
        Module().get_extra_state()
    with pytest.raises(RuntimeError, match="set_extra_state"):
        Module().set_extra_state(1)


def test_extra_state_keys_match_pytorch():
    torch = _torch()

    class TExtra(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = torch.nn.Linear(2, 2)

        def get_extra_state(self):
            return 1

        def set_extra_state(self, state):
            pass

    ours = nn.Sequential(WithExtra(), nn.Linear(2, 2))
    theirs = torch.nn.Sequential(TExtra(), torch.nn.Linear(2, 2))
    assert list(ours.state_dict()) == list(theirs.state_dict())


# ------------------------------------------------------------ state dict hooks

def test_state_dict_pre_and_post_hooks():
    net = Net()
    calls = []
    h1 = net.bn.register_state_dict_pre_hook(lambda m, prefix, keep_vars: calls.append((type(m).__name__, prefix,
                                                                                        keep_vars)))

    def post(module, sd, prefix, local_metadata):
        calls.append(("post", prefix, local_metadata["version"]))
        sd[prefix + "note"] = tg.tensor(1.0)

    h2 = net.head.register_state_dict_post_hook(post)
    sd = net.state_dict(keep_vars=True)
    assert calls == [("BatchNorm1d", "bn.", True), ("post", "head.", 1)]
    assert "head.note" in sd and sd["head.weight"] is net.head.weight  # keep_vars: the tensors themselves
    h1.remove()
    h2.remove()
    calls.clear()
    assert "head.note" not in net.state_dict() and calls == []
    net.register_state_dict_post_hook(lambda *a: {})
    with pytest.raises(RuntimeError, match="must return None"):
        net.state_dict()


def test_state_dict_prefix_destination_and_positional_warning():
    lin = nn.Linear(2, 3)
    dest = {}
    out = lin.state_dict(destination=dest, prefix="model.")
    assert out is dest and list(dest) == ["model.weight", "model.bias"]
    with pytest.warns(FutureWarning, match="positional"):
        lin.state_dict({}, "p.")
    with pytest.raises(TypeError, match="prefix must be a str"):
        lin.state_dict(prefix=3)


def test_load_state_dict_pre_hook_can_rename_legacy_keys():
    lin = nn.Linear(2, 3)
    seen = []

    def rename(module, sd, prefix, local_metadata, strict, missing, unexpected, error_msgs):
        seen.append(prefix)
        for old, new in (("w", "weight"), ("b", "bias")):
            if prefix + old in sd:
                sd[prefix + new] = sd.pop(prefix + old)

    outer = nn.Sequential(lin)
    lin.register_load_state_dict_pre_hook(rename)
    legacy = {"0.w": tg.ones(3, 2), "0.b": tg.zeros(3)}
    outer.load_state_dict(legacy)
    assert seen == ["0."]
    np.testing.assert_array_equal(lin.weight.detach().numpy(), 1)
    assert list(legacy) == ["0.w", "0.b"]  # the caller's dict is not changed

    def complain(module, sd, prefix, *rest):
        rest[-1].append("refused by the hook")

    lin.register_load_state_dict_pre_hook(complain)
    with pytest.raises(RuntimeError, match="refused by the hook"):
        outer.load_state_dict(legacy)


def test_load_state_dict_post_hook_sees_and_may_clear_incompatible_keys():
    lin = nn.Linear(2, 3)
    got = []

    def post(module, keys):
        got.append((list(keys.missing_keys), list(keys.unexpected_keys)))
        keys.missing_keys.clear()
        keys.unexpected_keys.clear()

    handle = lin.register_load_state_dict_post_hook(post)
    result = lin.load_state_dict({"weight": tg.ones(3, 2), "extra": tg.ones(1)})  # strict, but the hook clears
    assert got == [(["bias"], ["extra"])]
    assert result.missing_keys == [] and repr(result) == "<All keys matched successfully>"
    np.testing.assert_array_equal(lin.weight.detach().numpy(), 1)
    handle.remove()
    with pytest.raises(RuntimeError, match="missing keys"):
        lin.load_state_dict({"weight": tg.zeros(3, 2)})
    np.testing.assert_array_equal(lin.weight.detach().numpy(), 1)  # no post hook: nothing changed
    lin.register_load_state_dict_post_hook(lambda m, k: 1)
    with pytest.raises(AssertionError, match="must return None"):
        lin.load_state_dict(lin.state_dict())


def test_load_state_dict_names_every_key_whose_shape_differs():
    """As PyTorch lists every size mismatch: each wrong key in one message, nothing changed."""
    model = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 4))
    before = {k: v.numpy().copy() for k, v in model.state_dict().items()}
    state = dict(model.state_dict(), **{"0.weight": tg.ones(2, 2), "0.bias": tg.ones(1), "2.bias": tg.ones(5)})
    with pytest.raises(RuntimeError) as info:
        model.load_state_dict(state)
    message = str(info.value)
    for key, got, want in (("0.weight", "(2, 2)", "(3, 2)"), ("0.bias", "(1,)", "(3,)"), ("2.bias", "(5,)", "(4,)")):
        assert f"{key}: shape {got} in the state dict, {want} in the model" in message, message
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), before[k])


def test_load_state_dict_assign_takes_the_tensors():
    lin = nn.Linear(2, 3)
    sd = {"weight": tg.ones(3, 2, dtype=tg.float64), "bias": tg.zeros(3, dtype=tg.float64)}
    lin.load_state_dict(sd, assign=True)
    assert isinstance(lin.weight, Parameter) and lin.weight.requires_grad and lin.weight.dtype == tg.float64
    sd["weight"].add_(1)  # the module holds the same memory
    np.testing.assert_array_equal(lin.weight.detach().numpy(), 2)
    with pytest.raises(RuntimeError, match=r"bias: shape \(1,\) in the state dict, \(3,\) in the model"):
        lin.load_state_dict({"weight": tg.ones(3, 2), "bias": tg.ones(1)}, strict=False)  # shapes: even not strict
    # a 0-d buffer takes a one-element 1-d tensor, as in PyTorch
    bn = nn.BatchNorm1d(3)
    state = bn.state_dict()
    state["num_batches_tracked"] = tg.tensor([5])
    bn.load_state_dict(state)
    assert bn.num_batches_tracked.item() == 5


def test_state_dict_and_load_hook_order_matches_pytorch():
    torch = _torch()

    def record(log):
        return lambda module, sd, prefix, *rest: log.append(prefix)

    ours, theirs = [], []
    net = nn.Sequential(nn.Linear(2, 2), nn.Sequential(nn.Linear(2, 2)))
    tnet = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Sequential(torch.nn.Linear(2, 2)))
    for m in net.modules():
        m.register_load_state_dict_pre_hook(record(ours))
    for m in tnet.modules():
        m.register_load_state_dict_pre_hook(record(theirs))
    net.load_state_dict(net.state_dict())
    tnet.load_state_dict(tnet.state_dict())
    assert ours == theirs


# ----------------------------------------------------------------- backward hooks

def test_full_backward_hook_sees_input_and_output_gradients():
    tg.manual_seed(0)
    lin = nn.Linear(3, 2)
    x = tg.randn(4, 3, requires_grad=True)
    lin(x).sum().backward()
    plain_grad = x.grad.numpy().copy()
    x.grad = None
    seen = []
    handle = lin.register_full_backward_hook(lambda m, gi, go: seen.append((m, gi, go)))
    lin(x).sum().backward()
    (m, gi, go), = seen
    assert m is lin and len(gi) == 1 and len(go) == 1
    np.testing.assert_allclose(gi[0].numpy(), plain_grad, rtol=1e-6)
    np.testing.assert_array_equal(go[0].numpy(), np.ones((4, 2), np.float32))
    np.testing.assert_allclose(x.grad.numpy(), plain_grad, rtol=1e-6)
    handle.remove()
    x.grad = None
    lin(x).sum().backward()
    assert len(seen) == 1


def test_full_backward_hook_may_replace_grad_input_and_pre_hook_grad_output():
    lin = nn.Linear(3, 2)
    x = tg.randn(4, 3, requires_grad=True)
    lin(x).sum().backward()
    gx, gw = x.grad.numpy().copy(), lin.weight.grad.numpy().copy()
    x.grad = None
    lin.zero_grad()
    lin.register_full_backward_hook(lambda m, gi, go: (gi[0] * 3,))
    lin(x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 3 * gx, rtol=1e-6)
    np.testing.assert_allclose(lin.weight.grad.numpy(), gw, rtol=1e-6)  # the weight's gradient is not the hook's
    x.grad = None
    lin.zero_grad()
    lin.register_full_backward_pre_hook(lambda m, go: (go[0] * 2,))
    lin(x).sum().backward()
    np.testing.assert_allclose(lin.weight.grad.numpy(), 2 * gw, rtol=1e-6)  # pre hook: scaled grad_output
    np.testing.assert_allclose(x.grad.numpy(), 6 * gx, rtol=1e-6)


def test_backward_hook_grad_input_has_none_for_non_tensors_and_inputs_without_grad():
    class Scale(Module):
        def forward(self, a, b, k):
            return a * b * k

    mod = Scale()
    seen = []
    mod.register_full_backward_hook(lambda m, gi, go: seen.append(gi))
    a = tg.tensor([1.0, 2.0], requires_grad=True)
    b = tg.tensor([3.0, 4.0])
    mod(a, b, 2).sum().backward()
    gi, = seen
    assert len(gi) == 3 and gi[1] is None and gi[2] is None
    np.testing.assert_allclose(gi[0].numpy(), [6.0, 8.0])


def test_backward_hook_when_no_input_requires_grad_and_when_no_output_does():
    lin = nn.Linear(3, 2)
    seen = []
    lin.register_full_backward_hook(lambda m, gi, go: seen.append((gi, go[0].shape)))
    with pytest.warns(UserWarning, match="no inputs require gradients"):
        lin(tg.randn(4, 3)).sum().backward()
    assert seen == [((None,), (4, 2))]
    lin.requires_grad_(False)
    lin(tg.randn(4, 3))
    assert len(seen) == 1  # no output requires grad: the hook never runs
    other = nn.Linear(3, 2)
    other.register_full_backward_hook(lambda m, gi, go: (tg.ones(4, 3),))
    with pytest.warns(UserWarning), pytest.raises(RuntimeError, match="must return None"):
        other(tg.randn(4, 3)).sum().backward()
    # a tuple of None for every gradient is taken as None; a list is not (PyTorch's rule)
    quiet = nn.Linear(3, 2)
    quiet.register_full_backward_hook(lambda m, gi, go: (None,))
    with pytest.warns(UserWarning, match="no inputs require gradients"):
        quiet(tg.randn(4, 3)).sum().backward()
    assert quiet.weight.grad.shape == (2, 3)
    listed = nn.Linear(3, 2)
    listed.register_full_backward_hook(lambda m, gi, go: [None])
    with pytest.warns(UserWarning), pytest.raises(RuntimeError, match="must return None"):
        listed(tg.randn(4, 3)).sum().backward()


def test_backward_hooks_check_what_they_return():
    lin = nn.Linear(3, 2)
    lin.register_full_backward_hook(lambda m, gi, go: (gi[0], gi[0]))
    with pytest.raises(RuntimeError, match="returned 2 gradients in place of grad_input, expected 1"):
        lin(tg.randn(4, 3, requires_grad=True)).sum().backward()
    lin2 = nn.Linear(3, 2)
    lin2.register_full_backward_hook(lambda m, gi, go: (tg.ones(5, 5),))
    with pytest.raises(RuntimeError, match=r"grad_input\[0\] has shape \(5, 5\), expected \(4, 3\)"):
        lin2(tg.randn(4, 3, requires_grad=True)).sum().backward()
    lin3 = nn.Linear(3, 2)
    lin3.register_full_backward_pre_hook(lambda m, go: ("x",))
    with pytest.raises(TypeError, match=r"grad_output\[0\] must be a Tensor or None, got str"):
        lin3(tg.randn(4, 3, requires_grad=True)).sum().backward()
    with pytest.raises(TypeError, match="hook must be callable"):
        lin3.register_full_backward_hook(3)


def test_regular_and_full_backward_hooks_do_not_mix():
    lin = nn.Linear(2, 2)
    seen = []
    lin.register_backward_hook(lambda m, gi, go: seen.append(len(gi)))
    with pytest.raises(RuntimeError, match="cannot use both"):
        lin.register_full_backward_hook(lambda m, gi, go: None)
    lin(tg.randn(3, 2, requires_grad=True)).sum().backward()
    assert seen == [1]
    other = nn.Linear(2, 2)
    other.register_full_backward_hook(lambda m, gi, go: None)
    with pytest.raises(RuntimeError, match="cannot use both"):
        other.register_backward_hook(lambda m, gi, go: None)


def test_backward_hooks_prepend_and_no_grad():
    lin = nn.Linear(2, 2)
    order = []
    lin.register_full_backward_hook(lambda m, gi, go: order.append("a"))
    lin.register_full_backward_hook(lambda m, gi, go: order.append("b"), prepend=True)
    lin(tg.randn(3, 2, requires_grad=True)).sum().backward()
    assert order == ["b", "a"]
    with tg.no_grad():
        out = lin(tg.randn(3, 2, requires_grad=True))
    assert not out.requires_grad


def test_backward_hooks_in_a_model_match_pytorch():
    torch = _torch()
    rng = np.random.default_rng(0)
    x = rng.standard_normal((5, 3)).astype(np.float32)
    ours = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
    theirs = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2))
    with torch.no_grad():
        for (_, p), (_, q) in zip(ours.named_parameters(), theirs.named_parameters()):
            q.copy_(torch.from_numpy(p.detach().numpy()))
    log_ours, log_theirs = [], []
    for model, log in ((ours, log_ours), (theirs, log_theirs)):
        for i in (0, 2):
            model[i].register_full_backward_pre_hook(
                lambda m, go, log=log, i=i: log.append(("pre", i, go[0].detach().numpy().copy())))
            model[i].register_full_backward_hook(
                lambda m, gi, go, log=log, i=i: (log.append(("full", i, gi[0].detach().numpy().copy())),
                                                 (gi[0] * 0.5,))[1])
    xo = tg.tensor(x, requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    (ours(xo) ** 2).sum().backward()
    (theirs(xt) ** 2).sum().backward()
    assert [e[:2] for e in log_ours] == [e[:2] for e in log_theirs]
    for a, b in zip(log_ours, log_theirs):
        np.testing.assert_allclose(a[2], b[2], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(xo.grad.numpy(), xt.grad.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(ours[0].weight.grad.numpy(), theirs[0].weight.grad.numpy(), rtol=1e-5, atol=1e-6)


# ------------------------------------------------------------------------ Buffer

def test_buffer_assignment_registers_a_buffer():
    class M(Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(2, 2)
            self.mean = Buffer(tg.zeros(2))
            self.scratch = Buffer(tg.ones(3), persistent=False)

    m = M()
    assert [n for n, _ in m.named_buffers()] == ["mean", "scratch"]
    assert list(m.state_dict()) == ["mean", "lin.weight", "lin.bias"]
    assert isinstance(m.mean, Buffer) and isinstance(m.mean, tg.Tensor) and m.mean.persistent
    assert not m.scratch.persistent and not m.mean.requires_grad
    assert not any(isinstance(p, Buffer) for p in m.parameters())
    m.mean = tg.ones(2)  # a plain tensor into a registered buffer stays a buffer
    assert "mean" in m._buffers
    m.mean = Buffer(tg.ones(2), persistent=False)  # re-registered, now not persistent
    assert "mean" not in m.state_dict()
    m.scratch = Buffer(tg.ones(3))
    assert "scratch" in m.state_dict()
    clone = copy.deepcopy(m)
    assert isinstance(clone.scratch, Buffer) and list(clone.state_dict()) == list(m.state_dict())


def test_buffer_shares_memory_and_keeps_requires_grad():
    data = tg.zeros(3, requires_grad=True)
    b = Buffer(data)
    assert b.requires_grad and b.is_leaf
    data.detach().add_(1)
    np.testing.assert_array_equal(b.detach().numpy(), 1)
    assert Buffer().shape == (0,)
    assert Buffer([1.0, 2.0]).shape == (2,)
    with pytest.raises(TypeError, match="Buffer: persistent must be a bool"):
        Buffer(tg.zeros(1), persistent="yes")
    with pytest.raises(TypeError, match="Buffer: data must be a Tensor"):
        Buffer("abc")
    by_name = Buffer(data=tg.ones(2), persistent=False)  # PyTorch's keywords, data's too
    assert by_name.persistent is False and by_name.tolist() == [1.0, 1.0]


def test_buffer_state_dict_keys_match_pytorch():
    torch = _torch()

    class T(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = torch.nn.Linear(2, 2)
            self.mean = torch.nn.Buffer(torch.zeros(2))
            self.scratch = torch.nn.Buffer(torch.ones(3), persistent=False)

    class M(Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(2, 2)
            self.mean = Buffer(tg.zeros(2))
            self.scratch = Buffer(tg.ones(3), persistent=False)

    assert list(M().state_dict()) == list(T().state_dict())
    assert [n for n, _ in M().named_buffers()] == [n for n, _ in T().named_buffers()]


# ------------------------------------------------------------------ ParameterList

def test_parameter_list_registers_and_converts():
    pl = ParameterList([tg.zeros(2, 3), Parameter(tg.ones(3))])
    assert len(pl) == 2 and all(isinstance(p, Parameter) and p.requires_grad for p in pl)
    first = pl[0]
    pl.append(tg.ones(1))
    pl.extend([tg.ones(4), tg.ones(5)])
    pl += [tg.ones(6)]
    assert [p.shape for p in pl] == [(2, 3), (3,), (1,), (4,), (5,), (6,)]
    assert list(pl.state_dict()) == ["0", "1", "2", "3", "4", "5"]
    assert pl[-1].shape == (6,) and pl[0] is first
    sliced = pl[1:3]
    assert isinstance(sliced, ParameterList) and sliced[0] is pl[1] and list(sliced.state_dict()) == ["0", "1"]
    pl[1] = tg.full((2,), 7.0)
    assert isinstance(pl[1], Parameter) and pl[1].shape == (2,)
    assert len(list(pl.parameters())) == 6
    with pytest.raises(IndexError, match="index 6 is out of range for 6"):
        pl[6]
    with pytest.raises(TypeError, match="indices must be ints or slices, got str"):
        pl["0"]
    # a tensor (iterable, but one value), a string, and what is not iterable at all
    for bad, kind in ((tg.ones(2), "Tensor"), ("ab", "str"), (5, "int"), (None, "NoneType")):
        with pytest.raises(TypeError, match=f"ParameterList.extend: expected an iterable of parameters, got {kind}"):
            pl.extend(bad)
    assert len(pl) == 6  # nothing appended by a refused call
    with pytest.raises(RuntimeError, match="ParameterList should not be called"):
        pl(1)
    assert "Parameter containing: [float32 of size 2x3]" in repr(pl)


def test_parameter_list_in_a_model_trains():
    class M(Module):
        def __init__(self):
            super().__init__()
            self.ws = ParameterList([tg.ones(2) for _ in range(3)])

        def forward(self, x):
            for w in self.ws:
                x = x * w
            return x.sum()

    m = M()
    opt = tg.optim.SGD(m.parameters(), lr=0.1)
    m(tg.tensor([1.0, 2.0])).backward()
    opt.step()
    np.testing.assert_allclose(m.ws[2].detach().numpy(), [0.9, 0.8], rtol=1e-6)
    assert list(m.state_dict()) == ["ws.0", "ws.1", "ws.2"]


# ------------------------------------------------------------------ ParameterDict

def test_parameter_dict_mapping_methods():
    pd = ParameterDict({"b": tg.ones(2), "a": tg.zeros(3)})  # a plain dict: sorted keys, as PyTorch
    assert list(pd) == ["a", "b"] and list(pd.state_dict()) == ["a", "b"]
    assert isinstance(pd["a"], Parameter) and pd["a"].requires_grad
    pd2 = ParameterDict([("z", tg.ones(1)), ("y", tg.ones(1))])  # pairs keep their order
    assert list(pd2.keys()) == ["z", "y"]
    pd["c"] = tg.ones(4)
    assert "c" in pd and len(pd) == 3 and [k for k, _ in pd.items()] == ["a", "b", "c"]
    assert pd.get("nope") is None and pd.get("a") is pd["a"]
    assert pd.setdefault("d", tg.ones(1)).shape == (1,)
    c = pd.pop("c")
    assert c.shape == (4,) and "c" not in pd and "c" not in pd.state_dict()
    k, v = pd.popitem()
    assert k == "d" and v.shape == (1,)
    merged = pd | pd2
    assert list(merged) == ["a", "b", "z", "y"] and merged["a"] is pd["a"]
    copy_ = pd.copy()
    assert copy_["b"] is pd["b"]
    assert list(pd.fromkeys(["p", "q"], tg.ones(1))) == ["p", "q"]
    assert list(reversed(pd)) == ["b", "a"]
    pd.clear()
    assert len(pd) == 0 and list(pd.parameters()) == []


def test_parameter_dict_errors():
    pd = ParameterDict()
    with pytest.raises(TypeError, match="keys must be strings, got int"):
        pd[1] = tg.ones(1)
    with pytest.raises(KeyError, match="no parameter named 'x'"):
        pd["x"]
    with pytest.raises(KeyError, match="contain no '.'"):
        pd["a.b"] = tg.ones(1)
    with pytest.raises(ValueError, match="element #0 has length 3; 2 is required"):
        pd.update([("a", tg.ones(1), 3)])
    with pytest.raises(TypeError, match="element #0 should be a \\(key, value\\) pair; is int"):
        pd.update([1])
    with pytest.raises(TypeError, match="ParameterDict.update: expected a mapping"):
        pd.update(5)
    with pytest.raises(RuntimeError, match="ParameterDict should not be called"):
        pd(1)


def test_containers_match_pytorch_keys():
    torch = _torch()

    class T(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.pl = torch.nn.ParameterList([torch.nn.Parameter(torch.ones(2)), torch.ones(3)])
            self.pd = torch.nn.ParameterDict({"w": torch.ones(2), "b": torch.ones(1)})
            self.pd2 = torch.nn.ParameterDict([("z", torch.ones(1)), ("a", torch.ones(1))])

    class M(Module):
        def __init__(self):
            super().__init__()
            self.pl = ParameterList([Parameter(tg.ones(2)), tg.ones(3)])
            self.pd = ParameterDict({"w": tg.ones(2), "b": tg.ones(1)})
            self.pd2 = ParameterDict([("z", tg.ones(1)), ("a", tg.ones(1))])

    t, m = T(), M()
    assert list(t.state_dict()) == list(m.state_dict())
    assert [n for n, _ in t.named_parameters()] == [n for n, _ in m.named_parameters()]
    assert all(p.requires_grad for p in m.parameters())


def test_a_parameters_repr_is_pytorchs_header_over_its_tensors_repr():
    p = tg.nn.Parameter(tg.tensor([1.0, -2.5]))
    assert repr(p) == "Parameter containing:\n" + repr(tg.tensor([1.0, -2.5], requires_grad=True))
    frozen = tg.nn.Parameter(tg.tensor([3.0]), requires_grad=False)
    assert repr(frozen).startswith("Parameter containing:\ntensor([3.") and "requires_grad" not in repr(frozen)


def test_a_state_dict_post_hook_registered_publicly_cannot_also_be_registered_privately():
    """As PyTorch: one function registered through register_state_dict_post_hook and again
    through _register_state_dict_hook is an error (their return rules differ), while a
    function registered only privately may return a replacement dict."""
    m = tg.nn.Linear(2, 2)

    def public(module, state_dict, prefix, local_metadata):
        state_dict[prefix + "extra"] = tg.zeros(1)

    m.register_state_dict_post_hook(public)
    assert "extra" in m.state_dict()
    with pytest.raises(RuntimeError, match="already registered via register_state_dict_post_hook"):
        m._register_state_dict_hook(public)

    def private(module, state_dict, prefix, local_metadata):
        return {"only": tg.ones(1)}

    other = tg.nn.Linear(2, 2)
    other._register_state_dict_hook(private)
    assert list(other.state_dict()) == ["only"]

    def returns_a_dict(module, state_dict, prefix, local_metadata):
        return {}

    third = tg.nn.Linear(2, 2)
    third.register_state_dict_post_hook(returns_a_dict)
    with pytest.raises(RuntimeError, match="must return None"):
        third.state_dict()


def test_module_zero_grad_in_place_keeps_each_grad_tensor_and_leaves_missing_ones_missing():
    """zero_grad(set_to_none=False), as PyTorch: an existing .grad is filled with zeros in
    place (the same tensor, so a reference to it sees zeros), one that is None stays None."""
    m = tg.nn.Sequential(tg.nn.Linear(3, 2), tg.nn.Linear(2, 2))
    (m[0](tg.ones(1, 3)) * tg.tensor([[1.0, -2.0]])).sum().backward()  # grads for the first layer only
    held = m[0].weight.grad
    assert held is not None and np.abs(held.numpy()).sum() > 0
    m.zero_grad(set_to_none=False)
    assert m[0].weight.grad is held and not held.numpy().any() and not m[0].bias.grad.numpy().any()
    assert m[1].weight.grad is None and m[1].bias.grad is None
    m.zero_grad()
    assert m[0].weight.grad is None


def test_a_submodule_shared_under_two_names_loads_under_each_as_pytorch():
    """A module registered twice keeps both prefixes in its state dict, loads from them
    strictly (the later entry wins, as PyTorch's copies run in the dict's order), and its
    load hooks run once per name (PyTorch: pre hooks see "a." then "b.", two post calls)."""
    lin = nn.Linear(2, 2)
    outer = Module()
    outer.a = lin
    outer.b = lin
    prefixes, posts = [], []
    lin.register_load_state_dict_pre_hook(lambda m, sd, prefix, *rest: prefixes.append(prefix))
    lin.register_load_state_dict_post_hook(lambda m, keys: posts.append(m))
    sd = outer.state_dict()
    assert list(sd) == ["a.weight", "a.bias", "b.weight", "b.bias"]
    sd = {k: tg.full(v.shape, float(i)) for i, (k, v) in enumerate(sd.items())}
    result = outer.load_state_dict(sd)
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert prefixes == ["a.", "b."] and posts == [lin, lin]
    np.testing.assert_array_equal(lin.weight.detach().numpy(), 2.0)
    np.testing.assert_array_equal(lin.bias.detach().numpy(), 3.0)
