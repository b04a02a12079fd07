"""The testing tools themselves: profiles, strategies, and the example script."""
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_bn as tg
from tinygrad_bn.testing import gradcheck, load_profile
from tinygrad_bn.testing import strategies as tst

ROOT = Path(__file__).resolve().parents[1]


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
