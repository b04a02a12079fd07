"""Parametrizations (nn.utils.parametrize, nn.utils.parametrizations) and the older
hook-based weight_norm / spectral_norm (nn.utils).

Each test checks the values itself against references written here (NumPy norms and
SVDs); with PyTorch installed, the state dicts and outputs are also compared with
torch's for the same weights, both ways."""
import copy
import importlib
import pickle
import warnings

import numpy as np
import pytest

import tinygrad_bn as tg
from tinygrad_bn import nn, optim
from tinygrad_bn.autograd import gradcheck
from tinygrad_bn.nn.utils import parametrizations
from tinygrad_bn.nn.utils import parametrize as P


def _torch():
    return pytest.importorskip("torch")


def _np(t):
    return t.detach().cpu().numpy()


def _linear(rng, n_in=5, n_out=4, dtype=np.float32):
    m = nn.Linear(n_in, n_out)
    with tg.no_grad():
        m.weight.data = tg.tensor(rng.standard_normal((n_out, n_in)).astype(dtype))
        m.bias.data = tg.tensor(rng.standard_normal(n_out).astype(dtype))
    return m


def _top_singular(a):
    return np.linalg.svd(np.asarray(a, np.float64), compute_uv=False)[0]


class Holder(nn.Module):
    """A module with a 3-D weight parameter and a buffer."""

    def __init__(self, rng, shape=(3, 4, 5)):
        super().__init__()
        self.weight = nn.Parameter(tg.tensor(rng.standard_normal(shape)))
        self.register_buffer("scale", tg.tensor(rng.standard_normal(shape[-1])))


class Symmetric(nn.Module):
    def forward(self, x):
        return x.triu() + x.triu(1).mT


class Double(nn.Module):
    def forward(self, x):
        return 2 * x

    def right_inverse(self, x):
        return x / 2


class Counting(nn.Module):
    def __init__(self):
        super().__init__()
        self.calls = 0

    def forward(self, x):
        self.calls += 1
        return x * 3


class SplitSum(nn.Module):
    """weight = a + b, with right_inverse giving (weight / 4, 3 * weight / 4): two originals."""

    def forward(self, a, b):
        return a + b

    def right_inverse(self, w):
        return w / 4, 3 * w / 4


class Flatten(nn.Module):
    def forward(self, x):
        return x.reshape(-1)


def test_the_modules_import_by_their_pytorch_paths():
    assert importlib.import_module("tinygrad_bn.nn.utils.parametrize") is P is nn.utils.parametrize
    mod = importlib.import_module("tinygrad_bn.nn.utils.parametrizations")
    assert mod is parametrizations and mod.weight_norm is not nn.utils.weight_norm
    from tinygrad_bn.nn.utils.parametrize import cached, register_parametrization  # noqa: F401


# ------------------------------------------------------------------ weight_norm

@pytest.mark.parametrize("dim", [0, 1, -2, None])
def test_weight_norm_has_norm_g_along_dim_and_the_direction_of_v(rng, dim):
    m = parametrizations.weight_norm(_linear(rng, dtype=np.float64), dim=dim)
    assert type(m).__name__ == "ParametrizedLinear"
    assert P.type_before_parametrizations(m) is nn.Linear
    plist = m.parametrizations.weight
    assert isinstance(plist, P.ParametrizationList)
    g, v = _np(plist.original0), _np(plist.original1)
    w = _np(m.weight)
    if dim is None:
        assert g.shape == ()
        np.testing.assert_allclose(np.linalg.norm(w), g, rtol=1e-12)
        np.testing.assert_allclose(w / np.linalg.norm(w), v / np.linalg.norm(v), rtol=1e-12)
    else:
        axis = dim % 2
        keep = 1 - axis
        assert g.shape == ((4, 1) if axis == 0 else (1, 5))
        np.testing.assert_allclose(np.linalg.norm(w, axis=keep, keepdims=True), g, rtol=1e-12)
        direction = v / np.linalg.norm(v, axis=keep, keepdims=True)
        np.testing.assert_allclose(w / np.linalg.norm(w, axis=keep, keepdims=True), direction, rtol=1e-12)
    # a new g and v: the weight follows, g * v / ||v||
    with tg.no_grad():
        plist.original0.mul_(2.0)
        plist.original1.mul_(-3.0)
    w2 = _np(m.weight)
    np.testing.assert_allclose(w2, -2 * w, rtol=1e-12)


def test_weight_norm_registers_g_then_v_as_parameters_that_train(rng):
    m = parametrizations.weight_norm(_linear(rng))
    names = [n for n, _ in m.named_parameters()]
    assert names == ["bias", "parametrizations.weight.original0", "parametrizations.weight.original1"]
    x = tg.tensor(rng.standard_normal((6, 5)).astype(np.float32))
    opt = optim.SGD(m.parameters(), lr=0.1)
    before = [_np(p).copy() for p in m.parameters()]
    loss = (m(x) ** 2).sum()
    loss.backward()
    assert all(p.grad is not None for p in m.parameters())
    opt.step()
    assert all(not np.array_equal(b, _np(p)) for b, p in zip(before, m.parameters()))
    assert (m(x) ** 2).sum().item() < loss.item()


