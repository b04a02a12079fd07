"""Gradient clipping at its edges, with PyTorch's numbers: the scale is
max_norm / (total_norm + 1e-6), so a total norm equal to max_norm still shrinks the
gradients by a hair; max_norm=0 and clip_value=0 are allowed and zero the gradients."""
import tinygrad_bn as tg
from tinygrad_bn.nn import utils


def _param(grad):
    p = tg.zeros(len(grad), dtype=tg.float64, requires_grad=True)
    p.grad = tg.tensor(grad, dtype=tg.float64)
    return p


def test_the_scale_adds_1e_6_to_the_total_norm():
    # PyTorch: clip_grad_norm_ returns tensor(5.) and leaves [0.599999880000024, 0.799999840000032]
    p = _param([3.0, 4.0])
    assert utils.clip_grad_norm_([p], 1.0).item() == 5.0
    assert p.grad.tolist() == [0.599999880000024, 0.799999840000032]
    # a norm of exactly max_norm: PyTorch leaves [0.29999940000119996, 0.3999992000016]
    p = _param([0.3, 0.4])
    assert utils.clip_grad_norm_([p], 0.5).item() == 0.5
    assert p.grad.tolist() == [0.29999940000119996, 0.3999992000016]
    # clip_grads_with_norm_ with a float64 norm equal to max_norm: PyTorch's [2.9999970000030003, 3.9999960000040002]
    p = _param([3.0, 4.0])
    utils.clip_grads_with_norm_([p], 1.0, tg.tensor(1.0, dtype=tg.float64))
    assert p.grad.tolist() == [2.9999970000030003, 3.9999960000040002]


def test_a_zero_bound_is_allowed_and_zeroes_the_gradients():
    # PyTorch: clip_grad_norm_(max_norm=0) returns the norm, tensor(5.), and leaves [0., 0.]
    p = _param([3.0, 4.0])
    assert utils.clip_grad_norm_([p], 0).item() == 5.0
    assert p.grad.tolist() == [0.0, 0.0]
    # PyTorch: clip_grad_value_(clip_value=0) leaves [0., -0.]
    p = _param([3.0, -4.0])
    utils.clip_grad_value_([p], 0)
    assert p.grad.tolist() == [0.0, 0.0]
