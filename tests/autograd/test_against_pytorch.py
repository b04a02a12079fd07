"""Higher-order gradients against PyTorch's, in float64, to 1e-10.

The same networks (Linear, BatchNorm1d in training and in eval mode, LayerNorm,
ReLU/Tanh/LeakyReLU, cross entropy or MSE) are built in both frameworks with
the same weights, copied through NumPy, and differentiated twice: Hessian-vector
products of the training loss, full Hessians, gradient-penalty training steps,
the ``autograd.functional`` products, and a custom ``autograd.Function``
written once and run as the subclass of either framework's ``Function``.
"""
import numpy as np
import pytest

torch = pytest.importorskip("torch")

import tinygrad_bn as tg
from tinygrad_bn import nn

TOL = {"rtol": 1e-10, "atol": 1e-10}


# ------------------------------------------------------------------ helpers

def assert_same(ours, theirs):
    """Equal structure (tuple nesting, shapes) and values to TOL."""
    if isinstance(theirs, (tuple, list)):
        assert isinstance(ours, tuple) and len(ours) == len(theirs), (type(ours), len(ours), len(theirs))
        for a, b in zip(ours, theirs):
            assert_same(a, b)
        return
    assert isinstance(ours, tg.Tensor), type(ours)
    assert tuple(ours.shape) == tuple(theirs.shape)
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), **TOL)


def twins(array, requires_grad=False):
    """The same values as a tinygrad_bn tensor and a PyTorch tensor."""
    return (tg.tensor(array.copy(), requires_grad=requires_grad),
            torch.tensor(array.copy(), requires_grad=requires_grad))


def random_value(name, shape, rng):
    """A parameter or running statistic, drawn so that no layer is the identity."""
    if name.endswith("running_var"):
        return rng.uniform(0.5, 2.0, shape)
    if name.endswith("running_mean"):
        return rng.normal(0.0, 0.5, shape)
    if len(shape) == 2:  # a Linear weight
        return rng.standard_normal(shape) / np.sqrt(shape[1])
    if name.endswith("weight"):  # a norm layer's scale
        return 1.0 + 0.3 * rng.standard_normal(shape)
    return 0.3 * rng.standard_normal(shape)


def twin_models(build, seed, training):
    """build(nn) in both frameworks, in float64, with the same random weights and running statistics."""
    ours, theirs = build(nn).to(tg.float64), build(torch.nn).double()
    rng = np.random.default_rng(seed)
    state = {name: random_value(name, tuple(value.shape), rng)
             for name, value in theirs.state_dict().items() if value.is_floating_point()}
    theirs.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in state.items()}, strict=False)
    ours.load_state_dict({k: tg.tensor(v.copy()) for k, v in state.items()}, strict=False)
    ours.train(training)
    theirs.train(training)
    return ours, theirs


def assert_same_state(ours, theirs):
    """Parameters and running statistics agree, name by name."""
    mine = ours.state_dict()
    for name, value in theirs.state_dict().items():
        np.testing.assert_allclose(mine[name].numpy(), value.numpy(), err_msg=name, **TOL)


# ------------------------------------------------------------------ the networks

def classifier(nn):
    return nn.Sequential(nn.Linear(5, 8), nn.BatchNorm1d(8), nn.ReLU(),
                         nn.Linear(8, 6), nn.LayerNorm(6), nn.Tanh(), nn.Linear(6, 3))


def regressor(nn):
    return nn.Sequential(nn.Linear(4, 6), nn.BatchNorm1d(6), nn.Tanh(),
                         nn.Linear(6, 6), nn.LayerNorm(6), nn.ReLU(), nn.Linear(6, 2))


