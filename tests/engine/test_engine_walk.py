"""The engine's walk: functions with several outputs, exact in-place overwrites,
leaf gradients kept without a copy only when nothing else holds them, the one
in-place write helper, and observers."""
import numpy as np
import pytest

import tinygrad_bn as tg
from tinygrad_bn import nn, observers, optim
from tinygrad_bn.testing import gradcheck


class SinCos(tg.Function):
    """Two outputs: sin(x) and cos(x); backward takes one gradient per output."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.sin(x), np.cos(x)

    @staticmethod
    def backward(ctx, g_sin, g_cos):
        (x,) = ctx.saved_tensors
        return g_sin * np.cos(x) - g_cos * np.sin(x)


class WithCount(tg.Function):
    """x * 2 and, without gradient, how many elements are positive."""

    @staticmethod
    def forward(ctx, x):
        count = np.asarray((x > 0).sum(), dtype=np.int64)
        ctx.mark_non_differentiable(count)
        return x * 2, count

    @staticmethod
    def backward(ctx, g, g_count):
        assert g_count is None
        return g * 2


def test_a_function_with_two_outputs_gets_one_gradient_per_output():
    x = tg.tensor(np.linspace(-1, 1, 5), requires_grad=True)
    s, c = SinCos.apply(x)
    assert s.grad_fn is c.grad_fn
    w1 = np.array([0.3, -1.0, 2.0, 0.5, 1.5])
    w2 = np.array([1.0, 0.2, -0.7, 2.5, -1.2])
    ((s * tg.tensor(w1)).sum() + (c * tg.tensor(w2)).sum()).backward()
    xs = np.linspace(-1, 1, 5)
    np.testing.assert_allclose(x.grad.numpy(), w1 * np.cos(xs) - w2 * np.sin(xs), rtol=1e-12)
    assert gradcheck(lambda t: SinCos.apply(t), tg.tensor(xs, requires_grad=True))


def test_an_output_left_unused_gets_zeros_and_a_non_differentiable_one_none():
    x = tg.tensor([0.5, -2.0], requires_grad=True)
    s, _ = SinCos.apply(x)
    (s * tg.tensor([1.0, 3.0])).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [np.cos(0.5), 3 * np.cos(-2.0)])
    y, count = WithCount.apply(x)
    assert not count.requires_grad and count.grad_fn is None and count.item() == 1
    x.grad = None
    (y * tg.tensor([1.0, -4.0])).sum().backward()
    assert x.grad.tolist() == [2.0, -8.0]


def test_batch_norm_returns_its_statistics_through_the_tape():
    x = tg.tensor(np.random.default_rng(0).standard_normal((8, 3)), requires_grad=True)
    from tinygrad_bn.ops.norm import BatchNorm

    y, mean, var = BatchNorm.apply(x, None, None, None, None, True, 1e-5)
    np.testing.assert_allclose(mean.numpy(), x.detach().numpy().mean(0), rtol=1e-12)
    np.testing.assert_allclose(var.numpy(), x.detach().numpy().var(0), rtol=1e-12)
    assert y.requires_grad and not mean.requires_grad and not var.requires_grad


@pytest.mark.parametrize("value", [2.0, float("nan"), float("inf")])
def test_fill_and_copy_on_a_recorded_tensor_are_exact(value):
    a = tg.tensor([1.0, float("inf"), float("nan")], requires_grad=True)
    b = a * 1.0
    b.fill_(value)
    np.testing.assert_array_equal(b.detach().numpy(), [value] * 3)
    c = a * 1.0
    src = tg.tensor([value, -1.0, 0.0], requires_grad=True)
    c.copy_(src)
    np.testing.assert_array_equal(c.detach().numpy(), [value, -1.0, 0.0])
    (c * tg.tensor([2.0, 3.0, 4.0])).sum().backward()
    assert src.grad.tolist() == [2.0, 3.0, 4.0]  # the source gets the gradient
    assert a.grad.tolist() == [0.0, 0.0, 0.0]  # the overwritten values get zeros, as in PyTorch


def test_copy_from_a_broadcast_source_sums_its_gradient():
    a = tg.zeros(2, 3, requires_grad=True) * 1.0
    src = tg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    a.copy_(src)
    (a * tg.tensor([[1.0, 1.0, 1.0], [2.0, 3.0, 4.0]])).sum().backward()
    assert src.grad.tolist() == [3.0, 4.0, 5.0]


@pytest.mark.parametrize("src", [np.array([1.5, -2.0, 4.0]), [1.5, -2.0, 4.0], np.array([[7.0]]), 3])
def test_copy_from_an_array_a_list_or_a_number_copies_its_values(src):
    """Beyond PyTorch (whose copy_ takes a Tensor only), a NumPy array, a list or a number
    is copied as a tensor of it would be: broadcast and cast to the destination's dtype."""
    a = tg.zeros(2, 3, dtype=tg.float32, requires_grad=True) * 1.0
    a.copy_(src)
    want = np.broadcast_to(np.asarray(src, np.float32), (2, 3))
    np.testing.assert_array_equal(a.detach().numpy(), want)
    assert a.dtype == tg.float32
    (a * tg.tensor(np.arange(6.0, dtype=np.float32).reshape(2, 3))).sum().backward()


