"""The rare paths of the tensor ops: zero-size inputs (trapezoid over an empty
dim, vander with N=0, block_diag of nothing), the less common argument forms
(cov's weights, var(unbiased=...), scatter(reduce="add"), a 0-d tensor as topk's
k or split's size, tensordot's tensor dims, where(condition) alone, the methods
maximum, minimum, clamp_min and clamp_max) and the refusals of bad arguments.

Values are checked against NumPy or numbers worked out by hand, dtypes and
shapes against what PyTorch 2.13 gives, gradients with gradcheck; a refusal
must raise the exception class PyTorch raises (where tinygrad_bn raises another
one, the comment says which PyTorch raises) with a message that names the op
and the value it refused."""
import warnings

import numpy as np
import pytest

import tinygrad_bn as tg
import tinygrad_bn.nn.functional as F
from tinygrad_bn.testing import gradcheck


def f64(values, requires_grad=False):
    return tg.tensor(np.asarray(values, dtype=np.float64), requires_grad=requires_grad)


# ================================================================== tensor_linalg.py

@pytest.mark.parametrize("dim", [1, -2])
def test_trapezoid_over_an_empty_dim_gives_zeros_shaped_like_the_other_dims(dim):
    # no intervals: the integral is 0 for every position of the other dims (shape (2, 3) here)
    y = tg.zeros(2, 0, 3, dtype=tg.float64, requires_grad=True)
    out = tg.trapezoid(y, dim=dim)
    assert out.shape == (2, 3) and out.dtype == tg.float64
    np.testing.assert_array_equal(out.detach().numpy(), np.zeros((2, 3)))
    # and it is differentiable: the gradient has y's (empty) shape
    out.sum().backward()
    assert y.grad.shape == (2, 0, 3)


def test_trapezoid_over_an_empty_last_dim_keeps_an_integer_dtype_and_gives_a_0d_zero_for_1d():
    out = tg.trapezoid(tg.zeros(2, 0, dtype=tg.int64))
    assert out.dtype == tg.int64 and out.shape == (2,)
    assert out.tolist() == [0, 0]
    scalar = tg.trapezoid(tg.zeros(0, dtype=tg.float64))
    assert scalar.shape == () and scalar.dtype == tg.float64 and scalar.item() == 0.0


def test_trapezoid_refuses_both_x_and_dx():
    for fn in (tg.trapezoid, tg.cumulative_trapezoid):
        with pytest.raises(TypeError, match=f"{fn.__name__}: pass x or dx, not both"):
            fn(f64([1.0, 2.0]), f64([0.0, 1.0]), dx=1.0)


def test_trapezoid_refuses_sample_points_x_that_do_not_fit_y():
    with pytest.raises(RuntimeError, match="trapezoid: x has 2 points but y has 3 along dim 0"):
        tg.trapezoid(f64([1.0, 2.0, 3.0]), f64([0.0, 1.0]))
    with pytest.raises(RuntimeError, match=r"trapezoid: x must be 1-d or have y's shape \(2, 3\), got \(3, 2\)"):
        tg.trapezoid(tg.ones(2, 3), tg.ones(3, 2))


def test_vander_with_n_0_is_an_empty_matrix_of_the_input_dtype():
    # PyTorch: shape (len(x), 0), in x's dtype (int64 stays int64, float64 stays float64)
    for dtype in (tg.float64, tg.int64, tg.float32):
        out = tg.vander(tg.tensor([1, 2, 3]).to(dtype), N=0)
        assert out.shape == (3, 0) and out.dtype == dtype
    # N defaults to len(x): an empty x gives a 0 x 0 matrix
    empty = tg.vander(tg.zeros(0))
    assert empty.shape == (0, 0) and empty.dtype == tg.float32


def test_vander_of_integers_or_bools_is_int64_as_pytorch():
    for dtype in (tg.int32, tg.int8, tg.uint8, tg.bool):
        x = tg.tensor([1, 2, 0]).to(dtype)
        for n in (None, 0, 2):
            out = tg.vander(x, N=n)
            assert out.dtype == tg.int64, (dtype, n)
        want = [[1, 1, 1], [4, 2, 1], [0, 0, 1]] if dtype != tg.bool else [[1, 1, 1], [1, 1, 1], [0, 0, 1]]
        np.testing.assert_array_equal(tg.vander(x).numpy(), want)


def test_vander_with_n_1_is_a_column_of_ones():
    out = tg.vander(f64([2.0, 3.0]), N=1)
    np.testing.assert_array_equal(out.numpy(), [[1.0], [1.0]])


@pytest.mark.parametrize("n", [-1, 1.5, True])
def test_vander_refuses_an_n_that_is_no_int_at_least_0(n):
    # PyTorch: RuntimeError for -1, TypeError for 1.5 and True; tinygrad_bn raises ValueError for all
    with pytest.raises(ValueError, match=rf"vander: N must be an int >= 0, got {n!r}"):
        tg.vander(f64([1.0, 2.0]), N=n)


def test_block_diag_of_no_tensors_is_a_1_by_0_float32_matrix():
    out = tg.block_diag()
    assert out.shape == (1, 0) and out.dtype == tg.float32


def test_block_diag_refuses_a_3d_tensor_naming_its_position():
    with pytest.raises(RuntimeError, match="block_diag: expected 0-2-d tensors, tensor 1 is 3-d"):
        tg.block_diag(tg.zeros(2, 2), tg.zeros(2, 2, 2))


def test_block_diag_takes_0d_blocks_as_1_by_1():
    out = tg.block_diag(tg.tensor(2.0), tg.tensor([1.0, 2.0]))
    np.testing.assert_array_equal(out.numpy(), [[2.0, 0.0, 0.0], [0.0, 1.0, 2.0]])


def test_cov_of_an_integer_tensor_is_float32():
    x = tg.tensor([[1, 2, 4], [3, 1, 0]])
    out = tg.cov(x)
    assert out.dtype == tg.float32
    np.testing.assert_allclose(out.numpy(), np.cov(x.numpy().astype(np.float64)), rtol=1e-6)
    one_row = tg.cov(tg.tensor([1, 2, 4]))
    assert one_row.shape == () and one_row.dtype == tg.float32
    np.testing.assert_allclose(one_row.item(), 7 / 3, rtol=1e-6)


X_COV = [[1.0, 2.0, 4.0], [3.0, 1.0, 0.0]]


@pytest.mark.parametrize("correction", [0, 2])
def test_cov_with_frequency_weights_uses_the_weight_total_less_the_correction(correction):
    # denominator: sum(fweights) - correction (correction 0: the total itself), as NumPy's ddof
    x = f64(X_COV)
    out = tg.cov(x, correction=correction, fweights=tg.tensor([1, 2, 3]))
    expected = np.cov(np.asarray(X_COV), ddof=correction, fweights=[1, 2, 3])
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-12)
    assert gradcheck(lambda a: tg.cov(a, correction=correction, fweights=tg.tensor([1, 2, 3])),
                     (f64(X_COV, requires_grad=True),))


def test_cov_with_correction_0_and_both_weights_divides_by_the_weight_total():
    x = f64(X_COV)
    aw = f64([0.5, 1.0, 2.0])
    out = tg.cov(x, correction=0, fweights=tg.tensor([1, 2, 3]), aweights=aw)
    expected = np.cov(np.asarray(X_COV), ddof=0, fweights=[1, 2, 3], aweights=[0.5, 1.0, 2.0])
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-12)