def test_weight_norm_on_a_1d_parameter_and_bad_arguments(rng):
    m = parametrizations.weight_norm(_linear(rng), name="bias")
    np.testing.assert_allclose(np.abs(_np(m.bias)), _np(m.parametrizations.bias.original0), rtol=1e-6)
    with pytest.raises(ValueError, match=r"weight_norm: .*no parameter or buffer named 'wieght'"):
        parametrizations.weight_norm(_linear(rng), name="wieght")
    with pytest.raises(IndexError, match=r"weight_norm: dim 2 is out of range for a 2-D weight"):
        parametrizations.weight_norm(_linear(rng), dim=2)
    with pytest.raises(TypeError, match="weight_norm: module must be an nn.Module, got int"):
        parametrizations.weight_norm(3)


@pytest.mark.parametrize("dim", [0, -1, None])
@pytest.mark.parametrize("form", ["parametrization", "hook"])
def test_weight_norm_refuses_a_0d_weight_for_every_dim_and_leaves_the_module(form, dim):
    """A 0-d weight has no dim to normalize over: PyTorch refuses it for dim 0, -1 and
    None alike (dim 0 used to reach a modulo by zero, None passed)."""
    class Scalar(nn.Module):
        def __init__(self):
            super().__init__()
            self.weight = nn.Parameter(tg.tensor(2.0))

    m = Scalar()
    fn = parametrizations.weight_norm if form == "parametrization" else nn.utils.weight_norm
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        with pytest.raises(RuntimeError, match=r"weight_norm: the weight is 0-d .*at least one dim"):
            fn(m, dim=dim)
    assert [n for n, _ in m.named_parameters()] == ["weight"] and not m._forward_pre_hooks


# ------------------------------------------------------------------ gradcheck

def test_gradcheck_through_weight_norm_and_spectral_norm(rng):
    x = tg.tensor(rng.standard_normal((3, 5)), requires_grad=True)
    wn = parametrizations.weight_norm(_linear(rng, dtype=np.float64))
    g = tg.tensor(rng.standard_normal((4, 1)) + 2, requires_grad=True)
    v = tg.tensor(rng.standard_normal((4, 5)), requires_grad=True)

    def through_wn(g, v, x):
        tensors = {"parametrizations.weight.original0": g, "parametrizations.weight.original1": v}
        return nn.utils.stateless.functional_call(wn, tensors, (x,))

    assert gradcheck(through_wn, (g, v, x))
    sn = parametrizations.spectral_norm(_linear(rng, dtype=np.float64)).eval()  # eval: fixed u, v
    w = tg.tensor(rng.standard_normal((4, 5)), requires_grad=True)

    def through_sn(w, x):
        return nn.utils.stateless.functional_call(sn, {"parametrizations.weight.original": w}, (x,))

    assert gradcheck(through_sn, (w, x))
    # spectral norm of a 3-D weight along dim 1, read as the property itself
    h = parametrizations.spectral_norm(Holder(rng), dim=1).eval()
    orig = h.parametrizations.weight.original
    assert gradcheck(lambda t: _read_with(h, t), (orig.detach().requires_grad_(),))


def _read_with(module, tensor):
    """module.weight computed from ``tensor`` in place of the original."""
    plist = module.parametrizations.weight
    saved = plist._parameters["original"]
    plist._parameters["original"] = tensor
    try:
        return module.weight
    finally:
        plist._parameters["original"] = saved


# ------------------------------------------------------------------ spectral_norm

def test_spectral_norm_divides_by_the_top_singular_value(rng):
    m = parametrizations.spectral_norm(_linear(rng, 8, 6))
    w = _np(m.parametrizations.weight.original)
    for _ in range(60):  # each read in training mode is one more power iteration
        weight = m.weight
    sigma_np = _top_singular(w)
    np.testing.assert_allclose(_top_singular(_np(weight)), 1.0, atol=1e-3)
    np.testing.assert_allclose(w / _np(weight), np.full(w.shape, sigma_np), rtol=1e-3)
    # u and v: the top singular vectors (up to sign)
    u_np, _, vt_np = np.linalg.svd(w.astype(np.float64))
    u, v = _np(m.parametrizations.weight[0]._u), _np(m.parametrizations.weight[0]._v)
    assert abs(abs(u @ u_np[:, 0]) - 1) < 1e-3 and abs(abs(v @ vt_np[0]) - 1) < 1e-3


def test_spectral_norm_of_a_3d_weight_along_a_dim_and_of_a_vector(rng):
    h = parametrizations.spectral_norm(Holder(rng), dim=1, n_power_iterations=3)
    w = _np(h.parametrizations.weight.original)
    for _ in range(30):
        out = _np(h.weight)
    mat = np.moveaxis(w, 1, 0).reshape(4, -1)
    np.testing.assert_allclose(w / out, np.full(w.shape, _top_singular(mat)), rtol=1e-6)
    assert h.parametrizations.weight[0]._u.shape == (4,) and h.parametrizations.weight[0]._v.shape == (15,)
    # a buffer can be parametrized too; a 1-D tensor is divided by its norm
    parametrizations.spectral_norm(h, name="scale")
    s = _np(h.parametrizations.scale.original)
    np.testing.assert_allclose(_np(h.scale), s / np.linalg.norm(s), rtol=1e-12)
    assert "original" in h.parametrizations.scale._buffers
    assert [n for n, _ in h.named_buffers()] == ["parametrizations.weight.0._u", "parametrizations.weight.0._v",
                                                 "parametrizations.scale.original"]


