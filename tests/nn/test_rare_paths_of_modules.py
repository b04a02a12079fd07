"""Less travelled paths of nn.Module and its helpers, each checked against what PyTorch
does for the same call.

- The containers: ModuleList and ModuleDict (slices, assignment, extend, keys, values,
  items), ParameterList and ParameterDict holding modules and plain objects, their
  repr, and the dict operators of ParameterDict.
- Parametrizations: the checks of register_parametrization on what a parametrization
  and its right_inverse return (first and chained), assignment through right_inverse
  for one and several originals, deep copies, type_before_parametrizations.
- The state dict: deprecated positional arguments, bound-method hooks, values that are
  not tensors, assign=True for buffers, post hooks with strict loading, the repr of
  the incompatible keys.
- Module registration and conversion (cpu, cuda, to, apply, tied parameters), hooks,
  a compiled step that clears gradients with model.zero_grad().
- nn.utils (clipping, flattening, fusion), the hook-based weight_norm and
  spectral_norm, parametrizations' eps, functional_call, and a few layers (Linear,
  Bilinear, Unflatten, Sequential, Hardtanh, PReLU, Embedding) and initializers.
- The errors for bad arguments: the exception class PyTorch raises and a message that
  names the argument and the bad value. Where this library raises another class than
  PyTorch, both are accepted (so that the message is still checked).
"""
import copy
import pickle
from collections import OrderedDict

import types

import numpy as np
import pytest

import tinygrad_bn as tg
from tinygrad_bn import nn, optim
from tinygrad_bn.nn import init
from tinygrad_bn.nn import utils as U
from tinygrad_bn.nn.containers import (
    ModuleDict,
    ModuleList,
    ParameterDict,
    ParameterList,
)
from tinygrad_bn.nn.parameter import Parameter
from tinygrad_bn.nn.stateless import functional_call
from tinygrad_bn.nn.utils import parametrizations
from tinygrad_bn.nn.utils import parametrize as P


def arr(t):
    return t.detach().cpu().numpy()


# ------------------------------------------------------------------ ModuleList / ModuleDict

def test_module_list_wants_an_iterable_not_one_module():
    with pytest.raises(TypeError, match="ModuleList: expected an iterable of modules, got Linear"):
        ModuleList(nn.Linear(1, 1))


@pytest.mark.parametrize("index, name", [("a", "str"), (1.0, "float"), (True, "bool")])
def test_module_list_indices_must_be_ints(index, name):
    ml = ModuleList([nn.ReLU(), nn.Tanh()])
    with pytest.raises(TypeError, match=f"ModuleList: indices must be ints or slices, got {name}"):
        ml[index]


def test_module_list_slice_is_a_module_list_of_the_same_modules():
    a, b, c = nn.Linear(1, 1), nn.ReLU(), nn.Tanh()
    part = ModuleList([a, b, c])[1:]
    assert isinstance(part, ModuleList)
    assert list(part) == [b, c] and part[0] is b
    assert list(dict(part.named_children())) == ["0", "1"]  # renumbered from 0, as PyTorch


def test_module_list_setitem_replaces_at_a_negative_index_and_checks_the_module():
    a, b, c = nn.Linear(1, 1), nn.ReLU(), nn.Tanh()
    ml = ModuleList([a, b, c])
    s = nn.Sigmoid()
    ml[-1] = s
    assert list(ml) == [a, b, s] and ml[2] is s
    assert list(dict(ml.named_children())) == ["0", "1", "2"]
    with pytest.raises(TypeError, match="ModuleList: item 0 is a int, expected a Module"):
        ml[0] = 3
    assert ml[0] is a


def test_module_list_extend_appends_in_order_and_returns_itself():
    ml = ModuleList([nn.ReLU()])
    new = [nn.Tanh(), nn.Sigmoid()]
    assert ml.extend(m for m in new) is ml  # a generator too
    assert list(ml) == [ml[0], *new] and len(ml) == 3
    assert list(dict(ml.named_children())) == ["0", "1", "2"]


def test_module_dict_keys_must_be_strings():
    md = ModuleDict()
    with pytest.raises(TypeError, match="ModuleDict: keys must be strings, got int 1"):
        md[1] = nn.ReLU()
    assert len(md) == 0


def test_module_dict_keys_values_items_keep_insertion_order():
    r, t = nn.ReLU(), nn.Tanh()
    md = ModuleDict(OrderedDict([("b", r), ("a", t)]))
    assert list(md.keys()) == ["b", "a"]
    assert list(md.values()) == [r, t]
    assert list(md.items()) == [("b", r), ("a", t)]


def test_module_dict_has_no_forward():
    with pytest.raises(NotImplementedError, match="ModuleDict has no forward"):
        ModuleDict({"a": nn.ReLU()})(tg.zeros(1))


# -------------------------------------------------------------- ParameterList / ParameterDict