@pytest.mark.parametrize("name", ["fweights", "aweights"])
def test_cov_refuses_weights_that_are_not_one_per_observation(name):
    with pytest.raises(RuntimeError, match=rf"cov: {name} must have shape \(3,\) .*got \(2,\)"):
        tg.cov(f64(X_COV), **{name: tg.tensor([1, 2]) if name == "fweights" else f64([1.0, 2.0])})


def test_linalg_ops_name_the_dims_they_expected():
    with pytest.raises(RuntimeError, match=r"bmm: expected a 3-d tensor, got 2-d \(shape \(2, 2\)\)"):
        tg.bmm(tg.zeros(2, 2), tg.zeros(2, 2, 2))
    # two allowed dims are both named
    with pytest.raises(RuntimeError, match=r"cov: expected a 1-d or 2-d tensor, got 3-d"):
        tg.cov(tg.zeros(2, 2, 2))


def test_addmm_refuses_a_self_that_does_not_broadcast_to_the_product():
    with pytest.raises(RuntimeError, match=r"addmm: self of shape \(3,\) does not broadcast to the product's "
                                           r"shape \(2, 2\)"):
        tg.addmm(tg.zeros(3), tg.zeros(2, 2), tg.zeros(2, 2))
    # more dims than the product: no broadcast either (PyTorch cannot expand (1, 2, 2) to (2, 2))
    with pytest.raises(RuntimeError, match=r"addmm: self of shape \(1, 2, 2\)"):
        tg.addmm(tg.zeros(1, 2, 2), tg.zeros(2, 2), tg.zeros(2, 2))


@pytest.mark.parametrize("n, shown", [(2.0, "float 2.0"), (True, "bool True")])
def test_matrix_power_refuses_an_n_that_is_no_int(n, shown):
    with pytest.raises(TypeError, match=f"matrix_power: n must be an int, got {shown}"):
        tg.eye(2).matrix_power(n)


def test_cross_refuses_a_dim_that_is_not_of_size_3_in_both():
    with pytest.raises(RuntimeError, match=r"cross: dim 0 must have size 3 in both tensors, got \(3, 4\) and \(4, 4\)"):
        tg.cross(tg.zeros(3, 4), tg.zeros(4, 4), dim=0)


def test_gradient_refuses_what_it_does_not_support_naming_the_value():
    # PyTorch raises RuntimeError for edge_order 3 and for a wrong number of spacings (and takes
    # edge_order=2 and coordinate tensors, which tinygrad_bn does not support)
    with pytest.raises(ValueError, match="gradient: only edge_order=1 is supported, got 3"):
        tg.gradient(f64([1.0, 2.0, 4.0]), edge_order=3)
    with pytest.raises(ValueError, match=r"gradient: expected one spacing per dim \(2\), got 3"):
        tg.gradient(tg.ones(3, 3), spacing=[1.0, 2.0, 3.0])
    with pytest.raises(TypeError, match="gradient: spacing as coordinate tensors is not supported"):
        tg.gradient(f64([1.0, 2.0, 4.0]), spacing=(f64([0.0, 1.0, 3.0]),))


@pytest.mark.parametrize("r", [-1, 1.5])
def test_combinations_refuses_an_r_that_is_no_int_at_least_0(r):
    # PyTorch: RuntimeError for -1, TypeError for 1.5
    with pytest.raises(ValueError, match=rf"combinations: r must be an int >= 0, got {r!r}"):
        tg.combinations(tg.tensor([1, 2, 3]), r=r)


def test_isin_with_a_number_as_elements_gives_a_0d_bool():
    for value, found in ((2, True), (5, False), (2.0, True)):
        out = tg.isin(value, tg.tensor([1, 2]))
        assert out.shape == () and out.dtype == tg.bool_ and out.item() is found
        assert tg.isin(value, tg.tensor([1, 2]), invert=True).item() is (not found)


def test_isin_refuses_a_list_and_two_numbers():
    with pytest.raises(TypeError, match="isin: test_elements must be a tensor or a number, got list"):
        tg.isin(tg.tensor([1, 2]), [1, 2])
    with pytest.raises(TypeError, match=r"isin: test_elements \(with elements a number\) must be a Tensor, got int"):
        tg.isin(2, 2)


# ================================================================== ops/movement.py

def test_flatten_refuses_a_start_dim_after_the_end_dim():
    # PyTorch raises RuntimeError here
    with pytest.raises(ValueError, match="flatten: start_dim 2 comes after end_dim 1"):
        tg.zeros(2, 3, 4).flatten(2, 1)
    # dims are compared after wrapping: -1 is 2, after 0
    with pytest.raises(ValueError, match="flatten: start_dim -1 comes after end_dim 0"):
        tg.zeros(2, 3, 4).flatten(-1, 0)
    # start_dim == end_dim is allowed: nothing merges
    assert tg.zeros(2, 3, 4).flatten(1, 1).shape == (2, 3, 4)
    assert tg.zeros(2, 3, 4).flatten(-2, 2).shape == (2, 12)


def test_permute_refuses_a_wrong_number_of_dims():
    # PyTorch raises RuntimeError here
    with pytest.raises(ValueError, match=r"permute: got 1 dims \(0,\) for a tensor with 2 dimensions"):
        tg.zeros(2, 3).permute(0)


def test_expand_refuses_fewer_sizes_than_dims():
    with pytest.raises(RuntimeError, match=r"expand: the number of sizes \(1\) must be at least the number of "
                                           r"dims \(2\)"):
        tg.zeros(2, 3).expand(3)
    with pytest.raises(RuntimeError, match=r"expand: the number of sizes \(0\)"):
        tg.zeros(2).expand(())
    # as many sizes as dims is fine
    assert tg.zeros(1, 3).expand(2, 3).shape == (2, 3)


def test_assigning_a_list_that_holds_no_numbers_is_refused():
    t = tg.zeros(2, 2)
    with pytest.raises(TypeError, match=r"assigning into a tensor of shape \(2, 2\): the value must be a number, "
                                        r"a tensor or a list or array of numbers, got list"):
        t[0] = [1, "a"]
    with pytest.raises(TypeError, match="got dict"):
        t[0] = {"a": 1}
    np.testing.assert_array_equal(t.numpy(), np.zeros((2, 2)))  # left as it was


def test_assigning_a_float_tensor_that_requires_grad_into_an_int_tensor_truncates_without_grad():
    # PyTorch: the values are cast (toward zero) and the integer tensor does not require grad
    t = tg.zeros(3, dtype=tg.int64)
    v = f64([1.5, 2.5, -3.5], requires_grad=True)
    t[:] = v
    assert t.tolist() == [1, 2, -3]
    assert t.dtype == tg.int64 and not t.requires_grad


def test_indices_of_a_wrong_kind_are_refused_naming_what_was_given():
    x = tg.zeros(3)
    with pytest.raises(IndexError, match="tensors used as indices must be integer or bool, got float32"):
        x[tg.tensor([0.0])]
    with pytest.raises(IndexError, match=r"lists used as indices must hold ints or bools, got \[\[0, 1\], \[2\]\]"):
        x[[[0, 1], [2]]]  # ragged: no array at all
    with pytest.raises(IndexError, match="lists and arrays used as indices must hold ints or bools, got float64"):
        x[[0.5, 1.0]]  # (PyTorch's legacy reading of a list as a tuple of indices lets this one through)


