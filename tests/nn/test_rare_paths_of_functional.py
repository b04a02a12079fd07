"""The less travelled paths of the functional ops and losses: F.pad's bounds
(pairs per dim, negative pads, circular widths, empty dims), alpha dropout in
place, F.linear's shape checks, dropout of integer inputs, batch and instance
norm without running statistics or with one spatial element, tensors on two
devices, pairwise_distance and bilinear at their smallest inputs, the loss
functions' shape, dtype and device checks, and allclose/equal on non-tensors.

Each refusal is checked for its exception class and for a message that names
the op and the value it refused; each bound is checked on both sides: the
largest accepted value gives the right numbers, the first refused one is
refused. A few behaviours where PyTorch computes a result and these ops refuse
are written as strict xfails with PyTorch's numbers."""
import math

import numpy as np
import pytest

import tinygrad_bn as tg
from tinygrad_bn import nn
from tinygrad_bn.nn import functional as F
from tinygrad_bn.testing import gradcheck


def t64(a, requires_grad=False):
    return tg.tensor(np.asarray(a, dtype=np.float64), requires_grad=requires_grad)


# ------------------------------------------------------------------ F.pad


def test_pad_takes_as_many_pairs_as_the_input_has_dims():
    # one pair on a 1-d input is the most it takes: the last dim padded
    x = tg.tensor([1.0, 2.0, 3.0])
    np.testing.assert_array_equal(F.pad(x, (1, 2)).numpy(), [0.0, 1.0, 2.0, 3.0, 0.0, 0.0])
    # two pairs on a 2-d input: (left, right) of the last dim, then of the first
    y = tg.tensor([[1.0, 2.0]])
    np.testing.assert_array_equal(F.pad(y, (1, 0, 0, 1), value=9.0).numpy(), [[9.0, 1.0, 2.0], [9.0, 9.0, 9.0]])


@pytest.mark.parametrize("mode", ["replicate", "reflect"])
@pytest.mark.parametrize("pads", [(0, -1), (-1, 0), (1, -2), (-2, 1), (2, -3)])
def test_an_indexed_pad_that_leaves_no_element_is_refused(mode, pads):
    """PyTorch: "input (W: 1) is too small. Calculated output W: 0" (or its padding-size
    error): a negative pad on either side that leaves nothing to index from."""
    with pytest.raises(ValueError, match=rf"pad: pads \({pads[0]}, {pads[1]}\) on dim 2 of size 1 crop more than the "
                                         rf"dim holds; .* with mode='{mode}' must leave an element"):
        F.pad(tg.ones(1, 1, 1), pads, mode=mode)


def test_pad_refuses_more_pairs_than_dims():
    # PyTorch raises RuntimeError("Padding length should be less than or equal to two times the input dimension")
    with pytest.raises(ValueError, match=r"pad: pad has 2 \(left, right\) pairs but the input only 1 dims "
                                         r"\(shape \(3,\)\)"):
        F.pad(tg.tensor([1.0, 2.0, 3.0]), (1, 1, 1, 1))
    with pytest.raises(ValueError, match=r"pad: pad has 3 \(left, right\) pairs but the input only 2 dims"):
        F.pad(tg.ones(2, 2), (0, 0, 0, 0, 1, 1))


@pytest.mark.parametrize("pads, want", [
    ((1, -2), [0.0, 0.0, 1.0, 2.0]),   # a zero in front, the last two cut off
    ((2, -1), [0.0, 0.0, 0.0, 1.0, 2.0, 3.0]),
    ((-1, -2), [1.0, 2.0]),            # cropped at both ends
    ((0, -5), []),                     # the whole dim cropped: the largest crop taken
])
def test_a_negative_right_pad_crops_the_end_as_pytorch(pads, want):
    out = F.pad(tg.arange(5.0), pads)
    assert out.shape == (len(want),)
    np.testing.assert_array_equal(out.numpy(), want)


def test_a_negative_right_pad_crops_in_the_dim_it_names():
    x = t64(np.arange(12.0).reshape(3, 4))
    # (0, -1) on the last dim, (1, -2) on the first: rows 0 and 1 kept, a zero row in front
    out = F.pad(x, (0, -1, 1, -2)).numpy()
    np.testing.assert_array_equal(out, [[0.0, 0.0, 0.0], [0.0, 1.0, 2.0]])


