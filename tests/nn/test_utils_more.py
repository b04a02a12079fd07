"""nn.utils beyond clip_grad_norm_: get_total_norm, clip_grads_with_norm_, the deprecated
clip_grad_norm, parameters_to_vector / vector_to_parameters, Linear-BatchNorm fusion,
skip_init and stateless.functional_call (gradients against a reference and gradcheck).
Each test checks the values itself; with PyTorch installed, the same calls in torch too."""
import math
import warnings

import numpy as np
import pytest

import tinygrad_bn as tg
from tinygrad_bn import nn
from tinygrad_bn.autograd import gradcheck
from tinygrad_bn.nn import utils
from tinygrad_bn.nn.containers import ParameterDict
from tinygrad_bn.nn.module import Module
from tinygrad_bn.nn.parameter import Parameter
from tinygrad_bn.nn.stateless import functional_call


def _torch():
    return pytest.importorskip("torch")


def _grads(rng, *shapes, dtype=np.float32):
    return [rng.standard_normal(s).astype(dtype) for s in shapes]


# ------------------------------------------------------------------ norms

@pytest.mark.parametrize("p", [2.0, 1.0, 3.0, 0.5, math.inf, -math.inf, 0.0])
def test_get_total_norm_is_the_norm_of_the_concatenation(p):
    rng = np.random.default_rng(0)
    arrays = _grads(rng, (3, 4), (5,), (2, 2, 2))
    total = utils.get_total_norm([tg.tensor(a) for a in arrays], norm_type=p)
    flat = np.concatenate([a.ravel() for a in arrays]).astype(np.float64)
    if p == 0:
        # PyTorch's rule: the norm of the per-tensor norms (here: how many tensors have a nonzero)
        expected = float(sum(np.count_nonzero(a) > 0 for a in arrays))
    else:
        expected = np.linalg.norm(np.array([np.linalg.norm(a.ravel().astype(np.float64), p) for a in arrays]), p)
        if p not in (0.5,):
            assert expected == pytest.approx(np.linalg.norm(flat, p), rel=1e-6)
    assert total.shape == () and total.item() == pytest.approx(expected, rel=1e-5)


def test_get_total_norm_matches_pytorch():
    torch = _torch()
    rng = np.random.default_rng(1)
    arrays = _grads(rng, (3, 4), (7,))
    for p in (2.0, 1.0, math.inf, 3.0, "inf"):
        ours = utils.get_total_norm([tg.tensor(a) for a in arrays], p)
        theirs = torch.nn.utils.get_total_norm([torch.tensor(a) for a in arrays], p)
        assert ours.item() == pytest.approx(theirs.item(), rel=1e-5)


def test_get_total_norm_edges_and_errors():
    assert utils.get_total_norm([]).item() == 0.0
    t = tg.tensor([3.0, 4.0])
    assert utils.get_total_norm(t).item() == pytest.approx(5.0)
    mixed = utils.get_total_norm([tg.tensor([3.0]), tg.tensor([4.0], dtype=tg.float64)])
    assert mixed.dtype == tg.float64 and mixed.item() == pytest.approx(5.0)
    # the dtype PyTorch's stack of the norms promotes to: float16 and float32 give float32,
    # one dtype stays that dtype
    for dtypes, want in (((tg.float16, tg.float32), tg.float32), ((tg.float32, tg.float32), tg.float32),
                         ((tg.float16, tg.float16), tg.float16)):
        norm = utils.get_total_norm([tg.tensor([3.0], dtype=dtypes[0]), tg.tensor([4.0], dtype=dtypes[1])])
        assert norm.dtype == want and norm.item() == 5.0, dtypes
    with pytest.raises(RuntimeError, match="get_total_norm: the total norm of order 2.0 .* is nan"):
        utils.get_total_norm([tg.tensor([float("nan")])], error_if_nonfinite=True)
    assert math.isinf(utils.get_total_norm([tg.tensor([float("inf")])]).item())
    with pytest.raises(TypeError, match=r"get_total_norm: tensors\[1\] is a float, expected a Tensor"):
        utils.get_total_norm([t, 1.0])
    with pytest.raises(TypeError, match="get_total_norm: norm_type must be a number, got str 'x'"):
        utils.get_total_norm([t], "x")
    with pytest.raises(ValueError, match="norm_type must be a number or inf, got nan"):
        utils.get_total_norm([t], float("nan"))
    with pytest.raises(TypeError, match="foreach must be a bool or None"):
        utils.get_total_norm([t], foreach="yes")
    with pytest.raises(TypeError, match="error_if_nonfinite must be a bool"):
        utils.get_total_norm([t], error_if_nonfinite=None)