def test_an_out_of_range_tensor_index_is_described_by_its_dtype_and_shape():
    with pytest.raises(IndexError, match=r"indexing a tensor of shape \(3,\) with a int64 tensor of shape \(1,\) "
                                         r"\(Tensor\): index 5 is out of bounds"):
        tg.zeros(3)[tg.tensor([5])]


def test_cat_of_an_empty_list_is_refused():
    with pytest.raises(ValueError, match="cat: expected a non-empty sequence of tensors"):
        tg.cat([])


# ================================================================== ops/shaping.py

def test_split_takes_a_0d_integer_tensor_as_the_size():
    parts = tg.split(tg.arange(6), tg.tensor(4))
    assert [p.tolist() for p in parts] == [[0, 1, 2, 3], [4, 5]]


def test_split_refuses_size_0_a_0d_tensor_and_tensor_split_a_0d_tensor():
    with pytest.raises(RuntimeError, match="split: split_size 0 cannot split dim 0 of size 6"):
        tg.split(tg.arange(6), 0)
    with pytest.raises(RuntimeError, match="split: cannot split a 0-d tensor"):
        tg.split(tg.tensor(1.0), 1)
    with pytest.raises(RuntimeError, match="tensor_split: cannot split a 0-d tensor"):
        tg.tensor_split(tg.tensor(1.0), 1)


def test_tensor_split_refuses_a_float_or_2d_tensor_of_indices():
    # PyTorch raises RuntimeError for both
    with pytest.raises(TypeError, match="tensor_split: a tensor of indices_or_sections must be 0-d or 1-d int64, "
                                        "got 1-d float32"):
        tg.tensor_split(tg.arange(6), tg.tensor([1.0, 2.0]))
    with pytest.raises(TypeError, match="got 2-d int64"):
        tg.tensor_split(tg.arange(6), tg.tensor([[1, 2]]))


def test_hsplit_vsplit_dsplit_refuse_bad_inputs_naming_the_op():
    with pytest.raises(RuntimeError, match=r"vsplit: expected a tensor of at least 2 dims, got 1 \(shape \(4,\)\)"):
        tg.vsplit(tg.arange(4.0), 2)
    with pytest.raises(RuntimeError, match=r"hsplit: expected a tensor of at least 1 dims, got 0"):
        tg.hsplit(tg.tensor(1.0), 1)
    with pytest.raises(TypeError, match="hsplit: indices_or_sections must be an int or a list of ints, got float"):
        tg.hsplit(tg.arange(4.0), 2.0)
    with pytest.raises(RuntimeError, match="hsplit: 3 sections do not divide dim 0 of size 4 evenly"):
        tg.hsplit(tg.arange(4.0), 3)
    with pytest.raises(RuntimeError, match="dsplit: 0 sections do not divide dim 2 of size 4 evenly"):
        tg.dsplit(tg.zeros(1, 2, 4), 0)


def test_movedim_and_unflatten_refuse_mismatched_or_empty_arguments():
    with pytest.raises(RuntimeError, match="movedim: source and destination must name as many dims, got 2 and 1"):
        tg.movedim(tg.zeros(2, 3), (0, 1), (1,))
    with pytest.raises(RuntimeError, match="unflatten: cannot unflatten a 0-d tensor"):
        tg.unflatten(tg.tensor(1.0), 0, (1,))
    with pytest.raises(RuntimeError, match="unflatten: sizes must be non-empty"):
        tg.unflatten(tg.zeros(4), 0, ())
    # a bare int is refused, as PyTorch refuses it; a list, tuple or Size of one size is taken
    with pytest.raises(TypeError, match=r"unflatten: sizes must be a tuple or list of ints, got int \(4\); "
                                        r"for one size write \(4,\)"):
        tg.zeros(4, 2).unflatten(0, 4)
    for one in ((4,), [4], tg.Size([4]), [-1]):
        assert tg.zeros(4, 2).unflatten(0, one).shape == (4, 2)


def test_stacking_functions_refuse_non_tensors_and_empty_lists():
    with pytest.raises(TypeError, match="atleast_1d: element 1 is a int, expected a Tensor"):
        tg.atleast_1d([tg.zeros(1), 3])
    with pytest.raises(TypeError, match="hstack: element 1 is a int, expected a Tensor"):
        tg.hstack([tg.zeros(1), 3])
    for fn in (tg.hstack, tg.vstack):
        with pytest.raises(RuntimeError, match=f"{fn.__name__}: expected a non-empty sequence of tensors"):
            fn([])


def test_repeat_refuses_a_negative_count():
    with pytest.raises(RuntimeError, match=r"repeat: repeats must be >= 0, got \(2, -1\)"):
        tg.zeros(2).repeat(2, -1)


def test_repeat_interleave_refuses_bad_repeats_and_a_wrong_output_size():
    # PyTorch: NotImplementedError for float repeats, RuntimeError for 2-d ones
    with pytest.raises(TypeError, match="repeat_interleave: repeats must be an int or a 0-d or 1-d integer tensor, "
                                        "got 1-d float32"):
        tg.repeat_interleave(tg.arange(3), tg.tensor([1.0, 2.0, 3.0]))
    with pytest.raises(RuntimeError, match="repeat_interleave: output_size 5 does not match the repeated size 6"):
        tg.repeat_interleave(tg.arange(3), 2, output_size=5)
    assert tg.repeat_interleave(tg.arange(3), 2, output_size=6).tolist() == [0, 0, 1, 1, 2, 2]


def test_repeat_interleave_with_repeats_alone():
    # each index i repeated repeats[i] times
    assert tg.repeat_interleave(tg.tensor([1, 0, 2])).tolist() == [0, 2, 2]
    # PyTorch: RuntimeError for a 2-d tensor
    with pytest.raises(TypeError, match="repeat_interleave: alone, repeats must be a 1-d integer tensor, "
                                        "got 2-d int64"):
        tg.repeat_interleave(tg.tensor([[1, 2]]))


def test_broadcast_shapes_refuses_a_negative_size():
    # PyTorch raises ValueError here
    with pytest.raises(RuntimeError, match=r"broadcast_shapes: sizes must be >= 0, got \(2, -1\)"):
        tg.broadcast_shapes((2, -1))


def test_meshgrid_and_cartesian_prod_refuse_bad_tensors():
    with pytest.raises(RuntimeError, match="meshgrid: expected at least one tensor"):
        tg.meshgrid(indexing="ij")
    with pytest.raises(RuntimeError, match="meshgrid: expected tensors of one dtype and device, got float32 on cpu "
                                           r"and float64 on cpu \(tensor 1\)"):
        tg.meshgrid(tg.zeros(2), tg.zeros(2, dtype=tg.float64), indexing="ij")
    with pytest.raises(RuntimeError, match=r"cartesian_prod: expected 1-d tensors, got tensor 1 of shape \(2, 2\)"):
        tg.cartesian_prod(tg.zeros(2), tg.zeros(2, 2))


# ================================================================== creation.py

def test_from_numpy_refuses_what_is_no_numeric_array():
    with pytest.raises(TypeError, match="from_numpy: expected a numeric NumPy array, got list"):
        tg.from_numpy([1, 2])
    with pytest.raises(TypeError, match="from_numpy: expected a numeric NumPy array, got ndarray of dtype object"):
        tg.from_numpy(np.array([None]))


def test_creation_refuses_negative_sizes_and_integer_tensors_that_require_grad():
    # PyTorch raises RuntimeError for the negative size
    with pytest.raises(ValueError, match=r"zeros: sizes must be >= 0, got \(2, -1\)"):
        tg.zeros(2, -1)
    with pytest.raises(RuntimeError, match="zeros: only floating point tensors can require gradients, got int64"):
        tg.zeros(2, dtype=tg.int64, requires_grad=True)


