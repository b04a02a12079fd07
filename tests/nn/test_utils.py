"""Gradient clipping (nn.utils)."""
import numpy as np
import pytest

import tinygrad_bn as tg
from tinygrad_bn import nn


def test_clip_grad_norm_leaves_small_gradients_alone_and_scales_large_ones():
    p = tg.tensor([1.0, 1.0], requires_grad=True)
    p.grad = tg.tensor([0.3, 0.4])  # norm 0.5
    total = nn.utils.clip_grad_norm_([p], max_norm=1.0)
    assert total.item() == pytest.approx(0.5)
    np.testing.assert_array_equal(p.grad.numpy(), np.array([0.3, 0.4], np.float32))
    p.grad = tg.tensor([3.0, 4.0])  # norm 5
    nn.utils.clip_grad_norm_([p], max_norm=1.0)
    np.testing.assert_allclose(p.grad.numpy(), [0.6, 0.8], rtol=1e-5)
