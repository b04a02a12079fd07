"""The strategies take each argument they document and keep to it: the bounds given to
``shapes`` and ``broadcastable_shapes`` (0-size and 1-size dims, 0-d shapes included)
are each reached and never passed; ``arrays`` and ``tensors`` keep the dtype, the shape
(a tuple, a list or a strategy), the elements (which override the scale) and
requires_grad; ``normalization_inputs`` keeps the dtype, draws weight and bias in
[-2, 2], reaches max_side, and draws only valid parameters; and the refusals say which
function, which argument, what it got and what it accepts."""
import numpy as np
import pytest
from hypothesis import strategies as st
from reaching import reaches

from tinygrad_bn.testing import strategies as tst

KINDS = ["batch", "layer", "group", "instance"]


def drawn(strategy, n=100):
    """The first ``n`` examples of a derandomized search (the same every run)."""
    seen = []
    reaches(strategy, lambda x: seen.append(x) and False, max_examples=n)
    return seen


def test_shapes_reach_each_bound_given_and_nothing_past_it():
    s = tst.shapes(min_dims=0, max_dims=2, min_side=0, max_side=3)
    assert reaches(s, lambda sh: sh == ())
    assert reaches(s, lambda sh: len(sh) == 2)
    assert reaches(s, lambda sh: 0 in sh)
    assert reaches(s, lambda sh: 3 in sh)
    assert not reaches(s, lambda sh: len(sh) > 2 or any(n > 3 for n in sh))
    narrow = tst.shapes(min_dims=3, max_dims=3, min_side=2, max_side=2)
    assert not reaches(narrow, lambda sh: sh != (2, 2, 2))


def test_broadcastable_shapes_take_their_count_and_bounds():
    s = tst.broadcastable_shapes(num_shapes=3, min_dims=1, max_dims=2, min_side=2, max_side=3)
    assert not reaches(s, lambda shs: len(shs) != 3)
    assert not reaches(s, lambda shs: any(not 1 <= len(sh) <= 2 or any(n not in (2, 3) for n in sh) for sh in shs))
    assert reaches(s, lambda shs: any(len(sh) == 1 for sh in shs) and any(len(sh) == 2 for sh in shs))
    assert reaches(s, lambda shs: any(2 in sh for sh in shs)) and reaches(s, lambda shs: any(3 in sh for sh in shs))
    assert not reaches(s, lambda shs: not _broadcast(shs))
    ones = tst.broadcastable_shapes(num_shapes=2, min_dims=1, max_dims=1, min_side=1, max_side=4)
    assert reaches(ones, lambda shs: shs[0] == (1,) and shs[1] != (1,))  # broadcasting a 1 against more


def _broadcast(shapes):
    try:
        np.broadcast_shapes(*shapes)
        return True
    except ValueError:
        return False


@pytest.mark.parametrize("scale", ["well", "bad", "any"])
@pytest.mark.parametrize("dtype", [np.float32, np.float16])
def test_arrays_keep_their_dtype_at_each_scale(dtype, scale):
    assert not reaches(tst.arrays(dtype, (3,), scale=scale), lambda a: a.dtype != dtype, max_examples=50)


@pytest.mark.parametrize("shape", [(2, 0, 3), [4, 1], (), st.just((1, 5))], ids=["tuple", "list", "0-d", "strategy"])
def test_arrays_and_tensors_take_the_shape_as_given(shape):
    want = (1, 5) if isinstance(shape, st.SearchStrategy) else tuple(shape)
    assert not reaches(tst.arrays(shape=shape), lambda a: a.shape != want, max_examples=30)
    assert not reaches(tst.tensors(shape=shape), lambda t: t.shape != want, max_examples=30)


def test_arrays_draw_shapes_default_shapes_without_a_shape():
    """1 to 4 dims of sides 1 to 6, as ``shapes()``."""
    shapes = [a.shape for a in drawn(tst.arrays(), 150)]
    assert {len(sh) for sh in shapes} == {1, 2, 3, 4}
    assert {n for sh in shapes for n in sh} == {1, 2, 3, 4, 5, 6}


@pytest.mark.parametrize("scale", ["well", "bad", "any"])
def test_elements_override_the_scale(scale):
    a = tst.arrays(np.float32, (2, 3), elements=st.just(7.0), scale=scale)
    assert not reaches(a, lambda x: x.dtype != np.float32 or not (x == 7.0).all(), max_examples=30)
    t = tst.tensors(np.float32, (4,), elements=st.floats(-1, 1, width=32), scale=scale)
    assert not reaches(t, lambda x: np.abs(x.detach().numpy()).max() > 1, max_examples=50)