def test_full_reads_a_0d_tensor_as_its_number_and_refuses_a_1d_one():
    out = tg.full((2,), tg.tensor(3))
    assert out.dtype == tg.int64 and out.tolist() == [3, 3]
    # PyTorch raises TypeError here
    with pytest.raises(RuntimeError, match=r"full: fill_value must be a number or a 0-d tensor, got a tensor of "
                                           r"shape \(2,\)"):
        tg.full((2,), tg.tensor([1.0, 2.0]))


def test_random_creation_refuses_bounds_that_are_no_ints():
    with pytest.raises(TypeError, match="randint: high must be an int, got float 2.5"):
        tg.randint(0, 2.5, (2,))
    with pytest.raises(TypeError, match="randint: low must be an int, got bool True"):
        tg.randint(True, 3, (2,))
    # PyTorch: RuntimeError for -1, TypeError for 2.0
    for n in (-1, 2.0):
        with pytest.raises(ValueError, match=rf"randperm: n must be a non-negative int, got {n!r}"):
            tg.randperm(n)


def test_range_with_one_argument_counts_from_0_to_it_inclusive():
    # (torch.range requires end; tinygrad_bn's start defaults to 0, so one number is the end)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        out = tg.range(3)
    assert out.dtype == tg.float32
    assert out.tolist() == [0.0, 1.0, 2.0, 3.0]


# ================================================================== tensor_methods.py

def test_clamp_refuses_no_bounds_at_all():
    # PyTorch raises RuntimeError here
    for fn in (lambda x: x.clamp(), lambda x: x.clip()):
        with pytest.raises(ValueError, match=r"clamp \(clip\): at least one of min and max must be given, got "
                                             "min=None and max=None"):
            fn(tg.zeros(2))


def test_maximum_and_minimum_methods_are_elementwise():
    a, b = f64([1.0, 5.0, -2.0], requires_grad=True), f64([3.0, 2.0, -2.5], requires_grad=True)
    np.testing.assert_array_equal(a.maximum(b).detach().numpy(), [3.0, 5.0, -2.0])
    np.testing.assert_array_equal(a.minimum(b).detach().numpy(), [1.0, 2.0, -2.5])
    assert gradcheck(lambda x, y: x.maximum(y), (a, b))
    assert gradcheck(lambda x, y: x.minimum(y), (a, b))
    # an int tensor with a float one: float32, as PyTorch promotes
    assert tg.tensor([1, 5]).maximum(tg.tensor([3.0, 2.0])).dtype == tg.float32


def test_mean_of_an_integer_tensor_is_refused():
    with pytest.raises(RuntimeError, match="mean: expected a floating point tensor, got int64"):
        tg.tensor([1, 2]).mean()
    with pytest.raises(RuntimeError, match="mean: expected a floating point tensor, got int64"):
        tg.tensor([1, 2]).mean(0)


@pytest.mark.parametrize("method", ["var", "std"])
def test_var_and_std_take_unbiased_as_pytorchs_older_keyword(method):
    # data 1, 2, 4: squared deviations sum to 14/3; biased: / 3, unbiased: / 2
    x = f64([1.0, 2.0, 4.0])
    root = np.sqrt if method == "std" else (lambda v: v)
    np.testing.assert_allclose(getattr(x, method)(unbiased=False).item(), root(14 / 9), rtol=1e-12)
    np.testing.assert_allclose(getattr(x, method)(unbiased=True).item(), root(7 / 3), rtol=1e-12)
    rows = f64([[1.0, 2.0, 4.0], [0.0, 0.0, 3.0]])
    np.testing.assert_allclose(getattr(rows, method)(1, unbiased=False).numpy(),
                               root(np.var(rows.numpy(), axis=1)), rtol=1e-12)
    assert gradcheck(lambda a: getattr(a, method)(1, unbiased=False), (f64(rows.numpy(), requires_grad=True),))


def test_abs_builtin_on_a_tensor():
    out = abs(tg.tensor([-1, 2, -3]))
    assert out.dtype == tg.int64 and out.tolist() == [1, 2, 3]


def test_max_and_min_with_other_refuse_it_twice_or_a_non_tensor():
    with pytest.raises(TypeError, match=r"max: got other twice \(as dim=Tensor and other=\)"):
        tg.zeros(2).max(tg.zeros(2), other=tg.zeros(2))
    with pytest.raises(TypeError, match=r"min: got other twice \(as dim=int and other=\)"):
        tg.zeros(2).min(0, other=tg.zeros(2))
    with pytest.raises(TypeError, match=r"max: other must be a tensor \(for a dim pass dim=\), got int"):
        tg.zeros(2).max(other=3)


# ================================================================== tensor_math.py / tensor_arithmetic.py / reductions

def test_index_put_refuses_indices_that_are_no_tuple():
    with pytest.raises(TypeError, match="index_put: indices must be a tuple of index tensors, got Tensor"):
        tg.zeros(3).index_put(tg.tensor([0]), tg.tensor(1.0))
    # a list of index tensors is taken, as in PyTorch
    assert tg.zeros(3).index_put([tg.tensor([0])], tg.tensor(1.0)).tolist() == [1.0, 0.0, 0.0]


def test_fill_diagonal_refuses_1d_and_unequal_sides():
    with pytest.raises(RuntimeError, match=r"fill_diagonal_: expected a 2-d tensor or one with all sides equal, got "
                                           r"shape \(3,\)"):
        tg.zeros(3).fill_diagonal_(1.0)
    with pytest.raises(RuntimeError, match=r"got shape \(2, 2, 3\)"):
        tg.zeros(2, 2, 3).fill_diagonal_(1.0)


def test_fill_diagonal_on_a_tensor_in_the_graph_stops_the_gradient_on_the_diagonal():
    # PyTorch: y = 2x with its diagonal overwritten by 7; d(sum(w * y))/dx is 2w off the diagonal, 0 on it
    w = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    x = f64(w, requires_grad=True)
    y = x * 2
    y.fill_diagonal_(7.0)
    np.testing.assert_array_equal(y.detach().numpy(), [[7.0, 4.0, 6.0], [8.0, 7.0, 12.0]])
    (y * f64(w)).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[0.0, 4.0, 6.0], [8.0, 0.0, 12.0]])


def test_polygamma_and_mvlgamma_refuse_orders_out_of_range():
    # PyTorch raises RuntimeError for both
    with pytest.raises(ValueError, match="polygamma: n must be an int >= 0, got -1"):
        tg.polygamma(-1, tg.ones(2))
    with pytest.raises(ValueError, match="mvlgamma: p must be an int >= 1, got 0"):
        tg.mvlgamma(tg.ones(2) * 3, 0)


def test_positive_returns_its_input_and_refuses_bool():
    x = tg.tensor([1, -2])
    assert x.positive().tolist() == [1, -2] and x.positive().dtype == tg.int64
    # PyTorch raises RuntimeError here
    with pytest.raises(TypeError, match="positive: not defined for bool tensors"):
        tg.tensor([True]).positive()


def test_nan_to_num_of_an_integer_tensor_is_a_copy():
    x = tg.tensor([1, 2])
    out = x.nan_to_num()
    assert out.dtype == tg.int64 and out.tolist() == [1, 2]
    out[0] = 5  # a copy: the input keeps its values
    assert x.tolist() == [1, 2]