def test_parameter_list_holds_modules_and_plain_objects_as_pytorch():
    lin = nn.Linear(1, 1)
    pl = ParameterList([Parameter(tg.zeros(1)), lin, "hello", tg.ones(2)])
    assert [type(x).__name__ for x in pl] == ["Parameter", "Linear", "str", "Parameter"]
    assert pl[1] is lin and pl[2] == "hello"
    # the module is a submodule (its parameters are the list's), the string a plain attribute
    assert [n for n, _ in pl.named_parameters()] == ["0", "3", "1.weight", "1.bias"]
    assert [n for n, _ in pl.named_children()] == ["1"]
    lines = [line.strip() for line in repr(pl).splitlines()]
    assert lines[:5] == ["ParameterList(",
                         "(0): Parameter containing: [float32 of size 1]",
                         "(1): Object of type: Linear",
                         "(2): Object of type: str",
                         "(3): Parameter containing: [float32 of size 2]"]


def test_parameter_list_replaces_a_plain_object_with_another():
    pl = ParameterList([tg.zeros(1), "a"])
    pl[1] = "b"
    assert pl[1] == "b" and len(pl) == 2
    assert [n for n, _ in pl.named_parameters()] == ["0"]


def test_parameter_list_dir_hides_the_index_names():
    pl = ParameterList([tg.zeros(1), tg.zeros(2)])
    names = dir(pl)
    assert not [k for k in names if k.isdigit()]
    assert "append" in names and "extend" in names


def test_parameter_dict_deleting_a_missing_key_names_it_and_the_keys():
    pd = ParameterDict({"a": tg.zeros(1), "b": tg.zeros(2)})
    with pytest.raises(KeyError, match=r"no parameter named 'zz'; it has \['a', 'b'\]"):
        del pd["zz"]
    assert list(pd.keys()) == ["a", "b"]


def test_parameter_dict_deletes_a_plain_object():
    pd = ParameterDict({"a": tg.zeros(1), "s": "text"})
    assert pd["s"] == "text"
    del pd["s"]
    assert list(pd.keys()) == ["a"] and not hasattr(pd, "s")
    assert [n for n, _ in pd.named_parameters()] == ["a"]


def test_parameter_dict_popitem_of_an_empty_dict_is_a_key_error():
    with pytest.raises(KeyError, match="popitem: the dict is empty"):
        ParameterDict().popitem()


def test_parameter_dict_values_are_in_key_order():
    a, b = Parameter(tg.zeros(1)), Parameter(tg.ones(2))
    pd = ParameterDict(OrderedDict([("b", b), ("a", a)]))
    assert [v is w for v, w in zip(pd.values(), [b, a])] == [True, True]
    assert len(pd.values()) == 2


def test_parameter_dict_repr_names_a_plain_object_by_type():
    pd = ParameterDict(OrderedDict([("w", tg.zeros(2, 3)), ("n", 3)]))
    lines = [line.strip() for line in repr(pd).splitlines()]
    assert lines == ["ParameterDict(", "(w): Parameter containing: [float32 of size 2x3]",
                     "(n): Object of type: int", ")"]


def test_a_dict_or_a_parameter_dict_is_a_dict_with_the_parameters_last():
    z = tg.ones(1)
    pd = ParameterDict({"a": tg.zeros(1), "z": tg.zeros(3)})
    out = {"z": z, "y": tg.ones(2)} | pd  # dict.__or__ gives way: ParameterDict.__ror__
    assert type(out) is dict
    assert list(out) == ["z", "y", "a"]
    assert out["z"] is pd["z"] and out["a"] is pd["a"]  # the right side wins, as dict |
    od = OrderedDict(y=z) | pd
    assert type(od) is OrderedDict and list(od) == ["y", "a", "z"]


def test_parameter_dict_in_place_or_updates_itself():
    pd = ParameterDict({"a": tg.zeros(1)})
    same = pd
    pd |= {"b": tg.ones(2)}
    assert pd is same
    assert list(pd.keys()) == ["a", "b"]
    assert isinstance(pd["b"], Parameter) and pd["b"].requires_grad  # a Tensor becomes a Parameter


# --------------------------------------------------------------------------- parametrize

class Identity(nn.Module):
    def forward(self, x):
        return x


class WithInverse(nn.Module):
    """Identity forward; right_inverse is the given function."""

    def __init__(self, inverse):
        super().__init__()
        self.inverse = inverse

    def forward(self, x):
        return x

    def right_inverse(self, x):
        return self.inverse(x)


class Apply(nn.Module):
    """forward is the given function."""

    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def forward(self, *xs):
        return self.fn(*xs)


def test_parametrization_list_wants_a_tensor_as_original():
    with pytest.raises(TypeError, match=r"ParametrizationList: original must be a Tensor .* got int"):
        P.ParametrizationList([Identity()], 3)


def test_a_right_inverse_that_changes_the_dtype_is_refused_and_the_module_kept():
    m = nn.Linear(2, 2)
    w = m.weight
    with pytest.raises(ValueError, match=r"may not change the dtype; original.dtype: float32, "
                                         r"right_inverse\(original\).dtype: float64"):
        P.register_parametrization(m, "weight", WithInverse(lambda x: x.double()))
    assert not P.is_parametrized(m) and m.weight is w