def test_badly_scaled_arrays_are_never_well_scaled_and_well_scaled_never_bad():
    assert min(np.abs(a).min() for a in drawn(tst.arrays(np.float64, (3,), scale="bad"))) >= 1e3 - 20
    assert max(np.abs(a).max() for a in drawn(tst.arrays(np.float64, (3,), scale="well"))) <= 2


def test_tensors_keep_dtype_requires_grad_and_scale():
    assert not reaches(tst.tensors(np.float32, (2,)), lambda t: t.dtype != np.float32, max_examples=30)
    plain = tst.tensors(shape=(2,), requires_grad=False)
    assert not reaches(plain, lambda t: t.requires_grad or not t.is_leaf, max_examples=30)
    bad = tst.tensors(shape=(3,), scale="bad")
    assert not reaches(bad, lambda t: np.abs(t.detach().numpy()).min() < 1e3 - 20, max_examples=50)


@pytest.mark.parametrize("kind", KINDS)
def test_normalization_inputs_keep_the_dtype_for_x_weight_and_bias(kind):
    s = tst.normalization_inputs(kind, dtype=np.float32, affine=True, max_side=3)
    assert not reaches(s, lambda c: {c.x.dtype, c.weight.dtype, c.bias.dtype} != {np.dtype(np.float32)},
                       max_examples=40)


@pytest.mark.parametrize("kind", KINDS)
def test_normalization_weight_and_bias_span_minus_two_to_two(kind):
    """Weights and biases reach past 1.2 on each side and never past 2 (each side searched
    for on its own, so the test does not hang on the order of one search's draws)."""
    strategy = tst.normalization_inputs(kind, scale="well", affine=True, max_side=3)
    for part in ("weight", "bias"):
        assert reaches(strategy, lambda c, part=part: getattr(c, part).max() > 1.2, max_examples=400)
        assert reaches(strategy, lambda c, part=part: getattr(c, part).min() < -1.2, max_examples=400)
        values = np.concatenate([getattr(c, part).ravel() for c in drawn(strategy, 80)])
        assert np.abs(values).max() <= 2


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("max_side", [3, 6])
def test_normalization_inputs_reach_max_side(kind, max_side):
    cases = drawn(tst.normalization_inputs(kind, scale="well", affine=False, max_side=max_side), 40)
    assert max(max(c.x.shape) for c in cases) == max_side


@pytest.mark.parametrize("kind", KINDS)
def test_normalization_inputs_draw_only_valid_parameters(kind):
    """eps is 1e-5 or 1e-3; a group count divides the channels; a layer's normalized shape is the
    trailing dims of x and never all of them (a batch dim stays); instance norm has 3 dims or more."""

    def invalid(c):
        p = c.params
        if p["eps"] not in (1e-5, 1e-3):
            return True
        if kind == "group":
            return c.x.shape[1] % p["num_groups"] != 0
        if kind == "layer":
            nd = len(p["normalized_shape"])
            return not 1 <= nd < c.x.ndim or tuple(c.x.shape[-nd:]) != p["normalized_shape"]
        if kind == "instance":
            return c.x.ndim < 3
        return c.x.shape[0] < 2

    assert not any(invalid(c) for c in drawn(tst.normalization_inputs(kind, affine=False, max_side=4), 100))


def test_a_layer_norm_reaches_every_trailing_length_up_to_all_but_the_batch_dim():
    cases = drawn(tst.normalization_inputs("layer", scale="well", affine=False, max_side=2), 100)
    seen = {(c.x.ndim, len(c.params["normalized_shape"])) for c in cases}
    assert seen == {(ndim, nd) for ndim in (2, 3, 4) for nd in range(1, ndim)}


@pytest.mark.parametrize("kind", KINDS)
def test_badly_scaled_normalization_inputs_are_always_on_an_offset(kind):
    """The smallest offset is 300 with a spread of at most 10 * 1.5: nothing within 280 of zero."""
    bad = drawn(tst.normalization_inputs(kind, scale="bad", affine=False, max_side=3), 60)
    assert min(np.abs(c.x).min() for c in bad) >= 280
    well = drawn(tst.normalization_inputs(kind, scale="well", affine=False, max_side=3), 60)
    assert max(np.abs(c.x).max() for c in well) <= 1.5


def test_the_refusals_name_the_function_the_argument_and_what_it_accepts():
    with pytest.raises(ValueError, match=r"^arrays: scale must be one of \('well', 'bad', 'any'\), got 'huge'"):
        drawn(tst.arrays(scale="huge"), 1)
    with pytest.raises(ValueError, match=r"^normalization_inputs: kind must be batch, layer, group or instance, "
                                         r"got 'weight'"):
        drawn(tst.normalization_inputs("weight"), 1)
    assert tst.SCALES == ("well", "bad", "any")