def test_frexp_of_an_integer_tensor_is_refused():
    with pytest.raises(RuntimeError, match="frexp: expected a floating point tensor, got int64"):
        tg.frexp(tg.tensor([1, 2]))


def test_conj_and_real_of_a_real_tensor_are_the_tensor_itself():
    x = tg.tensor([1.0, -2.0])
    assert x.conj() is x  # as PyTorch, for a real tensor
    assert x.real is x
    assert x.resolve_conj().tolist() == [1.0, -2.0]


def test_clamp_min_and_clamp_max():
    x = f64([1.0, 5.0, 2.0], requires_grad=True)
    assert x.clamp_min(2.5).tolist() == [2.5, 5.0, 2.5]
    assert x.clamp_max(2.5).tolist() == [1.0, 2.5, 2.0]
    assert gradcheck(lambda a: a.clamp_min(2.5) + a.clamp_max(2.5), (x,))


def test_nanmean_of_an_integer_tensor_is_refused():
    with pytest.raises(RuntimeError, match="nanmean: expected a floating point tensor, got int64"):
        tg.tensor([1, 2]).nanmean()


def test_std_gradient_with_one_element_per_slice_is_nan():
    # correction 1 over one element: no degrees of freedom; PyTorch's gradient is NaN everywhere
    x = tg.zeros(3, 1, dtype=tg.float64, requires_grad=True)
    x.std(1).sum().backward()
    assert x.grad.shape == (3, 1) and np.isnan(x.grad.numpy()).all()


# ================================================================== tensor_indexing.py

def test_where_refuses_one_of_input_and_other_missing():
    with pytest.raises(TypeError, match="where: expected where\\(condition\\) or where\\(condition, input, other\\), "
                                        "got other=None"):
        tg.where(tg.tensor([True]), tg.zeros(1))
    with pytest.raises(TypeError, match="got input=None"):
        tg.where(tg.tensor([True]), None, tg.zeros(1))


def test_where_refuses_a_condition_that_is_no_bools():
    with pytest.raises(TypeError, match="where: condition must be a bool tensor \\(or bools\\), got dict"):
        tg.where({}, tg.zeros(2), tg.ones(2))
    # a list of bools is taken as the condition (PyTorch asks for a tensor)
    assert tg.where([True, False], tg.zeros(2), tg.ones(2)).tolist() == [0.0, 1.0]


# ================================================================== tensor.py

def test_repr_names_a_device_other_than_cpu(alt_device):
    assert repr(tg.tensor([1.0, 2.0], device="alt")) == "tensor([1., 2.], device='alt')"
    assert repr(tg.tensor([1.0], dtype=tg.float64, device="alt")) == "tensor([1.], dtype=float64, device='alt')"
    assert "device" not in repr(tg.tensor([1.0, 2.0]))


@pytest.mark.skipif(np.dtype(np.longdouble).itemsize <= 8, reason="long double is float64 on this platform")
def test_type_name_is_refused_for_a_dtype_pytorch_has_no_tensor_type_for():
    x = tg.tensor(np.zeros(2, dtype=np.longdouble))
    with pytest.raises(TypeError, match=f"type: PyTorch has no tensor type name for dtype {x.dtype}"):
        x.type()
    # the dtypes PyTorch names
    assert tg.tensor([1.0]).type() == "torch.FloatTensor" and tg.tensor([True]).type() == "torch.BoolTensor"


def test_the_unsigned_types_have_pytorchs_names_both_ways():
    for bits in (16, 32, 64):
        x = tg.tensor(np.array([1, 2], dtype=f"uint{bits}"))
        assert x.type() == f"torch.UInt{bits}Tensor"
        assert tg.tensor([1.0, 2.0]).type(f"torch.UInt{bits}Tensor").dtype == np.dtype(f"uint{bits}")
    assert tg.tensor(np.array([1], dtype=np.uint8)).type() == "torch.ByteTensor"


def test_to_another_tensor_takes_its_dtype_and_device(alt_device):
    other = tg.zeros(1, dtype=tg.float64, device="alt")
    out = tg.tensor([1.5, 2.5]).to(other)
    assert out.dtype == tg.float64 and out.device == "alt"
    assert out.cpu().tolist() == [1.5, 2.5]


def test_to_a_dtype_name_string_is_a_cast_not_a_device():
    # (PyTorch refuses "float64" as a device string; tinygrad_bn reads a dtype name as the dtype)
    out = tg.tensor([1.5, 2.5]).to("float64")
    assert out.dtype == tg.float64 and out.device == "cpu"


def test_detach_in_place_is_refused_on_a_view():
    x = tg.zeros(4, requires_grad=True)
    view = x[:2]
    with pytest.raises(RuntimeError, match="detach_: cannot detach a view of another tensor in place"):
        view.detach_()


def test_retain_grad_on_leaves():
    with pytest.raises(RuntimeError, match="retain_grad\\(\\): the tensor does not require grad"):
        tg.zeros(2).retain_grad()
    # a leaf that requires grad keeps its .grad anyway: a no-op that returns None
    x = tg.ones(2, requires_grad=True)
    assert x.retain_grad() is None
    (x * 3).sum().backward()
    assert x.grad.tolist() == [3.0, 3.0]


def test_register_hook_is_refused_on_a_tensor_that_does_not_require_grad():
    with pytest.raises(RuntimeError, match="register_hook\\(\\): cannot register a hook on a tensor that does not "
                                           "require grad"):
        tg.zeros(2).register_hook(lambda g: g)


def test_type_as_and_reshape_as_refuse_a_non_tensor():
    with pytest.raises(TypeError, match="type_as: expected a Tensor, got list"):
        tg.zeros(2).type_as([1])
    with pytest.raises(TypeError, match="reshape_as: expected a Tensor, got int"):
        tg.zeros(2).reshape_as(3)


# ================================================================== tensor_inplace.py

def test_in_place_add_of_an_integer_into_a_bool_tensor_is_refused():
    with pytest.raises(RuntimeError, match="add_: the result is an integer and cannot be stored in place in a bool "
                                           "tensor"):
        tg.zeros(2, dtype=tg.bool_).add_(1)
    # a bool into an integer tensor is fine
    assert tg.zeros(2, dtype=tg.int64).add_(True).tolist() == [1, 1]


def test_fill_refuses_a_1d_value():
    with pytest.raises(RuntimeError, match=r"fill_: the value must be a number or a 0-d tensor, got shape \(2,\)"):
        tg.zeros(2).fill_(tg.tensor([1.0, 2.0]))


def test_in_place_ops_refuse_a_ragged_list():
    with pytest.raises(TypeError, match="add_: the operand must be a tensor, a number or a list or array of "
                                        "numbers, got list"):
        tg.zeros(2).add_([[1.0], [1.0, 2.0]])


# ================================================================== ops/gather_scatter.py

def test_scatter_refuses_src_and_value_together_and_neither():
    with pytest.raises(TypeError, match="scatter: pass src or value, not both"):
        tg.zeros(3).scatter(0, tg.tensor([0]), src=tg.ones(1), value=2.0)
    with pytest.raises(TypeError, match="scatter: expected src \\(a tensor\\) or value \\(a number\\)"):
        tg.zeros(3).scatter(0, tg.tensor([0]))


