"""A NumPy broadcasting failure inside an op's forward comes out as a ValueError
that names the op, keeps NumPy's shapes and adds the rule (equal or 1 in each
dim, counted from the last), as PyTorch's message states its rule."""
import pytest

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
