"""The compiled replay's bias-gradient sum: a compiled loop over a batch's rows
where it gives NumPy's bits, NumPy's own reduction everywhere else."""
import numpy as np
import pytest

import tinygrad_bn as tg
from kernels.cpu.reductions import rows_summed_form
from tinygrad_bn import nn, optim

SUM = tg.backends.get_backend("cpu").sum


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("rows", [0, 1, 2, 16, 257])
@pytest.mark.parametrize("cols", [2, 3, 128])
def test_the_rows_summed_are_numpys_sum_bit_for_bit(rows, cols, dtype):
    rng = np.random.default_rng(rows * 1000 + cols)
    x = (rng.standard_normal((rows, cols)) * rng.uniform(1, 1e4, cols)).astype(dtype)
    form = rows_summed_form(SUM, x, 0, False)
    assert form is not SUM
    for axis in (0, -2):
        got = form(x, axis=axis)
        want = np.sum(x, axis=0)
        assert got.dtype == want.dtype and got.shape == want.shape and got.tobytes() == want.tobytes()
        assert got is not form(x, axis=axis)  # a new array each call: it becomes a .grad


@pytest.mark.parametrize("traced, axis, keepdims", [
    (np.ones((5, 1), np.float32), 0, False),  # one column: NumPy sums it pairwise
    (np.ones((5, 3), np.float32), 0, True),
    (np.ones((5, 3), np.float32), 1, False),
    (np.ones((5, 3), np.float32), None, False),
    (np.ones((5, 3), np.float16), 0, False),
    (np.ones((5, 3), np.int64), 0, False),
    (np.ones(5, np.float32), 0, False),
    (np.ones((2, 5, 3), np.float32), 0, False),
    (np.ones((3, 5), np.float32).T, 0, False),  # not C-contiguous
    ([[1.0, 2.0], [3.0, 4.0]], 0, False),
])
def test_any_other_sum_replays_numpys_reduction_itself(traced, axis, keepdims):
    assert rows_summed_form(SUM, traced, axis, keepdims) is SUM


def test_a_replayed_array_laid_out_otherwise_than_the_traced_one_goes_to_numpy():
    form = rows_summed_form(SUM, np.zeros((4, 3), np.float32), 0, False)
    rng = np.random.default_rng(0)
    for x in (rng.standard_normal((3, 4)).astype(np.float32).T,   # transposed
              rng.standard_normal((4, 6)).astype(np.float32)[:, ::2],  # strided
              rng.standard_normal((4, 3)),  # float64 where the trace had float32
              rng.standard_normal((4, 3, 2)).astype(np.float32)):
        want = np.sum(x, axis=0)
        got = form(x, axis=0)
        assert got.dtype == want.dtype and got.shape == want.shape and got.tobytes() == want.tobytes()


def _trained_eagerly_and_compiled(make_model, loss_of, batches):
    """The parameters' bytes after an SGD momentum step on each batch, eager and
    compiled (from the same seed), and the compiled step."""
    params = []
    for compiled in (False, True):
        tg.manual_seed(0)
        model = make_model()
        step = _sgd_step(model, loss_of)
        step = tg.compile(step) if compiled else step
        for batch in batches:
            step(*batch)
        params.append([p.detach().numpy().tobytes() for p in model.parameters()])
    return params[0], params[1], step


def _sgd_step(model, loss_of):
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)

    def step(*batch):
        opt.zero_grad()
        loss = loss_of(model, *batch)
        loss.backward()
        opt.step()
        return loss
    return step


def test_a_compiled_step_sums_its_bias_gradients_in_the_compiled_loop_and_ends_where_eager_does():
    """The two Linear layers' bias gradients are batch sums: the replay calls the
    loop for them, and after the replays the weights are the eager step's, bit for bit."""
    rng = np.random.default_rng(3)
    x = tg.tensor(rng.standard_normal((16, 20)).astype(np.float32))
    y = tg.tensor(rng.integers(0, 5, 16))
    eager, compiled, step = _trained_eagerly_and_compiled(
        lambda: nn.Sequential(nn.Linear(20, 8), nn.ReLU(), nn.Linear(8, 5)),
        lambda model, xb, yb: nn.functional.cross_entropy(model(xb), yb), [(x, y)] * 6)
    (entry,) = step._entries.values()
    assert entry.replays >= 3
    called = [entry.replay.__globals__.get(name) for name in entry.replay.__code__.co_names]
    assert [getattr(f, "__name__", "") for f in called].count("rows_summed") == 2  # the two Linear biases
    assert compiled == eager


def test_a_read_only_gradient_is_summed_too():
    """A batch of one makes the sum's gradient a broadcast view (read-only, yet
    C-contiguous): the loop takes it, and the step ends where the eager one does."""
    x = np.broadcast_to(np.arange(4, dtype=np.float32), (1, 4))
    assert not x.flags.writeable and x.flags.c_contiguous
    form = rows_summed_form(SUM, x, 0, False)
    assert form(x, axis=0).tobytes() == np.sum(x, axis=0).tobytes()
    eager, compiled, _ = _trained_eagerly_and_compiled(
        lambda: nn.Linear(4, 3), lambda model, xb: model(xb).sum(0).sum(),
        [(tg.tensor(np.full((1, 4), k, np.float32)),) for k in range(5)])
    assert compiled == eager