def test_scatter_with_reduce_add_sums_repeated_indices():
    index = tg.tensor([0, 0, 2])
    assert tg.zeros(3).scatter(0, index, tg.tensor([1.0, -2.0, 4.0]), reduce="add").tolist() == [-1.0, 0.0, 4.0]
    # a 0-d tensor value: added once per index, as a number would be
    assert tg.zeros(3).scatter(0, index, value=tg.tensor(2.0), reduce="add").tolist() == [4.0, 0.0, 2.0]
    assert tg.zeros(3).scatter(0, index, value=2.0, reduce="add").tolist() == [4.0, 0.0, 2.0]
    src = f64([1.0, 2.0, 4.0], requires_grad=True)
    assert gradcheck(lambda s: tg.zeros(3, dtype=tg.float64).scatter(0, index, s, reduce="add"), (src,))


def test_index_add_refuses_a_source_on_another_device(alt_device):
    with pytest.raises(RuntimeError, match="index_add: expected all tensors on the same device, got cpu and alt "
                                           "\\(the input and source\\)"):
        tg.zeros(3).index_add(0, tg.tensor([0]), tg.tensor([1.0], device="alt"))


# ================================================================== ops/sorting.py / ops/scan.py / ops/reduce.py

def test_topk_takes_a_0d_integer_tensor_as_k():
    values, indices = tg.topk(tg.tensor([3.0, 1.0, 2.0]), tg.tensor(2))
    assert values.tolist() == [3.0, 2.0] and indices.tolist() == [0, 2]


def test_quantile_of_a_0d_tensor_with_several_qs_is_1d():
    out = tg.quantile(tg.tensor(2.0), tg.tensor([0.25, 0.5]))
    assert out.shape == (2,) and out.tolist() == [2.0, 2.0]
    assert tg.quantile(tg.tensor(2.0), tg.tensor([0.25, 0.5]), keepdim=True).shape == (2,)


def test_quantile_refuses_bad_q_and_an_empty_dim():
    # PyTorch raises RuntimeError for both q tensors
    with pytest.raises(TypeError, match="quantile: q must be a number or a 0-d or 1-d floating point tensor, got "
                                        "1-d int64"):
        tg.quantile(tg.tensor([1.0, 2.0]), tg.tensor([0, 1]))
    with pytest.raises(TypeError, match="got 2-d float32"):
        tg.quantile(tg.tensor([1.0, 2.0]), tg.tensor([[0.5]]))
    with pytest.raises(RuntimeError, match=r"quantile: the input must be non-empty along the reduced dim, got shape "
                                           r"\(2, 0\)"):
        tg.quantile(tg.zeros(2, 0), 0.5, dim=1)


def test_quantile_refuses_q_on_another_device(alt_device):
    with pytest.raises(RuntimeError, match="quantile: q is on alt and the input on cpu"):
        tg.quantile(tg.tensor([1.0, 2.0]), tg.tensor(0.5, device="alt"))


def test_diff_refuses_a_prepend_that_is_no_tensor():
    with pytest.raises(TypeError, match="diff: prepend must be a Tensor, got list"):
        tg.diff(tg.tensor([1.0, 2.0]), prepend=[0.0])


# ================================================================== ops/products.py / ops/linalg.py

def test_tensordot_takes_a_tensor_as_dims():
    a, b = tg.arange(6.0).reshape(2, 3), tg.arange(6.0).reshape(3, 2)
    out = tg.tensordot(a, b, tg.tensor(1))
    np.testing.assert_array_equal(out.numpy(), np.tensordot(a.numpy(), b.numpy(), 1))


def test_tensordot_refuses_bad_dims_and_dtypes():
    with pytest.raises(RuntimeError, match="tensordot: expected both tensors to have the same dtype, got float32 and "
                                           "float64"):
        tg.tensordot(tg.zeros(2, 2), tg.zeros(2, 2, dtype=tg.float64))
    with pytest.raises(RuntimeError, match=r"tensordot: dims must be in \[0, 2\] for shapes \(2, 2\) and \(2, 2\), "
                                           "got 3"):
        tg.tensordot(tg.zeros(2, 2), tg.zeros(2, 2), 3)
    with pytest.raises(RuntimeError, match=r"tensordot: expected as many dims of a as of b, got \[0, 1\] and \[0\]"):
        tg.tensordot(tg.zeros(2, 2), tg.zeros(2, 2), ([0, 1], [0]))
    # PyTorch raises RuntimeError here
    with pytest.raises(TypeError, match="tensordot: dims must be an int or a pair of lists of dims, got 'a'"):
        tg.tensordot(tg.zeros(2, 2), tg.zeros(2, 2), "a")
    with pytest.raises(RuntimeError, match="tensordot: contracted dims differ in size: a's dim 1 is 3, b's dim 0 is 2"):
        tg.tensordot(tg.zeros(2, 3), tg.zeros(2, 2), ([1], [0]))


def test_cdist_and_matmul_refuse_too_few_dims():
    with pytest.raises(RuntimeError, match=r"cdist: expected x1 and x2 of at least 2 dims, got shapes \(3,\) and "
                                           r"\(2, 3\)"):
        tg.cdist(tg.zeros(3), tg.zeros(2, 3))
    with pytest.raises(RuntimeError, match=r"matmul: both operands need at least 1 dimension, got shapes \(\) and "
                                           r"\(2,\)"):
        tg.matmul(tg.tensor(1.0), tg.zeros(2))


def test_einsum_refuses_bad_equations_and_operands():
    # PyTorch raises RuntimeError for the first three
    with pytest.raises(ValueError, match="einsum: subscript 'i.j' of operand 0 has a stray '.' or two ellipses"):
        tg.einsum("i.j", tg.zeros(2, 2))
    with pytest.raises(ValueError, match=r"einsum: subscript '\.\.\.i\.\.\.' of operand 0"):
        tg.einsum("...i...", tg.zeros(2, 2))
    with pytest.raises(ValueError, match="einsum: subscripts must be letters a-z, A-Z .*got '1' in 'i1'"):
        tg.einsum("i1", tg.zeros(2, 2))
    with pytest.raises(TypeError, match="einsum: the equation must be a str, got int"):
        tg.einsum(3, tg.zeros(2, 2))
    with pytest.raises(ValueError, match="einsum: expected at least one operand"):
        tg.einsum("i")
    with pytest.raises(TypeError, match="einsum: operand 1 is a list, expected a Tensor"):
        tg.einsum("i,i", tg.zeros(2), [1.0, 2.0])


# ================================================================== ops/masks_slices.py / ops/index_args.py

def test_mask_ops_refuse_a_mask_that_is_no_tensor():
    with pytest.raises(TypeError, match="masked_fill: mask must be a bool Tensor, got list"):
        tg.masked_fill(tg.zeros(2), [True, False], 1.0)


def test_mask_and_scatter_ops_refuse_tensors_on_another_device(alt_device):
    def alt(values):
        return tg.tensor(values, device="alt")
    with pytest.raises(RuntimeError, match="masked_fill: expected all tensors on the same device, got cpu and alt "
                                           r"\(the input and the mask\)"):
        tg.zeros(2).masked_fill(alt([True, False]), 1.0)
    with pytest.raises(RuntimeError, match=r"masked_fill: .*got cpu and alt \(the input and the value\)"):
        tg.zeros(2).masked_fill(tg.tensor([True, False]), alt(1.0))
    with pytest.raises(RuntimeError, match=r"masked_scatter: .*got cpu and alt \(the input and source\)"):
        tg.zeros(2).masked_scatter(tg.tensor([True, False]), alt([1.0, 2.0]))
    with pytest.raises(RuntimeError, match=r"select_scatter: .*got cpu and alt \(the input and src\)"):
        tg.select_scatter(tg.zeros(2, 2), alt([1.0, 2.0]), 0, 0)
    with pytest.raises(RuntimeError, match=r"gather: .*got cpu and alt \(the input and index\)"):
        tg.zeros(3).gather(0, alt([0]))


