"""gradcheck of every op on drawn shapes in float64, including broadcasting and indexing."""
import numpy as np
import pytest
from conftest import away_from
from hypothesis import assume, given, strategies as st
from hypothesis.extra import numpy as hnp

import tinygrad_bn as tg
from tinygrad_bn.nn import functional as F
from tinygrad_bn.testing import gradcheck
from tinygrad_bn.testing import strategies as tst


UNARY = {
    "exp": (lambda t: t.exp(), None),
    "log": (lambda t: t.log(), "positive"),
    "sqrt": (lambda t: t.sqrt(), "positive"),
    "abs": (lambda t: t.abs(), [0.0]),
    "tanh": (lambda t: t.tanh(), None),
    "sigmoid": (lambda t: t.sigmoid(), None),
    "relu": (lambda t: t.relu(), [0.0]),
    "leaky_relu": (lambda t: t.leaky_relu(0.2), [0.0]),
    "gelu": (lambda t: t.gelu(), None),
    "gelu_tanh": (lambda t: t.gelu("tanh"), None),
    "clip": (lambda t: t.clip(-0.5, 0.7), [-0.5, 0.7]),
    "neg": (lambda t: -t, None),
    "square": (lambda t: t ** 2, None),
    "clone": (lambda t: t.clone(), None),
}


@pytest.mark.parametrize("name", sorted(UNARY))
@given(x=tst.arrays(np.float64, tst.shapes(max_dims=3, max_side=4)))
def test_unary(name, x):
    fn, domain = UNARY[name]
    if domain == "positive":
        x = np.abs(x) + 0.1
    elif domain is not None:
        assume(away_from(x, domain))
    assert gradcheck(fn, tg.tensor(x, requires_grad=True))


BINARY = {
    "add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b, "pow": lambda a, b: a ** b,
    "maximum": tg.maximum, "minimum": tg.minimum,
}


@pytest.mark.parametrize("name", sorted(BINARY))
@given(data=st.data())
def test_binary_with_broadcasting(name, data):
    sa, sb = data.draw(tst.broadcastable_shapes(2, max_dims=3, max_side=4))
    a = data.draw(tst.arrays(np.float64, sa))
    b = data.draw(tst.arrays(np.float64, sb))
    if name in ("div", "pow"):
        b = np.where(b >= 0, 1.0, -1.0) * (np.abs(b) + 0.5) if name == "div" else b
        a = np.abs(a) + 0.5 if name == "pow" else a
    if name in ("maximum", "minimum"):
        assume(np.abs(np.subtract(*np.broadcast_arrays(a, b))).min(initial=1) > 1e-3)
    assert gradcheck(BINARY[name], (tg.tensor(a, requires_grad=True), tg.tensor(b, requires_grad=True)))


@pytest.mark.parametrize("name", ["sum", "mean", "amax", "amin", "var", "std", "softmax", "log_softmax"])
@given(data=st.data())
def test_reductions_along_drawn_dims(name, data):
    x = data.draw(tst.arrays(np.float64, tst.shapes(max_dims=3, max_side=4)))
    ndim = x.ndim
    if name in ("softmax", "log_softmax"):
        dim = data.draw(st.integers(-ndim, ndim - 1))
        fn = lambda t: getattr(t, name)(dim)  # noqa: E731
    else:
        dims = data.draw(st.lists(st.integers(0, ndim - 1), unique=True, min_size=1, max_size=ndim))
        keep = data.draw(st.booleans())
        n = int(np.prod([x.shape[d] for d in dims]))
        if name in ("var", "std"):
            assume(n >= 2)
        if name in ("amax", "amin"):  # ties split the gradient: keep values distinct
            assume(np.diff(np.sort(x.ravel())).min(initial=1.0) > 1e-3)
        fn = lambda t: getattr(t, name)(tuple(dims), keepdim=keep)  # noqa: E731
        if name == "std":
            assume(np.all(x.var(axis=tuple(dims)) > 1e-4))
    assert gradcheck(fn, tg.tensor(x, requires_grad=True))


@given(data=st.data())
def test_matmul_shapes(data):
    n, k, m = (data.draw(st.integers(1, 4)) for _ in range(3))
    batch = data.draw(hnp.array_shapes(min_dims=0, max_dims=2, min_side=1, max_side=3))
    kind = data.draw(st.sampled_from(["vv", "mv", "vm", "mm", "batched"]))
    shapes = {"vv": ((k,), (k,)), "mv": ((n, k), (k,)), "vm": ((k,), (k, m)), "mm": ((n, k), (k, m)),
              "batched": (batch + (n, k), (k, m))}[kind]
    a = data.draw(tst.arrays(np.float64, shapes[0]))
    b = data.draw(tst.arrays(np.float64, shapes[1]))
    assert gradcheck(lambda a, b: a @ b, (tg.tensor(a, requires_grad=True), tg.tensor(b, requires_grad=True)))


