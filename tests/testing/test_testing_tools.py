"""The testing tools themselves: profiles, strategies, and the example script."""
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_bn as tg
from tinygrad_bn.testing import GradcheckError, gradcheck, load_profile
from tinygrad_bn.testing import strategies as tst

ROOT = Path(__file__).resolve().parents[2]


def test_profiles_register_and_unknown_name_is_refused():
    assert load_profile("dev") == "dev" and settings().max_examples == 10
    assert load_profile("thorough") == "thorough" and settings().max_examples == 500
    assert load_profile("ci") == "ci" and settings().derandomize and settings().deadline is None
    with pytest.raises(ValueError, match="unknown Hypothesis profile"):
        load_profile("fast")
    from conftest import PROFILE

    load_profile(PROFILE)


@given(tst.arrays(np.float32, tst.shapes(max_dims=2), scale="bad"))
def test_badly_scaled_arrays_sit_on_large_offsets(a):
    assert a.dtype == np.float32 and np.abs(a).min() >= 1e3 - 2 * 10.0


@given(tst.broadcastable_shapes(3))
def test_broadcastable_shapes_broadcast(shapes):
    np.broadcast_shapes(*shapes)


@given(tst.tensors(shape=(2, 3)))
def test_tensors_are_float64_leaves(t):
    assert t.shape == (2, 3) and t.requires_grad and t.is_leaf and t.dtype == np.float64


@pytest.mark.parametrize("kind", ["batch", "layer", "group", "instance"])
@given(data=st.data())
def test_normalization_inputs_are_valid(kind, data):
    case = data.draw(tst.normalization_inputs(kind))
    grouped, axes = case.grouped(case.x.astype(np.float64))
    count = np.prod([grouped.shape[a] for a in axes])
    assert count >= 2
    assert grouped.var(axis=axes).min() > 1e-5
    case.call(tg.tensor(case.x))  # accepted by the op


def test_fast_mode_passes_a_correct_op():
    x = tg.tensor(np.random.default_rng(0).standard_normal((5, 4)), requires_grad=True)
    assert gradcheck(lambda t: (t * t).softmax(1), x, fast_mode=True)


def test_strategy_argument_errors():
    with pytest.raises(ValueError, match="scale"):
        tst.arrays(scale="huge").example()
    with pytest.raises(ValueError, match="kind"):
        tst.normalization_inputs("weight").example()


def test_gradcheck_example_script_runs_and_finds_the_bug():
    res = subprocess.run([sys.executable, str(ROOT / "examples" / "gradcheck_custom_op.py")],
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    assert "Softplus passes" in res.stdout and "Failing test case" in res.stdout


# ------------------------------------------------ the power of gradcheck itself
class _MeanOfUpstream(tg.Function):
    """y = 3x whose backward uses mean(g) for every element: right whenever
    the upstream gradient is uniform (a plain sum), wrong otherwise."""

    @staticmethod
    def forward(ctx, x):
        return x * 3

    @staticmethod
    def backward(ctx, g):
        return np.full_like(g, g.mean()) * 3


class _WrongSecondInput(tg.Function):
    """y = a * b with b's gradient doubled."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a * b

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        return g * b, 2 * g * a


@pytest.mark.parametrize("fast_mode", [False, True])
def test_gradcheck_projects_onto_random_weights_not_a_plain_sum(fast_mode):
    x = tg.tensor(np.linspace(-1, 1, 6), requires_grad=True)
    # a check through out.sum() gives every element the same upstream gradient and passes this bug
    (_MeanOfUpstream.apply(x).sum()).backward()
    np.testing.assert_allclose(x.grad.numpy(), np.full(6, 3.0))
    with pytest.raises(GradcheckError, match="input 0"):
        gradcheck(_MeanOfUpstream.apply, x, fast_mode=fast_mode)


@pytest.mark.parametrize("fast_mode", [False, True])
def test_gradcheck_checks_every_input_not_only_the_first(fast_mode):
    a = tg.tensor([0.5, -1.0, 2.0], dtype=tg.float64, requires_grad=True)
    b = tg.tensor([1.5, 0.3, -0.7], dtype=tg.float64, requires_grad=True)
    with pytest.raises(GradcheckError, match="input 1"):
        gradcheck(_WrongSecondInput.apply, (a, b), fast_mode=fast_mode)
    assert gradcheck(lambda u, v: u * v, (a, b), fast_mode=fast_mode)


@pytest.mark.parametrize("fast_mode", [False, True])
def test_gradcheck_checks_every_output_after_one_that_needs_no_grad(fast_mode):
    """Outputs that do not require grad are skipped, and the outputs after them still checked."""
    a = tg.tensor([0.5, -1.0, 2.0], dtype=tg.float64, requires_grad=True)
    b = tg.tensor([1.5, 0.3, -0.7], dtype=tg.float64, requires_grad=True)

    def constant_then_wrong(u, v):
        return tg.ones(3, dtype=tg.float64), _WrongSecondInput.apply(u, v)
    with pytest.raises(GradcheckError, match="input 1"):
        gradcheck(constant_then_wrong, (a, b), fast_mode=fast_mode)
    assert gradcheck(lambda u, v: (tg.ones(3, dtype=tg.float64), u * v), (a, b), fast_mode=fast_mode)


@pytest.mark.parametrize("fast_mode", [False, True])
def test_gradcheck_leaves_its_inputs_exactly_as_they_were(fast_mode):
    rng = np.random.default_rng(3)
    x = tg.tensor(rng.standard_normal((3, 4)), requires_grad=True)
    w = tg.tensor(rng.standard_normal(4), requires_grad=True)
    before = x.detach().numpy().copy(), w.detach().numpy().copy()
    assert gradcheck(lambda a, b: (a * b).tanh(), (x, w), fast_mode=fast_mode)
    np.testing.assert_array_equal(x.detach().numpy(), before[0])
    np.testing.assert_array_equal(w.detach().numpy(), before[1])


def _reaches(strategy, holds):
    """Whether ``strategy`` draws an example for which ``holds`` is true (Hypothesis searches for one)."""
    from hypothesis import find, settings as hsettings
    from hypothesis.errors import NoSuchExample
    try:
        find(strategy, holds, settings=hsettings(max_examples=400, database=None))
        return True
    except NoSuchExample:
        return False


def test_the_shape_strategies_span_their_documented_defaults():
    """shapes(): 1 to 4 dims of sides 1 to 6; broadcastable_shapes(): 2 shapes of 0 to 4
    dims of sides 1 to 5: each end reached, nothing past it."""
    s = tst.shapes()
    assert _reaches(s, lambda sh: len(sh) == 4) and _reaches(s, lambda sh: len(sh) == 1)
    assert _reaches(s, lambda sh: 6 in sh) and _reaches(s, lambda sh: 1 in sh)
    assert not _reaches(s, lambda sh: len(sh) not in range(1, 5) or any(n not in range(1, 7) for n in sh))
    b = tst.broadcastable_shapes()
    assert not _reaches(b, lambda shs: len(shs) != 2)
    assert _reaches(b, lambda shs: any(len(sh) == 4 for sh in shs)) and _reaches(b, lambda shs: () in shs)
    assert _reaches(b, lambda shs: any(5 in sh for sh in shs))
    assert not _reaches(b, lambda shs: any(len(sh) > 4 or any(n not in range(1, 6) for n in sh) for sh in shs))
