"""Spectral normalization's power iteration, step by step, against NumPy run from the same
starting vectors (drawn again from the same seed): how many steps registration and each
training-mode read take, in which order u and v move, and the weight divided by u . (W v)."""
import numpy as np
import pytest

import tinygrad_bn as tg
from tinygrad_bn import nn
from tinygrad_bn.nn.utils import parametrizations
from tinygrad_bn.nn.utils import spectral_norm as hook_spectral_norm
from tinygrad_bn.random import manual_seed


def _matrix(h, w, second=0.9, seed=0):
    """An h x w matrix with singular values 1, ``second``, 0.3, ...: a top pair close
    enough that every power-iteration step still moves the vectors measurably."""
    rng = np.random.default_rng(seed)
    left, _ = np.linalg.qr(rng.standard_normal((h, h)))
    right, _ = np.linalg.qr(rng.standard_normal((w, w)))
    s = np.zeros((h, w))
    for k, value in enumerate([1.0, second] + [0.3] * (min(h, w) - 2)):
        s[k, k] = value
    return left @ s @ right.T


def _start(seed, h, w):
    """The normalized starting vectors u (h) and v (w) the registration draws after ``manual_seed(seed)``."""
    manual_seed(seed)
    u = tg.empty(h, dtype=tg.float64).normal_(0, 1).numpy()
    v = tg.empty(w, dtype=tg.float64).normal_(0, 1).numpy()
    return u / np.linalg.norm(u), v / np.linalg.norm(v)


def _linear(mat):
    h, w = mat.shape
    lin = nn.Linear(w, h).double()
    with tg.no_grad():
        lin.weight.copy_(tg.from_numpy(mat.copy()))
    return lin


def _steps_u_first(mat, u, v, n):
    for _ in range(n):
        u = mat @ v
        u = u / np.linalg.norm(u)
        v = mat.T @ u
        v = v / np.linalg.norm(v)
    return u, v


def _steps_v_first(mat, u, v, n):
    for _ in range(n):
        v = mat.T @ u
        v = v / np.linalg.norm(v)
        u = mat @ v
        u = u / np.linalg.norm(u)
    return u, v


def test_parametrization_registers_with_fifteen_steps_then_n_per_training_read():
    """``parametrizations.spectral_norm``: 15 steps at registration, then the
    ``n_power_iterations`` steps of the forward that register_parametrization runs to check
    it (PyTorch's count too); then ``n_power_iterations`` steps per read in training mode
    and none in eval mode. The weight
    read is W / (u . W v) with the vectors as they are after that read's steps."""
    mat = _matrix(5, 3)
    lin = _linear(mat)
    manual_seed(7)
    parametrizations.spectral_norm(lin, n_power_iterations=2)
    sn = lin.parametrizations.weight[0]
    u, v = _start(7, 5, 3)
    u, v = _steps_u_first(mat, u, v, 15 + 2)
    np.testing.assert_allclose(sn._u.numpy(), u, rtol=0, atol=1e-12)
    np.testing.assert_allclose(sn._v.numpy(), v, rtol=0, atol=1e-12)

    weight = lin.weight.detach().numpy()  # training mode: two more steps
    u, v = _steps_u_first(mat, u, v, 2)
    np.testing.assert_allclose(sn._u.numpy(), u, rtol=0, atol=1e-12)
    np.testing.assert_allclose(weight, mat / (u @ mat @ v), rtol=1e-12, atol=0)

    lin.eval()
    weight = lin.weight.detach().numpy()  # eval: the stored vectors, no step
    np.testing.assert_allclose(sn._u.numpy(), u, rtol=0, atol=1e-12)
    np.testing.assert_allclose(sn._v.numpy(), v, rtol=0, atol=1e-12)
    np.testing.assert_allclose(weight, mat / (u @ mat @ v), rtol=1e-12, atol=0)


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_hook_form_starts_from_the_drawn_vectors_and_steps_v_then_u(dim):
    """``nn.utils.spectral_norm`` (the forward pre-hook): no step at registration; each
    training forward takes ``n_power_iterations`` steps (v from u, then u from v) on the
    weight reshaped with ``dim`` first; eval takes none; the module's weight is
    W / (u . W_mat v). ``remove_spectral_norm`` leaves that weight as a parameter."""
    mat = _matrix(4, 6, second=0.8, seed=1)
    lin = _linear(mat)
    d = dim % 2
    wmat = mat if d == 0 else mat.T
    manual_seed(3)
    hook_spectral_norm(lin, n_power_iterations=3, dim=dim)
    u, v = _start(3, *wmat.shape)
    np.testing.assert_allclose(lin.weight_u.numpy(), u, rtol=0, atol=1e-12)
    np.testing.assert_allclose(lin.weight_v.numpy(), v, rtol=0, atol=1e-12)

    x = tg.from_numpy(np.eye(6))
    out = lin(x).detach().numpy()
    u, v = _steps_v_first(wmat, u, v, 3)
    np.testing.assert_allclose(lin.weight_u.numpy(), u, rtol=0, atol=1e-12)
    np.testing.assert_allclose(lin.weight_v.numpy(), v, rtol=0, atol=1e-12)
    expected = mat / (u @ wmat @ v)
    np.testing.assert_allclose(lin.weight.detach().numpy(), expected, rtol=1e-12, atol=0)
    np.testing.assert_allclose(out, expected.T + lin.bias.detach().numpy(), rtol=1e-12, atol=1e-15)

    lin.eval()
    lin(x)
    np.testing.assert_allclose(lin.weight_u.numpy(), u, rtol=0, atol=1e-12)
    nn.utils.remove_spectral_norm(lin)
    assert isinstance(lin.weight, nn.Parameter)
    np.testing.assert_allclose(lin.weight.detach().numpy(), expected, rtol=1e-12, atol=0)
