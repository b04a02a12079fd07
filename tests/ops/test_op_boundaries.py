"""Gradients at the points where an op's derivative has a kink, a tie or a
boundary, pinned to the values PyTorch gives there (measured with torch 2.13),
and n-ary ops with one, two, three and five inputs."""
import numpy as np
import pytest

import tinygrad_bn as tg
import tinygrad_bn.nn.functional as F

NAN = float("nan")


def grads(fn, *values):
    leaves = [tg.tensor(v, dtype=tg.float64, requires_grad=True) for v in values]
    fn(*leaves).sum().backward()
    return [leaf.grad.numpy() for leaf in leaves]


KINKS = [
    # name, fn, inputs, PyTorch's gradients
    ("relu at 0", lambda a: a.relu(), [[0.0, -1.0, 1.0]], [[0.0, 0.0, 1.0]]),
    ("leaky_relu at 0", lambda a: F.leaky_relu(a, 0.1), [[0.0, -1.0, 1.0]], [[0.1, 0.1, 1.0]]),
    ("abs at 0", lambda a: a.abs(), [[0.0, -2.0, 2.0]], [[0.0, -1.0, 1.0]]),
    ("clamp at both bounds", lambda a: a.clamp(-1.0, 1.0), [[-1.0, 0.0, 1.0, 2.0, -2.0]], [[1, 1, 1, 0, 0]]),
    ("clamp min only, at the bound", lambda a: a.clamp(min=0.5), [[0.5, 0.4, 0.6]], [[1, 0, 1]]),
    ("clamp max only, at the bound", lambda a: a.clamp(max=0.5), [[0.5, 0.4, 0.6]], [[1, 1, 0]]),
    # tensor bounds: a wins a tie with a bound; where min > max every element is max, and max gets it all
    ("clamp, tensor bounds: ties and min > max", lambda a, lo, hi: a.clamp(lo, hi),
     [[0.0, 1.0, 2.0, 3.0, 1.5, 0.0], [1.0, 1.0, 1.0, 4.0, 1.0, 1.0], [2.0, 2.0, 2.0, 2.0, 2.0, 0.5]],
     [[0.0, 1.0, 1.0, 0.0, 1.0, 0.0], [1.0, 0.0, 0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 1.0, 0.0, 1.0]]),
    ("clamp, tensor min only, at the bound", lambda a, lo: tg.clamp(a, min=lo), [[0.5, 0.4, 0.6], [0.5, 0.5, 0.5]],
     [[1, 0, 1], [0, 1, 0]]),
    ("clip, tensor max only, broadcast, at the bound", lambda a, hi: a.clip(max=hi), [[[0.5, 0.4], [0.6, 0.5]], [0.5]],
     [[[1, 1], [0, 1]], [1]]),
    ("maximum ties", tg.maximum, [[0.0, 1.0, 2.0], [0.0, 1.5, 2.0]], [[0.5, 0.0, 0.5], [0.5, 1.0, 0.5]]),
    ("minimum ties", tg.minimum, [[0.0, 1.0, 2.0], [0.0, 1.5, 2.0]], [[0.5, 1.0, 0.5], [0.5, 0.0, 0.5]]),
    ("amax ties", lambda a: a.amax(1), [[[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]]],
     [[[0.0, 0.5, 0.5], [1 / 3, 1 / 3, 1 / 3]]]),
    ("amin ties", lambda a: a.amin(0), [[[1.0, 3.0], [1.0, 2.0]]], [[[0.5, 0.0], [0.5, 1.0]]]),
    ("max of all, ties", lambda a: a.max(), [[1.0, 3.0, 3.0]], [[0.0, 0.5, 0.5]]),
    ("pow: base 0, exponent 2, 0 and 0.5", lambda a, b: a ** b, [[0.0, 0.0, 2.0], [2.0, 0.0, 0.5]],
     [[0.0, 0.0, 0.5 * 2 ** -0.5], [0.0, 0.0, 2 ** 0.5 * np.log(2.0)]]),
    ("pow: negative base", lambda a, b: a ** b, [[-2.0], [2.0]], [[-4.0], [NAN]]),
    # at a zero base, a negative exponent's gradient is a^b * log(0) = -a^b (infinite), not 0 * inf
    ("pow: base +-0, exponent < 0, NaN and -0", lambda a, b: a ** b,
     [[0.0, -0.0, 0.0, 0.0, 0.0], [-1.0, -1.0, -2.0, NAN, -0.0]],
     [[-np.inf, -np.inf, -np.inf, NAN, 0.0], [-np.inf, np.inf, -np.inf, NAN, 0.0]]),
    ("pow: Python base 0", lambda b: 0.0 ** b, [[-1.0, -2.0, NAN, 0.0, 2.0, -0.0]],
     [[-np.inf, -np.inf, NAN, 0.0, 0.0, 0.0]]),
    # a NaN on either side makes the result NaN, and both inputs get the whole gradient
    ("maximum with NaN", tg.maximum, [[NAN, 1.0, 2.0], [1.0, NAN, 2.0]], [[1.0, 1.0, 0.5], [1.0, 1.0, 0.5]]),
    ("minimum with NaN", tg.minimum, [[NAN, 1.0, 2.0], [1.0, NAN, 2.0]], [[1.0, 1.0, 0.5], [1.0, 1.0, 0.5]]),
    ("x ** 0 at 0", lambda a: a ** 0, [[0.0, 3.0]], [[0.0, 0.0]]),
    ("sqrt at 0", lambda a: a.sqrt(), [[0.0, 4.0]], [[np.inf, 0.25]]),
    ("gelu at 0", F.gelu, [[0.0]], [[0.5]]),
]