def test_the_gradient_of_a_cropping_pad_reaches_only_the_kept_elements():
    x = t64(np.arange(1.0, 6.0), requires_grad=True)
    (F.pad(x, (1, -2)) * t64([1.0, 2.0, 3.0, 4.0])).sum().backward()
    # kept x[0], x[1], x[2] at outputs 1, 2, 3; x[3], x[4] were cut off
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 3.0, 4.0, 0.0, 0.0])
    assert gradcheck(lambda t: F.pad(t, (2, -3)), (t64(np.random.default_rng(0).standard_normal((2, 5)),
                                                       requires_grad=True),))


@pytest.mark.parametrize("mode, want", [
    ("reflect", [1.0, 2.0, 3.0, 4.0, 3.0, 2.0]),
    ("replicate", [1.0, 2.0, 3.0, 4.0, 4.0, 4.0]),
    ("circular", [1.0, 2.0, 3.0, 4.0, 1.0, 2.0]),
])
def test_negative_pads_crop_in_every_mode_as_pytorch(mode, want):
    # torch.nn.functional.pad(torch.arange(5.)[None], (-1, 2), mode=mode) gives these
    out = F.pad(tg.arange(5.0).reshape(1, 5), (-1, 2), mode=mode)
    np.testing.assert_array_equal(out.numpy(), [want])


@pytest.mark.parametrize("mode, pads, want", [
    # reflect and replicate index the input as it is (PyTorch's kernels): a crop past the
    # other side's pad still reads the input's far elements
    ("reflect", (-3, 2), [3.0, 4.0, 3.0, 2.0]),
    ("reflect", (2, -3), [2.0, 1.0, 0.0, 1.0]),
    ("reflect", (-4, 3), [4.0, 3.0, 2.0, 1.0]),
    ("replicate", (-4, 3), [4.0, 4.0, 4.0, 4.0]),
    ("replicate", (6, -9), [0.0, 0.0]),
    ("constant", (-2, -1), [2.0, 3.0]),
    ("constant", (0, -5), []),
    ("circular", (-2, -3), []),
])
def test_negative_pads_past_the_other_sides_pad_are_pytorchs(mode, pads, want):
    out = F.pad(tg.arange(5.0).reshape(1, 5), pads, mode=mode)
    np.testing.assert_array_equal(out.numpy(), np.array([want]).reshape(1, -1))


@pytest.mark.parametrize("mode, pads", [("reflect", (0, -5)), ("replicate", (-5, 0)), ("replicate", (-9, 4)),
                                        ("constant", (0, -6)), ("circular", (-4, -2))])
def test_negative_pads_that_leave_nothing_to_pad_are_refused_naming_the_pads(mode, pads):
    # PyTorch raises (reflect, replicate) or fails inside narrow (constant, circular)
    with pytest.raises(ValueError, match=rf"pad: pads \({pads[0]}, {pads[1]}\) on dim 1 of size 5 crop more than"):
        F.pad(tg.arange(5.0).reshape(1, 5), pads, mode=mode)


@pytest.mark.parametrize("pads", [(3, 0), (0, 3), (3, 3)])
def test_circular_pads_up_to_the_dims_size(pads):
    x = tg.tensor([[0.0, 1.0, 2.0]])
    want = np.pad(x.numpy(), [(0, 0), pads], mode="wrap")
    np.testing.assert_array_equal(F.pad(x, pads, mode="circular").numpy(), want)


@pytest.mark.parametrize("pads", [(4, 0), (0, 4)])
def test_circular_pads_wider_than_the_dim_are_refused(pads):
    # PyTorch: RuntimeError("Padding value causes wrapping around more than once.")
    with pytest.raises(ValueError, match=rf"pad: circular padding \({pads[0]}, {pads[1]}\) must be at most the "
                                         r"dim's size 3"):
        F.pad(tg.tensor([[0.0, 1.0, 2.0]]), pads, mode="circular")


@pytest.mark.parametrize("mode", ["replicate", "circular"])
def test_an_empty_dim_cannot_be_padded_by_copying_its_elements(mode):
    # replicate and circular have nothing to copy from (PyTorch: RuntimeError, "non-zero dimensions")
    with pytest.raises(ValueError, match=rf"pad: cannot pad an empty dim with mode='{mode}'"):
        F.pad(tg.zeros(1, 0), (1, 0), mode=mode)