class Case:
    """A network, its loss, and one batch, in both frameworks."""

    def __init__(self, build, loss, training, seed=0, batch=6):
        self.ours, self.theirs = twin_models(build, seed, training)
        rng = np.random.default_rng(seed + 100)
        n_in, n_out = self.theirs[0].in_features, self.theirs[-1].out_features
        self.x = twins(rng.standard_normal((batch, n_in)))
        if loss == "cross_entropy":
            self.y = twins(rng.integers(0, n_out, batch))
            self.loss_fn = nn.CrossEntropyLoss(), torch.nn.CrossEntropyLoss()
        else:
            self.y = twins(rng.standard_normal((batch, n_out)))
            self.loss_fn = nn.MSELoss(), torch.nn.MSELoss()

    def each(self):
        """(framework, model, loss_fn, x, y) for tinygrad_bn, then for PyTorch."""
        yield tg, self.ours, self.loss_fn[0], self.x[0], self.y[0]
        yield torch, self.theirs, self.loss_fn[1], self.x[1], self.y[1]


CASES = {
    "classifier-train": (classifier, "cross_entropy", True),
    "classifier-eval": (classifier, "cross_entropy", False),
    "regressor-train": (regressor, "mse", True),
    "regressor-eval": (regressor, "mse", False),
}


@pytest.fixture(params=list(CASES))
def case(request):
    return Case(*CASES[request.param])


def forward_with(F, model, params, x):
    """model's forward with its parameters replaced by ``params`` (in model.parameters()
    order), in F's functions: a function of the parameters for autograd.functional."""
    params = iter(params)
    for layer in model:
        kind = type(layer).__name__
        if kind == "Linear":
            x = F.linear(x, next(params), next(params))
        elif kind == "BatchNorm1d":
            x = F.batch_norm(x, layer.running_mean, layer.running_var, next(params), next(params),
                             training=layer.training, momentum=layer.momentum, eps=layer.eps)
        elif kind == "LayerNorm":
            x = F.layer_norm(x, layer.normalized_shape, next(params), next(params), layer.eps)
        elif kind == "ReLU":
            x = F.relu(x)
        elif kind == "Tanh":
            x = x.tanh()
        else:
            raise AssertionError(f"forward_with: no functional form for {kind}")
    return x


def loss_of_parameters(lib, model, loss_fn, x, y, chosen):
    """The loss as a function of the parameters at positions ``chosen`` (the others held fixed)."""
    fixed = [p.detach() for p in model.parameters()]

    def loss_of(*replaced):
        params = list(fixed)
        for k, p in zip(chosen, replaced):
            params[k] = p
        return loss_fn(forward_with(lib.nn.functional, model, params, x), y)

    return loss_of, tuple(fixed[k] for k in chosen)


def loss_of_input(model, loss_fn, y):
    return lambda x: loss_fn(model(x), y)


# ------------------------------------------------------------------ (a) Hessian-vector products

def double_grad_hvp(lib, model, loss_fn, x, y, v):
    """H v of the loss w.r.t. all parameters: the gradient's dot product with v, differentiated."""
    params = list(model.parameters())
    loss = loss_fn(model(x), y)
    grads = lib.autograd.grad(loss, params, create_graph=True)
    return loss, grads, lib.autograd.grad(grads, params, grad_outputs=v)


def test_hvp_of_training_loss_by_double_grad(case):
    rng = np.random.default_rng(1)
    v = [rng.standard_normal(tuple(p.shape)) for p in case.theirs.parameters()]
    results = []
    for lib, model, loss_fn, x, y in case.each():
        results.append(double_grad_hvp(lib, model, loss_fn, x, y, [lib.tensor(a.copy()) for a in v]))
    (loss, grads, hv), (t_loss, t_grads, t_hv) = results
    assert_same(loss, t_loss)
    assert_same(grads, t_grads)
    assert_same(hv, t_hv)
    assert_same_state(case.ours, case.theirs)  # batch norm's running statistics took the same update


@pytest.mark.filterwarnings("ignore:Using backward\\(\\) with create_graph=True:UserWarning")
def test_hvp_of_training_loss_by_backward_create_graph(case):
    """The same product through Tensor.backward(create_graph=True): the .grad it leaves is differentiable."""
    rng = np.random.default_rng(2)
    v = [rng.standard_normal(tuple(p.shape)) for p in case.theirs.parameters()]
    results = []
    for lib, model, loss_fn, x, y in case.each():
        params = list(model.parameters())
        loss_fn(model(x), y).backward(create_graph=True)
        grad_dot_v = sum((p.grad * lib.tensor(a.copy())).sum() for p, a in zip(params, v))
        results.append(lib.autograd.grad(grad_dot_v, params))
        for p in params:
            p.grad = None  # the graph-carrying .grad would keep the graph alive (PyTorch warns of the cycle)
    assert_same(*results)


