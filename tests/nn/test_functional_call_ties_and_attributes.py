"""functional_call's tie handling and plain tensor attributes, against PyTorch's
(torch.func.functional_call): a tie reached through a shared submodule counts as one
reached through two attribute names; strict checks the names after the ties are filled
in (tie_weights=False leaves a tied name missing); a plain tensor attribute is swapped
for the call and given back after it."""
import pytest

import tinygrad_bn as tg
from tinygrad_bn import nn
from tinygrad_bn.nn import Module, Parameter
from tinygrad_bn.nn.stateless import functional_call


class Tied(Module):
    def __init__(self):
        super().__init__()
        self.a = Parameter(tg.ones(2))
        self.b = self.a

    def forward(self, x):
        return x * self.a + x * self.b


class Shared(Module):
    """One Linear under two names (l1, l2): its weight is tied to itself through two paths."""

    def __init__(self):
        super().__init__()
        self.l1 = nn.Linear(2, 2)
        self.l2 = self.l1

    def forward(self, x):
        return self.l2(self.l1(x))


class WithTensorAttribute(Module):
    def __init__(self):
        super().__init__()
        self.t = tg.ones(2)  # neither a parameter nor a buffer

    def forward(self, x):
        return x * self.t


def test_strict_counts_a_tied_name_as_given_only_when_ties_are_followed():
    m = Tied()
    # PyTorch: tensor([0., 0.]) and RuntimeError("... Missing key(s): 'b'.")
    assert functional_call(m, {"a": tg.zeros(2)}, (tg.ones(2),), strict=True).tolist() == [0.0, 0.0]
    with pytest.raises(RuntimeError, match=r"Missing key\(s\): 'b'\.$"):
        functional_call(m, {"a": tg.zeros(2)}, (tg.ones(2),), strict=True, tie_weights=False)


def test_a_submodule_shared_under_two_names_ties_its_tensors():
    m = Shared()
    with pytest.raises(ValueError, match=r"multiple values for keys \['l1.weight', 'l2.weight'\], which are tied"):
        functional_call(m, {"l1.weight": tg.zeros(2, 2), "l2.weight": tg.ones(2, 2)}, (tg.ones(2),))
    # the same tensor for both names is no conflict
    w = tg.eye(2) * 2
    assert functional_call(m, {"l1.weight": w, "l2.weight": w, "l1.bias": tg.zeros(2)},
                           (tg.ones(2),)).tolist() == [4.0, 4.0]
    # PyTorch: tensor([4., 4.]) for either name, strict too (the other name follows)
    for prefix in ("l1", "l2"):
        given = {f"{prefix}.weight": tg.eye(2) * 2, f"{prefix}.bias": tg.zeros(2)}
        assert functional_call(m, given, (tg.ones(2),), strict=True).tolist() == [4.0, 4.0]
    assert m.l1.weight is m.l2.weight and isinstance(m.l1.weight, Parameter)


def test_a_plain_tensor_attribute_is_swapped_for_the_call_and_given_back():
    m = WithTensorAttribute()
    own = m.t
    # PyTorch: tensor([3., 3.]), and m.t is the module's own tensor after the call
    assert functional_call(m, {"t": tg.full((2,), 3.0)}, (tg.ones(2),)).tolist() == [3.0, 3.0]
    assert m.t is own and m.t.tolist() == [1.0, 1.0]
    assert "t" not in m._parameters and "t" not in m._buffers