def test_clip_grads_with_norm_is_clip_grad_norm_in_two_steps():
    rng = np.random.default_rng(2)
    arrays = _grads(rng, (3, 4), (5,))
    a = [tg.zeros(*x.shape, requires_grad=True) for x in arrays]
    b = [tg.zeros(*x.shape, requires_grad=True) for x in arrays]
    for p, q, g in zip(a, b, arrays):
        p.grad, q.grad = tg.tensor(g), tg.tensor(g)
    total = utils.get_total_norm([p.grad for p in a])
    assert utils.clip_grads_with_norm_(a, 0.5, total) is None
    total_b = utils.clip_grad_norm_(b, 0.5)
    assert total.item() == pytest.approx(total_b.item())
    for p, q, g in zip(a, b, arrays):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-6)
        np.testing.assert_allclose(p.grad.numpy(), g * 0.5 / (total.item() + 1e-6), rtol=1e-5)
    # a norm below max_norm leaves the gradients alone; a number works as total_norm
    utils.clip_grads_with_norm_(a, 10.0, 0.25)
    np.testing.assert_allclose(a[0].grad.numpy(), b[0].grad.numpy(), rtol=1e-6)
    utils.clip_grads_with_norm_([tg.zeros(2, requires_grad=True)], 1.0, total)  # no gradients: nothing to do
    with pytest.raises(RuntimeError, match="total_norm must hold one number"):
        utils.clip_grads_with_norm_(a, 1.0, tg.ones(2))
    with pytest.raises(TypeError, match="clip_grads_with_norm_: max_norm must be a number"):
        utils.clip_grads_with_norm_(a, "big", total)


def test_clip_grads_with_norm_matches_pytorch():
    torch = _torch()
    rng = np.random.default_rng(3)
    arrays = _grads(rng, (4, 3), (6,))
    ours = [tg.zeros(*x.shape, requires_grad=True) for x in arrays]
    theirs = [torch.zeros(x.shape, requires_grad=True) for x in arrays]
    for p, q, g in zip(ours, theirs, arrays):
        p.grad, q.grad = tg.tensor(g), torch.tensor(g)
    utils.clip_grads_with_norm_(ours, 0.3, utils.get_total_norm([p.grad for p in ours], 3.0))
    torch.nn.utils.clip_grads_with_norm_(theirs, 0.3, torch.nn.utils.get_total_norm([q.grad for q in theirs], 3.0))
    for p, q in zip(ours, theirs):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-5)


def test_clip_grad_norm_is_the_deprecated_alias():
    p = tg.zeros(2, requires_grad=True)
    p.grad = tg.tensor([3.0, 4.0])
    with pytest.warns(FutureWarning, match="clip_grad_norm_"):
        total = utils.clip_grad_norm(p, 1.0)
    assert total.item() == pytest.approx(5.0)
    np.testing.assert_allclose(p.grad.numpy(), [0.6, 0.8], rtol=1e-5)
    with pytest.warns(UserWarning, match="empty generator"):
        assert utils.clip_grad_norm_((q for q in []), 1.0).item() == 0.0
    p.grad = tg.tensor([3.0, 4.0])
    utils.clip_grad_value_([p], 3.5, foreach=None)
    np.testing.assert_array_equal(p.grad.numpy(), [3.0, 3.5])