def test_spectral_norm_starts_from_16_power_iterations_from_random_vectors():
    """As PyTorch (checked against torch 2.13 with this weight and seed): u and v drawn
    from the normal distribution (u first) and normalized, 15 power iterations when the
    parametrization is made and one more when register_parametrization reads the
    weight in training mode to check it. The singular values 3 and 2.85 make each
    iteration move the vectors visibly, so 15 or 17 would not match."""
    q1, _ = np.linalg.qr(np.random.default_rng(1).standard_normal((6, 6)))
    q2, _ = np.linalg.qr(np.random.default_rng(2).standard_normal((5, 5)))
    w = (q1[:, :5] * [3.0, 2.85, 1.0, 0.5, 0.2]) @ q2.T
    m = nn.Linear(5, 6).double()
    with tg.no_grad():
        m.weight.data = tg.tensor(w)
    tg.manual_seed(11)
    parametrizations.spectral_norm(m)
    tg.manual_seed(11)
    u, v = _np(tg.empty(6, dtype=tg.float64).normal_(0, 1)), _np(tg.empty(5, dtype=tg.float64).normal_(0, 1))
    u, v = u / np.linalg.norm(u), v / np.linalg.norm(v)
    for _ in range(16):
        u = w @ v / np.linalg.norm(w @ v)
        v = w.T @ u / np.linalg.norm(w.T @ u)
    sn = m.parametrizations.weight[0]
    np.testing.assert_allclose(_np(sn._u), u, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(_np(sn._v), v, rtol=1e-10, atol=1e-12)


def test_spectral_norm_updates_u_and_v_in_training_only(rng):
    m = parametrizations.spectral_norm(_linear(rng, 6, 7), n_power_iterations=2)
    sn = m.parametrizations.weight[0]
    u_buf, v_buf = sn._u, sn._v
    u0, v0 = _np(sn._u).copy(), _np(sn._v).copy()
    x = tg.tensor(rng.standard_normal((2, 6)).astype(np.float32))
    m(x)
    assert not np.array_equal(u0, _np(sn._u)) and not np.array_equal(v0, _np(sn._v))
    assert sn._u is u_buf and sn._v is v_buf  # updated in place
    m.eval()
    assert not sn.training
    u1, v1 = _np(sn._u).copy(), _np(sn._v).copy()
    out1 = _np(m(x))
    out2 = _np(m(x))
    np.testing.assert_array_equal(u1, _np(sn._u))
    np.testing.assert_array_equal(v1, _np(sn._v))
    np.testing.assert_array_equal(out1, out2)
    # eval uses the stored vectors: sigma = u . (W v)
    w = _np(m.parametrizations.weight.original).astype(np.float64)
    sigma = u1 @ w @ v1
    np.testing.assert_allclose(_np(m.weight), w / sigma, rtol=1e-5)
    # two forwards in training, one backward through both (the GAN pattern)
    m.train()
    loss = m(x).sum() - m(2 * x).sum()
    loss.backward()
    assert m.parametrizations.weight.original.grad is not None


def test_spectral_norm_bad_arguments(rng):
    with pytest.raises(ValueError, match="spectral_norm: .*no parameter or buffer named 'w'"):
        parametrizations.spectral_norm(_linear(rng), name="w")
    with pytest.raises(ValueError, match="n_power_iterations to be positive.*got n_power_iterations=0"):
        parametrizations.spectral_norm(_linear(rng), n_power_iterations=0)
    with pytest.raises(IndexError, match="spectral_norm: dimension out of range"):
        parametrizations.spectral_norm(_linear(rng), dim=2)
    with pytest.raises(TypeError, match="spectral_norm: n_power_iterations must be an int, got float"):
        parametrizations.spectral_norm(_linear(rng), n_power_iterations=1.5)


# ------------------------------------------------------------------ register / remove

def test_register_parametrization_moves_the_tensor_and_keeps_its_identity(rng):
    m = _linear(rng, 4, 4)
    w = m.weight
    before = _np(w).copy()
    P.register_parametrization(m, "weight", Symmetric())
    assert P.is_parametrized(m) and P.is_parametrized(m, "weight") and not P.is_parametrized(m, "bias")
    assert m.parametrizations.weight.original is w  # the optimizer's tensor stays
    np.testing.assert_array_equal(_np(w), before)
    sym = _np(m.weight)
    np.testing.assert_array_equal(sym, sym.T)
    np.testing.assert_array_equal(np.triu(sym), np.triu(before))
    assert list(m.state_dict()) == ["bias", "parametrizations.weight.original"]
    assert "weight" not in m._parameters
    # gradients reach the original
    x = tg.tensor(rng.standard_normal((3, 4)).astype(np.float32))
    m(x).sum().backward()
    assert w.grad is not None and w.grad.shape == (4, 4)
    assert not P.is_parametrized(nn.Linear(2, 2))


def test_remove_parametrizations_leaves_the_parametrized_value(rng):
    m = _linear(rng, 4, 4)
    w = m.weight
    P.register_parametrization(m, "weight", Symmetric())
    sym = _np(m.weight).copy()
    P.remove_parametrizations(m, "weight")
    assert type(m) is nn.Linear and not hasattr(m, "parametrizations")
    assert m.weight is w and isinstance(m.weight, nn.Parameter)  # the same tensor, new values
    np.testing.assert_array_equal(_np(m.weight), sym)
    assert list(m.state_dict()) == ["bias", "weight"]  # registered again, after bias (as PyTorch)
    # leave_parametrized=False gives the original values back
    m2 = _linear(rng, 4, 4)
    before = _np(m2.weight).copy()
    P.register_parametrization(m2, "weight", Symmetric())
    P.remove_parametrizations(m2, "weight", leave_parametrized=False)
    np.testing.assert_array_equal(_np(m2.weight), before)
    # several originals: the parametrized value as a new Parameter; False is refused
    m3 = parametrizations.weight_norm(_linear(rng))
    w3 = _np(m3.weight).copy()
    with pytest.raises(ValueError, match="cannot leave unparametrized .* sequence of tensors"):
        P.remove_parametrizations(m3, "weight", leave_parametrized=False)
    P.remove_parametrizations(m3, "weight")
    assert isinstance(m3.weight, nn.Parameter) and m3.weight.requires_grad
    np.testing.assert_allclose(_np(m3.weight), w3, rtol=1e-6)
    assert [n for n, _ in m3.named_parameters()] == ["bias", "weight"]


def test_other_parametrizations_stay_when_one_is_removed(rng):
    m = _linear(rng, 4, 4)
    P.register_parametrization(m, "weight", Symmetric())
    P.register_parametrization(m, "bias", Double())
    P.remove_parametrizations(m, "weight")
    assert type(m).__name__ == "ParametrizedLinear" and P.is_parametrized(m, "bias")
    assert not P.is_parametrized(m, "weight") and isinstance(m.weight, nn.Parameter)
    P.remove_parametrizations(m, "bias")
    assert type(m) is nn.Linear


def test_cached_computes_once(rng):
    m = _linear(rng)
    counter = Counting()
    P.register_parametrization(m, "weight", counter)
    counter.calls = 0
    _ = m.weight
    _ = m.weight
    assert counter.calls == 2
    with P.cached():
        a = m.weight
        b = m.weight
        with P.cached():  # nested: still the same value
            c = m.weight
        d = m.weight
        assert counter.calls == 3
    assert a is b is c is d
    np.testing.assert_allclose(_np(a), 3 * _np(m.parametrizations.weight.original))
    _ = m.weight
    assert counter.calls == 4  # dropped on leaving
    # a forward inside cached() reads once; gradients still flow
    counter.calls = 0
    x = tg.tensor(rng.standard_normal((2, 5)).astype(np.float32))
    with P.cached():
        out = m(x) + m(x)
    assert counter.calls == 1
    out.sum().backward()
    np.testing.assert_allclose(_np(m.parametrizations.weight.original.grad),
                               2 * 3 * np.tile(_np(x).sum(0), (4, 1)), rtol=1e-5)


def test_chained_parametrizations_apply_in_registration_order(rng):
    m = _linear(rng, 4, 4)
    w0 = _np(m.weight).copy()
    P.register_parametrization(m, "weight", Symmetric())
    P.register_parametrization(m, "weight", Double())
    P.register_parametrization(m, "weight", Counting())
    plist = m.parametrizations.weight
    assert len(plist) == 3 and [type(p).__name__ for p in plist] == ["Symmetric", "Double", "Counting"]
    sym = np.triu(w0) + np.triu(w0, 1).T
    np.testing.assert_allclose(_np(m.weight), 6 * sym, rtol=1e-6)
    assert list(m.state_dict()) == ["bias", "parametrizations.weight.original"]
    # the chain's right_inverse needs every link to have one
    with pytest.raises(RuntimeError, match="Counting does not implement right_inverse"):
        m.weight = tg.zeros(4, 4)


def test_right_inverse_on_assignment_and_at_registration(rng):
    m = _linear(rng)
    w = m.weight
    before = _np(w).copy()
    P.register_parametrization(m, "weight", Double())
    # registration: original = right_inverse(weight), so the weight's value is unchanged
    np.testing.assert_allclose(_np(m.parametrizations.weight.original), before / 2, rtol=1e-6)
    np.testing.assert_allclose(_np(m.weight), before, rtol=1e-6)
    assert m.parametrizations.weight.original is w
    target = rng.standard_normal((4, 5)).astype(np.float32)
    m.weight = tg.tensor(target)
    np.testing.assert_allclose(_np(m.weight), target, rtol=1e-6)
    np.testing.assert_allclose(_np(w), target / 2, rtol=1e-6)
    assert m.parametrizations.weight.original is w
    with pytest.raises(KeyError, match="'weight' already exists"):
        m.weight = nn.Parameter(tg.tensor(target))


@pytest.mark.parametrize("returned", ["ab", b"ab", {"a": 1}, 3, None], ids=["str", "bytes", "dict", "int", "None"])
def test_a_right_inverse_must_return_a_tensor_or_a_sequence_of_tensors(rng, returned):
    """A string is a Sequence but not one of tensors; a dict, a number or None is
    none: registration refuses each and leaves the module as it was."""
    class Odd(nn.Module):
        def forward(self, x):
            return x

        def right_inverse(self, x):
            return returned

    m = _linear(rng)
    w = m.weight
    with pytest.raises(ValueError, match="register_parametrization: 'right_inverse' must return a Tensor or a "
                                         f"Sequence of tensors .*got {type(returned).__name__}"):
        P.register_parametrization(m, "weight", Odd())
    assert m.weight is w and not P.is_parametrized(m)


def test_a_right_inverse_that_is_not_implemented_registers_the_tensor_as_it_is(rng):
    """As PyTorch: a right_inverse raising NotImplementedError is skipped at
    registration, and original holds the tensor unchanged."""
    class DoubleOneWay(nn.Module):
        def forward(self, x):
            return x * 2

        def right_inverse(self, x):
            raise NotImplementedError

    m = _linear(rng)
    before = _np(m.weight).copy()
    P.register_parametrization(m, "weight", DoubleOneWay())
    np.testing.assert_array_equal(_np(m.parametrizations.weight.original), before)
    np.testing.assert_allclose(_np(m.weight), before * 2, rtol=1e-6)
    # chained onto another: its checks skip the missing inverse too, and original stays
    m = _linear(rng)
    before = _np(m.weight).copy()
    P.register_parametrization(m, "weight", Double())
    P.register_parametrization(m, "weight", DoubleOneWay())
    np.testing.assert_allclose(_np(m.parametrizations.weight.original), before / 2, rtol=1e-6)
    np.testing.assert_allclose(_np(m.weight), before * 2, rtol=1e-6)


def test_right_inverse_with_a_tuple_gives_original0_original1(rng):
    m = _linear(rng)
    before = _np(m.weight).copy()
    P.register_parametrization(m, "weight", SplitSum())
    plist = m.parametrizations.weight
    assert not plist.is_tensor and plist.ntensors == 2
    assert list(m.state_dict()) == ["bias", "parametrizations.weight.original0", "parametrizations.weight.original1"]
    assert all(isinstance(p, nn.Parameter) for p in (plist.original0, plist.original1))
    np.testing.assert_allclose(_np(plist.original0), before / 4, rtol=1e-6)
    np.testing.assert_allclose(_np(plist.original1), 3 * before / 4, rtol=1e-6)
    np.testing.assert_allclose(_np(m.weight), before, rtol=1e-6)
    m.weight = tg.ones(4, 5)
    np.testing.assert_allclose(_np(plist.original0), 0.25)
    np.testing.assert_allclose(_np(plist.original1), 0.75)


def test_errors_name_the_function_what_it_got_and_what_it_expected(rng):
    m = _linear(rng)
    with pytest.raises(ValueError, match=r"register_parametrization: module Linear does not have a parameter, a "
                                         r"buffer, or a parametrized element with name 'wieght'; expected one of "
                                         r"\['weight', 'bias'\]"):
        P.register_parametrization(m, "wieght", Double())
    with pytest.raises(ValueError, match=r"register_parametrization: registering a parametrization may not change "
                                         r"the shape of the tensor, unless unsafe=True; unparametrized shape: "
                                         r"\(4, 5\), parametrized shape: \(20,\)"):
        P.register_parametrization(m, "weight", Flatten())
    assert type(m) is nn.Linear and "weight" in m._parameters  # nothing changed
    with pytest.raises(ValueError, match=r"remove_parametrizations: module Linear does not have a parametrization "
                                         r"on 'weight'; its parametrized tensors are \[\]"):
        P.remove_parametrizations(m, "weight")
    with pytest.raises(TypeError, match="register_parametrization: parametrization must be an nn.Module.*function"):
        P.register_parametrization(m, "weight", lambda x: x)
    with pytest.raises(TypeError, match="register_parametrization: unsafe must be a bool, got int"):
        P.register_parametrization(m, "weight", Double(), unsafe=1)
    with pytest.raises(TypeError, match="remove_parametrizations: module must be an nn.Module, got str"):
        P.remove_parametrizations("m", "weight")
    # a chained parametrization that changes the shape is refused too
    P.register_parametrization(m, "weight", Double())
    with pytest.raises(ValueError, match=r"may not change the shape .* module.weight.shape: \(4, 5\)"):
        P.register_parametrization(m, "weight", Flatten())
    assert len(m.parametrizations.weight) == 1
    with pytest.raises(ValueError, match=r"remove_parametrizations: .* on 'bias'; its parametrized tensors are "
                                         r"\['weight'\]"):
        P.remove_parametrizations(m, "bias")


def test_an_attribute_error_inside_a_parametrization_is_not_a_missing_attribute(rng):
    class Broken(nn.Module):
        broken = False

        def forward(self, x):
            return x.no_such_method() if self.broken else x

    m = _linear(rng)
    p = Broken()
    P.register_parametrization(m, "weight", p)
    p.broken = True
    with pytest.raises(RuntimeError, match="ParametrizedLinear.weight: computing the parametrized tensor raised "
                                           "AttributeError: .*no_such_method"):
        _ = m.weight


def test_unsafe_allows_a_change_of_shape(rng):
    m = _linear(rng)
    before = _np(m.weight).copy()
    P.register_parametrization(m, "weight", Flatten(), unsafe=True)
    assert m.weight.shape == (20,) and m.parametrizations.weight.unsafe
    np.testing.assert_array_equal(_np(m.weight), before.reshape(-1))


def test_transfer_parametrizations_and_params(rng):
    src = parametrizations.weight_norm(_linear(rng))
    P.register_parametrization(src, "bias", Double())
    dst = _linear(rng)
    assert P.transfer_parametrizations_and_params(nn.Linear(5, 4), dst) is dst and type(dst) is nn.Linear
    P.transfer_parametrizations_and_params(src, dst)
    assert P.is_parametrized(dst, "weight") and P.is_parametrized(dst, "bias")
    assert P.type_before_parametrizations(dst) is nn.Linear
    assert dst.parametrizations.weight.original0 is src.parametrizations.weight.original0
    assert dst.parametrizations.weight.original1 is src.parametrizations.weight.original1
    assert dst.parametrizations.bias.original is src.parametrizations.bias.original
    np.testing.assert_array_equal(_np(dst.weight), _np(src.weight))
    np.testing.assert_array_equal(_np(dst.bias), _np(src.bias))
    # one name only, onto a module that lacks the tensor
    holder = nn.Module()
    P.transfer_parametrizations_and_params(src, holder, "bias")
    assert P.is_parametrized(holder, "bias") and not P.is_parametrized(holder, "weight")
    np.testing.assert_array_equal(_np(holder.bias), _np(src.bias))
    with pytest.raises(ValueError, match="transfer_parametrizations_and_params: .* no parametrization on 'scale'"):
        P.transfer_parametrizations_and_params(src, holder, "scale")


def test_parametrization_list_needs_modules(rng):
    with pytest.raises(ValueError, match="ParametrizationList: requires one or more parametrization modules"):
        P.ParametrizationList([], tg.zeros(2))


def test_deepcopy_gives_an_independent_module_and_pickling_is_refused(rng):
    m = parametrizations.weight_norm(_linear(rng))
    c = copy.deepcopy(m)
    assert type(c).__name__ == "ParametrizedLinear" and type(c) is not type(m)
    np.testing.assert_array_equal(_np(c.weight), _np(m.weight))
    assert c.parametrizations.weight.original1 is not m.parametrizations.weight.original1
    P.remove_parametrizations(c, "weight")
    assert type(c) is nn.Linear and P.is_parametrized(m, "weight")
    np.testing.assert_array_equal(_np(c.weight), _np(m.weight))
    with pytest.raises(RuntimeError, match="only supported through state_dict"):
        pickle.dumps(m)


def test_a_parametrized_module_moves_to_float64(rng):
    m = parametrizations.spectral_norm(parametrizations.weight_norm(_linear(rng), name="bias"))
    m.double()
    assert m.weight.dtype == tg.float64 and m.bias.dtype == tg.float64
    assert m.parametrizations.weight[0]._u.dtype == tg.float64
    out = m(tg.tensor(rng.standard_normal((2, 5))))
    assert out.dtype == tg.float64


# ------------------------------------------------------------------ the older hook-based spellings

@pytest.mark.parametrize("hook", ["weight_norm", "spectral_norm"])
def test_old_norm_hooks_on_two_parameters_of_one_module_are_two_hooks(rng, hook):
    """Only a second hook on the same parameter is refused: "bias" then "weight"
    (names in either order) are two hooks, each normalizing its own parameter."""
    m = _linear(rng)
    m.bias = nn.Parameter(tg.tensor(rng.standard_normal((4, 3)).astype(np.float32)))  # 2-d, for spectral norm
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        getattr(nn.utils, hook)(m, "bias")
        getattr(nn.utils, hook)(m, "weight")
    suffixes = ("_g", "_v") if hook == "weight_norm" else ("_orig", "_u", "_v")
    assert {n for n, _ in m.named_parameters()} | {n for n, _ in m.named_buffers()} >= {
        p + s for p in ("weight", "bias") for s in suffixes}
    getattr(nn.utils, "remove_" + hook)(m, "bias")
    getattr(nn.utils, "remove_" + hook)(m, "weight")
    assert {n for n, _ in m.named_parameters()} == {"weight", "bias"}


def test_old_weight_norm_and_remove_weight_norm(rng):
    m = _linear(rng)
    before = _np(m.weight).copy()
    with pytest.warns(FutureWarning, match="parametrizations.weight_norm"):
        assert nn.utils.weight_norm(m) is m
    assert type(m) is nn.Linear
    assert list(m.state_dict()) == ["bias", "weight_g", "weight_v"]
    np.testing.assert_allclose(_np(m.weight_g), np.linalg.norm(before, axis=1, keepdims=True), rtol=1e-6)
    np.testing.assert_array_equal(_np(m.weight_v), before)
    with tg.no_grad():
        m.weight_g.mul_(2.0)
    x = tg.tensor(rng.standard_normal((3, 5)).astype(np.float32))
    out = m(x)  # the pre-hook recomputes the weight
    np.testing.assert_allclose(_np(m.weight), 2 * before, rtol=1e-6)
    np.testing.assert_allclose(_np(out), _np(x) @ (2 * before).T + _np(m.bias), rtol=1e-5, atol=1e-6)
    out.sum().backward()
    assert m.weight_g.grad is not None and m.weight_v.grad is not None
    with (pytest.raises(RuntimeError, match="cannot register two weight_norm hooks on the same parameter weight"),
          warnings.catch_warnings()):
        warnings.simplefilter("ignore", FutureWarning)
        nn.utils.weight_norm(m)
    assert nn.utils.remove_weight_norm(m) is m
    assert list(m.state_dict()) == ["bias", "weight"] and isinstance(m.weight, nn.Parameter)
    np.testing.assert_allclose(_np(m.weight), 2 * before, rtol=1e-6)
    with pytest.raises(ValueError, match="remove_weight_norm: weight_norm of 'weight' not found in Linear"):
        nn.utils.remove_weight_norm(m)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        m2 = nn.utils.weight_norm(_linear(rng), dim=None)
    assert m2.weight_g.shape == ()


def test_old_spectral_norm_and_remove_spectral_norm(rng):
    m = _linear(rng, 8, 6)
    w = m.weight
    assert nn.utils.spectral_norm(m) is m
    assert list(m.state_dict()) == ["bias", "weight_orig", "weight_u", "weight_v"]
    assert m.weight_orig is w and "weight" not in m._parameters
    x = tg.tensor(rng.standard_normal((3, 8)).astype(np.float32))
    for _ in range(60):
        m(x)  # each forward in training mode iterates once
    np.testing.assert_allclose(_top_singular(_np(m.weight)), 1.0, atol=1e-3)
    u = _np(m.weight_u).copy()
    m.eval()
    m(x)
    np.testing.assert_array_equal(u, _np(m.weight_u))
    m.train()
    m(x).sum().backward()
    assert w.grad is not None
    with pytest.raises(RuntimeError, match="cannot register two spectral_norm hooks"):
        nn.utils.spectral_norm(m)
    expected = _np(m.weight_orig) / (_np(m.weight_u).astype(np.float64) @ _np(m.weight_orig) @ _np(m.weight_v))
    assert nn.utils.remove_spectral_norm(m) is m
    assert list(m.state_dict()) == ["bias", "weight"]
    np.testing.assert_allclose(_np(m.weight), expected, rtol=1e-5)
    with pytest.raises(ValueError, match="remove_spectral_norm: spectral_norm of 'weight' not found"):
        nn.utils.remove_spectral_norm(m)
    with pytest.raises(ValueError, match="spectral_norm: module Linear has no parameter named 'w'"):
        nn.utils.spectral_norm(_linear(rng), name="w")


@pytest.mark.parametrize("shape", [(6,), (3, 4, 5)])
def test_old_spectral_norm_takes_negative_dims_as_their_positive_twin(shape):
    """dim -k is dim ndim - k, also for a 1-d weight, where -1 is 0 (PyTorch's
    hook fails there, permuting a 1-d weight by two dims)."""
    def normalized(dim):
        tg.manual_seed(0)
        h = nn.utils.spectral_norm(Holder(np.random.default_rng(5), shape), dim=dim)
        for hook in h._forward_pre_hooks.values():  # what a training forward runs first: one power iteration
            hook(h, ())
        return _np(h.weight), _np(h.weight_u), _np(h.weight_v)

    for positive in range(len(shape)):
        for a, b in zip(normalized(positive - len(shape)), normalized(positive)):
            np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("shape", [(6,), (3, 4, 5)])
def test_spectral_norm_takes_negative_dims_as_their_positive_twin(shape):
    """As the hook above, for parametrizations.spectral_norm: dim -k is ndim - k
    (the weight, after the power iterations of a training forward, and u and v)."""
    def normalized(dim):
        tg.manual_seed(0)
        h = parametrizations.spectral_norm(Holder(np.random.default_rng(5), shape), dim=dim, n_power_iterations=2)
        sn = h.parametrizations.weight[0]  # a 1-d weight has no u and v: its norm is exact
        return [_np(h.weight)] + ([_np(sn._u), _np(sn._v)] if len(shape) > 1 else [])

    for positive in range(len(shape)):
        for a, b in zip(normalized(positive - len(shape)), normalized(positive)):
            np.testing.assert_array_equal(a, b)


def test_a_state_dict_of_the_old_weight_norm_loads_into_the_new_one(rng):
    old = _linear(rng)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        nn.utils.weight_norm(old)
    new = parametrizations.weight_norm(nn.Linear(5, 4))
    new.load_state_dict(old.state_dict())
    x = tg.tensor(rng.standard_normal((3, 5)).astype(np.float32))
    np.testing.assert_allclose(_np(new(x)), _np(old(x)), rtol=1e-6)


# ------------------------------------------------------------------ against PyTorch

def _to_torch(torch, sd):
    return {k: torch.from_numpy(np.array(_np(v))) for k, v in sd.items()}


def _from_torch(sd):
    return {k: tg.tensor(v.detach().numpy()) for k, v in sd.items()}


@pytest.mark.parametrize("kind", ["weight_norm", "spectral_norm", "old_weight_norm", "old_spectral_norm"])
def test_state_dicts_and_outputs_match_pytorch_both_ways(rng, kind):
    torch = _torch()
    ours = _linear(rng, 6, 4)
    theirs = torch.nn.Linear(6, 4)
    theirs.load_state_dict(_to_torch(torch, ours.state_dict()))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        if kind.startswith("old_"):
            getattr(nn.utils, kind[4:])(ours)
            getattr(torch.nn.utils, kind[4:])(theirs)
        else:
            getattr(parametrizations, kind)(ours)
            getattr(torch.nn.utils.parametrizations, kind)(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert type(ours).__name__ == type(theirs).__name__
    theirs.load_state_dict(_to_torch(torch, ours.state_dict()))
    x = rng.standard_normal((3, 6)).astype(np.float32)
    for training in (True, False, True):  # training: one more power iteration on each side
        ours.train(training)
        theirs.train(training)
        np.testing.assert_allclose(_np(ours(tg.tensor(x))), theirs(torch.from_numpy(x)).detach().numpy(),
                                   rtol=1e-5, atol=1e-6)
    for k, v in theirs.state_dict().items():
        np.testing.assert_allclose(_np(ours.state_dict()[k]), v.numpy(), rtol=1e-5, atol=1e-6)
    # theirs, changed, back into ours
    with torch.no_grad():
        for p in theirs.parameters():
            p.mul_(1.5)
    ours.load_state_dict(_from_torch(theirs.state_dict()))
    ours.eval()
    theirs.eval()
    np.testing.assert_allclose(_np(ours(tg.tensor(x))), theirs(torch.from_numpy(x)).detach().numpy(),
                               rtol=1e-5, atol=1e-6)
    if not kind.startswith("old_"):
        np.testing.assert_allclose(_np(ours.weight), theirs.weight.detach().numpy(), rtol=1e-5, atol=1e-6)


def test_register_and_remove_match_pytorch(rng):
    torch = _torch()
    import torch.nn.utils.parametrize as TP

    class TSymmetric(torch.nn.Module):
        def forward(self, x):
            return x.triu() + x.triu(1).mT

    ours, theirs = _linear(rng, 4, 4), torch.nn.Linear(4, 4)
    theirs.load_state_dict(_to_torch(torch, ours.state_dict()))
    P.register_parametrization(ours, "weight", Symmetric())
    TP.register_parametrization(theirs, "weight", TSymmetric())
    assert list(ours.state_dict()) == list(theirs.state_dict())
    np.testing.assert_array_equal(_np(ours.weight), theirs.weight.detach().numpy())
    P.remove_parametrizations(ours, "weight")
    TP.remove_parametrizations(theirs, "weight")
    assert list(ours.state_dict()) == list(theirs.state_dict())
    np.testing.assert_array_equal(_np(ours.weight), theirs.weight.detach().numpy())


# ------------------------------------------------------------------ the cuda device

@pytest.mark.cuda_sim
@pytest.mark.gpu
def test_parametrizations_on_the_cuda_device_give_the_cpus_values_and_gradients(rng):
    x = rng.standard_normal((3, 5))
    for make in (parametrizations.weight_norm, parametrizations.spectral_norm):
        cpu = make(_linear(rng, dtype=np.float64))
        gpu = copy.deepcopy(cpu).to("cuda")
        results = []
        for m, device in ((cpu, "cpu"), (gpu, "cuda")):
            out = m(tg.tensor(x, device=device))
            out.sum().backward()
            results.append([_np(out)] + [_np(p.grad) for p in m.parameters()])
            assert out.device.type == device
        for a, b in zip(*results):
            np.testing.assert_allclose(b, a, rtol=1e-10, atol=1e-12)


class _Scaled(nn.Linear):
    """A Linear with a property of its own, as user modules have."""

    @property
    def scale(self):
        return getattr(self, "_scale", 1.0)

    @scale.setter
    def scale(self, value):
        self._scale = value


class _Doubled(nn.Module):
    def forward(self, w):
        return 2 * w


@pytest.mark.parametrize("parametrized", [False, True])
def test_a_modules_own_property_keeps_its_setter_and_refuses_a_parameter(parametrized):
    """Assigning to a property of the module's class calls its setter, whether or not another
    tensor is parametrized; a Parameter, a buffer or a submodule under its name is PyTorch's
    KeyError (it would hide behind the property), and nothing is registered."""
    m = _Scaled(2, 2)
    if parametrized:
        P.register_parametrization(m, "weight", _Doubled())
    m.scale = 3.0
    assert m.scale == 3.0 and m._scale == 3.0
    for register in (lambda: setattr(m, "scale", nn.Parameter(tg.ones(2))),
                     lambda: m.register_parameter("scale", nn.Parameter(tg.ones(2))),
                     lambda: m.register_buffer("scale", tg.ones(2)),
                     lambda: m.add_module("scale", nn.ReLU())):
        with pytest.raises(KeyError, match="attribute 'scale' already exists \\(a property of "):
            register()
    assert m.scale == 3.0 and "scale" not in dict(m.named_parameters()) and "scale" not in m.state_dict()