class Fresh(tg.Function):
    """Backward returns a new array each time and remembers which."""

    returned = []

    @staticmethod
    def forward(ctx, x):
        return x * 3

    @staticmethod
    def backward(ctx, g):
        out = g * 3
        Fresh.returned.append(id(out))
        return out


class Hoarder(tg.Function):
    """Backward returns an array it also keeps (a plausible user op)."""

    kept = []

    @staticmethod
    def forward(ctx, x):
        return x + 0

    @staticmethod
    def backward(ctx, g):
        out = g * 1
        Hoarder.kept.append(out)
        return out


def test_sole_reference_is_true_only_for_an_array_nothing_else_holds():
    from tinygrad_bn.engine_refcounts import sole_reference

    assert sole_reference((np.ones(3), None), 0)
    assert sole_reference([None, np.ones(3)], 1)
    held = np.ones(3)
    assert not sole_reference((held,), 0)  # a local of the caller
    a = np.ones(3)
    twice = (a, a)
    del a
    assert not sole_reference(twice, 0)  # one array in two slots: two leaves would share it
    assert not sole_reference((np.ones(4)[1:],), 0)  # a view: its base is someone's array
    box = {"kept": np.ones(2)}
    assert not sole_reference((box["kept"],), 0)  # held in another container
    kept = tg.tensor([1.0, 2.0])
    assert not sole_reference((kept._data,), 0)  # a tensor's own array
    assert sole_reference((kept._data + 1,), 0)  # a result nobody else holds



def test_references_counts_what_holds_an_object_and_not_the_call():
    from tinygrad_bn.engine_refcounts import references

    x = np.ones(3)
    assert references(x) == 1  # the name x
    assert references(x) == 1  # counting takes nothing with it
    box = [x, x]
    assert references(x) == 3
    t = tg.tensor([1.0])
    data = t._data
    assert references(data) == 2  # the tensor's slot and the name data
    view = x[1:]
    assert references(x) == 4  # the view's base
    del box, view
    assert references(x) == 1

def test_a_fresh_leaf_gradient_is_kept_without_a_copy():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    Fresh.returned.clear()
    (Fresh.apply(x) * tg.tensor([1.0, 1.0])).sum().backward()
    assert id(x.grad._data) == Fresh.returned[-1]


def test_a_gradient_held_elsewhere_is_copied_into_grad():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    Hoarder.kept.clear()
    Hoarder.apply(x).sum().backward()
    assert x.grad._data is not Hoarder.kept[-1]
    Hoarder.apply(x).sum().backward()  # accumulates in place into x.grad ...
    assert x.grad.tolist() == [2.0, 2.0]
    assert Hoarder.kept[0].tolist() == [1.0, 1.0]  # ... and never into the op's array


def test_one_gradient_given_to_two_leaves_is_not_shared():
    a = tg.tensor([1.0, 2.0], requires_grad=True)
    b = tg.tensor([3.0, 4.0], requires_grad=True)
    for _ in range(2):
        (a + b).backward(tg.tensor([1.0, 10.0]))
    assert not np.shares_memory(a.grad.numpy(), b.grad.numpy())
    assert a.grad.tolist() == [2.0, 20.0] and b.grad.tolist() == [2.0, 20.0]
    c = tg.tensor([1.0], requires_grad=True)
    (c + c).sum().backward()  # the same leaf twice
    assert c.grad.tolist() == [2.0]