def test_a_right_inverse_that_moves_the_tensor_is_refused(alt_device):
    m = nn.Linear(2, 2)
    with pytest.raises(ValueError, match=r"may not change the device; original.device: cpu, "
                                         r"right_inverse\(original\).device: alt"):
        P.register_parametrization(m, "weight", WithInverse(lambda x: x.to("alt")))
    assert not P.is_parametrized(m)


def test_a_right_inverse_sequence_must_hold_tensors():
    with pytest.raises(ValueError, match="got element 1 of the sequence with type int"):
        P.register_parametrization(nn.Linear(2, 2), "weight", WithInverse(lambda x: (x, 3)))


def test_a_parametrization_must_return_a_tensor():
    m = nn.Linear(2, 2)
    with pytest.raises(ValueError, match="register_parametrization: a parametrization must return a tensor, got int"):
        P.register_parametrization(m, "weight", Apply(lambda x: 3))
    assert not P.is_parametrized(m)


def test_a_parametrization_may_not_change_the_dtype_unless_unsafe():
    m = nn.Linear(2, 2)
    with pytest.raises(ValueError, match="unparametrized dtype: float32, parametrized dtype: float64"):
        P.register_parametrization(m, "weight", Apply(lambda x: x.double()))
    P.register_parametrization(m, "weight", Apply(lambda x: x.double()), unsafe=True)
    assert m.weight.dtype == tg.float64


def test_parametrizing_a_none_parameter_is_refused_naming_it():
    with pytest.raises(ValueError, match="Linear.bias is None; expected a tensor to parametrize"):
        P.register_parametrization(nn.Linear(2, 2, bias=False), "bias", Identity())


def test_an_unknown_name_on_a_parametrized_module_lists_every_name():
    m = nn.Linear(2, 2)
    P.register_parametrization(m, "weight", Identity())
    with pytest.raises(ValueError, match=r"with name 'foo'; expected one of \['bias', 'weight'\]"):
        P.register_parametrization(m, "foo", Identity())


@pytest.mark.parametrize("param, message", [
    (Apply(lambda x: 3), "a parametrization must return a tensor, got int"),
    (Apply(lambda x: x.double()), r"module.weight.dtype: float32, parametrization\(module.weight\).dtype: float64"),
    (WithInverse(lambda x: [x]), "parametrization.right_inverse must return a tensor, got list"),
    (WithInverse(lambda x: x.double()), ("must have the dtype of module.weight, unless unsafe=True; "
                                         "expected float32, got float64")),
    (WithInverse(lambda x: x[:1]), (r"must have the shape of module.weight, unless unsafe=True; "
                                    r"expected \(2, 2\), got \(1, 2\)")),
], ids=["forward-not-a-tensor", "forward-dtype", "inverse-not-a-tensor", "inverse-dtype", "inverse-shape"])
def test_a_chained_parametrization_is_checked_before_it_is_added(param, message):
    m = nn.Linear(2, 2)
    P.register_parametrization(m, "weight", Identity())
    with pytest.raises(ValueError, match=message):
        P.register_parametrization(m, "weight", param)
    assert len(m.parametrizations.weight) == 1


class Switchable(nn.Module):
    """Identity forward; right_inverse is the identity at registration, then what ``mode`` says."""

    def __init__(self):
        super().__init__()
        self.mode = None

    def forward(self, x):
        return x

    def right_inverse(self, x):
        return {"str": "x", "double": x.double() if self.mode == "double" else None}.get(self.mode, x)


@pytest.mark.parametrize("mode, message", [
    ("str", "`right_inverse` should return a tensor, got str"),
    ("double", "has dtype float64 while `original` has dtype float32"),
])
def test_assigning_a_parametrized_tensor_checks_what_right_inverse_returns(mode, message):
    m = nn.Linear(2, 2)
    p = Switchable()
    P.register_parametrization(m, "weight", p)
    before = arr(m.weight).copy()
    p.mode = mode
    with pytest.raises(ValueError, match=message):
        m.weight = tg.ones(2, 2)
    np.testing.assert_array_equal(arr(m.weight), before)


class Split(nn.Module):
    """weight = a + b with two originals; right_inverse's result chosen by ``mode``."""

    def __init__(self):
        super().__init__()
        self.mode = None

    def forward(self, a, b):
        return a + b

    def right_inverse(self, x):
        return {"one": x, "three": (x, x, x), "int": (x, 3),
                "double": (x, x.double() if self.mode == "double" else None)}.get(self.mode, (x, x * 0))


@pytest.mark.parametrize("mode, message", [
    ("one", "'right_inverse' must return a sequence of tensors, got Tensor"),
    ("three", "must return a sequence of tensors of length 2, got a sequence of length 3"),
    ("int", "must return a sequence of tensors, got element 1 of type int"),
    ("double", "tensor 1 returned by `right_inverse` has dtype float64 while `original1` has dtype float32"),
])
def test_assigning_a_tensor_with_two_originals_checks_the_sequence(mode, message):
    m = nn.Linear(2, 2)
    s = Split()
    P.register_parametrization(m, "weight", s)
    second = arr(m.parametrizations.weight.original1).copy()
    s.mode = mode
    with pytest.raises(ValueError, match=message):
        m.weight = tg.ones(2, 2)
    # the bad tensor is not stored (the ones before it are, as in PyTorch)
    np.testing.assert_array_equal(arr(m.parametrizations.weight.original1), second)
    s.mode = None
    m.weight = tg.full((2, 2), 3.0)  # a good sequence still goes in
    np.testing.assert_array_equal(arr(m.parametrizations.weight.original0), np.full((2, 2), 3.0))
    np.testing.assert_array_equal(arr(m.parametrizations.weight.original1), np.zeros((2, 2)))


