"""Bad inputs drawn at random get a clear exception: never a crash, a hang, or
a changed module state."""
import numpy as np
import pytest
from hypothesis import given, strategies as st
from hypothesis.extra import numpy as hnp

import tinygrad_bn as tg
from tinygrad_bn import nn

ERRORS = (ValueError, TypeError, RuntimeError, IndexError)


def snapshot(module):
    return {k: v.numpy().copy() for k, v in module.state_dict().items()}


def assert_unchanged(module, before):
    after = snapshot(module)
    assert after.keys() == before.keys()
    for k in before:
        np.testing.assert_array_equal(after[k], before[k], err_msg=k)


MODULES = {
    "BatchNorm1d": lambda: nn.BatchNorm1d(4),
    "BatchNorm2d": lambda: nn.BatchNorm2d(4),
    "LayerNorm": lambda: nn.LayerNorm(4),
    "GroupNorm": lambda: nn.GroupNorm(2, 4),
    "InstanceNorm1d": lambda: nn.InstanceNorm1d(4, affine=True, track_running_stats=True),
    "Linear": lambda: nn.Linear(4, 3),
}


@st.composite
def bad_inputs(draw, module_name):
    """An input that ``module_name`` (expecting 4 channels/features) must reject."""
    kind = draw(st.sampled_from(["rank", "zero", "channels", "nan", "inf", "int"]))
    good_rank = {"BatchNorm1d": 2, "BatchNorm2d": 4, "LayerNorm": 2, "GroupNorm": 3,
                 "InstanceNorm1d": 3, "Linear": 2}[module_name]
    shape = [draw(st.integers(2, 4)) for _ in range(good_rank)]
    channel_axis = -1 if module_name in ("LayerNorm", "Linear") else 1
    shape[channel_axis] = 4
    dtype = np.float32
    if kind == "rank":
        ranks = {"BatchNorm1d": [1, 4, 5], "BatchNorm2d": [2, 3, 5], "InstanceNorm1d": [1, 2, 4],
                 "GroupNorm": [1], "LayerNorm": [], "Linear": []}[module_name]
        if not ranks:
            kind = "channels"
        else:
            n = draw(st.sampled_from(ranks))
            shape = [2, 4] + [3] * (n - 2) if n >= 2 else [4]
    if kind == "zero":
        axis = draw(st.sampled_from([a for a in range(len(shape)) if a != channel_axis % len(shape)]))
        shape[axis] = 0
    if kind == "channels":
        shape[channel_axis] = draw(st.sampled_from([1, 3, 5, 8]))
    if kind == "int":
        dtype = np.int64
    x = draw(hnp.arrays(np.float64, tuple(shape), elements=st.floats(-3, 3))).astype(dtype)
    if kind in ("nan", "inf") and x.size:
        idx = draw(st.integers(0, x.size - 1))
        x.reshape(-1)[idx] = np.nan if kind == "nan" else draw(st.sampled_from([np.inf, -np.inf]))
    elif kind in ("nan", "inf"):
        kind = "zero"
    return kind, x


@pytest.mark.parametrize("name", sorted(MODULES))
@given(data=st.data())
def test_bad_inputs_raise_clearly_and_change_nothing(name, data):
    module = MODULES[name]()
    kind, x = data.draw(bad_inputs(name))
    before = snapshot(module)
    if kind == "zero" and name == "Linear":
        assert module(tg.tensor(x)).shape == (0, 3)  # an empty batch is valid, as in PyTorch
        return
    if kind in ("nan", "inf") and name == "Linear":
        # a linear map of NaN is NaN: Linear does not inspect values (as in PyTorch)
        out = module(tg.tensor(x)).detach().numpy()
        assert not np.isfinite(out).all()
        return
    with pytest.raises(ERRORS) as info:
        module(tg.tensor(x))
    message = str(info.value)
    # names the op and what it got: the input's shape, its dtype, or the bad values
    names = {"BatchNorm1d": "batch_norm", "BatchNorm2d": "batch_norm", "LayerNorm": "layer_norm",
             "GroupNorm": "group_norm", "InstanceNorm1d": "instance_norm", "Linear": "linear"}
    assert name in message or names[name] in message, message
    got = {"nan": "NaN", "inf": "Inf", "int": "int64"}.get(kind, str(tuple(x.shape)))
    assert got in message, f"{message!r} does not say {got!r}"
    assert_unchanged(module, before)
    # the module still works on a good input afterwards
    good_shape = {"BatchNorm2d": (3, 4, 2, 2), "GroupNorm": (3, 4, 2), "InstanceNorm1d": (3, 4, 2)}.get(name, (3, 4))
    module(tg.tensor(np.random.default_rng(0).standard_normal(good_shape).astype(np.float32)))


@given(st.sampled_from(["shape", "dtype", "range"]), st.integers(1, 5))
def test_cross_entropy_bad_targets(kind, n):
    logits = tg.randn(n, 3, requires_grad=True)
    target = {"shape": tg.tensor([0] * (n + 1)), "dtype": tg.tensor([0.0] * n),
              "range": tg.tensor([3] * n)}[kind]
    with pytest.raises(ERRORS):
        nn.CrossEntropyLoss()(logits, target)
    assert logits.grad is None
