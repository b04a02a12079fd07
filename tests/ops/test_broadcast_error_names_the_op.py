"""A NumPy broadcasting failure inside an op's forward comes out as a ValueError
that names the op, keeps NumPy's shapes and adds the rule (equal or 1 in each
dim, counted from the last), as PyTorch's message states its rule."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_bn as tg


@pytest.mark.parametrize("op, name", [
    (lambda a, b: a + b, "Add"),
    (lambda a, b: a * b, "Mul"),
    (lambda a, b: tg.where(a > 0, a, b), "Where"),
])
def test_broadcast_failure_names_the_op_and_states_the_rule(op, name):
    a, b = tg.ones(2, 3), tg.ones(4)
    with pytest.raises(ValueError) as info:
        op(a, b)
    message = str(info.value)
    assert message.startswith(f"{name}: ")
    assert "(2,3)" in message and "(4,)" in message
    assert message.endswith("shapes must be equal or 1 in each dim, counted from the last (NumPy broadcasting)")


def test_broadcasting_shapes_still_combine():
    """The rule the message states holds: sizes equal or 1, counted from the last dim."""
    assert (tg.ones(2, 3) + tg.ones(3)).shape == (2, 3)
    assert (tg.ones(2, 1) * tg.ones(1, 4)).shape == (2, 4)


SHAPES = st.lists(st.integers(1, 3), max_size=4).map(tuple)


@settings(max_examples=300, deadline=None)
@given(SHAPES, SHAPES)
def test_broadcasts_to_is_numpys_rule_without_growing_the_target(shape, target):
    """``broadcasts_to`` (the check of in-place ops, setitem and the losses' weights and
    targets) says True exactly when NumPy assigns an array of ``shape`` into one of
    ``target``: sizes equal or 1 from the last dim, leading 1s beyond the target's dims
    dropped, nothing that would grow the target."""
    from tinygrad_bn.ops.movement import broadcasts_to
    try:
        np.empty(target)[...] = np.zeros(shape)
        numpy_says = True
    except ValueError:
        numpy_says = False
    assert broadcasts_to(shape, target) == numpy_says


def test_an_in_place_op_refuses_an_operand_with_other_trailing_dims():
    a = tg.zeros(2, 5, 4)
    with pytest.raises((ValueError, RuntimeError), match=r"\(3, 4\)"):
        a.add_(tg.ones(3, 4))
    assert (a.numpy() == 0).all()