def test_a_one_element_dim_is_replicated_and_wrapped():
    # the smallest dim that can be copied from
    x = tg.tensor([[7.0]])
    np.testing.assert_array_equal(F.pad(x, (2, 1), mode="replicate").numpy(), [[7.0, 7.0, 7.0, 7.0]])
    np.testing.assert_array_equal(F.pad(x, (1, 1), mode="circular").numpy(), [[7.0, 7.0, 7.0]])


def test_an_empty_dim_pads_with_constants():
    out = F.pad(tg.zeros(1, 0), (1, 2), value=5.0)
    np.testing.assert_array_equal(out.numpy(), [[5.0, 5.0, 5.0]])


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
def test_a_zero_pad_of_an_empty_dim_is_the_input_as_pytorch(mode):
    x = tg.zeros(1, 0)
    assert F.pad(x, (0, 0), mode=mode) is x


# ------------------------------------------------------------------ alpha dropout in place

SELU_SATURATION = 1.7580993408473766  # SELU's scale * alpha


def test_alpha_dropout_in_place_writes_the_result_into_the_input():
    tg.manual_seed(0)
    x = tg.ones(2000, dtype=tg.float64)
    out = F.alpha_dropout(x, 0.5, training=True, inplace=True)
    assert out is x  # PyTorch returns the input, changed
    # kept: a * x + a * alpha * p; dropped: -alpha * a * (1 - p); a = 1 / sqrt((1 - p)(1 + p alpha^2))
    a = 1.0 / math.sqrt(0.5 * (1 + 0.5 * SELU_SATURATION ** 2))
    kept, dropped = a + a * SELU_SATURATION * 0.5, -SELU_SATURATION * a * 0.5
    assert kept == pytest.approx(1.6655988251839635) and dropped == pytest.approx(-0.7791939305180315)
    values = x.numpy()
    is_kept = np.isclose(values, kept, rtol=1e-12)
    assert (is_kept | np.isclose(values, dropped, rtol=1e-12)).all()
    assert 800 < is_kept.sum() < 1200  # about half kept


# ------------------------------------------------------------------ F.linear


def test_linear_of_a_1d_input_is_one_output_vector():
    # a 1-d input is the smallest it takes: W @ x + b
    w, b, x = t64([[1.0, 2.0, 3.0], [0.0, -1.0, 4.0]]), t64([0.5, -0.5]), t64([1.0, 1.0, 2.0])
    out = F.linear(x, w, b)
    assert out.shape == (2,)
    np.testing.assert_allclose(out.numpy(), [9.5, 6.5])
    rng = np.random.default_rng(1)
    assert gradcheck(F.linear, (t64(rng.standard_normal(3), True), t64(rng.standard_normal((2, 3)), True),
                                t64(rng.standard_normal(2), True)))


def test_linear_refuses_a_0d_input():
    # PyTorch: RuntimeError("both arguments to linear need to be at least 1D, but they are 0D and 2D")
    with pytest.raises(ValueError, match=r"linear: input must have at least 1 dim \(\.\.\., 3\), got shape \(\)"):
        F.linear(tg.tensor(1.0), tg.ones(2, 3))


def test_linear_refuses_a_3d_weight():
    # PyTorch: RuntimeError("t() expects a tensor with <= 2 dimensions, but self is 3D")
    with pytest.raises(ValueError, match=r"linear: weight must be 2-d \(out_features, in_features\), "
                                         r"got shape \(4, 2, 3\)"):
        F.linear(tg.ones(2, 3), tg.ones(4, 2, 3))


@pytest.mark.xfail(raises=ValueError, strict=True,
                   reason="PyTorch takes a 1-d weight (the dot product with the input's last dim)")
def test_linear_with_a_1d_weight_is_a_dot_product_as_pytorch():
    out = F.linear(t64([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]), t64([1.0, 0.0, -1.0]))
    np.testing.assert_array_equal(out.numpy(), [-2.0, -2.0])


def test_linear_refuses_a_bias_of_another_length_than_the_outputs():
    with pytest.raises(RuntimeError, match=r"linear: bias shape \(3,\) does not match 2 output features"):
        F.linear(tg.ones(3), tg.ones(2, 3), tg.ones(3))
    with pytest.raises(RuntimeError, match=r"linear: bias shape \(2, 1\) does not match 2 output features"):
        F.linear(tg.ones(3), tg.ones(2, 3), tg.ones(2, 1))


# ------------------------------------------------------------------ dropout of integer inputs