# ----------------------------------------------------------- vector <-> params

def test_parameters_to_vector_and_back():
    lin = nn.Linear(3, 2)
    vec = utils.parameters_to_vector(lin.parameters())
    assert vec.shape == (8,)
    np.testing.assert_array_equal(vec.detach().numpy()[:6], lin.weight.detach().numpy().ravel())
    np.testing.assert_array_equal(vec.detach().numpy()[6:], lin.bias.detach().numpy())
    # recorded: the gradient reaches the parameters
    weights = tg.arange(8, dtype=tg.float32)
    (vec * weights).sum().backward()
    np.testing.assert_array_equal(lin.weight.grad.numpy().ravel(), np.arange(6))
    np.testing.assert_array_equal(lin.bias.grad.numpy(), [6, 7])
    w = lin.weight
    utils.vector_to_parameters(tg.arange(8, dtype=tg.float32) * 0.5, lin.parameters())
    assert lin.weight is w
    np.testing.assert_array_equal(lin.weight.detach().numpy(), np.arange(6).reshape(2, 3) * 0.5)
    np.testing.assert_array_equal(lin.bias.detach().numpy(), [3.0, 3.5])
    with pytest.raises(TypeError, match="vector_to_parameters: expected a Tensor for vec, got list"):
        utils.vector_to_parameters([1.0] * 8, lin.parameters())
    with pytest.raises(RuntimeError, match="vec has 5 elements, the parameters 8"):
        utils.vector_to_parameters(tg.zeros(5), lin.parameters())
    with pytest.raises(ValueError, match="parameters_to_vector: got no parameters"):
        utils.parameters_to_vector([])
    with pytest.raises(TypeError, match=r"parameters_to_vector: parameters\[0\] is a int"):
        utils.parameters_to_vector([1])


def test_parameters_to_vector_matches_pytorch():
    torch = _torch()
    tlin = torch.nn.Linear(3, 2)
    lin = nn.Linear(3, 2)
    lin.load_state_dict({k: tg.tensor(v.detach().numpy()) for k, v in tlin.state_dict().items()})
    np.testing.assert_array_equal(utils.parameters_to_vector(lin.parameters()).detach().numpy(),
                                  torch.nn.utils.parameters_to_vector(tlin.parameters()).detach().numpy())


# ------------------------------------------------------------------ fusion

def _bn_with_stats(n, rng, affine=True):
    bn = nn.BatchNorm1d(n, affine=affine)
    with tg.no_grad():
        bn.running_mean.copy_(tg.tensor(rng.standard_normal(n).astype(np.float32)))
        bn.running_var.copy_(tg.tensor(rng.uniform(0.5, 2.0, n).astype(np.float32)))
        if affine:
            bn.weight.copy_(tg.tensor(rng.uniform(0.5, 1.5, n).astype(np.float32)))
            bn.bias.copy_(tg.tensor(rng.standard_normal(n).astype(np.float32)))
    return bn.eval()


@pytest.mark.parametrize("bias,affine", [(True, True), (False, True), (True, False)])
def test_fuse_linear_bn_eval_computes_bn_of_linear(bias, affine):
    rng = np.random.default_rng(4)
    lin = nn.Linear(5, 3, bias=bias).eval()
    bn = _bn_with_stats(3, rng, affine)
    fused = utils.fuse_linear_bn_eval(lin, bn)
    assert fused is not lin and isinstance(fused.weight, Parameter) and fused.bias is not None
    x = tg.tensor(rng.standard_normal((6, 5)).astype(np.float32))
    np.testing.assert_allclose(fused(x).detach().numpy(), bn(lin(x)).detach().numpy(), rtol=1e-5, atol=1e-5)
    # by hand: W' = W * g / sqrt(v + eps), b' = (b - m) * g / sqrt(v + eps) + beta
    g = bn.weight.detach().numpy() if affine else np.ones(3, np.float32)
    beta = bn.bias.detach().numpy() if affine else np.zeros(3, np.float32)
    scale = g / np.sqrt(bn.running_var.detach().numpy() + bn.eps)
    b = lin.bias.detach().numpy() if bias else 0.0
    np.testing.assert_allclose(fused.weight.detach().numpy(), lin.weight.detach().numpy() * scale[:, None],
                               rtol=1e-6)
    np.testing.assert_allclose(fused.bias.detach().numpy(), (b - bn.running_mean.detach().numpy()) * scale + beta,
                               rtol=1e-5, atol=1e-6)


