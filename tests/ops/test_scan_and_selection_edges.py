"""Scans, selections and quantiles at their edges: integer scans in int64 (unsigned
input too), diff's extra pieces with the input's number of dims, kthvalue's k
bounded by the dim's size, topk of a 0-d tensor (README: ``topk(0)`` is empty),
the q a quantile takes, and where a half-precision input places its quantiles.
Expected values are PyTorch's where PyTorch takes the call."""
import numpy as np
import pytest

import tinygrad_bn as tg


@pytest.mark.parametrize("op, want", [("cumsum", [200, 300, 301]), ("cumprod", [200, 20000, 20000])])
def test_scans_of_unsigned_input_run_in_int64_and_do_not_wrap(op, want):
    """As torch.cumsum/cumprod of uint8 [200, 100, 1]: int64, 300 and 20000 (no wrap at 256)."""
    out = getattr(tg.tensor([200, 100, 1], dtype=tg.uint8), op)(0)
    assert out.dtype == tg.int64 and out.tolist() == want


@pytest.mark.parametrize("name", ["prepend", "append"])
def test_diff_refuses_an_extra_piece_with_more_dims_than_the_input(name):
    """PyTorch: "diff expects prepend or append to be the same dimension as input"."""
    with pytest.raises(RuntimeError, match=rf"diff: {name} must have the input's number of dims \(1\), got shape \(1, 1\)"):
        tg.diff(tg.tensor([1.0, 2.0]), **{name: tg.zeros(1, 1)})


def test_kthvalue_refuses_a_k_past_a_dim_of_size_1():
    """k runs over [1, n]: on a dim of size 1 only k = 1 (PyTorch: "selected number k out of range")."""
    t = tg.tensor([[3.0], [1.0]])
    values, indices = tg.kthvalue(t, 1, 1)
    assert values.tolist() == [3.0, 1.0] and indices.tolist() == [0, 0]
    with pytest.raises(RuntimeError, match=r"kthvalue: k \(2\) is out of range for dim 1 of size 1"):
        tg.kthvalue(t, 2, 1)


def test_topk_of_a_0d_tensor_is_0d_for_k_1_and_empty_for_k_0():
    """k = 1 gives the value and index 0 as 0-d tensors (PyTorch's); k = 0 gives empty 1-d
    tensors (README: PyTorch's returns the value there)."""
    values, indices = tg.topk(tg.tensor(3.0), 1)
    assert values.shape == () and indices.shape == () and values.item() == 3.0 and indices.item() == 0
    values, indices = tg.topk(tg.tensor(3.0), 0)
    assert values.shape == (0,) and indices.shape == (0,)


@pytest.mark.parametrize("q, says", [
    (lambda: tg.tensor([0, 1]), "got 1-d int64"),
    (lambda: tg.tensor([[0.5]]), "got 2-d float32"),
], ids=["integer", "two-dims"])
def test_quantile_takes_only_a_floating_q_of_at_most_one_dim(q, says):
    """PyTorch refuses both: an integer q ("must be same dtype as the input") and a 2-d q."""
    with pytest.raises(TypeError, match=f"quantile: q must be a number or a 0-d or 1-d floating point tensor, {says}"):
        tg.quantile(tg.tensor([1.0, 2.0]), q())


def test_a_half_precision_quantile_places_q_in_float32():
    """q * (n - 1) is computed in float32 for a float16 input: q = 0.2998 over 1001 values
    is position 299.8, four fifths of the way from the 300th value (0) to the 301st (1000);
    in float16 the position would round to 299.75 and the quantile be 750."""
    x = np.zeros(1001, np.float16)
    x[300:] = 1000.0
    out = tg.quantile(tg.tensor(x), 0.2998)
    assert out.dtype == tg.float16 and out.item() == 800.0
    # torch.quantile of the float32 values: 800.0183
    assert tg.quantile(tg.tensor(x.astype(np.float32)), 0.2998).item() == pytest.approx(800.0183, abs=1e-4)