@pytest.mark.parametrize("drop, who", [(F.dropout, "dropout"), (F.alpha_dropout, "alpha_dropout")])
def test_dropout_in_training_refuses_an_integer_input(drop, who):
    # the kept values are scaled by 1 / (1 - p): PyTorch raises RuntimeError (Float can't be cast to Long)
    with pytest.raises(RuntimeError, match=rf"{who}: cannot drop out of a int64 input in training"):
        drop(tg.tensor([1, 2, 3]), 0.5, True)


@pytest.mark.parametrize("drop", [F.dropout, F.alpha_dropout])
def test_dropout_passes_an_integer_input_through_when_nothing_is_dropped(drop):
    # not training, or p = 0: the input comes back as it is, as PyTorch's
    x = tg.tensor([1, 2, 3])
    assert drop(x, 0.5, False) is x
    assert drop(x, 0.0, True) is x


# ------------------------------------------------------------------ batch and instance norm


def test_batch_norm_in_eval_needs_the_running_statistics():
    # PyTorch: RuntimeError("running_mean must be defined in evaluation mode")
    with pytest.raises(ValueError, match=r"batch_norm: running_mean and running_var are needed when "
                                         r"training=False"):
        F.batch_norm(tg.ones(3, 2), None, None, training=False)


def test_batch_norm_in_training_normalizes_without_running_statistics():
    x = t64([[1.0, 2.0], [3.0, 6.0], [5.0, 10.0]])
    out = F.batch_norm(x, None, None, training=True).numpy()
    a = x.numpy()
    want = (a - a.mean(0)) / np.sqrt(a.var(0) + 1e-5)
    np.testing.assert_allclose(out, want, rtol=1e-12)


def test_instance_norm_refuses_one_spatial_element_when_using_input_statistics():
    # PyTorch raises the same ValueError
    with pytest.raises(ValueError, match=r"instance_norm: expected more than 1 spatial element when training, "
                                         r"got input size \(2, 2, 1\)"):
        F.instance_norm(tg.ones(2, 2, 1))


def test_instance_norm_with_two_spatial_elements_normalizes_each_instance():
    x = t64(np.arange(8.0).reshape(2, 2, 2))
    out = F.instance_norm(x).numpy()
    # each instance is (v, v + 1): mean v + 0.5, variance 1/4
    step = 0.5 / math.sqrt(0.25 + 1e-5)
    np.testing.assert_allclose(out, np.tile([-step, step], (2, 2, 1)), rtol=1e-12)


def test_instance_norm_with_running_statistics_takes_one_spatial_element():
    # use_input_stats=False normalizes with the running statistics: one element per instance is fine
    out = F.instance_norm(t64(np.full((2, 1, 1), 3.0)), t64([1.0]), t64([4.0]), use_input_stats=False)
    np.testing.assert_allclose(out.numpy(), np.full((2, 1, 1), 2.0 / math.sqrt(4.0 + 1e-5)), rtol=1e-12)


# ------------------------------------------------------------------ tensors on two devices


def test_prelu_refuses_a_weight_on_another_device(alt_device):
    with pytest.raises(RuntimeError, match=r"prelu: expected all tensors on the same device, got cpu and alt "
                                           r"\(the input and the weight\)"):
        F.prelu(tg.tensor([-1.0, 2.0]), tg.tensor([0.25], device="alt"))
    # both on alt: max(0, x) + 0.25 min(0, x)
    out = F.prelu(tg.tensor([-1.0, 2.0], device="alt"), tg.tensor([0.25], device="alt"))
    assert out.device == "alt" and out.cpu().numpy().tolist() == [-0.25, 2.0]


def test_distance_functions_name_the_arguments_on_two_devices(alt_device):
    x1, x2 = tg.tensor([[1.0, 0.0]]), tg.tensor([[0.0, 1.0]], device="alt")
    with pytest.raises(RuntimeError, match=r"cosine_similarity: expected all tensors on the same device, "
                                           r"got cpu and alt \(x1 and x2\)"):
        F.cosine_similarity(x1, x2)
    with pytest.raises(RuntimeError, match=r"pairwise_distance: expected all tensors on the same device, "
                                           r"got alt and cpu \(x1 and x2\)"):
        F.pairwise_distance(x2, x1)
    out = F.cosine_similarity(x1.to("alt"), x2)
    assert out.device == "alt" and out.cpu().numpy().tolist() == [0.0]