def test_a_deep_copy_of_a_list_holding_a_parametrized_module_twice_holds_one_copy_twice():
    m = nn.Linear(2, 2)
    P.register_parametrization(m, "weight", Identity())
    a, b = copy.deepcopy([m, m])
    assert a is b and a is not m
    np.testing.assert_array_equal(arr(a.weight), arr(m.weight))


class Slotted(nn.Linear):
    __slots__ = ("tag", "unset")


def test_a_deep_copy_of_a_parametrized_module_copies_its_slots():
    m = Slotted(2, 2)
    m.tag = [1, 2]
    P.register_parametrization(m, "weight", Identity())
    c = copy.deepcopy(m)
    assert c.tag == [1, 2] and c.tag is not m.tag  # copied, not shared
    assert not hasattr(c, "unset")  # an empty slot stays empty
    assert P.is_parametrized(c, "weight")


def test_remove_parametrizations_with_leave_parametrized_needs_the_same_dtype():
    m = nn.Linear(2, 2)
    P.register_parametrization(m, "weight", Apply(lambda x: x.double()), unsafe=True)
    # PyTorch raises RuntimeError here (its set_ cannot change the dtype)
    with pytest.raises((ValueError, RuntimeError), match="the parametrized weight has dtype float64, the original "
                                                         "float32"):
        P.remove_parametrizations(m, "weight", leave_parametrized=True)
    assert P.is_parametrized(m, "weight")
    P.remove_parametrizations(m, "weight", leave_parametrized=False)
    assert m.weight.dtype == tg.float32 and type(m) is nn.Linear


def test_deepcopy_of_a_parametrized_module_given_its_memo_returns_the_copy_made():
    m = nn.Linear(2, 2)
    P.register_parametrization(m, "weight", Identity())
    memo = {}
    c = copy.deepcopy(m, memo)
    assert m.__deepcopy__(memo) is c  # the deepcopy protocol: one copy per object


def test_remove_parametrizations_wants_a_bool_leave_parametrized():
    m = nn.Linear(2, 2)
    P.register_parametrization(m, "weight", Identity())
    with pytest.raises(TypeError, match="leave_parametrized must be a bool, got str 'yes'"):
        P.remove_parametrizations(m, "weight", leave_parametrized="yes")
    assert P.is_parametrized(m, "weight")


def test_type_before_parametrizations_of_a_plain_module_is_its_type():
    m = nn.Linear(1, 1)
    assert P.type_before_parametrizations(m) is nn.Linear
    P.register_parametrization(m, "weight", Identity())
    assert type(m) is not nn.Linear and P.type_before_parametrizations(m) is nn.Linear


# --------------------------------------------------------------------------- state dict

def test_state_dict_positional_keep_vars_gives_the_parameters_themselves():
    m = nn.Linear(2, 1)
    with pytest.warns(FutureWarning, match="positional arguments .* are deprecated"):
        sd = m.state_dict(None, "", True)
    assert sd["weight"] is m.weight and sd["bias"] is m.bias
    with pytest.warns(FutureWarning):
        sd = m.state_dict(None, "pre.")
    assert list(sd) == ["pre.weight", "pre.bias"] and sd["pre.weight"] is not m.weight


class Recorder:
    def __init__(self):
        self.calls = 0

    def add_note(self, module, state_dict, prefix, local_metadata):
        self.calls += 1
        state_dict[prefix + "note"] = tg.ones(1)

    def returns_a_dict(self, module, state_dict, prefix, local_metadata):
        return {}


def test_a_bound_method_can_be_a_public_state_dict_post_hook():
    rec = Recorder()
    m = nn.Sequential(nn.Linear(2, 1))
    handle = m[0].register_state_dict_post_hook(rec.add_note)
    assert list(m.state_dict()) == ["0.weight", "0.bias", "0.note"] and rec.calls == 1
    handle.remove()
    assert list(m.state_dict()) == ["0.weight", "0.bias"] and rec.calls == 1


def test_a_bound_method_post_hook_must_return_none_as_any_public_one():
    m = nn.Linear(2, 1)
    m.register_state_dict_post_hook(Recorder().returns_a_dict)
    with pytest.raises(RuntimeError, match="register_state_dict_post_hook returned a dict; it must return None"):
        m.state_dict()


def test_load_state_dict_wants_a_mapping():
    with pytest.raises(TypeError, match="load_state_dict: expected a dict of name -> tensor .* got list"):
        nn.Linear(2, 1).load_state_dict([("weight", tg.ones(1, 2))])