@pytest.mark.parametrize("name, fn, inputs, expected", KINKS, ids=[k[0] for k in KINKS])
def test_gradients_at_kinks_ties_and_bounds_are_pytorchs(name, fn, inputs, expected):
    with np.errstate(all="ignore"):
        got = grads(fn, *inputs)
    for g, e in zip(got, expected):
        np.testing.assert_allclose(g, np.asarray(e, dtype=np.float64), rtol=1e-12, atol=0, equal_nan=True)


@pytest.mark.parametrize("fn, expected", [(tg.maximum, ([0.0, -1.0], [-1.0, 0.0])),
                                          (tg.minimum, ([-1.0, 0.0], [0.0, -1.0]))], ids=["maximum", "minimum"])
def test_the_input_that_loses_a_maximum_or_minimum_gets_a_positive_zero(fn, expected):
    """PyTorch fills the loser's gradient with 0: +0 also where the incoming gradient is
    negative (a product by a 0/1 mask would give -0, which 1 / grad and copysign see)."""
    a, b = (tg.tensor(v, dtype=tg.float64, requires_grad=True) for v in ([0.0, 2.0], [1.0, 1.0]))
    (fn(a, b) * tg.tensor([-1.0, -1.0], dtype=tg.float64)).sum().backward()
    for leaf, want in zip((a, b), expected):
        got = leaf.grad.numpy()
        np.testing.assert_array_equal(got, want)
        assert list(np.signbit(got)) == list(np.signbit(want))


@pytest.mark.parametrize("n", [1, 2, 3, 5])
@pytest.mark.parametrize("op", ["cat", "stack"])
def test_n_ary_ops_send_each_input_its_own_slice_of_the_gradient(op, n):
    rng = np.random.default_rng(n)
    sizes = [1, 3, 2, 4, 2][:n]  # cat: inputs of different lengths along the dim
    shapes = [(s, 2) if op == "cat" else (3, 2) for s in sizes]
    leaves = [tg.tensor(rng.standard_normal(s), requires_grad=True) for s in shapes]
    out = tg.cat(leaves, dim=0) if op == "cat" else tg.stack(leaves, dim=1)
    weight = rng.standard_normal(out.shape)
    (out * tg.tensor(weight, dtype=out.dtype)).sum().backward()
    if op == "cat":
        pieces = np.split(weight, np.cumsum(sizes)[:-1], axis=0)
    else:
        pieces = [weight[:, i] for i in range(n)]
    for leaf, piece in zip(leaves, pieces):
        np.testing.assert_allclose(leaf.grad.numpy(), piece, rtol=1e-6)