def test_bilinear_names_the_argument_on_another_device(alt_device):
    w = tg.ones(4, 3, 2)
    with pytest.raises(RuntimeError, match=r"bilinear: expected all tensors on the same device, got cpu and alt "
                                           r"\(input1 and weight\)"):
        F.bilinear(tg.ones(3), tg.ones(2), w.to("alt"))
    with pytest.raises(RuntimeError, match=r"bilinear: expected all tensors on the same device, got cpu and alt "
                                           r"\(input1 and input2\)"):
        F.bilinear(tg.ones(3), tg.ones(2, device="alt"), w)


def test_losses_name_the_target_on_another_device(alt_device):
    with pytest.raises(RuntimeError, match=r"l1_loss: expected all tensors on the same device, got cpu and alt "
                                           r"\(the input and the target\)"):
        F.l1_loss(tg.ones(3), tg.ones(3, device="alt"))
    with pytest.raises(RuntimeError, match=r"margin_ranking_loss: expected all tensors on the same device, got cpu "
                                           r"and alt \(input1 and target\)"):
        F.margin_ranking_loss(tg.ones(2), tg.ones(2), tg.ones(2, device="alt"))
    # on one device the loss is computed there: mean of |1 - 3| and |2 - 2|
    out = F.l1_loss(tg.tensor([1.0, 2.0], device="alt"), tg.tensor([3.0, 2.0], device="alt"))
    assert out.device == "alt" and out.item() == 1.0


def test_cross_entropy_refuses_a_class_weight_on_another_device(alt_device):
    x, y = tg.tensor([[1.0, 2.0, 3.0]]), tg.tensor([2])
    with pytest.raises(RuntimeError, match=r"cross_entropy: expected all tensors on the same device, got cpu and "
                                           r"alt \(the input and the weight\)"):
        F.cross_entropy(x, y, weight=tg.ones(3, device="alt"))


# ------------------------------------------------------------------ pairwise_distance and bilinear at their smallest


def test_pairwise_distance_of_a_vector_and_a_0d_tensor_broadcasts():
    # the 0-d x2 broadcasts to (1,): |1 - 3 + eps|
    out = F.pairwise_distance(t64([1.0]), t64(3.0))
    assert out.shape == ()
    assert out.item() == pytest.approx(2.0 - 1e-6, abs=1e-15)


@pytest.mark.xfail(raises=ValueError, strict=True,
                   reason="PyTorch takes two 0-d inputs (|x1 - x2 + eps|); pairwise_distance refuses them")
def test_pairwise_distance_of_two_0d_tensors_as_pytorch():
    assert F.pairwise_distance(t64(1.0), t64(3.0)).item() == pytest.approx(2.0 - 1e-6, abs=1e-15)


def test_bilinear_of_1d_inputs_matches_the_sum_over_the_weight():
    rng = np.random.default_rng(2)
    x1, x2, w, b = rng.standard_normal(3), rng.standard_normal(2), rng.standard_normal((4, 3, 2)), rng.standard_normal(4)
    out = F.bilinear(t64(x1), t64(x2), t64(w), t64(b))
    assert out.shape == (4,)
    np.testing.assert_allclose(out.numpy(), np.einsum("i,oij,j->o", x1, w, x2) + b, rtol=1e-12)
    assert gradcheck(F.bilinear, (t64(x1, True), t64(x2, True), t64(w, True), t64(b, True)))


@pytest.mark.parametrize("shape1, shape2", [((2, 3), (2,)), ((3,), (1, 2)), ((), ())])
def test_bilinear_refuses_inputs_of_different_or_zero_dims(shape1, shape2):
    # PyTorch: RuntimeError("bilinear(): input dimensions do not match"), IndexError for 0-d inputs
    with pytest.raises(ValueError, match=rf"bilinear: input1 and input2 must have the same number of dims \(at "
                                         rf"least 1\), got shapes {re_shape(shape1)} and {re_shape(shape2)}"):
        F.bilinear(tg.ones(*shape1), tg.ones(*shape2), tg.ones(4, 3, 2))


def re_shape(shape):
    """A shape as its message prints it, escaped for a regular expression."""
    return str(tuple(shape)).replace("(", r"\(").replace(")", r"\)")


def test_bilinear_refuses_input1_with_another_feature_count_than_the_weight():
    # PyTorch: RuntimeError("bilinear(): input1 size does not match weight size: got 2 but expected 3")
    with pytest.raises(ValueError, match=r"bilinear: input1 has 2 features but the weight expects 3 "
                                         r"\(weight shape \(4, 3, 5\)\)"):
        F.bilinear(tg.ones(2, 2), tg.ones(2, 5), tg.ones(4, 3, 5))