def test_functional_hvp_and_vhp_agree(case):
    rng = np.random.default_rng(3)
    v = [rng.standard_normal(tuple(p.shape)) for p in case.theirs.parameters()]
    results = {}
    for lib, model, loss_fn, x, y in case.each():
        loss_of, params = loss_of_parameters(lib, model, loss_fn, x, y, range(len(v)))
        vs = tuple(lib.tensor(a.copy()) for a in v)
        results[lib] = (lib.autograd.functional.hvp(loss_of, params, vs),
                        lib.autograd.functional.vhp(loss_of, params, vs))
    assert_same(results[tg], results[torch])


# ------------------------------------------------------------------ (b) full Hessians

def test_hessian_wrt_input(case):
    """Batch norm in training mode couples the samples: the Hessian is full, not block-diagonal."""
    results = []
    for lib, model, loss_fn, x, y in case.each():
        results.append(lib.autograd.functional.hessian(loss_of_input(model, loss_fn, y), x.detach()))
    assert_same(*results)
    assert tuple(results[0].shape) == tuple(case.x[0].shape) * 2


@pytest.mark.parametrize("which", [6, (4, 5)], ids=["last-linear-weight", "layernorm-weight-and-bias"])
def test_hessian_wrt_parameters(case, which):
    """One small parameter (a Tensor in, a Tensor out) or two (tuple of tuples out)."""
    results = []
    chosen = (which,) if isinstance(which, int) else which
    for lib, model, loss_fn, x, y in case.each():
        loss_of, params = loss_of_parameters(lib, model, loss_fn, x, y, chosen)
        results.append(lib.autograd.functional.hessian(loss_of, params[0] if isinstance(which, int) else params))
    assert_same(*results)


# ------------------------------------------------------------------ (c) a gradient-penalty training step

def critic(norm):
    def build(nn):
        layer = nn.LayerNorm(8) if norm == "layernorm" else nn.BatchNorm1d(8)
        return nn.Sequential(nn.Linear(2, 8), layer, nn.LeakyReLU(0.2), nn.Linear(8, 8), nn.Tanh(), nn.Linear(8, 1))
    return build


def gradient_penalty_step(lib, model, opt, real, fake, alpha, gp_lambda=10.0):
    """WGAN-GP's critic loss, E[D(fake)] - E[D(real)] + lambda E[(||grad D(x_hat)|| - 1)^2], and one step."""
    x_hat = (alpha * real + (1 - alpha) * fake).requires_grad_(True)
    scores = model(x_hat)
    (grads,) = lib.autograd.grad(scores, x_hat, grad_outputs=lib.ones_like(scores), create_graph=True)
    norms = (grads * grads).sum(dim=1).sqrt()
    loss = model(fake).mean() - model(real).mean() + gp_lambda * ((norms - 1) ** 2).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
    return loss


@pytest.mark.parametrize("norm,training", [("layernorm", True), ("batchnorm", True), ("batchnorm", False)],
                         ids=["layernorm", "batchnorm-train", "batchnorm-eval"])
def test_gradient_penalty_sgd_steps(norm, training):
    ours, theirs = twin_models(critic(norm), seed=4, training=training)
    opts = (tg.optim.SGD(ours.parameters(), lr=0.05, momentum=0.9),
            torch.optim.SGD(theirs.parameters(), lr=0.05, momentum=0.9))
    rng = np.random.default_rng(5)
    for _ in range(3):
        real, fake = twins(rng.standard_normal((8, 2))), twins(rng.standard_normal((8, 2)) + 1.0)
        alpha = twins(rng.uniform(size=(8, 1)))
        losses = [gradient_penalty_step(lib, model, opt, r, f, a) for lib, model, opt, r, f, a
                  in zip((tg, torch), (ours, theirs), opts, real, fake, alpha)]
        assert_same(*losses)
        assert_same_state(ours, theirs)