def test_every_in_place_write_bumps_the_version():
    lin = nn.Linear(3, 2)
    w = lin.weight
    v = w._version
    nn.init.normal_(w)
    nn.init.constant_(lin.bias, 0.5)
    assert w._version == v + 1 and lin.bias.tolist() == [0.5, 0.5]
    x = tg.randn(4, 3)
    out = lin(x)
    nn.init.zeros_(w)  # the forward saved w: its backward must notice
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        out.sum().backward()
    opt = optim.SGD(lin.parameters(), lr=0.1)
    lin(x).sum().backward()
    v = w._version
    opt.step()
    assert w._version > v
    bn = nn.BatchNorm1d(3)
    v = bn.running_mean._version
    bn(tg.randn(4, 3))
    assert bn.running_mean._version == v + 1 and bn.num_batches_tracked._version == 1


class Recorder:
    def __init__(self):
        self.forward, self.backward = [], []

    def on_forward(self, entry, args, outputs, seconds):
        self.forward.append((entry.name, [o.shape for o in outputs], seconds >= 0))

    def on_backward(self, entry, grads_out, grads_in, seconds):
        self.backward.append((entry.name, len(grads_in)))


def test_observers_see_each_op_and_each_backward_and_can_leave():
    rec = Recorder()
    observers.attach(rec)
    try:
        x = tg.tensor([1.0, -2.0], requires_grad=True)
        y = (x * 2).relu().sum()
        y.backward()
    finally:
        observers.detach(rec)
    assert rec.forward == [("Mul", [(2,)], True), ("ReLU", [(2,)], True), ("Sum", [()], True)]
    assert [name for name, _ in rec.backward] == ["Sum", "ReLU", "Mul"]
    (x * 2).sum().backward()
    assert len(rec.forward) == 3  # detached: sees nothing more


def test_gradients_that_are_numpy_scalars_reach_the_tape_anomaly_mode_and_grad_as_arrays():
    # arithmetic on 0-d arrays returns NumPy scalars, not arrays
    x = tg.tensor(2.0, requires_grad=True)
    w = tg.tensor(3.0)
    with tg.Tape() as tape, tg.detect_anomaly():
        loss = (x * w) * 0.5
    loss.backward()
    assert x.grad.item() == 1.5 and [r.grad["norm"] for r in tape.entries] == [0.5, 1.0]
    (g,) = tg.grad((x * w) * 0.5, [x])
    assert type(g._data) is np.ndarray
    g.add_(1.0)
    assert g.item() == 2.5


@pytest.mark.parametrize("keep", [lambda g: g, lambda g: g.detach(), lambda g: g.numpy(), lambda g: g[0:1]],
                         ids=["tensor", "detached", "array", "view"])
def test_a_leaf_hook_that_keeps_its_gradient_keeps_what_it_saw(keep):
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    kept = []
    x.register_hook(lambda g: kept.append(keep(g)))
    for _ in range(2):
        (x * 3.0).sum().backward()
    assert x.grad.tolist() == [6.0, 6.0]
    assert np.asarray(kept[0].tolist() if hasattr(kept[0], "tolist") else kept[0]).ravel()[0] == 3.0


def test_a_leaf_hook_that_keeps_nothing_leaves_the_gradient_uncopied():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    x.register_hook(lambda g: None)
    Fresh.returned.clear()
    (Fresh.apply(x) * tg.tensor([1.0, 1.0])).sum().backward()
    assert id(x.grad._data) == Fresh.returned[-1]


def test_an_observer_that_keeps_the_input_gradients_keeps_what_it_saw():
    class Keeper:
        def __init__(self):
            self.kept = []

        def on_forward(self, entry, args, outputs, seconds):
            pass

        def on_backward(self, entry, grads_out, grads_in, seconds):
            self.kept.append((entry.name, grads_in))

    keeper = Keeper()
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    observers.attach(keeper)
    try:
        for _ in range(2):
            (x * 3.0).sum().backward()
    finally:
        observers.detach(keeper)
    first_mul = next(g for name, g in keeper.kept if name == "Mul")
    assert first_mul[0].tolist() == [3.0, 3.0] and x.grad.tolist() == [6.0, 6.0]