def test_fuse_linear_bn_refuses_training_mode_and_mismatched_sizes():
    lin, bn = nn.Linear(4, 3), nn.BatchNorm1d(3)
    with pytest.raises(AssertionError, match="fuse_linear_bn_eval: fusion is for eval mode only"):
        utils.fuse_linear_bn_eval(lin, bn)
    with pytest.raises(AssertionError, match="out_features == bn.num_features"):
        utils.fuse_linear_bn_eval(nn.Linear(4, 2).eval(), bn.eval())
    with pytest.raises(AssertionError, match="no running statistics"):
        utils.fuse_linear_bn_eval(lin.eval(), nn.BatchNorm1d(3, track_running_stats=False).eval())
    with pytest.raises(TypeError, match="bn must be a BatchNorm module, got Linear"):
        utils.fuse_linear_bn_eval(lin, nn.Linear(3, 3))
    with pytest.raises(TypeError, match="fuse_linear_bn_weights: bn_rm must be a Tensor, got list"):
        utils.fuse_linear_bn_weights(lin.weight, lin.bias, [0.0], tg.ones(3), 1e-5, None, None)
    # one feature in the BatchNorm broadcasts over the outputs, as in PyTorch
    fused = utils.fuse_linear_bn_eval(nn.Linear(4, 3).eval(), _bn_with_stats(1, np.random.default_rng(0)))
    assert fused.weight.shape == (3, 4)


def test_fuse_linear_bn_weights_matches_pytorch():
    torch = _torch()
    rng = np.random.default_rng(5)
    arrays = [rng.standard_normal(s).astype(np.float32) for s in ((3, 4), (3,), (3,))]
    rv = rng.uniform(0.5, 2.0, 3).astype(np.float32)
    gamma, beta = rng.uniform(0.5, 1.5, 3).astype(np.float32), rng.standard_normal(3).astype(np.float32)
    ours = utils.fuse_linear_bn_weights(*(tg.tensor(a) for a in arrays[:3]), tg.tensor(rv), 1e-5, tg.tensor(gamma),
                                        tg.tensor(beta))
    theirs = torch.nn.utils.fuse_linear_bn_weights(*(torch.tensor(a) for a in arrays[:3]), torch.tensor(rv), 1e-5,
                                                   torch.tensor(gamma), torch.tensor(beta))
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-6, atol=1e-7)
        assert a.requires_grad == b.requires_grad


# ------------------------------------------------------------------ skip_init

def test_skip_init_builds_without_initialising_or_drawing():
    tg.manual_seed(3)
    expected = tg.rand(4).numpy()
    tg.manual_seed(3)
    lin = utils.skip_init(nn.Linear, 5, 2, bias=True)
    assert isinstance(lin, nn.Linear) and lin.weight.shape == (2, 5) and lin.bias.shape == (2,)
    np.testing.assert_array_equal(tg.rand(4).numpy(), expected)  # no random numbers were used
    assert lin.weight.requires_grad
    lin2 = utils.skip_init(nn.Linear, in_features=3, out_features=1, device="cpu")
    assert lin2.weight.device == "cpu"
    with pytest.raises(RuntimeError, match="skip_init: expected a Module class; got 3"):
        utils.skip_init(3)
    with pytest.raises(RuntimeError, match="skip_init: expected a Module class"):
        utils.skip_init(nn.Linear(2, 2))