# ------------------------------------------------------------------ losses: shapes, dtypes, callables


def test_gaussian_nll_loss_broadcasts_the_target_to_the_input():
    x = t64([[1.0, 2.0, 3.0], [0.0, -1.0, 4.0]])
    target = t64([[0.5, 2.5, 1.0]])  # (1, 3) broadcasts to (2, 3)
    var = t64([[1.0, 2.0, 0.5], [4.0, 1.0, 1.0]])
    a, t, v = x.numpy(), target.numpy(), var.numpy()
    want = (0.5 * (np.log(v) + (a - t) ** 2 / v)).mean()
    out = F.gaussian_nll_loss(x, target, var)
    assert out.item() == pytest.approx(want, rel=1e-12)
    assert out.item() == pytest.approx(2.5895, abs=1e-4)  # PyTorch's number


def test_gaussian_nll_loss_refuses_a_target_that_does_not_broadcast_to_the_input():
    # PyTorch: RuntimeError("The size of tensor a (3) must match the size of tensor b (2)")
    with pytest.raises(ValueError, match=r"gaussian_nll_loss: target shape \(2, 2\) does not broadcast to the "
                                         r"input shape \(2, 3\)"):
        F.gaussian_nll_loss(tg.ones(2, 3), tg.ones(2, 2), tg.ones(2, 3))


def test_multilabel_soft_margin_loss_of_one_sample_of_classes():
    # (C,) is the smallest input: the mean over classes of the binary cross entropy with logits
    x, t = np.array([0.5, -1.0, 2.0]), np.array([1.0, 0.0, 1.0])
    want = np.mean(t * np.log1p(np.exp(-x)) + (1 - t) * np.log1p(np.exp(x)))
    out = F.multilabel_soft_margin_loss(t64(x), t64(t))
    assert out.shape == () and out.item() == pytest.approx(want, rel=1e-12)
    assert out.item() == pytest.approx(0.3048, abs=1e-4)  # PyTorch's number


def test_multilabel_soft_margin_loss_refuses_a_0d_input():
    # PyTorch: IndexError("Dimension specified as -1 but tensor has no dimensions")
    with pytest.raises(ValueError, match=r"multilabel_soft_margin_loss: expected an input of shape \(N, C\) or "
                                         r"\(C,\), got a 0-dim input"):
        F.multilabel_soft_margin_loss(tg.tensor(1.0), tg.tensor(1.0))


def test_margin_ranking_loss_refuses_shapes_that_differ():
    # PyTorch: RuntimeError("The size of tensor a (3) must match the size of tensor b (2)")
    with pytest.raises(ValueError, match=r"margin_ranking_loss: input1 \(2, 3\), input2 \(2, 2\) and target "
                                         r"\(2, 3\) must have the same shape"):
        F.margin_ranking_loss(tg.ones(2, 3), tg.ones(2, 2), tg.ones(2, 3))
    # the target too, when the inputs agree
    with pytest.raises(ValueError, match=r"margin_ranking_loss: input1 \(2, 3\), input2 \(2, 3\) and target "
                                         r"\(2, 2\) must have the same shape"):
        F.margin_ranking_loss(tg.ones(2, 3), tg.ones(2, 3), tg.ones(2, 2))


@pytest.mark.xfail(raises=ValueError, strict=True,
                   reason="PyTorch broadcasts input1, input2 and target of one number of dims")
def test_margin_ranking_loss_broadcasts_as_pytorch():
    out = F.margin_ranking_loss(t64([[1.0, 2.0, 3.0], [0.0, 5.0, -1.0]]), t64([[2.0], [1.0]]),
                                t64([[1.0, -1.0, 1.0]]))
    assert out.item() == pytest.approx(4.0 / 3.0, rel=1e-12)


def test_multi_margin_loss_of_one_sample_of_scores():
    # PyTorch's documented example as a (C,) input and a 0-d target: (0.3 + 0.4 + 0.6) / 4
    out = F.multi_margin_loss(t64([0.1, 0.2, 0.4, 0.8]), tg.tensor(3))
    assert out.item() == pytest.approx(0.325, rel=1e-12)
    out = F.multi_margin_loss(t64([[0.1, 0.2, 0.4, 0.8]]), tg.tensor([3]))
    assert out.item() == pytest.approx(0.325, rel=1e-12)