@pytest.mark.parametrize("value, kind", [("abc", "str"), (np.array([[None, 1]], dtype=object), "ndarray"),
                                         ([[1.0, 2.0], [3.0]], "list")], ids=["str", "object-array", "ragged-list"])
def test_load_state_dict_refuses_a_value_that_is_not_numeric(value, kind):
    m = nn.Linear(2, 1)
    w = arr(m.weight).copy()
    with pytest.raises(RuntimeError, match=f"weight: a {kind} that is not a numeric tensor or array"):
        m.load_state_dict({"weight": value, "bias": tg.zeros(1)})
    np.testing.assert_array_equal(arr(m.weight), w)  # nothing changed


def test_load_state_dict_assign_puts_the_given_buffers_in_place():
    bn = nn.BatchNorm1d(2)
    sd = {k: v.clone() for k, v in bn.state_dict().items()}
    sd["running_mean"] = tg.tensor([1.0, 2.0])
    bn.load_state_dict(sd, assign=True)
    np.testing.assert_array_equal(arr(bn.running_mean), [1.0, 2.0])
    sd["running_mean"].mul_(10)  # the module's buffer is the state dict's tensor (its memory)
    np.testing.assert_array_equal(arr(bn.running_mean), [10.0, 20.0])
    assert "running_mean" in bn._buffers and "running_mean" not in bn._parameters


def test_with_a_post_hook_a_strict_load_copies_the_matching_entries_then_raises():
    m = nn.Linear(2, 1)
    seen = []
    m.register_load_state_dict_post_hook(lambda mod, keys: seen.append((list(keys.missing_keys),
                                                                         list(keys.unexpected_keys))))
    with pytest.raises(RuntimeError, match=r"the matching entries were copied.*\n  missing keys: \['bias'\]"):
        m.load_state_dict({"weight": tg.full((1, 2), 5.0)})
    np.testing.assert_array_equal(arr(m.weight), [[5.0, 5.0]])  # as PyTorch: copied before the check
    assert seen == [(["bias"], [])]


def test_a_post_hook_that_clears_the_missing_keys_makes_a_strict_load_pass():
    m = nn.Linear(2, 1)
    m.register_load_state_dict_post_hook(lambda mod, keys: keys.missing_keys.clear())
    result = m.load_state_dict({"weight": tg.full((1, 2), 5.0)})
    assert result.missing_keys == [] and repr(result) == "<All keys matched successfully>"


def test_incompatible_keys_repr_lists_both():
    m = nn.Linear(2, 1)
    result = m.load_state_dict({"weight": tg.ones(1, 2), "extra": tg.ones(1)}, strict=False)
    want = "_IncompatibleKeys(missing_keys=['bias'], unexpected_keys=['extra'])"
    assert repr(result) == want and str(result) == want
    assert result == (["bias"], ["extra"])


# ------------------------------------------------------------------ Module registration

def test_register_parameter_wants_a_parameter():
    with pytest.raises(TypeError, match="register_parameter: 'p' must be a Parameter or None, got Tensor"):
        nn.Linear(1, 1).register_parameter("p", tg.ones(1))


def test_register_buffer_wants_a_tensor():
    with pytest.raises(TypeError, match="register_buffer: 'b' must be a Tensor or None, got int"):
        nn.Linear(1, 1).register_buffer("b", 3)


def test_add_module_wants_a_module_and_a_str_name():
    m = nn.Linear(1, 1)
    with pytest.raises(TypeError, match="add_module: 'c' must be a Module, got int"):
        m.add_module("c", 3)
    with pytest.raises(TypeError, match="add_module: the name must be a str, got int 3"):
        m.add_module(3, nn.ReLU())
    assert list(m._modules) == []


def test_set_submodule_and_get_parameter_want_a_str_target():
    m = nn.Sequential(nn.Linear(1, 1))
    with pytest.raises(TypeError, match="set_submodule: target must be a dotted name .* got int 0"):
        m.set_submodule(0, nn.ReLU())
    with pytest.raises(TypeError, match=r"get_parameter: target must be a dotted name \(str\), got int 3"):
        m.get_parameter(3)


def test_train_wants_a_bool():
    m = nn.Linear(1, 1)
    # PyTorch raises ValueError ("training mode is expected to be boolean")
    with pytest.raises((ValueError, TypeError), match="mode must be a bool, got int 1"):
        m.train(1)
    assert m.training is True


def test_a_module_without_forward_is_not_implemented():
    with pytest.raises(NotImplementedError, match="Module has no forward"):
        nn.Module()(tg.zeros(1))


def test_module_to_an_integer_dtype_is_refused():
    m = nn.Linear(1, 1)
    with pytest.raises(TypeError, match="Module.to: expected a floating point dtype, got int32"):
        m.to(tg.int32)
    assert m.weight.dtype == tg.float32


def test_module_cpu_moves_back_from_another_device(alt_device):
    m = nn.Linear(2, 1).to("alt")
    w = arr(m.weight).copy()
    assert m.cpu() is m
    assert m.weight.device == "cpu" and m.bias.device == "cpu"
    np.testing.assert_array_equal(arr(m.weight), w)