# ------------------------------------------------------------------ functional_call

def _reference_forward(module, tensors, x):
    """The module's forward with ``tensors`` written into copies of its parameters, as a reference."""
    import copy
    clone = copy.deepcopy(module)
    with tg.no_grad():
        for name, t in tensors.items():
            target = clone.get_parameter(name) if name in dict(clone.named_parameters()) else clone.get_buffer(name)
            target.copy_(t.detach())
    return clone(x)


def test_functional_call_uses_the_given_tensors_and_restores_the_module():
    tg.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
    own = {n: (p, p.detach().numpy().copy()) for n, p in model.named_parameters()}
    x = tg.randn(5, 3)
    new = {n: tg.randn(*p.shape) for n, p in model.named_parameters()}
    out = functional_call(model, new, (x,))
    np.testing.assert_allclose(out.detach().numpy(), _reference_forward(model, new, x).detach().numpy(), rtol=1e-6)
    for n, p in model.named_parameters():
        assert p is own[n][0]
        np.testing.assert_array_equal(p.detach().numpy(), own[n][1])
    # a subset: the rest are the module's own; args not a tuple is one argument; kwargs pass through
    part = {"2.bias": tg.zeros(2)}
    np.testing.assert_allclose(functional_call(model, part, x).detach().numpy(),
                               (model(x) - model[2].bias).detach().numpy(), rtol=1e-5, atol=1e-6)

    class Kw(Module):
        def __init__(self):
            super().__init__()
            self.w = Parameter(tg.ones(2))

        def forward(self, x, scale=1.0):
            return self.w * x * scale

    assert functional_call(Kw(), {"w": tg.full((2,), 2.0)}, (tg.ones(2),), {"scale": 3.0}).tolist() == [6.0, 6.0]


def test_functional_call_puts_the_tensors_where_the_parameters_are_and_leaves_no_trace():
    """Inside the call, named_parameters() and state_dict() give the tensors passed in
    (PyTorch swaps them into the module's parameters); after it, the module's
    attributes are its own again, with no copy left behind that would hide a
    parameter assigned later."""
    seen = {}

    class Spy(Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(3, 2)

        def forward(self, x):
            seen["param"] = dict(self.named_parameters())["lin.weight"]
            seen["state"] = self.state_dict(keep_vars=True)["lin.weight"]
            return self.lin(x)

    m = Spy()
    w = tg.randn(2, 3)
    functional_call(m, {"lin.weight": w}, (tg.randn(4, 3),))
    assert seen["param"] is w and seen["state"] is w
    assert "weight" not in vars(m.lin) and isinstance(m.lin.weight, Parameter)
    replacement = Parameter(tg.zeros(2, 3))
    m.lin.weight = replacement
    assert m.lin.weight is replacement and dict(m.named_parameters())["lin.weight"] is replacement


def test_a_tensor_the_forward_assigns_anew_goes_back_into_the_callers_dict():
    """As PyTorch's functional_call: a forward that rebinds a given buffer leaves the new
    tensor in the dict it came from; the module keeps its own."""
    class Counter(Module):
        def __init__(self):
            super().__init__()
            self.register_buffer("count", tg.zeros(()))

        def forward(self, x):
            self.count = self.count + 1
            return x * self.count

    m = Counter()
    given = {"count": tg.full((), 5.0)}
    first = given["count"]
    assert functional_call(m, given, (tg.ones(2),)).tolist() == [6.0, 6.0]
    assert given["count"] is not first and given["count"].item() == 6.0 and first.item() == 5.0
    assert m.count.item() == 0.0
    assert functional_call(m, given, (tg.ones(2),)).tolist() == [7.0, 7.0]  # the next call starts from it


def test_functional_call_gradients_flow_to_the_given_tensors():
    tg.manual_seed(1)
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1))
    x = tg.randn(6, 3)
    given = {n: p.detach().clone().requires_grad_() for n, p in model.named_parameters()}
    functional_call(model, given, (x,)).pow(2).sum().backward()
    assert all(p.grad is None for p in model.parameters())
    model(x).pow(2).sum().backward()  # the reference: the same values, the module's own parameters
    for n, p in model.named_parameters():
        np.testing.assert_allclose(given[n].grad.numpy(), p.grad.numpy(), rtol=1e-5, atol=1e-6)