@pytest.mark.parametrize("loss, target", [
    (F.multi_margin_loss, lambda shape: tg.zeros(shape[0], dtype=tg.int64)),
    (F.multilabel_margin_loss, lambda shape: tg.zeros(*shape, dtype=tg.int64)),
])
@pytest.mark.parametrize("shape", [(2, 2, 3), (3, 0), (0, 3)])
def test_margin_losses_refuse_inputs_that_are_not_non_empty_vectors_or_matrices(loss, target, shape):
    # PyTorch refuses (2, 2, 3) and (3, 0) with RuntimeError("Expected non-empty vector or matrix ...")
    who = loss.__name__
    with pytest.raises(ValueError, match=rf"{who}: expected a non-empty input of shape \(N, C\) or \(C,\), "
                                         rf"got {re_shape(shape)}"):
        loss(tg.ones(*shape), target(shape))


def test_multilabel_margin_loss_of_one_sample_of_scores():
    # PyTorch's documented example as a (C,) input: classes 3 and 0 listed, then the -1 end
    out = F.multilabel_margin_loss(t64([0.1, 0.2, 0.4, 0.8]), tg.tensor([3, 0, -1, 1]))
    assert out.item() == pytest.approx(0.85, rel=1e-12)


def test_triplet_margin_with_distance_loss_takes_any_callable_distance():
    def l1(a, b):
        return (a - b).abs().sum(-1)

    anchor, positive, negative = t64([[0.0, 0.0], [1.0, 1.0]]), t64([[1.0, 0.0], [1.0, 3.0]]), t64([[0.0, 2.0], [2.0, 1.0]])
    # d(a, p) = 1, 2; d(a, n) = 2, 1: max(0, 1 + 1 - 2) = 0 and max(0, 1 + 2 - 1) = 2, mean 1
    out = F.triplet_margin_with_distance_loss(anchor, positive, negative, distance_function=l1)
    assert out.item() == 1.0


def test_triplet_margin_with_distance_loss_refuses_a_distance_that_is_not_callable():
    # PyTorch fails later with TypeError("'int' object is not callable")
    with pytest.raises(TypeError, match=r"triplet_margin_with_distance_loss: distance_function must be callable "
                                        r"or None, got int"):
        F.triplet_margin_with_distance_loss(tg.ones(2, 3), tg.ones(2, 3), tg.ones(2, 3), distance_function=3)


# ------------------------------------------------------------------ cross entropy and nll: targets and weights


@pytest.mark.parametrize("loss", [F.cross_entropy, F.nll_loss])
def test_class_losses_refuse_a_target_that_is_not_a_tensor(loss):
    # PyTorch: TypeError("cross_entropy_loss(): argument 'target' (position 2) must be Tensor, not list")
    with pytest.raises(TypeError, match=rf"{loss.__name__}: target must be a Tensor of class indices, got list"):
        loss(tg.ones(2, 3), [0, 1])


@pytest.mark.parametrize("loss", [F.cross_entropy, F.nll_loss])
def test_class_losses_refuse_a_0d_input(loss):
    # PyTorch's nll_loss: ValueError("Expected 1 or more dimensions (got 0)")
    with pytest.raises(ValueError, match=rf"{loss.__name__}: expected input of shape \(C,\), \(N, C\) or "
                                         r"\(N, C, d1, \.\.\.\), got a 0-d input"):
        loss(tg.tensor(1.0), tg.tensor(0))


def test_cross_entropy_of_a_1d_input_and_a_0d_target():
    # (C,) is the smallest input: logsumexp(x) - x[y]
    x = np.array([1.0, 2.0, 3.0])
    out = F.cross_entropy(t64(x), tg.tensor(2))
    assert out.shape == () and out.item() == pytest.approx(np.log(np.exp(x).sum()) - 3.0, rel=1e-12)
    assert out.item() == pytest.approx(0.4076, abs=1e-4)  # PyTorch's number


@pytest.mark.parametrize("dtype", ["bool", "complex64"])
def test_cross_entropy_refuses_a_target_neither_integer_nor_float(dtype):
    # PyTorch: RuntimeError("expected target dtype to be Long or Byte, but got Bool")
    with pytest.raises(TypeError, match=rf"cross_entropy: target must hold integer class indices or float "
                                        rf"probabilities, got dtype {dtype}"):
        F.cross_entropy(tg.ones(2, 3), tg.zeros(2, dtype=dtype))


