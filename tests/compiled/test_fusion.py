"""The fuser: a run of elementwise backend calls replayed as one generated Numba
function gives NumPy's values bit for bit (dtypes, NaN, infinities, signed
zeros, broadcasting, in-place updates), over Hypothesis-drawn runs."""
import os
import re
import sys
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_bn as tg
from tinygrad_bn.compiled import fusion
from tinygrad_bn.tensor_base import array_of, backend_of, make_tensor

SPECIAL = np.array([0.0, -0.0, 1.5, -2.25, np.nan, np.inf, -np.inf, 3.0, -1.0, 0.5, 7.0, -0.5])


def _inputs():
    """Arrays of every dtype and broadcasting shape the fuser handles."""
    rng = np.random.default_rng(0)
    full = rng.permutation(SPECIAL).reshape(4, 3)
    w = rng.standard_normal((4, 3))
    return {
        "x": full.astype(np.float32),                       # (4, 3) float32 with NaN, inf, -0.0
        "w": w,                                              # (4, 3) float64
        "h": w.astype(np.float32),                           # w rounded to float32: unequal to w in float64
        "row": np.array([0.5, -0.0, np.nan], np.float32),    # (3,): broadcast over rows
        "col": np.array([[2.0], [-1.0], [0.0], [np.inf]]),   # (4, 1) float64: over columns
        "i": rng.integers(-3, 4, (4, 3)),                    # int64
        "b": rng.random((4, 3)) < 0.5,                       # bool
    }


ARITH = ["add", "sub", "mul", "div", "maximum", "minimum"]
COMPARE = ["less", "greater", "less_equal", "greater_equal", "equal", "not_equal"]
CONSTANTS = [0.5, -2, 0.0, -0.0, float("nan"), 3]


@st.composite
def runs(draw):
    """A list of (name, operands) over the inputs and earlier results; in-place
    calls write float copies made first (copies are not fused: the run starts after)."""
    pool = {k: v for k, v in _inputs().items()}
    ops = [("copy", ["x"], "tx"), ("copy", ["w"], "tw")]
    pool["tx"], pool["tw"] = pool["x"], pool["w"]
    for k in range(draw(st.integers(3, 10))):
        names = [n for n, a in pool.items()]
        floats = [n for n in names if pool[n].dtype.kind == "f"]
        kind = draw(st.sampled_from(["arith", "compare", "unary", "where", "logic", "inplace", "relu", "cast"]))
        out = f"r{k}"
        if kind in ("arith", "compare"):
            name = draw(st.sampled_from(ARITH if kind == "arith" else COMPARE))
            a = draw(st.sampled_from(floats if kind == "arith" else names))
            b = draw(st.one_of(st.sampled_from(names), st.sampled_from(CONSTANTS)))
            if kind == "arith" and (isinstance(b, str) and pool[b].dtype.kind == "b"):
                b = "i"
            args = [a, b] if draw(st.booleans()) else [b, a] if isinstance(b, str) else [a, b]
        elif kind == "unary":
            name, args = draw(st.sampled_from(["neg", "abs"])), [draw(st.sampled_from(floats))]
        elif kind == "relu":
            src = draw(st.sampled_from(floats))
            name, args = draw(st.sampled_from([("relu", [src]), ("relu_backward", [src, "x"])]))
        elif kind == "cast":
            src = draw(st.sampled_from(names))
            dst = np.dtype(draw(st.sampled_from(["float32", "float64"] + (["int32"] if pool[src].dtype.kind in "biu"
                                                                            else []))))
            if pool[src].dtype == dst:
                continue
            name, args = "cast", [src, dst]
        elif kind == "where":
            name = "where"
            args = [draw(st.sampled_from([n for n in names if pool[n].dtype.kind == "b"] or ["b"])),
                    draw(st.sampled_from(names)), draw(st.one_of(st.sampled_from(names), st.sampled_from(CONSTANTS)))]
        elif kind == "logic":
            bools = [n for n in names if pool[n].dtype.kind == "b"]
            name = draw(st.sampled_from(["logical_and", "logical_not"]))
            args = [draw(st.sampled_from(bools))]
            if name == "logical_and":
                args.append(draw(st.sampled_from(bools)))
        else:
            name = draw(st.sampled_from(["iadd", "isub", "imul", "idiv", "axpy", "copyto"]))
            target = draw(st.sampled_from(["tx", "tw"]))
            other = draw(st.sampled_from([n for n in floats if n not in ("tx", "tw")] + ["i"]))
            args = [target, draw(st.sampled_from([0.5, -1.0, 2]))] + [other] if name == "axpy" else [target, other]
            out = None
        with np.errstate(all="ignore"):
            be = tg.tensor(0.0)._backend
            res = getattr(be, name)(*[pool[a] if isinstance(a, str) else a for a in args])
        if out is not None:
            if not isinstance(res, np.ndarray) or res.shape != (4, 3) and res.ndim == 0:
                continue
            pool[out] = res
        ops.append((name, args, out))
    return ops