def test_functional_call_passes_gradcheck():
    tg.manual_seed(2)
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2)).double()
    names = [n for n, _ in model.named_parameters()]
    x = tg.randn(5, 3, dtype=tg.float64)
    inputs = tuple(p.detach().clone().requires_grad_() for p in model.parameters())

    def fn(*tensors):
        return functional_call(model, dict(zip(names, tensors)), (x,))

    assert gradcheck(fn, inputs)


def test_functional_call_maml_second_order_matches_finite_differences():
    tg.manual_seed(3)
    model = nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 1)).double()
    xs, ys = tg.randn(4, 2, dtype=tg.float64), tg.randn(4, 1, dtype=tg.float64)
    xq, yq = tg.randn(4, 2, dtype=tg.float64), tg.randn(4, 1, dtype=tg.float64)
    names = [n for n, _ in model.named_parameters()]
    lr = 0.1

    def meta_loss(*params):
        with tg.enable_grad():  # the inner gradient is taken in gradcheck's numeric passes too
            fast = dict(zip(names, params))
            inner = ((functional_call(model, fast, (xs,)) - ys) ** 2).mean()
            grads = tg.autograd.grad(inner, list(fast.values()), create_graph=True)
            adapted = {n: p - lr * g for (n, p), g in zip(fast.items(), grads)}
            return ((functional_call(model, adapted, (xq,)) - yq) ** 2).mean()

    inputs = tuple(p.detach().clone().requires_grad_() for p in model.parameters())
    assert gradcheck(meta_loss, inputs)


def test_functional_call_maml_matches_torch_func():
    torch = _torch()
    rng = np.random.default_rng(6)
    ours = nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 1))
    theirs = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.Tanh(), torch.nn.Linear(3, 1))
    with torch.no_grad():
        for p, q in zip(ours.parameters(), theirs.parameters()):
            q.copy_(torch.from_numpy(p.detach().numpy()))
    data = [rng.standard_normal(s).astype(np.float32) for s in ((4, 2), (4, 1), (4, 2), (4, 1))]

    def meta(lib, model, call, grad):
        xs, ys, xq, yq = (lib.tensor(a) for a in data)
        fast = dict(model.named_parameters())
        inner = ((call(model, fast, (xs,)) - ys) ** 2).mean()
        grads = grad(inner, list(fast.values()), create_graph=True)
        adapted = {n: p - 0.1 * g for (n, p), g in zip(fast.items(), grads)}
        loss = ((call(model, adapted, (xq,)) - yq) ** 2).mean()
        loss.backward()
        return loss.item(), [p.grad.numpy() for p in model.parameters()]

    loss_o, grads_o = meta(tg, ours, functional_call, tg.autograd.grad)
    loss_t, grads_t = meta(torch, theirs, torch.func.functional_call, torch.autograd.grad)
    assert loss_o == pytest.approx(loss_t, rel=1e-5)
    for a, b in zip(grads_o, grads_t):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)


def test_functional_call_buffers_are_updated_in_the_given_tensors():
    bn = nn.BatchNorm1d(3)
    mean, var = tg.zeros(3), tg.ones(3)
    x = tg.randn(8, 3) + 2.0
    functional_call(bn, {"running_mean": mean, "running_var": var}, (x,))
    assert abs(mean.numpy() - 0.1 * x.numpy().mean(0)).max() < 1e-5  # momentum 0.1 into the given tensor
    np.testing.assert_array_equal(bn.running_mean.numpy(), 0)  # the module's own: untouched
    assert bn.num_batches_tracked.item() == 1  # not given: the module's own counts