def test_module_cuda_moves_to_the_cuda_device(monkeypatch):
    # a CPU engine registered under the name "cuda": .cuda() is .to("cuda")
    from tinygrad_bn import backends
    from tinygrad_bn.backends.cpu import cpu_backend
    monkeypatch.setitem(backends._BACKENDS, "cuda", cpu_backend("cuda"))
    m = nn.Linear(2, 1)
    w = arr(m.weight).copy()
    assert m.cuda() is m
    assert m.weight.device == "cuda" and m.bias.device == "cuda"
    np.testing.assert_array_equal(arr(m.weight), w)


def test_a_tied_parameter_is_converted_once_and_stays_tied():
    a, b = nn.Linear(2, 2), nn.Linear(2, 2)
    b.weight = a.weight
    model = nn.Sequential(a, b)
    w = arr(a.weight).copy()
    model.type(tg.float64)
    assert a.weight is b.weight
    assert [p.dtype for p in model.parameters()] == [tg.float64] * 3
    np.testing.assert_allclose(arr(a.weight), w, rtol=0)
    assert len(list(model.parameters())) == 3


def test_apply_wants_a_function():
    with pytest.raises(TypeError, match="apply: fn must be a callable taking a module, got int"):
        nn.Linear(1, 1).apply(3)


def test_a_forward_hook_that_returns_a_value_replaces_the_output():
    m = nn.Linear(2, 1)
    m.register_forward_hook(lambda mod, inputs, out: out * 0 + 7)
    np.testing.assert_array_equal(arr(m(tg.ones(3, 2))), np.full((3, 1), 7.0))


def test_a_module_pickled_before_a_hook_store_existed_makes_it_on_registration():
    m = nn.Linear(2, 1)
    del m.__dict__["_load_state_dict_post_hooks"]  # as a module saved by an older version
    m = pickle.loads(pickle.dumps(m))
    seen = []
    m.register_load_state_dict_post_hook(lambda mod, keys: seen.append(list(keys.unexpected_keys)))
    m.load_state_dict({**m.state_dict(), "extra": tg.ones(1)}, strict=False)
    assert seen == [["extra"]]


def test_hook_prepend_must_be_a_bool():
    m = nn.Linear(2, 1)
    with pytest.raises(TypeError, match="register_full_backward_hook: prepend must be a bool, got str 'yes'"):
        m.register_full_backward_hook(lambda *a: None, prepend="yes")