def _step_for(ops):
    names = list(_inputs())

    def step(*tensors):
        be = backend_of(tensors[0])
        pool = {n: array_of(t) for n, t in zip(names, tensors)}
        for name, args, out in ops:
            res = getattr(be, name)(*[pool[a] if isinstance(a, str) else a for a in args])
            if out is not None:  # a result, or a copy that in-place calls write
                pool[out] = res
        keep = [n for n in pool if n not in names]
        return tuple(make_tensor(pool[n], be) for n in keep)
    return step


def _eager_and_replayed(step):
    """The eager step's arrays, the third compiled call's (a replay) and its program."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        expected = [t._data.copy() for t in step(*[tg.tensor(v) for v in _inputs().values()])]
        compiled = tg.compile(step)
        for _ in range(3):
            got = compiled(*[tg.tensor(v) for v in _inputs().values()])
    return expected, got, compiled.programs()[0]


def _same_bits(a, b):
    assert a.dtype == b.dtype and a.shape == b.shape
    if a.dtype.kind == "f":  # the same numbers, zeros of the same sign, NaN at the same places (of any sign)
        assert np.array_equal(a, b, equal_nan=True)
        real = ~np.isnan(a)
        assert np.array_equal(np.signbit(a[real]), np.signbit(b[real]))
    else:
        assert np.array_equal(a, b)


@settings(max_examples=15, deadline=None)  # each draws a new run: ~1 s of Numba compilation
@given(ops=runs())
def test_a_fused_run_gives_numpys_values_bit_for_bit(ops):
    expected, got, program = _eager_and_replayed(_step_for(ops))
    calls = [i for i in program.instrs if i.kind == "call" and i.name in fusion.FUSIBLE]
    if len(calls) >= 2:
        assert program.runs, "consecutive elementwise calls were fused"
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        _same_bits(g._data, e)


EVERY_OP = [
    # one run that calls every fusible name, on NaN, infinities and both zeros, across loop shapes
    ("copy", ["x"], "tx"), ("copy", ["w"], "tw"),
    ("mul", ["col", 2], "c2"),                      # a (4, 1) loop nest ...
    ("add", ["x", "c2"], "r0"),                     # ... read by the (4, 3) one after it
    ("sub", ["r0", "row"], "r1"), ("div", ["i", 2], "r2"), ("div", ["x", "tx"], "r3"),
    ("maximum", ["x", "r4n"], "r4"), ("minimum", ["r4n", "x"], "r5"), ("maximum", ["x", 0.0], "r6"),
    ("maximum", ["x", "w"], "r4w"), ("minimum", ["x", "w"], "r5w"),   # NaN in the first operand only
    ("less", ["x", "row"], "r7"), ("greater", ["i", -0.5], "r8"), ("less_equal", ["x", 0], "r9"),
    ("greater_equal", ["w", "x"], "r10"), ("equal", ["x", "r4n"], "r11"), ("not_equal", ["i", 1], "r12"),
    ("equal", ["h", "w"], "r12h"),  # compared in float64, as NumPy does: not equal
    ("neg", ["x"], "r13"), ("abs", ["r4n"], "r14"), ("where", ["b", "x", -1], "r15"),
    ("logical_and", ["b", "r7"], "r16"), ("logical_not", ["r16"], "r17"),
    ("relu", ["x"], "r18"), ("relu", ["r4n"], "r18n"), ("relu_backward", ["x", "w"], "r19"),
    ("relu_backward", ["r4n", "w"], "r19n"),
    ("iadd", ["tx", "row"], None), ("isub", ["tw", "i"], None), ("imul", ["tx", 0.5], None),
    ("idiv", ["tw", "x"], None), ("axpy", ["tx", -0.25, "w"], None), ("add", ["tx", "tw"], "r20"),
    # casts NumPy rounds (float64 to float32, int64 to float32), widens, and makes from bools
    ("cast", ["w", np.dtype("float32")], "r21"), ("cast", ["x", np.dtype("float64")], "r22"), ("cast", ["i", np.dtype("float32")], "r23"),
    ("cast", ["b", np.dtype("float64")], "r24"), ("cast", ["i", np.dtype("int32")], "r25"),
    ("copyto", ["tx", "w"], None), ("copyto", ["tw", "row"], None), ("mul", ["tx", "tw"], "r26"),
    ("check_finite", ["w", "h"], None), ("add", ["w", 1.0], "r27"), ("sub", ["r27", "h"], "r28"),  # a new run
    ("iadd", ["r28", "w"], None),  # in place on a value the run made, which the step returns
]


CHECK_MESSAGE = "a statistic is not finite"


def _every_op_step():
    names = list(_inputs())

    def step(*tensors):
        be = backend_of(tensors[0])
        pool = {n: array_of(t) for n, t in zip(names, tensors)}
        pool["r4n"] = be.neg(pool["x"])  # -x: its zeros have the other sign, so maximum and minimum meet ties
        for name, args, out in EVERY_OP:
            if name == "check_finite":  # its first argument is the message
                args = [CHECK_MESSAGE, *args]
            res = getattr(be, name)(*[pool[a] if isinstance(a, str) and a in pool else a for a in args])
            if out is not None:
                pool[out] = res
        # c2 is read by the next loop nest only: the run keeps it as its own array and does not return it
        return tuple(make_tensor(pool[n], be) for n in pool if n not in names and n != "c2")
    return step


@pytest.mark.parametrize("ops, fused", [
    ([("relu_backward", ["x", "w"], "g")], True),     # NumPy: a mask, then the product
    ([("relu_backward", ["w", "x"], "g")], True),
    ([("copy", ["w"], "t"), ("axpy", ["t", -0.5, "x"], None)], True),  # the axpy alone (a copy is not fusible)
    ([("copy", ["w"], "t"), ("transpose", ["t", (1, 0)], "tt"), ("matmul", ["t", "tt"], "p"),
      ("axpy", ["t", -0.5, "x"], None)], True),      # after a product, the axpy alone
    ([("copy", ["x"], "t"), ("iadd", ["t", "row"], None)], True),  # a bias row added in place: NumPy restarts per row
    ([("copy", ["x"], "t"), ("transpose", ["t", (1, 0)], "tt"), ("matmul", ["tt", "t"], "p"),
      ("isub", ["p", "row"], None)], True),          # after a product
    ([("copy", ["w"], "t"), ("imul", ["t", 0.5], None)], True),
    ([("copy", ["w"], "t"), ("idiv", ["t", "x"], None)], True),
    ([("copy", ["i"], "t"), ("iadd", ["t", "i"], None)], True),     # integers into integers
    ([("copy", ["i"], "t"), ("iadd", ["t", "x"], None)], False),    # a float (NaN, inf) into integers: NumPy's
    ([("copy", ["i"], "t"), ("idiv", ["t", 2], None)], False),      # true division into integers: NumPy's
    ([("add", ["x", "w"], "g")], False),               # one pass: a Numba call would cost what NumPy's does
    ([("where", ["b", "x", "w"], "g")], False),
])
def test_a_call_worth_a_run_alone_is_fused_alone(ops, fused):
    """relu_backward and axpy (two NumPy passes) and the in-place updates (a
    broadcast row, NumPy's slow case) become a run of one call; a call that
    makes a new array in one pass stays NumPy's, and so does an update whose
    float result NumPy converts to an integer target."""
    expected, got, program = _eager_and_replayed(_step_for(ops))
    assert bool(program.runs) == fused, program.describe()
    for g, e in zip(got, expected):
        _same_bits(g._data, e)


def test_every_fusible_call_in_one_run_gives_numpys_values():
    expected, got, program = _eager_and_replayed(_every_op_step())
    fused = {program.instrs[i].name for run in program.runs for i in run.indices}
    assert fused >= fusion.FUSIBLE, f"not fused: {fusion.FUSIBLE - fused}"
    for g, e in zip(got, expected):
        _same_bits(g._data, e)


def test_a_check_that_starts_a_run_raises_before_the_run_writes_anything():
    """check_finite of two arrays, then an update of state from before the step:
    fused into one function that checks first, so a non-finite value in either
    raises the eager step's error and leaves the state as it was, as the eager
    step does."""
    state = np.zeros(3, np.float32)

    def step(x, y):
        be = backend_of(x)
        m, n = be.mul(array_of(x), 2.0), be.mul(array_of(y), 1.0)
        be.check_finite("step: m or n is not finite", m, n)
        be.copyto(state, be.add(m, n))
        return make_tensor(be.mul(m, 0.5), be)

    def vectors(a, b):
        return tg.tensor(np.array(a, np.float32)), tg.tensor(np.array(b, np.float32))

    compiled = tg.compile(step)
    for k in range(3):
        got = compiled(*vectors([1.0, -2.0, k], [1.0, 1.0, 1.0]))
    np.testing.assert_array_equal(state, [3.0, -3.0, 5.0])
    np.testing.assert_array_equal(got.numpy(), [1.0, -2.0, 2.0])
    before, run = compiled.programs()[0].runs  # the two products, then the check and the rest
    assert before.check is None and run.check == "step: m or n is not finite" and len(run.indices) == 4
    for bad in (np.nan, np.inf, -np.inf):
        for a, b in (([1.0, bad, 0.0], [0.0, 0.0, 0.0]), ([0.0, 0.0, 0.0], [0.0, 0.0, bad])):
            with pytest.raises(ValueError, match="step: m or n is not finite"):
                compiled(*vectors(a, b))
            np.testing.assert_array_equal(state, [3.0, -3.0, 5.0])
    compiled(*vectors([0.0, 0.0, 0.0], [1.0, 1.0, 1.0]))  # and it goes on
    np.testing.assert_array_equal(state, [1.0, 1.0, 1.0])


def test_an_in_place_write_to_an_array_a_view_of_it_reads_is_not_fused_with_the_read():
    """t += 1 then t.T + 0 in one loop would read half of t.T before its update."""
    def step(x):
        be = backend_of(x)
        t = be.copy(array_of(x))
        view = be.swapaxes(t, 0, 1)
        be.iadd(t, 1.0)
        r = be.add(view, 0.0)
        return make_tensor(be.mul(r, 2.0), be)
    x = tg.tensor(np.arange(9.0).reshape(3, 3))
    expected = step(x).numpy()
    compiled = tg.compile(step)
    for _ in range(3):
        got = compiled(x)
    np.testing.assert_array_equal(got.numpy(), expected)


def _mlp_sgd_step(**sgd_options):
    """A seeded 6-5-3 ReLU MLP, SGD over it with ``sgd_options``, and its eager training
    step on (x, y) (cross entropy), for the tests to compile."""
    from tinygrad_bn import nn, optim
    tg.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 5), nn.ReLU(), nn.Linear(5, 3))
    opt = optim.SGD(model.parameters(), **sgd_options)

    def step(x, y):
        opt.zero_grad()
        loss = nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss
    return model, opt, step


def test_the_optimizer_update_of_every_parameter_is_one_run():
    _, opt, step = _mlp_sgd_step(lr=0.1, momentum=0.9, nesterov=True, weight_decay=1e-2)
    step = tg.compile(step)
    for _ in range(4):
        step(tg.randn(7, 6), tg.tensor([0, 1, 2, 0, 1, 2, 0]))
    program = step.programs()[0]
    assert any(sum(program.instrs[i].region is opt for i in run.indices) >= 4 * 4 for run in program.runs)
    assert "fused run" in step.describe()


def test_without_fusion_no_numba_function_is_made():
    model = tg.nn.Linear(3, 2)

    @tg.compile(fuse=False)
    def step(x):
        return tg.nn.functional.relu(model(x) + 1.0) * 2.0
    with tg.no_grad():
        for _ in range(3):
            step(tg.randn(4, 3))
    assert step.programs()[0].runs == []


def test_compile_and_the_class_it_builds_fuse_by_default_and_say_so():
    from tinygrad_bn.compiled import CompiledStep
    model = tg.nn.Linear(3, 2)

    def step(x):
        return tg.nn.functional.relu(model(x) + 1.0) * 2.0
    for make in (tg.compile, CompiledStep):
        compiled = make(step)
        with tg.no_grad():
            for _ in range(3):
                compiled(tg.randn(4, 3))
        assert compiled.programs()[0].runs, make.__name__
        assert re.search(r"[1-9]\d* fused runs", compiled.describe()), make.__name__


def test_generated_files_live_in_the_cache_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("TINYGRAD_BN_CACHE", str(tmp_path))
    x = tg.randn(5, 4)

    @tg.compile
    def step(x):
        return tg.nn.functional.relu(x * 3.0 - 1.0)
    for _ in range(3):
        out = step(x)
    np.testing.assert_array_equal(out.numpy(), np.maximum(x.numpy() * np.float32(3.0) - np.float32(1.0), 0))
    files = list((tmp_path / "fused").glob("fused_*.py"))
    assert files and all("@njit(cache=True" in f.read_text() for f in files)


def test_a_new_learning_rate_reuses_the_compiled_functions():
    """Float constants are parameters of a fused run, not literals: the program traced for a new
    lr has the same runs, so nothing compiles again (a scheduler's every epoch would)."""
    _, opt, step = _mlp_sgd_step(lr=0.1, momentum=0.9)
    step = tg.compile(step)
    x, y = tg.randn(7, 6), tg.tensor([0, 1, 2, 0, 1, 2, 0])
    for _ in range(4):
        step(x, y)
    before = [r.name for r in step.programs()[0].runs]
    opt.param_groups[0]["lr"] = 0.05
    for _ in range(4):
        step(x, y)
    program = step.programs()[0]
    assert [r.name for r in program.runs] == before and program is not None
    assert any(("c", 0.05) == ref or ("c", -0.05) == ref for r in program.runs for ref in r.inputs)


def test_constants_that_compare_equal_but_differ_in_sign_stay_two_parameters():
    """0.0 == -0.0, but x * -0.0 has the opposite sign of x * 0.0: a run that uses
    both passes both, and gives the eager step's signed zeros."""
    def step(x):
        return x * 0.0 + 1.0, x * -0.0, x - 0.0, x + -0.0
    x = tg.tensor(np.array([1.0, -2.0, 0.0, -0.0]))
    eager = [t.numpy().copy() for t in step(x)]
    compiled = tg.compile(step)
    with tg.no_grad():
        for _ in range(3):
            got = [t.numpy() for t in compiled(x)]
    assert compiled.programs()[0].runs
    for a, b in zip(eager, got):
        _same_bits(a, b)


def test_runs_that_compute_alike_at_other_places_in_a_program_share_one_function():
    """A run's source names its values in its own order, not by their place in the
    program: the same elementwise tail after more or fewer other calls is one
    function, compiled once (the same layer in a deeper model, the same update)."""
    def tail(x):
        return tg.nn.functional.relu(x * 3.0 - 1.0) + x

    def alone(x):
        return tail(x)

    def after_other_calls(x):
        e = x.exp().log().sum(0)  # transcendental calls and a reduction: never fused
        return tail(x), e
    names = []
    with tg.no_grad():
        for fn in (alone, after_other_calls):
            step = tg.compile(fn)
            for _ in range(3):
                step(tg.randn(5, 4))
            (run,) = step.programs()[0].runs
            names.append(run.name)
    assert names[0] == names[1]


@pytest.mark.parametrize("dtype", ["float16", "int16", "uint8", "int8"])
def test_arrays_of_a_dtype_the_fuser_does_not_generate_stay_numpy_calls(dtype):
    """Only float32/64, int32/64 and bool become generated loops; other dtypes keep NumPy's own
    arithmetic (float16's rounding at every step, uint8's wrap-around), bit for bit."""
    def step(x, y):
        be = backend_of(x)
        a, b = array_of(x), array_of(y)
        t = be.copy(a)  # in-place calls: no output array whose dtype would keep them out
        be.iadd(t, b)
        be.imul(t, 3)
        be.iadd(t, a)
        return make_tensor(be.mul(be.add(be.mul(t, b), a), b), be)
    rng = np.random.default_rng(0)
    x, y = (tg.tensor((rng.uniform(0, 9, (5, 4))).astype(dtype)) for _ in range(2))
    expected = step(x, y).numpy()
    compiled = tg.compile(step)
    for _ in range(3):
        got = compiled(x, y)
    assert compiled.programs()[0].runs == [], dtype
    _same_bits(got.numpy(), expected)


@pytest.mark.parametrize("kind", ["0-d", "float16", "no arrays"])
def test_a_check_of_arrays_the_fuser_does_not_generate_stays_a_numpy_call(kind):
    """check_finite opens a run only for float32/64 arrays of one dim or more: a 0-d
    loss, a float16 array, or no array at all stays the eager call, and still raises."""
    def step(x):
        be = backend_of(x)
        a = be.mul(array_of(x), 2.0)
        checked = {"0-d": [be.sum(a)], "float16": [be.cast(a, "float16")], "no arrays": []}[kind]
        be.check_finite("step: not finite", *checked)
        return make_tensor(be.add(a, 1.0), be)

    compiled = tg.compile(step)
    for _ in range(3):
        got = compiled(tg.tensor(np.array([1.0, 2.0], np.float32)))
    np.testing.assert_array_equal(got.numpy(), [3.0, 5.0])
    assert all(run.check is None for run in compiled.programs()[0].runs), kind
    if kind != "no arrays":
        with pytest.raises(ValueError, match="step: not finite"):
            compiled(tg.tensor(np.array([1.0, np.inf], np.float32)))


@pytest.mark.parametrize("option, value", [("lr", 0.05), ("weight_decay", 0.1), ("momentum", 0.5)])
def test_a_changed_hyperparameter_is_used_by_the_next_compiled_step(option, value):
    """Changing any option of a parameter group between steps (a scheduler's lr, a
    weight_decay raised by hand) gives the eager step's parameters after the change."""
    x, y = tg.randn(7, 6), tg.tensor([0, 1, 2, 0, 1, 2, 0])
    results = []
    for compiled in (False, True):
        model, opt, step = _mlp_sgd_step(lr=0.1, momentum=0.9, weight_decay=0.01)
        step = tg.compile(step) if compiled else step
        for k in range(6):
            if k == 3:
                opt.param_groups[0][option] = value
            step(x, y)
        results.append([p.detach().numpy().copy() for p in model.parameters()])
    for eager, replayed in zip(*results):
        np.testing.assert_allclose(replayed, eager, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("src, dst", [("float32", "float16"), ("float64", "int64"), ("float32", "int32"),
                                      ("int64", "uint8"), ("int64", "int8"), ("float64", "bool")])
def test_a_cast_the_fuser_does_not_generate_stays_numpys_between_fused_calls(src, dst):
    """A cast to a dtype the fuser does not generate (float16, int8, bool), or from a float to
    an integer (NaN, infinities and overflow are undefined in C), is left to NumPy even between
    fusible calls, so a NaN or an overflow gives the eager step's values bit for bit."""
    values = {"float32": np.array([1.5, -2.5, np.nan, np.inf, -np.inf, 3e9, -0.0, 7.25], np.float32),
              "float64": np.array([1.5, -2.5, np.nan, np.inf, -np.inf, 3e19, -0.0, 7.25]),
              "int64": np.array([1, -2, 300, -129, 255, 256, 0, 2 ** 40])}[src]

    def step(x):
        be = backend_of(x)
        a = be.mul(array_of(x), 3)             # fusible before the cast
        c = be.cast(a, np.dtype(dst))
        return make_tensor(be.add(c, be.cast(c, np.dtype(dst))), be), make_tensor(be.neg(a), be)

    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        expected = [t.numpy() for t in step(tg.tensor(values))]
        compiled = tg.compile(step)
        for _ in range(3):
            got = compiled(tg.tensor(values))
    program = compiled.programs()[0]
    assert not any(program.instrs[i].name == "cast" for run in program.runs for i in run.indices), (src, dst)
    for g, e in zip(got, expected):
        _same_bits(g.numpy(), e)


def test_a_fused_run_whose_load_is_interrupted_loads_on_the_next_call(tmp_path, monkeypatch):
    """A load stopped halfway (Ctrl-C while its module runs) leaves no half module
    registered: the next load runs the file again and finds the function."""
    import builtins
    import types

    monkeypatch.setenv("TINYGRAD_BN_CACHE", str(tmp_path))
    name = f"probe_interrupted_load_{os.getpid()}"
    source = (f"import builtins\nif getattr(builtins, '_tg_probe_fail', False):\n    raise KeyboardInterrupt\n\n\n"
              f"def {name}(a):\n    return a + 1\n")
    run = types.SimpleNamespace(name=name, source=source)
    monkeypatch.setattr(builtins, "_tg_probe_fail", True, raising=False)
    try:
        with pytest.raises(KeyboardInterrupt):
            fusion.load(run)
        builtins._tg_probe_fail = False
        assert fusion.load(run)(1) == 2
    finally:
        sys.modules.pop(f"tinygrad_bn_{name}", None)
        fusion._loaded.pop(source, None)


def test_a_call_joins_a_run_only_with_the_shapes_a_fused_loop_writes():
    """A fused loop writes each output over the broadcast of its operands' shapes (an
    in-place call: over its target, the first operand, which must be an array of that
    shape); a call whose recorded output or target has another shape stays NumPy's."""
    import types

    from tinygrad_bn.compiled.program import Instr
    a, row, col = np.ones((4, 3), np.float32), np.ones(3, np.float32), np.ones((4, 1), np.float32)
    program = types.SimpleNamespace(value_arrays={0: a, 1: row, 2: col, 3: np.ones((4, 3), np.float32),
                                                  4: np.ones((4, 1), np.float32)}, externals={}, arg_arrays={})

    def call(name, *args, out=None):
        return Instr("call", name, args=args, outs=() if out is None else (out,))
    assert fusion._fusible(program, call("add", ("v", 0), ("v", 1), out=3))
    assert fusion._fusible(program, call("add", ("v", 2), ("v", 1), out=3))  # (4, 1) + (3,) -> (4, 3)
    assert not fusion._fusible(program, call("add", ("v", 0), ("v", 1), out=4))  # an output of another shape
    assert not fusion._fusible(program, call("add", ("v", 1), ("c", 2.0), out=3))  # (3,) recorded as (4, 3)
    assert fusion._fusible(program, call("iadd", ("v", 0), ("v", 1)))
    assert not fusion._fusible(program, call("iadd", ("v", 2), ("v", 1)))  # the target would grow to (4, 3)
    assert not fusion._fusible(program, call("iadd", ("c", 1.0), ("v", 1)))  # no array to write into
    assert not fusion._fusible(program, call("iadd", ("v", 0), ("v", 1), out=3))  # an in-place call returns nothing
