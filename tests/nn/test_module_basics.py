"""Module basics older tests use without naming: add_module, register_buffer and
register_parameter, buffers(), extra_repr, forward pre-hooks, the Softmax and
LogSoftmax layers, and nn.init's constant fills."""
import numpy as np
import pytest

import tinygrad_bn as tg
from tinygrad_bn import nn
from tinygrad_bn.nn import init


class Scale(nn.Module):
    def __init__(self):
        super().__init__()
        self.register_parameter("weight", nn.Parameter(tg.ones(3)))
        self.register_buffer("count", tg.zeros(1))
        self.register_buffer("scratch", tg.zeros(2), persistent=False)

    def forward(self, x):
        return x * self.weight

    def extra_repr(self):
        return "features=3"


def test_registering_parameters_buffers_and_submodules():
    m = Scale()
    assert [n for n, _ in m.named_parameters()] == ["weight"]
    assert len(list(m.buffers())) == 2 and set(m.state_dict()) == {"weight", "count"}
    outer = nn.Module()
    outer.add_module("inner", m)
    assert outer.inner is m and "features=3" in repr(outer)
    with pytest.raises((KeyError, TypeError, ValueError), match="add_module"):
        outer.add_module("a.b", Scale())


@pytest.mark.parametrize("slot, kind, wrong", [("weight", "parameter", tg.ones(3)), ("weight", "parameter", 5),
                                               ("weight", "parameter", nn.Linear(1, 1)),
                                               ("inner", "child module", tg.ones(3)), ("count", "buffer", 5.0)])
def test_a_registered_name_takes_its_kind_or_none_as_pytorchs(slot, kind, wrong):
    """Assigning a parameter's name anything but a Parameter (or None), a child
    module's anything but a Module, a buffer's anything but a tensor, is a
    TypeError that leaves the module as it was; None keeps the name's slot, out
    of named_parameters and the state dict, and the slot takes one of its kind
    again (PyTorch's rules: a plain tensor is not silently made an untrained
    attribute while the optimizer holds the old parameter)."""
    m = Scale()
    m.inner = nn.Linear(2, 2)
    before = {k: v.numpy().copy() for k, v in m.state_dict().items()}
    with pytest.raises(TypeError, match=f"Scale: cannot assign a {type(wrong).__name__} as {kind} '{slot}'"):
        setattr(m, slot, wrong)
    assert {k: v.numpy().tolist() for k, v in m.state_dict().items()} == {k: v.tolist() for k, v in before.items()}
    setattr(m, slot, None)
    assert getattr(m, slot) is None
    stores = {"parameter": m._parameters, "child module": m._modules, "buffer": m._buffers}
    assert slot in stores[kind] and not any(slot in d for k, d in stores.items() if k != kind)
    assert not any(k == slot or k.startswith(slot + ".") for k in m.state_dict())
    assert slot not in dict(m.named_parameters()) and slot not in dict(m.named_children())
    if kind == "parameter":
        with pytest.raises(TypeError, match="as parameter 'weight'"):
            m.weight = tg.ones(3)  # the slot is still a parameter's
        m.weight = nn.Parameter(tg.full((3,), 2.0))
        assert [n for n, _ in m.named_parameters()][0] == "weight"
    elif kind == "child module":
        m.inner = nn.Linear(2, 2)
        assert "inner.weight" in m.state_dict()
    else:
        m.count = tg.ones(1)
        assert m.state_dict()["count"].tolist() == [1.0]


def test_assignment_rules_are_pytorchs():
    """The same assignments on a PyTorch module: refused where ours refuses, and
    None keeping the slot where ours keeps it."""
    torch = pytest.importorskip("torch")
    for module, tg_module in ((torch.nn.Linear(2, 3), nn.Linear(2, 3)),):
        for wrong in (lambda lib: lib.ones(3), lambda lib: 5):
            for m, lib in ((module, torch), (tg_module, tg)):
                with pytest.raises(TypeError, match="as parameter 'bias'"):
                    m.bias = wrong(lib)
        for m in (module, tg_module):
            m.bias = None
            assert "bias" in m._parameters and m.bias is None and "bias" not in m.state_dict()
    outer, tg_outer = torch.nn.Sequential(torch.nn.Linear(2, 2)), nn.Sequential(nn.Linear(2, 2))
    for m, lib in ((outer, torch), (tg_outer, tg)):
        with pytest.raises(TypeError, match="as child module '0'"):
            setattr(m, "0", lib.ones(2))
        setattr(m, "0", None)
        assert "0" in m._modules and getattr(m, "0") is None
    bn, tg_bn = torch.nn.BatchNorm1d(3), nn.BatchNorm1d(3)
    for m in (bn, tg_bn):
        with pytest.raises(TypeError, match="as buffer 'running_mean'"):
            m.running_mean = 5


@pytest.mark.parametrize("taken_by", ["parameter", "module", "del", "registered again"])
def test_a_buffer_name_taken_over_forgets_that_it_was_not_persistent(taken_by):
    """PyTorch drops the name from its non-persistent set when a parameter or a
    module takes it (or it is deleted): a buffer registered under it again is
    saved unless it says otherwise."""
    m = nn.Module()
    m.register_buffer("stat", tg.zeros(2), persistent=False)
    assert "stat" not in m.state_dict()
    if taken_by == "parameter":
        m.stat = nn.Parameter(tg.ones(2))
        assert "stat" in m.state_dict()
        del m.stat
    elif taken_by == "module":
        m.stat = nn.Linear(2, 2)
        assert "stat.weight" in m.state_dict()
        del m.stat
    elif taken_by == "del":
        del m.stat
    m.register_buffer("stat", tg.full((2,), 3.0))
    assert m.state_dict()["stat"].tolist() == [3.0, 3.0]


def test_a_forward_pre_hook_can_replace_the_input():
    m = Scale()
    handle = m.register_forward_pre_hook(lambda module, args: (args[0] * 2,))
    assert m(tg.ones(3)).tolist() == [2.0, 2.0, 2.0]
    handle.remove()
    assert m(tg.ones(3)).tolist() == [1.0, 1.0, 1.0]


def test_softmax_layers_and_constant_fills():
    x = tg.tensor(np.random.default_rng(0).standard_normal((2, 4)))
    np.testing.assert_allclose(nn.Softmax(dim=1)(x).numpy(), x.softmax(1).numpy())
    np.testing.assert_allclose(nn.LogSoftmax(dim=1)(x).numpy(), x.log_softmax(1).numpy())
    w = tg.empty(2, 3)
    assert init.constant_(w, 0.5) is w and w.tolist() == [[0.5] * 3] * 2
    assert init.ones_(w).tolist() == [[1.0] * 3] * 2 and init.zeros_(w).tolist() == [[0.0] * 3] * 2


def test_sequential_from_an_ordered_dict_keeps_the_names_and_the_order():
    from collections import OrderedDict

    tg.manual_seed(0)
    fc, act = nn.Linear(2, 3), nn.Tanh()
    seq = nn.Sequential(OrderedDict([("fc", fc), ("act", act)]))
    assert [name for name, _ in seq.named_children()] == ["fc", "act"] and seq.fc is fc and seq[1] is act
    assert list(seq.state_dict()) == ["fc.weight", "fc.bias"]
    x = tg.randn(4, 2)
    np.testing.assert_array_equal(seq(x).detach().numpy(), act(fc(x)).detach().numpy())