def test_cross_entropy_takes_uint8_class_indices():
    x = np.array([[1.0, 2.0, 3.0]])
    out = F.cross_entropy(t64(x), tg.tensor(np.array([0], dtype=np.uint8)))
    assert out.item() == pytest.approx(np.log(np.exp(x).sum()) - 1.0, rel=1e-12)


@pytest.mark.parametrize("loss", [F.cross_entropy, F.nll_loss])
@pytest.mark.parametrize("shape", [(2,), (1, 3), (4,)])
def test_class_losses_refuse_a_weight_not_one_per_class(loss, shape):
    # PyTorch: RuntimeError("weight tensor should be defined either for all 3 classes or no classes")
    with pytest.raises(ValueError, match=rf"{loss.__name__}: weight must hold one value per class, shape \(3,\), "
                                         rf"got {re_shape(shape)}"):
        loss(tg.ones(2, 3), tg.tensor([0, 1]), weight=tg.ones(*shape))


@pytest.mark.parametrize("loss", [F.cross_entropy, F.nll_loss])
def test_class_losses_refuse_a_weight_of_another_dtype(loss):
    # PyTorch: RuntimeError("expected scalar type Float but found Double")
    with pytest.raises(TypeError, match=rf"{loss.__name__}: weight dtype float64 differs from the input's float32; "
                                        r"use weight.to\(input.dtype\)"):
        loss(tg.ones(2, 3), tg.tensor([0, 1]), weight=tg.ones(3, dtype=tg.float64))


def test_class_weights_of_the_inputs_dtype_weigh_the_mean():
    logp = np.log(np.array([[0.2, 0.3, 0.5], [0.6, 0.3, 0.1]]))
    w = np.array([1.0, 2.0, 3.0])
    out = F.nll_loss(t64(logp), tg.tensor([2, 0]), weight=t64(w))
    # -(3 log 0.5 + 1 log 0.6) / (3 + 1)
    assert out.item() == pytest.approx(-(3 * np.log(0.5) + np.log(0.6)) / 4, rel=1e-12)
    out = F.cross_entropy(t64(logp), tg.tensor([2, 0]), weight=t64(w))  # log-probabilities are their own logits
    assert out.item() == pytest.approx(-(3 * np.log(0.5) + np.log(0.6)) / 4, rel=1e-12)


# ------------------------------------------------------------------ MultiMarginLoss's weight


def test_multi_margin_loss_module_refuses_a_weight_that_is_not_1d():
    # PyTorch raises the same ValueError ("expected weight to be None or 1D tensor, got 2D instead")
    with pytest.raises(ValueError, match=r"MultiMarginLoss: weight must be 1-d \(one per class\), "
                                         r"got shape \(1, 4\)"):
        nn.MultiMarginLoss(weight=tg.ones(1, 4))


def test_multi_margin_loss_module_weighs_each_sample_by_its_class():
    # PyTorch's example with weight 2 on the true class 3: 2 * 0.325
    loss = nn.MultiMarginLoss(weight=t64([1.0, 1.0, 1.0, 2.0]))
    assert loss(t64([[0.1, 0.2, 0.4, 0.8]]), tg.tensor([3])).item() == pytest.approx(0.65, rel=1e-12)


# ------------------------------------------------------------------ allclose and equal


@pytest.mark.parametrize("call, got", [
    (lambda: tg.allclose(tg.ones(2), 1.0), "float"),
    (lambda: tg.allclose([1.0, 1.0], tg.ones(2)), "list"),
    (lambda: tg.equal(tg.ones(2), [1.0, 1.0]), "list"),
    (lambda: tg.equal(np.ones(2), tg.ones(2)), "ndarray"),
])
def test_allclose_and_equal_refuse_what_is_not_a_tensor(call, got):
    # PyTorch: TypeError("allclose(): argument 'other' (position 2) must be Tensor, not float")
    with pytest.raises(TypeError, match=rf"(allclose|equal): expected Tensors, got a {got}"):
        call()


def test_allclose_and_equal_compare_tensors():
    a, b = tg.tensor([1.0, 2.0]), tg.tensor([1.0, 2.0 + 1e-6])
    assert tg.allclose(a, b) is True and tg.equal(a, b) is False
    assert tg.allclose(a, tg.tensor([1.0, 2.1])) is False
    assert tg.equal(a, tg.tensor([1.0, 2.0])) is True and tg.equal(a, tg.tensor([[1.0, 2.0]])) is False