def test_select_and_the_scatter_family_refuse_0d_inputs_and_bad_positions():
    with pytest.raises(IndexError, match="select: cannot select from a 0-d tensor"):
        tg.select(tg.tensor(1.0), 0, 0)
    with pytest.raises(IndexError, match="select_scatter: cannot select from a 0-d tensor"):
        tg.select_scatter(tg.tensor(1.0), tg.tensor(2.0), 0, 0)
    with pytest.raises(IndexError, match="slice_scatter: cannot slice a 0-d tensor"):
        tg.slice_scatter(tg.tensor(1.0), tg.tensor(2.0), 0)
    with pytest.raises(IndexError, match=r"select: index 3 is out of range for dim 1 of size 3; expected \[-3, 3\)"):
        tg.select(tg.zeros(2, 3), 1, 3)
    with pytest.raises(RuntimeError, match=r"select_scatter: src must have the shape of the places it fills, "
                                           r"\(3,\), got \(2,\)"):
        tg.select_scatter(tg.zeros(2, 3), tg.ones(2), 0, 0)
    # PyTorch raises RuntimeError here
    with pytest.raises(ValueError, match="slice_scatter: step must be >= 1, got 0"):
        tg.slice_scatter(tg.zeros(4), tg.ones(2), 0, 0, 4, 0)


def test_fill_values_that_are_no_numbers_or_too_large_are_refused():
    with pytest.raises(TypeError, match="roll: shifts must be an int or a tuple of ints, got str 'a'"):
        tg.roll(tg.zeros(3), "a", 0)
    with pytest.raises(TypeError, match="masked_fill: the value must be a number or a 0-d tensor, got str 'a'"):
        tg.zeros(2).masked_fill(tg.tensor([True, False]), "a")
    # an int past float64's range: PyTorch raises OverflowError ("int too big to convert")
    with pytest.raises(RuntimeError, match="fill_: a 401-digit int does not fit in float64, which holds up to "
                                           "1.8e308"):
        tg.zeros(2, dtype=tg.float64).fill_(10 ** 400)


# ================================================================== ops/flips_diagonals.py / elementwise / dtypes

def test_flips_rolls_and_rotations_refuse_bad_dims():
    with pytest.raises(RuntimeError, match="flipud: expected a tensor of at least 1 dim, got a 0-d tensor"):
        tg.flipud(tg.tensor(1.0))
    with pytest.raises(RuntimeError, match=r"roll: without dims, expected one shift, got 2 \(\(1, 1\)\)"):
        tg.roll(tg.zeros(2, 2), (1, 1))
    # one shift per dim, more of either refused (zip would drop the extra ones)
    for shifts, dims in (((1, 1), (0,)), ((1,), (0, 1))):
        with pytest.raises(RuntimeError, match=rf"roll: expected as many shifts as dims, got {len(shifts)} shifts "
                                               rf"and {len(dims)} dims"):
            tg.roll(tg.zeros(2, 2), shifts, dims)
    with pytest.raises(RuntimeError, match=r"rot90: expected 2 dims, got 3 \(\(0, 1, 1\)\)"):
        tg.rot90(tg.zeros(2, 2), 1, (0, 1, 1))
    with pytest.raises(RuntimeError, match=r"rot90: expected a tensor of at least 2 dims, got 1 \(shape \(2,\)\)"):
        tg.rot90(tg.zeros(2), 1, (0, 1))


def test_diagonal_ops_refuse_too_few_dims_equal_dims_and_a_float_diagonal():
    # PyTorch raises IndexError for the 1-d input
    with pytest.raises(RuntimeError, match=r"diagonal: expected a tensor of at least 2 dims, got 1 \(shape \(2,\)\)"):
        tg.diagonal(tg.zeros(2))
    with pytest.raises(RuntimeError, match="diagonal: dim1 and dim2 must differ, got 1 and 1"):
        tg.diagonal(tg.zeros(2, 2), 0, 1, 1)
    with pytest.raises(RuntimeError, match="diag_embed: dim1 and dim2 must differ, got 1 and 1"):
        tg.diag_embed(tg.zeros(2, 2), 0, 1, 1)
    with pytest.raises(TypeError, match="diag: diagonal must be an int, got float 1.0"):
        tg.diag(tg.zeros(2), 1.0)


def test_gelu_refuses_an_unknown_approximation():
    # PyTorch raises RuntimeError here
    with pytest.raises(ValueError, match="gelu: approximate must be 'none' or 'tanh', got 'foo'"):
        F.gelu(tg.zeros(2), approximate="foo")


def test_finfo_iinfo_and_dtype_arguments_refuse_the_wrong_kind():
    with pytest.raises(TypeError, match="finfo: expected a floating point dtype, got int64"):
        tg.finfo(tg.int64)
    with pytest.raises(TypeError, match="iinfo: expected an integer dtype, got float32"):
        tg.iinfo(tg.float32)
    with pytest.raises(TypeError, match="zeros: expected a dtype, got list"):
        tg.zeros(2, dtype=[1])


# ================================================================== counting.py

def test_unique_and_bincount_refuse_bad_arguments():
    with pytest.raises(TypeError, match="bincount: minlength must be an int, got float 1.5"):
        tg.bincount(tg.tensor([1, 2]), minlength=1.5)
    with pytest.raises(TypeError, match="unique: dim must be an int or None, got str 'a'"):
        tg.unique(tg.tensor([3]), dim="a")
    for fn in (tg.unique, tg.unique_consecutive):
        with pytest.raises(IndexError, match=f"{fn.__name__}: dim 0 given for a 0-d tensor"):
            fn(tg.tensor(3), dim=0)
    with pytest.raises(RuntimeError, match=r"bincount: weights must have the input's shape \(2,\), got \(3,\)"):
        tg.bincount(tg.tensor([1, 2]), weights=tg.tensor([1.0, 2.0, 3.0]))


def test_counting_ops_refuse_tensors_on_another_device(alt_device):
    with pytest.raises(RuntimeError, match=r"bincount: .*got cpu and alt \(the input and weights\)"):
        tg.bincount(tg.tensor([0, 1]), weights=tg.tensor([1.0, 2.0], device="alt"))
    with pytest.raises(RuntimeError, match=r"searchsorted: .*got cpu and alt \(sorted_sequence and input\)"):
        tg.searchsorted(tg.tensor([1.0, 2.0]), tg.tensor([1.5], device="alt"))


def test_histograms_refuse_integer_inputs_and_bad_bins():
    # PyTorch raises NotImplementedError for the integer inputs, RuntimeError for -inf and the range
    with pytest.raises(TypeError, match="histc: the input must be floating point, got int64"):
        tg.histc(tg.tensor([1, 2]))
    with pytest.raises(TypeError, match="histc: min must be a finite number, got -inf"):
        tg.histc(tg.tensor([1.0, 2.0]), min=float("-inf"))
    with pytest.raises(TypeError, match="histogram: the input must be floating point, got int64"):
        tg.histogram(tg.tensor([1, 2]))
    with pytest.raises(RuntimeError, match=r"histogram: a tensor of bin edges must be 1-d floating point with at "
                                           r"least 2 edges, got shape \(1, 3\)"):
        tg.histogram(tg.tensor([1.0, 2.0]), tg.tensor([[0.0, 1.0, 2.0]]))
    # (PyTorch takes decreasing edges and returns counts that mean nothing)
    with pytest.raises(ValueError, match="histogram: bin edges must increase monotonically"):
        tg.histogram(tg.tensor([1.0, 2.0]), tg.tensor([0.0, 2.0, 1.0]))
    with pytest.raises(ValueError, match=r"histogram: range must be \(min, max\) with min <= max, got \(2.0, 1.0\)"):
        tg.histogram(tg.tensor([1.0, 2.0]), 3, range=(2.0, 1.0))
    with pytest.raises(RuntimeError, match=r"histogram: weight must have the input's shape \(2,\), got \(1,\)"):
        tg.histogram(tg.tensor([1.0, 2.0]), 3, weight=tg.tensor([1.0]))