# ------------------------------------------------------------------ (d) vjp, jvp, jacobian of a small function

def two_in_two_out(lib):
    def f(x, w):
        h = lib.tanh(x @ w)
        return h * x.sum(dim=1, keepdim=True), (h.exp() * w.sum(dim=0)).sum(dim=0)
    return f


def one_in_one_out(lib):
    def f(x):
        return lib.softmax(x * x, dim=1) * x.sum()
    return f


@pytest.fixture
def small_inputs():
    rng = np.random.default_rng(6)
    return {"x": rng.standard_normal((3, 4)), "w": rng.standard_normal((4, 2)),
            "out0": rng.standard_normal((3, 2)), "out1": rng.standard_normal(2)}


def each_small(small_inputs):
    """(framework, f of (x, w), f of x, x, w, v over outputs, v over inputs) for both frameworks."""
    a = small_inputs
    for lib in (tg, torch):
        x, w = lib.tensor(a["x"].copy()), lib.tensor(a["w"].copy())
        v_out = (lib.tensor(a["out0"].copy()), lib.tensor(a["out1"].copy()))
        v_in = (lib.tensor(a["x"][::-1].copy()), lib.tensor(a["w"][::-1].copy()))
        yield lib, two_in_two_out(lib), one_in_one_out(lib), x, w, v_out, v_in


def test_vjp_jvp_jacobian_with_tuples(small_inputs):
    results = []
    for lib, f, _, x, w, v_out, v_in in each_small(small_inputs):
        fn = lib.autograd.functional
        results.append((fn.vjp(f, (x, w), v_out), fn.jvp(f, (x, w), v_in), fn.jacobian(f, (x, w))))
    assert_same(*results)


def test_vjp_jvp_jacobian_with_single_tensors(small_inputs):
    results = []
    for lib, _, g, x, _, _, v_in in each_small(small_inputs):
        fn = lib.autograd.functional
        results.append((fn.vjp(g, x, v_in[0]), fn.jvp(g, x, v_in[0]), fn.jacobian(g, x)))
    assert_same(*results)


def test_functional_create_graph_stays_joined_to_the_callers_graph(small_inputs):
    """With create_graph=True the vjp is a function of the caller's x: differentiate it again."""
    results = []
    for lib, f, _, _, _, v_out, _ in each_small(small_inputs):
        x = lib.tensor(small_inputs["x"].copy(), requires_grad=True)
        w = lib.tensor(small_inputs["w"].copy(), requires_grad=True)
        _, (vjp_x, vjp_w) = lib.autograd.functional.vjp(f, (x, w), v_out, create_graph=True)
        jac = lib.autograd.functional.jacobian(f, (x, w), create_graph=True)
        ((vjp_x * vjp_x).sum() + (vjp_w ** 3).sum() + jac[1][0].sum()).backward()
        results.append((x.grad, w.grad))
    assert_same(*results)


def test_strict_mode_on_an_unused_input(small_inputs):
    def uses_x_only(x, w):
        return x * 2

    zeros = []
    for lib, _, _, x, w, _, _ in each_small(small_inputs):
        v = lib.ones_like(x)
        with pytest.raises(RuntimeError, match="independent of input 1"):
            lib.autograd.functional.vjp(uses_x_only, (x, w), v, strict=True)
        zeros.append(lib.autograd.functional.vjp(uses_x_only, (x, w), v)[1])
    assert_same(*zeros)
    assert not zeros[0][1].numpy().any()


# ------------------------------------------------------------------ (e) a custom autograd.Function, twice