@pytest.mark.parametrize("n", [1, 2, 3])
def test_cat_and_stack_forward_keep_order(n):
    parts = [tg.full((2,), float(i)) for i in range(n)]
    assert tg.cat(parts).tolist() == [float(i) for i in range(n) for _ in range(2)]
    assert tg.stack(parts, dim=0).tolist() == [[float(i)] * 2 for i in range(n)]


CLAMP_BOUNDS = [((4, 3), (4, 3), (4, 3)), ((4, 3), (3,), (4, 1)), ((2, 3), (3,), ()), ((3,), (2, 3), None), ((4, 3), (3,), None),
                ((4, 3), None, (1, 3))]


@pytest.mark.parametrize("shapes", CLAMP_BOUNDS, ids=[str(s) for s in CLAMP_BOUNDS])
def test_clamp_with_tensor_bounds_gives_pytorchs_gradients_at_ties(shapes):
    """Values on a grid of halves, so a, min and max tie often, and min > max in places."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(sum(len(s or ()) for s in shapes))
    values = [None if s is None else rng.integers(-2, 3, s) / 2.0 for s in shapes]
    weight = rng.standard_normal(np.broadcast_shapes(*(v.shape for v in values if v is not None)))

    def run(lib, make):
        leaves = [None if v is None else make(v) for v in values]
        (lib.clamp(*leaves) * make(weight)).sum().backward()
        return leaves

    ours = run(tg, lambda v: tg.tensor(v, dtype=tg.float64, requires_grad=True))
    theirs = run(torch, lambda v: torch.tensor(v, dtype=torch.float64, requires_grad=True))
    for o, t in zip(ours, theirs):
        if o is not None:
            np.testing.assert_allclose(o.grad.numpy(), t.grad.numpy(), rtol=1e-12, atol=1e-15)


def test_clamp_in_place_with_a_bound_that_requires_grad_records_it():
    x, lo = tg.tensor([0.0, 1.0, 2.0]), tg.tensor([0.5, 0.5, 0.5], requires_grad=True)
    x.clamp_(lo)
    assert x.requires_grad and x.tolist() == [0.5, 1.0, 2.0]
    x.sum().backward()
    assert lo.grad.tolist() == [1.0, 0.0, 0.0]  # PyTorch's


IEEE_EDGES = """
import numpy as np
import tinygrad_bn as tg
x = tg.tensor([0.0, -1.0, 1000.0, float("inf")], requires_grad=True)
parts = [x.log(), x.sqrt(), x.exp(), 1 / x, x / x, x - float("inf"), x.rsqrt(), x ** -1,
         tg.ones(0).mean(), tg.ones(2, 0).mean(1), tg.ones(2, 0).var(1), tg.ones(0).std(),
         tg.tensor([float("inf"), 1.0]).softmax(0)]
sum(p.nansum() for p in parts if p.requires_grad).backward()
e = tg.ones(2, 0, requires_grad=True)
(e.mean(1).nansum() + e.var(1).nansum()).backward()
print([p.tolist() for p in parts[8:12]], e.grad.shape)
try:
    np.log(np.zeros(1))
except RuntimeWarning as w:
    print("numpy:", w)
"""


def test_ieee_edge_values_come_back_without_numpy_warnings_as_in_pytorch():
    """log(0), 0/0, exp(1000), the mean and variance of nothing: -inf, NaN and inf silently, as
    PyTorch, under ``python -W error``; the user's own NumPy calls still warn."""
    import subprocess
    import sys
    proc = subprocess.run([sys.executable, "-W", "error", "-c", IEEE_EDGES], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = proc.stdout.splitlines()
    assert lines[0] == "[nan, [nan, nan], [nan, nan], nan] (2, 0)"
    assert lines[1] == "numpy: divide by zero encountered in log"
