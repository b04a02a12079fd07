"""Every tensor factory fills what it says, in each spelling of its size, with the
dtype, device and requires_grad PyTorch gives: zeros/ones/full/empty, their _like
forms and the new_* methods (which take self's dtype and device unless given).
Values are checked element for element, so a factory that fills 0 for 1 fails."""
import warnings

import numpy as np
import pytest
from hypothesis import given, strategies as st

import tinygrad_bn as tg

SIZES = [((2, 3),), (2, 3), ([2, 3],), (tg.Size([2, 3]),)]
FILLS = {"zeros": 0, "ones": 1, "empty": 0}  # empty gives zeros here (no uninitialised memory)


@pytest.mark.parametrize("size", SIZES, ids=["tuple", "ints", "list", "Size"])
@pytest.mark.parametrize("name", sorted(FILLS))
def test_module_level_factories_fill_their_value(name, size):
    for dtype, expected_dtype in ((None, np.float32), (tg.float64, np.float64), (tg.int64, np.int64)):
        kw = {} if dtype is None else {"dtype": dtype}
        t = getattr(tg, name)(*size, **kw)
        assert t.shape == (2, 3) and t.dtype == expected_dtype, (name, size, dtype)
        np.testing.assert_array_equal(t.numpy(), np.full((2, 3), FILLS[name], expected_dtype))
        assert not t.requires_grad and t.device == "cpu"
    assert getattr(tg, name)(*size, requires_grad=True).requires_grad


@pytest.mark.parametrize("name", sorted(FILLS))
def test_like_factories_take_the_shape_dtype_and_device_of_their_input(name):
    base = tg.tensor(np.arange(6, dtype=np.float64).reshape(3, 2))
    t = getattr(tg, f"{name}_like")(base)
    assert t.shape == (3, 2) and t.dtype == np.float64
    np.testing.assert_array_equal(t.numpy(), np.full((3, 2), FILLS[name], np.float64))
    t = getattr(tg, f"{name}_like")(base, dtype=tg.int32)
    assert t.dtype == np.int32
    np.testing.assert_array_equal(t.numpy(), np.full((3, 2), FILLS[name], np.int32))
    full = tg.full_like(base, 2.5)
    assert full.dtype == np.float64 and full.shape == (3, 2) and (full.numpy() == 2.5).all()


@pytest.mark.parametrize("size", SIZES, ids=["tuple", "ints", "list", "Size"])
@pytest.mark.parametrize("name", sorted(FILLS))
def test_new_methods_fill_their_value_with_selfs_dtype_unless_given(name, size):
    base = tg.tensor([1.5, -2.0], dtype=tg.float64)
    t = getattr(base, f"new_{name}")(*size)
    assert t.shape == (2, 3) and t.dtype == np.float64 and t.device == base.device
    np.testing.assert_array_equal(t.numpy(), np.full((2, 3), FILLS[name], np.float64))
    assert not t.requires_grad and t.grad_fn is None
    t = getattr(base, f"new_{name}")(*size, dtype=tg.int16, requires_grad=False)
    assert t.dtype == np.int16
    np.testing.assert_array_equal(t.numpy(), np.full((2, 3), FILLS[name], np.int16))
    assert getattr(base, f"new_{name}")(*size, requires_grad=True).requires_grad


def test_new_full_and_new_tensor_take_selfs_dtype_unless_given():
    base = tg.tensor([1, 2], dtype=tg.int32)
    t = base.new_full((2, 2), 7)
    assert t.dtype == np.int32 and t.numpy().tolist() == [[7, 7], [7, 7]]
    t = base.new_full([3], -1.5, dtype=tg.float64)
    assert t.dtype == np.float64 and t.numpy().tolist() == [-1.5] * 3
    t = base.new_tensor([[4, 5]])
    assert t.dtype == np.int32 and t.numpy().tolist() == [[4, 5]] and t.grad_fn is None


def test_factories_agree_with_pytorch():
    torch = pytest.importorskip("torch")
    base_ours, base_torch = tg.tensor([1.0], dtype=tg.float64), torch.tensor([1.0], dtype=torch.float64)
    for name in ("zeros", "ones"):
        for size in ((2, 3), ((4,),), ((),)):
            ours, theirs = getattr(tg, name)(*size), getattr(torch, name)(*size)
            assert ours.shape == tuple(theirs.shape) and str(ours.dtype) == str(theirs.dtype).replace("torch.", "")
            np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
            ours, theirs = getattr(base_ours, f"new_{name}")(*size), getattr(base_torch, f"new_{name}")(*size)
            assert str(ours.dtype) == str(theirs.dtype).replace("torch.", "")
            np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    np.testing.assert_array_equal(base_ours.new_full((2,), 3).numpy(), base_torch.new_full((2,), 3).numpy())


@pytest.mark.parametrize("steps", [7, 49, 100])
def test_linspace_ends_exactly_at_end_where_start_plus_steps_would_miss_it(steps):
    """-0.3 + (steps - 1) * ((2.9 + 0.3) / (steps - 1)) is not 2.9 in float64: the last value
    is end itself, as torch.linspace's, and the first start."""
    values = tg.linspace(-0.3, 2.9, steps, dtype=tg.float64).tolist()
    assert -0.3 + (steps - 1) * ((2.9 + 0.3) / (steps - 1)) != 2.9
    assert values[0] == -0.3 and values[-1] == 2.9 and len(values) == steps


_ENDS = st.one_of(st.integers(-6, 6), st.sampled_from([-2.5, -0.5, 0.25, 1.5, 3.75]))
_STEPS = st.one_of(st.integers(-3, 3), st.sampled_from([-1.5, -0.5, 0.25, 0.75, 2.5]))


@given(start=_ENDS, end=_ENDS, step=_STEPS)
def test_arange_and_range_give_numpys_values_or_refuse_as_pytorch(start, end, step):
    """arange: NumPy's values (start + i * step, i < ceil((end - start) / step)), int64
    when every argument is an int, else the default float; a zero step or one that
    points away from end is refused, and start == end gives an empty tensor.
    range (deprecated): end included."""
    away = step == 0 or (end - start) * step < 0
    if away:
        with pytest.raises(ValueError, match="arange: step"):
            tg.arange(start, end, step)
    else:
        got = tg.arange(start, end, step)
        want = np.arange(start, end, step, dtype=np.float64)
        ints = all(isinstance(v, int) for v in (start, end, step))
        assert got.dtype == (tg.int64 if ints else tg.float32)
        np.testing.assert_allclose(got.numpy().astype(np.float64), want, rtol=1e-6, atol=1e-6)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # range's deprecation
        if away:
            with pytest.raises(ValueError, match="^range: step"):
                tg.range(start, end, step)
        else:
            count = int(np.floor((end - start) / step + 1e-9)) + 1
            got = tg.range(start, end, step).numpy().astype(np.float64)
            np.testing.assert_allclose(got, start + step * np.arange(count), rtol=1e-6, atol=1e-6)