def test_searchsorted_and_bucketize_refuse_bad_arguments():
    seq = tg.tensor([1.0, 2.0])
    with pytest.raises(RuntimeError, match="searchsorted: side='left' contradicts right=True"):
        tg.searchsorted(seq, tg.tensor([1.5]), side="left", right=True)
    with pytest.raises(TypeError, match="searchsorted: input must be a Tensor or a number, got str"):
        tg.searchsorted(seq, "a")
    with pytest.raises(RuntimeError, match=r"searchsorted: a number as input needs a 1-d sorted_sequence, got shape "
                                           r"\(1, 2\)"):
        tg.searchsorted(tg.tensor([[1.0, 2.0]]), 1.5)
    with pytest.raises(RuntimeError, match=r"searchsorted: sorter must be an integer tensor of sorted_sequence's shape "
                                           r"\(2,\), got float32"):
        tg.searchsorted(tg.tensor([2.0, 1.0]), tg.tensor([1.5]), sorter=tg.tensor([1.0, 0.0]))
    with pytest.raises(RuntimeError, match="searchsorted: sorted_sequence must have at least 1 dim, got a 0-d tensor"):
        tg.searchsorted(tg.tensor(2.0), tg.tensor([1.5]))
    with pytest.raises(TypeError, match="bucketize: input must be a Tensor or a number, got str"):
        tg.bucketize("a", seq)
    # a number as input gives a 0-d index
    out = tg.searchsorted(tg.tensor([1.0, 2.0, 3.0]), 2.5)
    assert out.shape == () and out.dtype == tg.int64 and out.item() == 2


def test_triangle_indices_and_unravel_index():
    # PyTorch raises NotImplementedError for a float dtype
    with pytest.raises(TypeError, match="tril_indices: dtype must be an integer dtype, got float32"):
        tg.tril_indices(3, 3, dtype=tg.float32)
    # an int as indices: one 0-d coordinate per dim (5 in a 2 x 3 tensor is row 1, column 2);
    # PyTorch's documentation allows an int, though its implementation fails on one
    row, col = tg.unravel_index(5, (2, 3))
    assert row.shape == () and col.shape == () and row.dtype == tg.int64
    assert (row.item(), col.item()) == (1, 2)
    with pytest.raises(TypeError, match="unravel_index: indices must be an integer tensor, got float32"):
        tg.unravel_index(tg.tensor([1.0]), (2, 3))


# ================================================================== sampling.py

def test_sampling_refuses_integer_inputs():
    # PyTorch raises NotImplementedError for both
    with pytest.raises(RuntimeError, match="bernoulli: expected a floating point tensor of probabilities, got int64"):
        tg.bernoulli(tg.tensor([1, 0]))
    with pytest.raises(RuntimeError, match="poisson: expected a floating point tensor of rates, got int64"):
        tg.poisson(tg.tensor([1, 0]))


def test_normal_refuses_arguments_that_do_not_fit_its_form():
    with pytest.raises(TypeError, match="normal: mean must be a tensor or a number, got str"):
        tg.normal("a", 1.0)
    with pytest.raises(TypeError, match="normal: size is only for a number mean and std"):
        tg.normal(tg.zeros(2), 1.0, size=(2,))
    with pytest.raises(TypeError, match="normal: dtype is only for a number mean and std"):
        tg.normal(tg.zeros(2), 1.0, dtype=tg.float64)


def test_normal_refuses_mean_and_std_on_two_devices(alt_device):
    with pytest.raises(RuntimeError, match=r"normal: mean and std are on different devices \(cpu and alt\)"):
        tg.normal(tg.zeros(2), tg.tensor([1.0, 1.0], device="alt"))


def test_in_place_random_fills_refuse_bad_arguments():
    # PyTorch raises RuntimeError here
    with pytest.raises(ValueError, match=r"geometric_: p must be in \(0, 1\], got 0"):
        tg.zeros(2).geometric_(0)
    with pytest.raises(TypeError, match="random_: to must be an int, got float 2.5"):
        tg.zeros(2).random_(0, 2.5)
    with pytest.raises(TypeError, match="random_: from must be an int, got float 0.5"):
        tg.zeros(2).random_(0.5, 3)
    # (PyTorch fills integer tensors too; tinygrad_bn says so and points to randint)
    with pytest.raises(RuntimeError, match="random_: tinygrad_bn fills floating point tensors only; this one is int64"):
        tg.zeros(2, dtype=tg.int64).random_(0, 5)


def test_transpose_takes_one_dim_each_and_refuses_a_tuple():
    # PyTorch's transpose(dim0, dim1) takes two ints; a tuple is refused, not read as its first dim
    x = tg.ones(2, 3, 4)
    assert x.transpose(0, 2).shape == (4, 3, 2) and x.transpose(-1, 0).shape == (4, 3, 2)
    for dims in (((0, 1), 2), (0, (2,)), ((0,), 1)):
        with pytest.raises(TypeError, match=r"transpose: dim must be an int, got \(.*\) \(dim0 and dim1 are one"):
            x.transpose(*dims)
        with pytest.raises(TypeError, match="transpose: dim must be an int"):
            tg.ones(3).transpose(*dims)  # on a vector too, where nothing is exchanged


def test_histc_without_min_and_max_bins_the_datas_range_as_pytorch():
    # torch.histc(torch.tensor([1., 2., 2., 5.]), bins=4) is [1, 2, 0, 1]: bins of 1 over [1, 5]
    x = tg.tensor([1.0, 2.0, 2.0, 5.0])
    for counts in (tg.histc(x, bins=4), x.histc(4), tg.histc(x, 4, 0, 0)):
        np.testing.assert_array_equal(counts.numpy(), [1.0, 2.0, 0.0, 1.0])
    np.testing.assert_array_equal(tg.histc(x, 2, min=0, max=4).numpy(), [1.0, 2.0])  # 5 is outside


@pytest.mark.parametrize("method", ["var", "std"])
def test_var_and_std_given_unbiased_twice_or_too_many_positions_say_exactly_what_they_got(method):
    """The message quotes the call: the extra positions, and the keyword unbiased
    only where the call gave one."""
    x = tg.tensor([[1.0, 2.0], [4.0, 8.0]])
    call = getattr(x, method)
    head = rf"^{method}: takes \(dim, unbiased, keepdim\) by position, and unbiased once; got dim=0 and "
    with pytest.raises(TypeError, match=head + r"\(True,\) with unbiased=False$"):
        call(0, True, unbiased=False)
    with pytest.raises(TypeError, match=head + r"\(True, False, 1\)$"):
        call(0, True, False, 1)
    with pytest.raises(TypeError, match=rf"^{method}: after unbiased=True nothing more goes by position, got \(0,\)$"):
        call(True, 0)