def custom_functions(lib):
    """The same source as a subclass of lib.autograd.Function: forward and backward on tensors."""
    once_differentiable = lib.autograd.function.once_differentiable

    class TanhScale(lib.autograd.Function):
        """y = scale * tanh(x) * w, w broadcast over the rows of x; scale a Python number."""

        @staticmethod
        def forward(ctx, x, w, scale):
            ctx.save_for_backward(x, w)
            ctx.scale = scale
            return scale * lib.tanh(x) * w

        @staticmethod
        def backward(ctx, grad):
            x, w = ctx.saved_tensors
            t = lib.tanh(x)
            grad_x = grad * ctx.scale * (1 - t * t) * w if ctx.needs_input_grad[0] else None
            grad_w = (grad * ctx.scale * t).sum(dim=0) if ctx.needs_input_grad[1] else None
            return grad_x, grad_w, None

    class Exp(lib.autograd.Function):
        """Saves its output: the second derivative flows through the saved result."""

        @staticmethod
        def forward(ctx, x):
            y = x.exp()
            ctx.save_for_backward(y)
            return y

        @staticmethod
        def backward(ctx, grad):
            (y,) = ctx.saved_tensors
            return grad * y

    class OnceExp(Exp):
        @staticmethod
        @once_differentiable
        def backward(ctx, grad):
            (y,) = ctx.saved_tensors
            return grad * y

    return TanhScale, Exp, OnceExp


def second_derivatives(lib, x_array, w_array):
    """Value, first gradients (recorded) and the gradient of a function of them, for TanhScale after Exp."""
    TanhScale, Exp, _ = custom_functions(lib)
    x = lib.tensor(x_array.copy(), requires_grad=True)
    w = lib.tensor(w_array.copy(), requires_grad=True)
    out = TanhScale.apply(Exp.apply(x), w, 0.7)
    gx, gw = lib.autograd.grad(out.sum() + (out * out).sum(), (x, w), create_graph=True)
    second = lib.autograd.grad((gx * gx).sum() + (gw * x.sum()).sum(), (x, w))
    return out, (gx, gw), second


def test_custom_function_differentiated_twice():
    rng = np.random.default_rng(7)
    x, w = rng.standard_normal((3, 4)) * 0.5, rng.standard_normal(4)
    assert_same(second_derivatives(tg, x, w), second_derivatives(torch, x, w))


def test_custom_function_gradgradcheck():
    TanhScale, Exp, _ = custom_functions(tg)
    rng = np.random.default_rng(8)
    x = tg.tensor(rng.standard_normal((3, 4)) * 0.5, requires_grad=True)
    w = tg.tensor(rng.standard_normal(4), requires_grad=True)
    assert tg.autograd.gradgradcheck(lambda a, b: TanhScale.apply(Exp.apply(a), b, 0.7), (x, w))


def test_once_differentiable_first_derivative_agrees_second_raises():
    rng = np.random.default_rng(9)
    x_array = rng.standard_normal((2, 3))
    firsts = []
    for lib in (tg, torch):
        _, _, OnceExp = custom_functions(lib)
        x = lib.tensor(x_array.copy(), requires_grad=True)
        (g,) = lib.autograd.grad((OnceExp.apply(x) ** 2).sum(), x, create_graph=True)
        firsts.append(g)
        with pytest.raises(RuntimeError, match="once_differentiable"):
            g.sum().backward()
    assert_same(*firsts)


def test_once_differentiable_second_derivative_by_grad_raises():
    """grad(g, x) raises too: our error node hangs on the graph of the gradient it got.
    (PyTorch's hangs on a detached copy, so there x is not reached and grad reports
    x as unused, or with allow_unused=True returns None.)"""
    _, _, OnceExp = custom_functions(tg)
    x = tg.tensor(np.array([0.5, -0.3]), requires_grad=True)
    (g,) = tg.autograd.grad((OnceExp.apply(x) ** 2).sum(), x, create_graph=True)
    with pytest.raises(RuntimeError, match="once_differentiable"):
        tg.autograd.grad(g.sum(), x)


def test_once_differentiable_keeps_the_backwards_name_and_doc():
    from tinygrad_bn.autograd.function import once_differentiable

    def backward(ctx, g):
        """The gradient."""
        return g

    wrapped = once_differentiable(backward)
    assert (wrapped.__name__, wrapped.__doc__, wrapped.__wrapped__) == ("backward", "The gradient.", backward)