@given(data=st.data())
def test_shape_ops(data):
    x = data.draw(tst.arrays(np.float64, tst.shapes(min_dims=2, max_dims=4, max_side=3)))
    t = tg.tensor(x, requires_grad=True)
    perm = data.draw(st.permutations(range(x.ndim)))
    assert gradcheck(lambda t: t.permute(*perm), t)
    assert gradcheck(lambda t: t.reshape(-1, x.shape[-1]), t)
    start = data.draw(st.integers(0, x.ndim - 1))
    assert gradcheck(lambda t: t.flatten(start), t)
    d = data.draw(st.integers(0, x.ndim))
    assert gradcheck(lambda t: t.unsqueeze(d).squeeze(d), t)
    reps = data.draw(st.integers(1, 3))
    assert gradcheck(lambda t: t.unsqueeze(0).expand(reps, *x.shape), t)


@given(data=st.data())
def test_indexing(data):
    x = data.draw(tst.arrays(np.float64, tst.shapes(min_dims=1, max_dims=3, max_side=5)))
    index = data.draw(hnp.basic_indices(x.shape, allow_newaxis=True, allow_ellipsis=True))
    assert gradcheck(lambda t: t[index], tg.tensor(x, requires_grad=True))
    picks = data.draw(st.lists(st.integers(-x.shape[0], x.shape[0] - 1), min_size=1, max_size=6))
    assert gradcheck(lambda t: t[np.array(picks)], tg.tensor(x, requires_grad=True))


@given(data=st.data())
def test_cat_stack_where(data):
    shape = data.draw(tst.shapes(min_dims=1, max_dims=3, max_side=3))
    a, b = (data.draw(tst.arrays(np.float64, shape)) for _ in range(2))
    dim = data.draw(st.integers(0, len(shape) - 1))
    ta, tb = tg.tensor(a, requires_grad=True), tg.tensor(b, requires_grad=True)
    assert gradcheck(lambda a, b: tg.cat([a, b], dim), (ta, tb))
    assert gradcheck(lambda a, b: tg.stack([a, b], dim), (ta, tb))
    cond = tg.tensor(data.draw(hnp.arrays(np.bool_, shape)))
    assert gradcheck(lambda a, b: tg.where(cond, a, b), (ta, tb))


@given(data=st.data())
def test_linear_and_losses(data):
    n, i, o = (data.draw(st.integers(1, 4)) for _ in range(3))
    x, w, b = (data.draw(tst.arrays(np.float64, s)) for s in ((n, i), (o, i), (o,)))
    leaves = [tg.tensor(v, requires_grad=True) for v in (x, w, b)]
    assert gradcheck(F.linear, leaves)
    target = tg.tensor(np.array(data.draw(st.lists(st.integers(0, o - 1), min_size=n, max_size=n))))
    red = data.draw(st.sampled_from(["mean", "sum", "none"]))
    logits = tg.tensor(x @ w.T, requires_grad=True)
    assert gradcheck(lambda z: F.cross_entropy(z, target, reduction=red), logits)
    assert gradcheck(lambda z: F.mse_loss(z, tg.tensor(np.zeros((n, o))), red), logits)


@pytest.mark.parametrize("kind", ["batch", "layer", "group", "instance"])
@given(data=st.data())
def test_normalization_gradcheck(kind, data):
    case = data.draw(tst.normalization_inputs(kind, scale="well", max_side=4))
    leaves = [tg.tensor(case.x, requires_grad=True)]
    if case.weight is not None:
        leaves += [tg.tensor(case.weight, requires_grad=True), tg.tensor(case.bias, requires_grad=True)]
    assert gradcheck(case.call, leaves, atol=1e-5, rtol=1e-3)


_SHAPE = st.lists(st.integers(0, 3), max_size=4).map(tuple)


@given(shapes=st.lists(_SHAPE, max_size=4))
def test_every_broadcast_rule_agrees_with_numpys(shapes):
    """broadcast_shapes, broadcast_tensors and the distributions' helper give NumPy's
    shape, or refuse exactly where NumPy does: with no shapes, zero sizes and 1s."""
    from tinygrad_bn.distributions.utils import broadcast_shapes as distributions_broadcast
    try:
        want = np.broadcast_shapes(*shapes)
    except ValueError:
        want = None
    if want is None:
        with pytest.raises(RuntimeError, match="broadcast"):
            tg.broadcast_shapes(*shapes)
        with pytest.raises(RuntimeError, match="broadcast"):
            distributions_broadcast("op", shapes)
        return
    assert tuple(tg.broadcast_shapes(*shapes)) == want
    assert tuple(distributions_broadcast("op", shapes)) == want
    if shapes:
        assert [tuple(t.shape) for t in tg.broadcast_tensors(*(tg.zeros(s) for s in shapes))] == [want] * len(shapes)