def test_functional_call_tied_weights_strict_and_several_dicts():
    class Tied(Module):
        def __init__(self):
            super().__init__()
            self.a = Parameter(tg.ones(2))
            self.b = self.a  # tied

        def forward(self, x):
            return x * self.a + x * self.b

    m = Tied()
    x = tg.ones(2)
    assert [n for n, _ in m.named_parameters(remove_duplicate=False)] == ["a", "b"]
    assert functional_call(m, {"a": tg.zeros(2)}, (x,)).tolist() == [0.0, 0.0]  # b follows a
    assert functional_call(m, {"a": tg.zeros(2)}, (x,), tie_weights=False).tolist() == [1.0, 1.0]
    with pytest.raises(ValueError, match=r"multiple values for keys \['a', 'b'\], which are tied"):
        functional_call(m, {"a": tg.zeros(2), "b": tg.ones(2)}, (x,))
    lin = nn.Linear(2, 2)
    with pytest.raises(RuntimeError, match=r"Missing key\(s\): 'bias'"):
        functional_call(lin, {"weight": tg.zeros(2, 2)}, (x,), strict=True)
    with pytest.raises(RuntimeError, match=r"Unexpected key\(s\): 'gain'"):
        functional_call(lin, {"weight": tg.zeros(2, 2), "bias": tg.zeros(2), "gain": tg.ones(1)}, (x,), strict=True)
    out = functional_call(lin, ({"weight": tg.zeros(2, 2)}, {"bias": tg.ones(2)}), (x,))
    assert out.tolist() == [1.0, 1.0]
    with pytest.raises(ValueError, match="'bias' appeared in multiple dictionaries"):
        functional_call(lin, ({"bias": tg.ones(2)}, {"bias": tg.ones(2)}), (x,))


def test_functional_call_restores_after_an_error_and_checks_arguments():
    class Boom(Module):
        def __init__(self):
            super().__init__()
            self.w = Parameter(tg.ones(1))

        def forward(self, x):
            raise ValueError("boom")

    m = Boom()
    w = m.w
    with pytest.raises(ValueError, match="boom"):
        functional_call(m, {"w": tg.zeros(1)}, (1,))
    assert m.w is w
    lin = nn.Linear(2, 2)
    with pytest.raises(TypeError, match="functional_call: module must be an nn.Module, got int"):
        functional_call(3, {}, ())
    with pytest.raises(TypeError, match="expected a dict of name -> tensor or a tuple of such dicts, got list"):
        functional_call(lin, [1], ())
    with pytest.raises(TypeError, match="the value for 'weight' must be a Tensor, got float"):
        functional_call(lin, {"weight": 1.0}, ())
    with pytest.raises(AttributeError, match="functional_call: no submodule for 'nope.weight'"):
        functional_call(lin, {"nope.weight": tg.ones(1)}, ())
    assert "weight" in lin._parameters and isinstance(lin.weight, Parameter)
    with pytest.raises(TypeError, match="kwargs must be a dict"):
        functional_call(lin, {}, (tg.ones(2),), [1])
    # a name the module does not have becomes an attribute for the call only (strict=False)
    functional_call(lin, {"extra": tg.ones(1)}, (tg.ones(2),))
    assert not hasattr(lin, "extra")


def test_functional_call_reached_through_nn_utils_stateless():
    from tinygrad_bn.nn.utils.stateless import functional_call as fc
    assert fc is functional_call and utils.stateless.functional_call is functional_call
    pd = ParameterDict({"w": tg.ones(2)})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert functional_call(nn.Linear(2, 1), {"bias": tg.zeros(1)}, (tg.ones(2),)).shape == (1,)
    assert len(pd) == 1