def test_a_compiled_step_that_clears_with_model_zero_grad_trains_as_eager():
    # model.zero_grad() inside a compiled step: replay must clear the gradients again each
    # call (else they would add up), so the compiled run matches the eager one step by step
    def run(compiled):
        tg.manual_seed(0)
        model = nn.Linear(3, 2)
        opt = optim.SGD(model.parameters(), lr=0.1)

        def step(x, y):
            model.zero_grad()
            loss = ((model(x) - y) ** 2).mean()
            loss.backward()
            opt.step()
            return loss

        fn = tg.compile(step) if compiled else step
        rng = np.random.default_rng(1)
        for _ in range(5):
            x = tg.tensor(rng.standard_normal((5, 3)).astype(np.float32))
            y = tg.tensor(rng.standard_normal((5, 2)).astype(np.float32))
            fn(x, y)
        replays = sum(e.replays for e in fn._entries.values()) if compiled else None
        return arr(model.weight), arr(model.weight.grad), replays

    eager, compiled = run(False), run(True)
    np.testing.assert_allclose(compiled[0], eager[0], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(compiled[1], eager[1], rtol=1e-5, atol=1e-6)
    # and the later calls ran the recorded program (the clearing is part of it), not eagerly
    assert compiled[2] >= 2


# ------------------------------------------------------------------------------ nn.utils

def with_grad(values):
    p = tg.ones(len(values), requires_grad=True)
    p.grad = tg.tensor(values)
    return p


@pytest.mark.parametrize("norm_type", [0.0, -1.0])
def test_clip_grad_norm_wants_a_positive_norm_type(norm_type):
    p = with_grad([3.0, -4.0])
    with pytest.raises(ValueError, match=f"clip_grad_norm_: norm_type must be positive or inf, got {norm_type}"):
        U.clip_grad_norm_([p], 1.0, norm_type=norm_type)
    np.testing.assert_array_equal(arr(p.grad), [3.0, -4.0])


def test_clip_grad_value_wants_a_non_negative_value():
    p = with_grad([3.0, -4.0])
    with pytest.raises(ValueError, match="clip_grad_value_: clip_value must be a non-negative number, got -1.0"):
        U.clip_grad_value_([p], -1.0)
    np.testing.assert_array_equal(arr(p.grad), [3.0, -4.0])


def test_parameters_to_vector_wants_one_device(alt_device):
    with pytest.raises(TypeError, match="parameter 1 is on alt, parameter 0 on cpu"):
        U.parameters_to_vector([tg.zeros(2), tg.zeros(2, device="alt")])


def test_vector_to_parameters_wants_the_vector_on_the_parameters_device(alt_device):
    ps = [tg.zeros(2), tg.zeros(2)]
    with pytest.raises(TypeError, match="vec is on alt, parameter 0 on cpu; expected one device"):
        U.vector_to_parameters(tg.ones(4, device="alt"), ps)
    np.testing.assert_array_equal(arr(ps[0]), [0.0, 0.0])


def test_fuse_linear_bn_weights_checks_its_tensors():
    rm, rv = tg.zeros(2), tg.ones(2)
    with pytest.raises(TypeError, match="fuse_linear_bn_weights: linear_b must be a Tensor or None, got int"):
        U.fuse_linear_bn_weights(tg.ones(2, 2), 3, rm, rv, 1e-5, None, None)
    with pytest.raises(ValueError, match=r"linear_w must be a 2-D weight \(out_features, in_features\), got shape \(2,\)"):
        U.fuse_linear_bn_weights(tg.ones(2), None, rm, rv, 1e-5, None, None)


def test_fuse_linear_bn_eval_wants_a_linear():
    with pytest.raises(TypeError, match="fuse_linear_bn_eval: linear must be an nn.Linear, got ReLU"):
        U.fuse_linear_bn_eval(nn.ReLU(), nn.BatchNorm1d(2).eval())
    # a module with a weight but no out_features, and an object with a Linear's attributes that is no module
    lookalike = types.SimpleNamespace(weight=tg.ones(2, 3), bias=None, out_features=2, training=False)
    for wrong in (nn.Embedding(2, 3).eval(), lookalike):
        with pytest.raises(TypeError, match="linear must be an nn.Linear"):
            U.fuse_linear_bn_eval(wrong, nn.BatchNorm1d(2).eval())


def test_fuse_linear_bn_eval_wants_a_batch_norm_with_running_statistics_and_features():
    """A module with only one of the two is not a batch norm: each alone is refused."""
    class FeaturesOnly(nn.Module):
        num_features = 2

    class StatisticsOnly(nn.Module):
        running_mean = tg.zeros(2)
    for wrong in (FeaturesOnly(), StatisticsOnly(), nn.LayerNorm(2)):
        with pytest.raises(TypeError, match=f"bn must be a BatchNorm module, got {type(wrong).__name__}"):
            U.fuse_linear_bn_eval(nn.Linear(3, 2).eval(), wrong.eval())


def test_weight_norm_hook_checks_module_and_name():
    with pytest.raises(TypeError, match="weight_norm: module must be an nn.Module, got int"):
        nn.utils.weight_norm(3)
    with pytest.raises(TypeError, match=r"weight_norm: name must be a str \(the parameter's name\), got int 3"):
        nn.utils.weight_norm(nn.Linear(2, 2), name=3)


def test_spectral_norm_hook_checks_iterations_and_dim():
    with pytest.raises(ValueError, match="expected n_power_iterations to be positive, but got n_power_iterations=0"):
        nn.utils.spectral_norm(nn.Linear(2, 2), n_power_iterations=0)
    m = nn.Linear(2, 3)
    with pytest.raises(IndexError, match=r"dim 2 is out of range for a 2-D weight \(shape \(3, 2\)\); "
                                         r"expected a dim in \[-2, 1\]"):
        nn.utils.spectral_norm(m, dim=2)
    assert "weight" in m._parameters and not m._forward_pre_hooks  # nothing registered


def test_spectral_norm_parametrization_checks_eps():
    with pytest.raises(TypeError, match="spectral_norm: eps must be a number, got str 'x'"):
        parametrizations.spectral_norm(nn.Linear(2, 2), eps="x")
    m = nn.Linear(2, 2)
    with pytest.raises(ValueError, match="spectral_norm: eps must be a non-negative number, got -1.0"):
        parametrizations.spectral_norm(m, eps=-1.0)
    assert not P.is_parametrized(m)


# ----------------------------------------------------------------------- functional_call

class Scaled(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(2, 2)
        self.scale = 3.0

    def forward(self, x=None):
        return self.lin(x if x is not None else tg.ones(2)) * self.scale


def test_functional_call_refuses_a_submodule_name():
    m = Scaled()
    with pytest.raises(TypeError, match="`lin` of Scaled is a submodule, expected a parameter"):
        functional_call(m, {"lin": tg.ones(2)}, (tg.ones(2),))
    assert isinstance(m.lin, nn.Linear)


def test_functional_call_refuses_a_plain_attribute_that_is_not_a_tensor():
    m = Scaled()
    with pytest.raises(TypeError, match="attribute `scale` of Scaled is a float, not a tensor"):
        functional_call(m, {"scale": tg.ones(2)}, (tg.ones(2),))
    assert m.scale == 3.0


def test_functional_call_keys_must_be_str_and_name_a_tensor():
    m = Scaled()
    with pytest.raises(TypeError, match="keys must be dotted names .* got int 3"):
        functional_call(m, {3: tg.ones(2)}, (tg.ones(2),))
    with pytest.raises(KeyError, match="'lin.' is not a parameter or buffer name"):
        functional_call(m, {"lin.": tg.ones(2)}, (tg.ones(2),))


def test_functional_call_without_args_calls_forward_with_none():
    m = Scaled()
    out = functional_call(m, {"lin.weight": tg.eye(2), "lin.bias": tg.zeros(2)})
    np.testing.assert_array_equal(arr(out), [3.0, 3.0])  # ones(2) @ I * 3


def test_functional_call_flags_must_be_bools():
    with pytest.raises(TypeError, match="tie_weights and strict must be bools, got 'yes' and False"):
        functional_call(Scaled(), {}, (tg.ones(2),), tie_weights="yes")


# ------------------------------------------------------------------------------ layers

def test_linear_and_bilinear_want_a_floating_point_dtype():
    # PyTorch raises RuntimeError (an integer parameter cannot require grad)
    with pytest.raises((TypeError, RuntimeError), match="Linear: dtype must be a floating point type, got int32"):
        nn.Linear(2, 2, dtype=tg.int32)
    with pytest.raises((TypeError, RuntimeError), match="Bilinear: dtype must be a floating point type, got int32"):
        nn.Bilinear(2, 2, 2, dtype=tg.int32)


def test_unflatten_checks_its_sizes_and_input():
    with pytest.raises(TypeError, match=r"Unflatten: unflattened_size must hold ints, got 2.0 in \(2, 2.0\)"):
        nn.Unflatten(0, (2, 2.0))
    # PyTorch raises RuntimeError (no dimension 0 to unflatten)
    with pytest.raises((ValueError, RuntimeError), match="got a 0-dim input; there is no dimension 0 to unflatten"):
        nn.Unflatten(0, (1,))(tg.tensor(1.0))


def test_sequential_checks_its_modules_and_indices():
    with pytest.raises(TypeError, match="Sequential: argument 1 is a int, expected a Module"):
        nn.Sequential(nn.ReLU(), 3)
    seq = nn.Sequential(nn.ReLU())
    with pytest.raises(IndexError, match=r"Sequential: index 3 is out of range; expected -1 <= index < 1"):
        seq[3]
    with pytest.raises(IndexError, match="index -2 is out of range"):
        seq[-2]


def test_sequential_append_adds_at_the_end_and_returns_itself():
    relu, tanh = nn.ReLU(), nn.Tanh()
    seq = nn.Sequential(relu)
    assert seq.append(tanh) is seq
    assert list(seq) == [relu, tanh] and seq[1] is tanh and list(dict(seq.named_children())) == ["0", "1"]
    np.testing.assert_allclose(arr(seq(tg.tensor([-1.0, 1.0]))), [0.0, np.tanh(1.0)], rtol=1e-6)


@pytest.mark.parametrize("kw, want", [({"max_value": 2.0}, [2.0, -1.0]), ({"min_value": -2.0}, [1.0, -2.0])])
def test_hardtanh_takes_the_deprecated_names_with_a_future_warning(kw, want):
    name = next(iter(kw))
    with pytest.warns(FutureWarning, match=f"`{name}` is deprecated"):
        m = nn.Hardtanh(**kw)
    np.testing.assert_array_equal(arr(m(tg.tensor([3.0, -3.0]))), want)


def test_prelu_reset_parameters_fills_the_init_value():
    m = nn.PReLU(3, init=0.3)
    with tg.no_grad():
        m.weight.fill_(1.0)
    m.reset_parameters()
    np.testing.assert_allclose(arr(m.weight), [0.3, 0.3, 0.3], rtol=1e-7)


@pytest.mark.parametrize("kw, want", [
    ({"max_norm": 1.5}, "Embedding(5, 3, max_norm=1.5)"),
    ({"padding_idx": 1, "max_norm": 1.0, "norm_type": 1.0}, "Embedding(5, 3, padding_idx=1, max_norm=1.0, norm_type=1.0)"),
])
def test_embedding_repr_shows_max_norm(kw, want):
    assert repr(nn.Embedding(5, 3, **kw)) == want


# ------------------------------------------------------------------------- initializers

@pytest.mark.parametrize("mode, fan", [("fan_in", 300), ("fan_out", 4000)])
def test_fans_of_a_conv_weight_count_the_receptive_field(mode, fan):
    # (out, in, kh, kw) = (400, 30, 2, 5): receptive field 10, fan_in = 30 * 10, fan_out =
    # 400 * 10 (PyTorch's); kaiming_normal_ with gain 1 draws with std 1 / sqrt(fan)
    tg.manual_seed(0)
    w = init.kaiming_normal_(tg.zeros(400, 30, 2, 5), mode=mode, nonlinearity="linear")
    assert abs(arr(w).std() * np.sqrt(fan) - 1) < 0.02


def test_fans_need_two_dims():
    with pytest.raises(ValueError, match=r"fan in and fan out need a tensor with at least 2 dims, got shape \(3,\)"):
        init.xavier_uniform_(tg.zeros(3))


def test_kaiming_mode_must_be_fan_in_or_fan_out():
    with pytest.raises(ValueError, match="mode must be 'fan_in' or 'fan_out', got 'fan_avg'"):
        init.kaiming_uniform_(tg.zeros(3, 3), mode="fan_avg")
