"""tg.compile: a compiled step leaves parameters, gradients, optimizer state and
running statistics exactly where the eager step leaves them (replay calls the
same array functions on the same arrays in the same order, so bit for bit),
retraces when what it depends on changes, and refuses what it cannot replay."""
import re
import types
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_bn as tg
from tinygrad_bn import nn, optim
from tinygrad_bn.compiled import CompiledStep, CompileError


def _model(spec, in_features=12, classes=4):
    """A Sequential MLP from spec: widths, activation, norm, dropout."""
    widths, act, norm, p = spec["widths"], spec["act"], spec["norm"], spec["dropout"]
    layers, prev = [], in_features
    for w in widths:
        layers.append(nn.Linear(prev, w))
        if norm == "bn":
            layers.append(nn.BatchNorm1d(w))
        elif norm == "ln":
            layers.append(nn.LayerNorm(w))
        elif norm == "gn":
            layers.append(nn.GroupNorm(2, w))
        layers.append({"relu": nn.ReLU, "tanh": nn.Tanh, "gelu": nn.GELU, "sigmoid": nn.Sigmoid}[act]())
        if p:
            layers.append(nn.Dropout(p))
        prev = w
    layers.append(nn.Linear(prev, classes))
    return nn.Sequential(*layers)


def _optimizer(name, params):
    if name == "sgd":
        return optim.SGD(params, lr=0.05)
    if name == "momentum":
        return optim.SGD(params, lr=0.05, momentum=0.9, weight_decay=1e-3)
    if name == "nesterov":
        return optim.SGD(params, lr=0.05, momentum=0.9, nesterov=True)
    if name == "adam":
        return optim.Adam(params, lr=1e-2)
    if name == "adamw":
        return optim.AdamW(params, lr=1e-2)
    return optim.RMSprop(params, lr=1e-2, momentum=0.5)


def _setup(spec, seed=0):
    tg.manual_seed(seed)
    model = _model(spec)
    opt = _optimizer(spec["opt"], model.parameters())
    loss_fn = nn.CrossEntropyLoss() if spec["loss"] == "ce" else nn.MSELoss()
    return model, opt, loss_fn


def _batches(spec, steps, n=8, seed=1):
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(steps):
        x = tg.tensor(rng.standard_normal((n, 12)).astype(np.float32))
        y = tg.tensor(rng.integers(0, 4, n)) if spec["loss"] == "ce" else \
            tg.tensor(rng.standard_normal((n, 4)).astype(np.float32))
        out.append((x, y))
    return out


def _make_step(model, opt, loss_fn):
    def step(x, y):
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss
    return step


def _state(model, opt):
    """Every number the step leaves behind: parameters, gradients, buffers, optimizer state."""
    out = {}
    for name, p in model.named_parameters():
        out[name] = p.detach().numpy().copy()
        out[name + ".grad"] = None if p.grad is None else p.grad.numpy().copy()
    for name, b in model.named_buffers():
        out[name] = b.numpy().copy()
    for i, (p, s) in enumerate(opt.state.items()):
        for k, v in s.items():
            out[f"opt{i}.{k}"] = v if isinstance(v, (int, float)) else np.array(v, copy=True)
    return out


def _assert_same(a, b):
    assert a.keys() == b.keys()
    for k in a:
        if a[k] is None or b[k] is None:
            assert a[k] is None and b[k] is None, k
        else:
            np.testing.assert_array_equal(a[k], b[k], err_msg=k)
            assert np.asarray(a[k]).dtype == np.asarray(b[k]).dtype, k


def _run_both(spec, steps=6, between=None):
    """Eager and compiled runs of one seeded setup: their losses and end states."""
    results = []
    for compiled in (False, True):
        model, opt, loss_fn = _setup(spec)
        step = _make_step(model, opt, loss_fn)
        if compiled:
            step = tg.compile(step)
        losses = []
        for i, (x, y) in enumerate(_batches(spec, steps)):
            if between is not None:
                between(i, model, opt)
            losses.append(step(x, y).detach().numpy().copy())
        results.append((losses, _state(model, opt), step))
    return results


BASE = {"widths": [16], "act": "relu", "norm": "none", "dropout": 0.0, "opt": "momentum", "loss": "ce"}


@pytest.mark.parametrize("norm", ["none", "bn", "ln", "gn"])
def test_compiled_step_ends_where_the_eager_step_does(norm):
    spec = dict(BASE, norm=norm, widths=[16, 8])
    (le, se, _), (lc, sc, step) = _run_both(spec)
    np.testing.assert_array_equal(np.array(le), np.array(lc))
    _assert_same(se, sc)
    entry = next(iter(step._entries.values()))
    assert entry.replays >= 2, "the later steps were replayed, not traced"


def test_replay_runs_no_tape_entries_and_returns_a_plain_loss():
    model, opt, loss_fn = _setup(BASE)
    step = tg.compile(_make_step(model, opt, loss_fn))
    for x, y in _batches(BASE, 4):
        loss = step(x, y)
    assert loss.grad_fn is None and not loss.requires_grad
    assert loss.shape == () and np.isfinite(loss.item())
    text = step.describe()
    assert "replayed" in text
    # each op with its values' names, shapes and dtypes: the first product reads the step's
    # argument and the transposed weight (a state array), and the bias add writes in place
    assert re.search(r"\n +\d+  v(\d+):float32\[12, 16\] = swapaxes\(ext0, 0, 1\)   \(of state arrays only: "
                     r"made once, when the step was compiled\)\n +\d+  v\d+:float32\[8, 16\] = matmul\(arg0, v\1\)",
                     text), text
    assert re.search(r"iadd\(v\d+, ext1\)", text) and re.search(r"fused run \d+: \d+ calls in one Numba function", text)


def test_each_fused_run_in_the_description_counts_the_calls_listed_under_it():
    """A fused run's header says how many calls it stands for: the op lines of
    its instructions, less the version bumps and the casts to the dtype an array
    has (not calls: nothing runs for them)."""
    model, opt, loss_fn = _setup(dict(BASE, widths=[16, 8]))
    step = tg.compile(_make_step(model, opt, loss_fn))
    for x, y in _batches(BASE, 3):
        step(x, y)
    entry = next(iter(step._entries.values()))
    text = step.describe()
    ops = {int(m.group(1)): m.group(2) for m in re.finditer(r"^ +(\d+)  (.*)$", text, re.M)}
    headers = [(int(k), int(n)) for k, n in re.findall(r"fused run (\d+): (\d+) calls in one Numba", text)]
    assert [k for k, _ in headers] == list(range(len(entry.program.runs))) and headers
    for k, n in headers:
        listed = [ops[i] for i in entry.program.runs[k].indices
                  if not ops[i].startswith("version of") and not ops[i].endswith("(its argument itself: skipped)")]
        assert n == len(listed) > 0, (k, listed)


def test_views_of_state_arrays_are_made_once_and_copies_every_step():
    """A weight's transpose is a view: the same one at every replay, made once
    when compiling. A reshape of a weight that is not C-contiguous is a copy:
    it must be made again each step, after the optimizer moved the weight."""
    def make():
        tg.manual_seed(0)
        w = tg.tensor(np.arange(12.0).reshape(3, 4).T, requires_grad=True)  # (4, 3), Fortran order
        v = tg.tensor(np.linspace(1.0, 2.0, 12).reshape(3, 4), requires_grad=True)
        opt = optim.SGD([w, v], lr=0.05)
        c = tg.tensor(np.linspace(-1.0, 1.0, 12))

        def step():
            opt.zero_grad()
            loss = ((w.reshape(-1) - c) ** 2 * c).sum() + ((w.t() @ v.t()) * 0.1).sum()
            loss.backward()
            opt.step()
            return loss
        return step, (w, v)

    eager, eager_params = make()
    step, params = make()
    compiled = tg.compile(step)
    for _ in range(5):
        assert eager().item() == compiled().item()
    for a, b in zip(eager_params, params):
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
    text = compiled.describe()
    assert re.search(r"= transpose\(ext\d+, \(1, 0\)\)   \(of state arrays only: made once", text), text
    assert re.search(r"= reshape\(ext\d+, \(-1\)\)\n", text), text
    made_once = [int(i) for i in re.findall(r"^ +(\d+)  .*made once, when the step was compiled", text, re.M)]
    source = next(iter(compiled._entries.values())).source
    assert made_once and not any(f"f{i}(" in source for i in made_once), source


def test_a_view_of_a_state_array_that_the_step_returns_is_a_new_array_each_call():
    """Views of state arrays are made once when compiling, but not one the step returns:
    each call's result is its own array (as eagerly), which still sees the weight's
    current values."""
    w = tg.tensor([1.0, 2.0, 3.0, 4.0])

    def step():
        with tg.no_grad():
            return w.reshape(2, 2)

    compiled = tg.compile(step)
    outs = [compiled() for _ in range(5)]
    assert next(iter(compiled._entries.values())).replays >= 2
    assert len({id(o._data) for o in outs}) == 5
    w.mul_(2.0)
    assert outs[-1].tolist() == [[2.0, 4.0], [6.0, 8.0]]


def test_dropout_draws_the_masks_the_eager_step_draws():
    spec = dict(BASE, dropout=0.5)
    (le, se, _), (lc, sc, _) = _run_both(spec, steps=5)
    np.testing.assert_array_equal(np.array(le), np.array(lc))
    _assert_same(se, sc)


@pytest.mark.parametrize("opt", ["adam", "adamw", "rmsprop"])
def test_optimizers_with_a_step_count_run_their_step_in_python(opt):
    spec = dict(BASE, opt=opt)
    (le, se, _), (lc, sc, step) = _run_both(spec)
    np.testing.assert_array_equal(np.array(le), np.array(lc))
    _assert_same(se, sc)
    if opt != "rmsprop":  # Adam's bias corrections use its step count, a Python number
        assert "run in Python" in step.describe()


def test_a_new_learning_rate_is_used_at_once():
    def schedule(i, model, opt):
        if i == 4:
            for g in opt.param_groups:
                g["lr"] = 0.5
    (le, se, _), (lc, sc, _) = _run_both(BASE, steps=7, between=schedule)
    np.testing.assert_array_equal(np.array(le), np.array(lc))
    _assert_same(se, sc)


def test_switching_to_eval_and_back_follows_the_mode():
    spec = dict(BASE, norm="bn", dropout=0.3)

    def modes(i, model, opt):
        model.train(i not in (4, 5))
    (le, se, _), (lc, sc, _) = _run_both(spec, steps=8, between=modes)
    np.testing.assert_array_equal(np.array(le), np.array(lc))
    _assert_same(se, sc)


def test_state_replaced_under_the_step_is_the_state_it_uses():
    """load_state_dict and assignment give parameters new arrays: the program must not keep the old ones."""
    snapshot = {}

    def reload(i, model, opt):
        if i == 2:
            snapshot.update({k: v.clone() for k, v in model.state_dict().items()})
        if i == 5:
            model.load_state_dict(snapshot)
            model[0].weight.data = model[0].weight.data * 0.5
    (le, se, _), (lc, sc, _) = _run_both(dict(BASE, norm="bn"), steps=8, between=reload)
    np.testing.assert_array_equal(np.array(le), np.array(lc))
    _assert_same(se, sc)


def _accumulating_runs(steps, between):
    """Eager and compiled runs of a step without zero_grad; ``between(i, opt)`` after each call.
    Their end states."""
    results = []
    for compiled in (False, True):
        model, opt, loss_fn = _setup(BASE)

        def step(x, y, model=model, loss_fn=loss_fn):
            loss = loss_fn(model(x), y)
            loss.backward()
            return loss
        if compiled:
            step = tg.compile(step)
        for i, (x, y) in enumerate(_batches(BASE, steps)):
            step(x, y)
            between(i, opt)
        results.append(_state(model, opt))
    return results


def test_gradient_accumulation_across_calls_matches():
    """No zero_grad in the step: gradients add up over calls until the caller clears them."""
    def every_third(i, opt):
        if i % 3 == 2:
            opt.step()
            opt.zero_grad()
    _assert_same(*_accumulating_runs(9, every_third))


def test_a_gradient_made_anew_when_traced_is_added_to_when_one_is_there():
    """Traced while the caller cleared gradients after each call, then called without clearing:
    the eager step adds into the gradient that is there, and so must the compiled one."""
    def first_four(i, opt):
        if i < 4:
            opt.zero_grad()
    _assert_same(*_accumulating_runs(7, first_four))


def test_a_new_shape_traces_again_and_both_keys_replay():
    model, opt, loss_fn = _setup(BASE)
    step = tg.compile(_make_step(model, opt, loss_fn))
    for n in (8, 8, 8, 8, 5, 5, 5, 8, 5):
        x = tg.randn(n, 12)
        y = tg.tensor(np.arange(n) % 4)
        step(x, y)
    assert len(step.programs()) == 2
    assert sorted(e.replays for e in step._entries.values()) == [2, 2]


def test_item_inside_the_step_is_refused_with_its_line():
    model, opt, loss_fn = _setup(BASE)
    seen = []

    def step(x, y):
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        seen.append(loss.item())
        loss.backward()
        opt.step()
        return loss
    compiled = tg.compile(step)
    batches = _batches(BASE, 4)
    with pytest.raises(CompileError, match=r"reads tensor values into Python at .*test_compile\.py:\d+"):
        for x, y in batches:
            compiled(x, y)


def test_hooks_are_refused_and_fallback_runs_eagerly():
    model, opt, loss_fn = _setup(BASE)
    calls = []
    model[0].register_forward_hook(lambda m, i, o: calls.append(1))
    step = tg.compile(_make_step(model, opt, loss_fn))
    x, y = _batches(BASE, 1)[0]
    with pytest.raises(CompileError, match="Linear has forward or backward hooks"):
        step(x, y)
    eager = tg.compile(_make_step(model, opt, loss_fn), fallback=True)
    with pytest.warns(RuntimeWarning, match="running the step eagerly .*forward or backward hooks"):
        eager(x, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # said once
        for _ in range(3):
            eager(x, y)
    assert len(calls) == 1 + 4, "with fallback=True every call runs eagerly, hooks and all"


def test_a_tensor_hook_on_a_parameter_is_refused_naming_the_tensor():
    """A hook registered on a tensor the step uses (register_hook) is Python that replay
    would skip: the compile refuses it, naming the tensor by its shape."""
    model, opt, loss_fn = _setup(BASE)
    seen = []
    model[0].weight.register_hook(lambda g: seen.append(1))
    step = tg.compile(_make_step(model, opt, loss_fn))
    x, y = _batches(BASE, 1)[0]
    shape = tuple(model[0].weight.shape)
    with pytest.raises(CompileError, match=re.escape(f"a tensor of shape {shape} that the step uses has hooks")):
        step(x, y)


def test_a_tape_sees_the_eager_step():
    model, opt, loss_fn = _setup(BASE)
    step = tg.compile(_make_step(model, opt, loss_fn))
    batches = _batches(BASE, 5)
    for x, y in batches[:4]:
        step(x, y)
    with tg.Tape() as tape:
        step(*batches[4])
    # the step ran eagerly: the Tape holds its forward ops (Linear, ReLU, Linear, CrossEntropy)
    assert [str(r).split()[2] for r in tape] == ["Linear", "ReLU", "Linear", "CrossEntropy"]


def test_compile_as_a_decorator_and_bad_arguments():
    @tg.compile(fallback=True)
    def f(x):
        return x * 2
    assert isinstance(f, CompiledStep)
    np.testing.assert_array_equal(f(tg.ones(3)).numpy(), [2, 2, 2])
    with pytest.raises(TypeError, match="compile: expected a function"):
        tg.compile(3)
    with pytest.raises(TypeError, match="neither a tensor nor hashable"):
        f([np.ones(2)], )


@settings(max_examples=12, deadline=None)
@given(widths=st.lists(st.integers(2, 9), min_size=1, max_size=3),
       act=st.sampled_from(["relu", "tanh", "gelu", "sigmoid"]),
       norm=st.sampled_from(["none", "bn", "ln", "gn"]),
       dropout=st.sampled_from([0.0, 0.25]),
       opt=st.sampled_from(["sgd", "momentum", "nesterov", "adam", "rmsprop"]),
       loss=st.sampled_from(["ce", "mse"]))
def test_random_mlps_compiled_equal_eager(widths, act, norm, dropout, opt, loss):
    if norm == "gn":
        widths = [2 * w for w in widths]
    spec = {"widths": widths, "act": act, "norm": norm, "dropout": dropout, "opt": opt, "loss": loss}
    (le, se, _), (lc, sc, step) = _run_both(spec, steps=5)
    np.testing.assert_array_equal(np.array(le), np.array(lc))
    _assert_same(se, sc)
    assert next(iter(step._entries.values())).replays >= 1


def test_two_true_results_of_scalar_comparisons_stay_two_values():
    """NumPy returns its one True object for every true 0-d comparison: the program must still
    tell the two results apart when a later input makes them differ."""
    from tinygrad_bn.tensor_base import array_of, backend_of, make_tensor

    def step(x):
        be = backend_of(x)
        total = be.sum(array_of(x))
        positive, small = be.greater(total, 0), be.less(total, 100)
        return make_tensor(be.add(be.where(positive, 1.0, 2.0), be.where(small, 10.0, 20.0)), be)
    compiled = tg.compile(step, fuse=False)
    for _ in range(3):
        assert compiled(tg.ones(3)).item() == 11.0
    assert compiled(tg.full((3,), 50.0)).item() == step(tg.full((3,), 50.0)).item() == 21.0


def test_the_training_step_stops_before_the_update_when_a_replayed_loss_is_not_finite():
    from tinygrad_bn.train import LOSS_NOT_FINITE, compiled_training_step
    model, opt, loss_fn = _setup(BASE)
    step = compiled_training_step(model, opt, loss_fn)
    batches = _batches(BASE, 4)
    for x, y in batches[:3]:
        step(x, y)
    assert next(iter(step._entries.values())).replay is not None
    before = _state(model, opt)
    bad = tg.tensor(np.full((8, 12), np.inf, np.float32))
    with pytest.raises(ValueError, match=LOSS_NOT_FINITE):
        step(bad, batches[3][1])
    after = _state(model, opt)
    for k in before:  # no parameter or buffer moved; the gradients are the ones the failed step made
        if not k.endswith(".grad"):
            np.testing.assert_array_equal(before[k], after[k], err_msg=k)


@pytest.mark.parametrize("bad_target", [4, -1, 1000])
def test_a_replayed_step_refuses_a_target_out_of_range_before_it_updates(bad_target):
    """Cross entropy's target check is replayed: a class index out of range raises
    IndexError naming the step's line, before backward and the update, as the eager
    step does; the next good batch replays again."""
    model, opt, loss_fn = _setup(BASE)
    step = tg.compile(_make_step(model, opt, loss_fn))
    batches = _batches(BASE, 5)
    for x, y in batches[:3]:
        step(x, y)
    entry = next(iter(step._entries.values()))
    assert entry.replay is not None
    before = _state(model, opt)
    x, y = batches[3]
    wrong = y.numpy().copy()
    wrong[5] = bad_target
    with pytest.raises(IndexError, match=r"a check the step makes at .*test_compile\.py:\d+ failed"):
        step(x, tg.tensor(wrong))
    after = _state(model, opt)
    for k in before:
        if not k.endswith(".grad"):
            np.testing.assert_array_equal(before[k], after[k], err_msg=k)
    replays = entry.replays
    step(*batches[4])
    assert entry.replays == replays + 1


def test_a_one_element_flag_is_checked_by_its_replay_form_and_other_flags_by_check_itself():
    from tinygrad_bn.backends import get_backend
    from tinygrad_bn.compiled.replay import _replay_form
    from tinygrad_bn.compiled.program import Instr
    be = get_backend("cpu")
    flag = np.zeros(1, bool)
    form = be.check.replay_form(flag, IndexError, "message")
    form(flag, IndexError, "message")  # False: nothing
    with pytest.raises(IndexError, match="^late$"):
        form(np.ones(1, bool), IndexError, lambda: "late")
    assert be.check.replay_form(np.zeros(3, bool), IndexError, "message") is None
    assert be.check.replay_form(False, IndexError, "message") is None
    # replay takes the form where one is offered, and the function itself where None is
    many = Instr("call", "check", be.check, args=(("c", np.zeros(3, bool)), ("c", IndexError), ("c", "m")))
    one = Instr("call", "check", be.check, args=(("c", flag), ("c", IndexError), ("c", "m")))
    assert _replay_form(None, many) == be.check
    assert _replay_form(None, one).__name__ == "check_flag"


def test_the_backends_replay_forms_give_the_methods_results():
    """asarray, ones_like and iadd offer replay a form for NumPy arrays like the
    trace's: the same array (asarray of its own dtype), the same ones in the same
    dtype, shape and layout, the same in-place sum; other arguments get none."""
    from tinygrad_bn.backends import get_backend
    be = get_backend("cpu")
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 3)).astype(np.float32)
    form = be.asarray.replay_form(x)
    assert form(x) is x and form(x, np.float32) is x
    assert be.asarray.replay_form(x, np.float64) is None and be.asarray.replay_form(3.0) is None
    for traced, dtype in ((np.asarray(np.float32(2.5)), None), (x, None), (x, np.float64)):
        form = be.ones_like.replay_form(traced, dtype)
        want, got = be.ones_like(traced, dtype), form(traced, dtype)
        assert type(got) is np.ndarray and got.dtype == want.dtype and got.shape == want.shape
        assert got.strides == want.strides and (got == want).all()
    assert be.ones_like.replay_form(np.ones((3, 2)).T) is None  # not C-ordered
    bias = rng.standard_normal(3).astype(np.float32)
    form = be.iadd.replay_form(x, bias)
    a, b = x.copy(), x.copy()
    be.iadd(a, bias)
    assert form(b, bias) is None
    np.testing.assert_array_equal(a, b)
    assert be.iadd.replay_form(x, bias.astype(np.float64)) is None and be.iadd.replay_form(x, 2.0) is None


def test_numpys_view_functions_replay_as_the_arrays_methods():
    from tinygrad_bn.compiled.program import Instr
    from tinygrad_bn.compiled.replay import _replay_form, _reshape, _swapaxes, _transpose
    program = types.SimpleNamespace(value_arrays={0: np.ones((2, 3)), 1: 2.0}, externals={}, arg_arrays={})
    cases = [(np.swapaxes, (("v", 0), ("c", 0), ("c", 1)), _swapaxes),
             (np.transpose, (("v", 0), ("c", (1, 0))), _transpose),
             (np.reshape, (("v", 0), ("c", (3, 2))), _reshape)]
    for fn, args, method in cases:
        assert _replay_form(program, Instr("call", fn.__name__, fn, args=args)) is method
        got, want = method(*(program.value_arrays[0], *(r[1] for r in args[1:]))), fn(program.value_arrays[0],
                                                                                       *(r[1] for r in args[1:]))
        assert got.shape == want.shape and got.strides == want.strides and np.shares_memory(got, want)
    # another count of arguments, a keyword or a first argument that is no array: NumPy's function
    assert _replay_form(program, Instr("call", "reshape", np.reshape, args=(("v", 0), ("c", (3, 2)), ("c", "F")))) \
        is np.reshape
    assert _replay_form(program, Instr("call", "reshape", np.reshape, args=(("v", 0),),
                                       kwargs={"shape": ("c", (6,))})) is np.reshape
    assert _replay_form(program, Instr("call", "swapaxes", np.swapaxes,
                                       args=(("v", 1), ("c", 0), ("c", 1)))) is np.swapaxes


def test_a_replay_reads_the_blas_thread_count_once_at_its_start():
    """The small products' forms share one ``before_replay``, which the replay
    calls once, before its first line, so each replay reads the count anew."""
    from tinygrad_bn.backends import blas
    if blas._openblas_thread_functions() is None:
        pytest.skip("NumPy's BLAS is not a pthreads OpenBLAS: matmul is np.matmul")
    model, opt, loss_fn = _setup(dict(BASE, widths=[16, 16]))
    step = tg.compile(_make_step(model, opt, loss_fn))
    for x, y in _batches(BASE, 3):
        step(x, y)
    lines = next(iter(step._entries.values())).source.splitlines()
    assert lines[1] == "    p0()" and not any(line.startswith("    p1") for line in lines), lines[:3]
    assert sum(line.strip() == "p0()" for line in lines) == 1


def test_a_replayed_gradient_is_a_tensor_as_make_tensor_makes_it():
    """Replay makes each .grad inline: every slot as make_tensor sets it, a version
    counter of its own, the parameter's backend."""
    from tinygrad_bn.tensor_base import TensorBase, make_tensor
    model, opt, loss_fn = _setup(BASE)
    step = tg.compile(_make_step(model, opt, loss_fn))
    for x, y in _batches(BASE, 4):
        step(x, y)
    assert next(iter(step._entries.values())).replays == 1
    grads = [p.grad for p in model.parameters()]
    for p, g in zip(model.parameters(), grads):
        want = make_tensor(g._data, p._backend, False)
        assert type(g) is type(want) is tg.Tensor
        for slot in TensorBase.__slots__:
            if slot != "__weakref__":
                got, made = getattr(g, slot, "unset"), getattr(want, slot, "unset")
                assert got is made or (type(got) is not np.ndarray and got == made), slot
        assert g._version_cell is not want._version_cell
    assert len({id(g._version_cell) for g in grads}) == len(grads)


def test_a_copy_is_dropped_only_where_nothing_can_tell():
    """The traced engine copies each gradient (the tracer holds every array); replay hands the
    gradient over as the eager step does. A copy whose source is read later, or is a view of an
    array written later, stays a copy."""
    from tinygrad_bn.tensor_base import array_of, backend_of, make_tensor

    def step(x):
        be = backend_of(x)
        a = be.mul(array_of(x), 2.0)
        kept = be.copy(a)               # a is read again below: a real copy
        be.iadd(kept, 1.0)
        base = be.mul(array_of(x), 3.0)
        view = be.reshape(base, (-1,))
        snapshot = be.copy(view)        # a view of base, which is written next: a real copy
        be.iadd(base, 5.0)
        alone = be.add(array_of(x), 1.0)
        moved = be.copy(alone)          # nothing reads alone again: the copy can go
        return tuple(make_tensor(t, be) for t in (be.add(a, kept), snapshot, moved))
    x = tg.tensor(np.arange(4.0).reshape(2, 2))
    expected = [t.numpy().copy() for t in step(x)]
    compiled = tg.compile(step, fuse=False)
    for _ in range(3):
        got = compiled(x)
    for g, e in zip(got, expected):
        np.testing.assert_array_equal(g.numpy(), e)
    program = compiled.programs()[0]
    assert [i.kind for i in program.instrs if i.name == "copy"] == ["call", "call", "alias"]

    def copies_its_argument(x):
        be = backend_of(x)
        doubled = be.mul(array_of(x), 2.0)  # a value no one reads after the copy below
        total = be.sum(doubled)
        own = be.copy(array_of(x))  # a copy of the caller's array is never dropped: the caller owns it
        return make_tensor(own, be), make_tensor(total, be)
    compiled = tg.compile(copies_its_argument, fuse=False)
    for k in range(4):
        x = tg.tensor(np.arange(4.0) + k)
        own, total = compiled(x)
        np.testing.assert_array_equal(own.numpy(), np.arange(4.0) + k)
        assert float(total) == 2 * (6 + 4 * k)
        x.add_(10.0)  # the caller changes its tensor: the returned copy does not follow
        np.testing.assert_array_equal(own.numpy(), np.arange(4.0) + k)
    assert [i.kind for i in compiled.programs()[0].instrs if i.name == "copy"] == ["call"]


def test_a_replayed_update_raises_the_versions_the_eager_one_raises():
    """A graph built before the step saved a parameter; the step updates it in place: backward
    through that graph must refuse, replayed as eagerly (the version counter says so)."""
    model, opt, loss_fn = _setup(BASE)
    step = tg.compile(_make_step(model, opt, loss_fn))
    batches = _batches(BASE, 5)
    for x, y in batches[:3]:
        step(x, y)
    assert next(iter(step._entries.values())).replay is not None
    weight = model[0].weight
    before = weight._version
    stale = (model(batches[3][0]) * 2).sum()  # saved the weight at this version
    step(*batches[4])
    assert weight._version > before
    with pytest.raises(RuntimeError, match="modified by an inplace operation|in-place|inplace"):
        stale.backward()


def test_a_forward_with_history_is_refused_and_one_without_is_replayed():
    """torch.compile(model) keeps autograd; a replay returns tensors without history, so compiling
    a forward whose output a backward outside would need is refused at once."""
    model, _, _ = _setup(BASE)
    x = _batches(BASE, 1)[0][0]
    with pytest.raises(CompileError, match="returns a tensor with history and runs no backward"):
        tg.compile(model)(x)
    for wrap in (lambda y: (1, [y]), lambda y: {"logits": y, "n": 3}):  # inside tuples, lists and dicts too
        with pytest.raises(CompileError, match="returns a tensor with history and runs no backward"):
            tg.compile(lambda x, wrap=wrap: wrap(model(x)))(x)
    forward = tg.compile(model)
    with tg.no_grad():
        outs = [forward(x) for _ in range(3)]
        np.testing.assert_array_equal(outs[-1].numpy(), model(x).numpy())
    assert next(iter(forward._entries.values())).replays == 1


def test_a_replay_returns_the_containers_the_step_returned():
    """Tuples stay tuples, lists lists and dicts dicts, nested, with numbers kept as they are."""
    model, _, _ = _setup(BASE)
    x = _batches(BASE, 1)[0][0]
    shapes = {"tuple": lambda y: (y, 2), "list": lambda y: [y, (y, [3])], "dict": lambda y: {"y": [y], "n": (4,)}}
    for name, wrap in shapes.items():
        forward = tg.compile(lambda x, wrap=wrap: wrap(model(x)))
        with tg.no_grad():
            outs = [forward(x) for _ in range(3)]
            eager = wrap(model(x))
        assert next(iter(forward._entries.values())).replays >= 1, name
        for out in outs:
            assert _structure(out) == _structure(eager), name


def _structure(out):
    if isinstance(out, (tuple, list)):
        return type(out).__name__, [_structure(o) for o in out]
    if isinstance(out, dict):
        return "dict", {k: _structure(v) for k, v in out.items()}
    return ("tensor", out.shape) if isinstance(out, tg.Tensor) else out


def _penalty_runs(opt_name, norm, steps=6):
    """A WGAN-GP style critic step (a gradient penalty through autograd.grad with
    create_graph, on a leaf made inside the step), eager and compiled."""
    rng = np.random.default_rng(3)
    batches = [tg.tensor(rng.standard_normal((16, 3)).astype(np.float32)) for _ in range(steps)]
    results = []
    for compiled in (False, True):
        tg.manual_seed(0)
        layers = [nn.Linear(3, 8)] + ([nn.LayerNorm(8)] if norm == "ln" else [nn.BatchNorm1d(8)]) + \
            [nn.Tanh(), nn.Linear(8, 1)]
        model = nn.Sequential(*layers)
        opt = _optimizer(opt_name, model.parameters())

        def step(x, model=model, opt=opt):
            x = x.detach().requires_grad_(True)  # a new leaf at every call
            out = model(x)
            g, = tg.autograd.grad(out.sum(), x, create_graph=True)
            loss = out.mean() + 10 * ((g.norm(2, dim=1) - 1) ** 2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss
        if compiled:
            step = tg.compile(step)
        losses = [step(x).detach().numpy().copy() for x in batches]
        results.append((losses, _state(model, opt), step))
    return results


@pytest.mark.parametrize(("opt", "norm"), [("momentum", "ln"), ("adam", "ln"), ("sgd", "bn")])
def test_a_gradient_penalty_step_is_replayed_and_ends_where_the_eager_one_does(opt, norm):
    """The double backward of the norms is recorded like any kernel (it was not: its
    arrays came from nowhere, different at each call), and the .grad of a leaf made
    inside the step is not set by replay (no such tensor exists outside the step)."""
    (eager_losses, eager_state, _), (losses, state, step) = _penalty_runs(opt, norm)
    entry = next(iter(step._entries.values()))
    assert entry.replay is not None and entry.replays >= 2, "the step was not replayed"
    np.testing.assert_array_equal(np.array(losses), np.array(eager_losses))
    _assert_same(state, eager_state)


def _input_grad_runs(calls):
    """A step whose argument requires grad: the caller reads x.grad after each call (an
    adversarial example's sign, a saliency map). ``calls`` (x, keep_grad) pairs."""
    y = tg.tensor(np.random.default_rng(4).integers(0, 3, 4))
    results = []
    for compiled in (False, True):
        tg.manual_seed(0)
        model = nn.Sequential(nn.Linear(5, 6), nn.LayerNorm(6), nn.ReLU(), nn.Linear(6, 3))
        opt = optim.SGD(model.parameters(), lr=0.1)

        def step(x, model=model, opt=opt):
            opt.zero_grad()
            loss = nn.functional.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            return loss
        if compiled:
            step = tg.compile(step)
        grads, xs = [], {}
        for k, keep in calls:
            x = xs.get(k) if keep else None
            if x is None:
                x = xs[k] = tg.tensor(np.random.default_rng(k).standard_normal((4, 5)).astype(np.float32),
                                      requires_grad=True)
            step(x)
            grads.append(x.grad.numpy().copy())
        results.append((grads, _state(model, opt), step))
    return results


def test_the_grad_of_an_argument_that_requires_grad_lands_on_the_calls_own_argument():
    """Each call's x gets its own .grad (replay sets the grad of the argument it was
    given, not of the tensor it was traced with); an x passed again adds into its grad,
    as the eager step does."""
    calls = [(0, False), (1, False), (2, False), (3, False), (4, False), (4, True), (5, False)]
    (eager, eager_state, _), (got, state, step) = _input_grad_runs(calls)
    entry = next(iter(step._entries.values()))
    assert entry.replays >= 2, "the step was not replayed"
    for i, (e, g) in enumerate(zip(eager, got)):
        np.testing.assert_array_equal(g, e, err_msg=f"call {i}")
    assert not np.array_equal(got[5], got[4])  # the repeated x accumulated
    _assert_same(state, eager_state)


def test_a_second_models_gradient_made_anew_is_guarded_like_the_first():
    """Two models, each with Adam (whose step stays a Python call, so the leaves' grads are
    synced before each): the second model's leaves first appear at the second sync, after
    leaves already seen. Traced while the caller cleared the second model's grads after each
    call, then called without: the eager step adds into them, and so must the compiled one."""
    rng = np.random.default_rng(6)
    xs = [tg.tensor(rng.standard_normal((4, 3)).astype(np.float32)) for _ in range(7)]
    states = []
    for compiled in (False, True):
        tg.manual_seed(0)
        first, second = nn.Linear(3, 2), nn.Linear(3, 2)
        opt1, opt2 = optim.Adam(first.parameters(), lr=1e-2), optim.Adam(second.parameters(), lr=1e-2)

        def step(x, first=first, second=second, opt1=opt1, opt2=opt2):
            opt1.zero_grad()
            (first(x) ** 2).sum().backward()
            opt1.step()
            (second(x) ** 2).sum().backward()  # accumulates across calls unless the caller clears it
            opt2.step()
        if compiled:
            step = tg.compile(step)
        for i, x in enumerate(xs):
            step(x)
            if i < 4:
                second.zero_grad()
        states.append({**_state(first, opt1), **{"second." + k: v for k, v in _state(second, opt2).items()}})
    assert next(iter(step._entries.values())).replays >= 1
    _assert_same(*states)


def test_one_tensor_passed_twice_is_its_own_program_and_its_gradients_add_up():
    """f(a, b) traced, then f(x, x): x's gradient is the sum of both uses, as eagerly (and the
    other way round: traced with one tensor twice, replayed with two, each gets its own)."""
    def step(a, b):
        ((a * 2).sum() + (b * b).sum()).backward()

    def fresh(v):
        return tg.tensor(np.array(v, np.float64), requires_grad=True)
    compiled = tg.compile(step)
    for k in range(4):
        a, b = fresh([1.0, 2.0 + k]), fresh([3.0, -1.0])
        compiled(a, b)
        np.testing.assert_array_equal(a.grad.numpy(), [2.0, 2.0])
        np.testing.assert_array_equal(b.grad.numpy(), [6.0, -2.0])
    for k in range(4):
        x = fresh([1.5, -2.0 + k])
        compiled(x, x)
        np.testing.assert_array_equal(x.grad.numpy(), 2 + 2 * x.detach().numpy())
    assert len(compiled._entries) == 2 and all(e.replays >= 1 for e in compiled._entries.values())


def test_a_parameter_passed_as_an_argument_is_replayed():
    """The step clears and updates the very tensor it is given (its optimizer holds it)."""
    w = tg.tensor([1.0, -2.0, 0.5], requires_grad=True)
    opt = optim.SGD([w], lr=0.1)

    def step(p):
        opt.zero_grad()
        (p * p).sum().backward()
        opt.step()
    compiled = tg.compile(step)
    want = np.array([1.0, -2.0, 0.5])
    for _ in range(8):
        compiled(w)
        want = want - 0.1 * 2 * want
        np.testing.assert_allclose(w.detach().numpy(), want, rtol=1e-6)
    assert next(iter(compiled._entries.values())).replays >= 5


def test_a_leaf_the_caller_makes_anew_before_each_call_is_not_silently_dropped():
    """A tensor made outside the step (the caller puts a new one where the step reads it)
    is not the step's own: its .grad is observable, so the step is not replayed; with
    fallback=True it runs eagerly and the gradient is there after every call."""
    holder = {}
    weight = tg.tensor([0.0, 1.0, 2.0])

    def step():
        (holder["w"] ** 2).sum().backward()
    strict = tg.compile(step)
    with pytest.raises(CompileError, match="differs between two runs"):
        for _ in range(6):
            holder["w"] = weight.detach().requires_grad_()
            strict()
    lenient = tg.compile(step, fallback=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for _ in range(6):
            holder["w"] = weight.detach().requires_grad_()
            lenient()
            np.testing.assert_array_equal(holder["w"].grad.numpy(), [0.0, 2.0, 4.0])


def test_a_step_that_differs_every_run_is_given_up_on_the_max_traces_th_call():
    """Each call of a step that has not settled is a trace, counted from 1 and
    shown by describe(); the MAX_TRACES-th that still differs ends the tries."""
    from tinygrad_bn.compiled import step as step_module

    holder = {}
    weight = tg.tensor([0.0, 1.0, 2.0])

    def step():
        (holder["w"] ** 2).sum().backward()
    strict = tg.compile(step)
    calls = 0
    with pytest.raises(CompileError, match="differs between two runs"):
        for _ in range(2 * step_module.MAX_TRACES):
            holder["w"] = weight.detach().requires_grad_()
            calls += 1
            strict()
            assert f"tracing ({calls} runs so far)" in strict.describe()
    assert calls == step_module.MAX_TRACES


def test_a_leaf_made_in_the_step_and_returned_keeps_its_gradient():
    """Returned, a tensor made in the step is the caller's: a replay (which returns new
    tensors without .grad) would lose the gradient, so the step is not replayed."""
    w = tg.tensor([1.0, -2.0, 3.0])

    def step():
        x = tg.zeros(3, requires_grad=True)
        (x * w).sum().backward()
        return x
    with pytest.raises(CompileError, match="differs between two runs"):
        strict = tg.compile(step)
        for _ in range(6):
            strict()
    lenient = tg.compile(step, fallback=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for _ in range(6):
            np.testing.assert_array_equal(lenient().grad.numpy(), [1.0, -2.0, 3.0])


def test_a_copy_is_dropped_where_nothing_can_tell_in_long_programs_too():
    """Past 256 ops (where Python's small ints end) a copy whose source nothing reads again
    is still dropped: the rule compares positions by value."""
    from tinygrad_bn.tensor_base import array_of, backend_of, make_tensor

    def step(x):
        be = backend_of(x)
        y = array_of(x)
        for _ in range(300):
            y = be.add(y, 1.0)
        moved = be.copy(be.add(y, 1.0))  # nothing reads its source again: the copy can go
        return make_tensor(moved, be)
    x = tg.tensor(np.arange(3.0))
    compiled = tg.compile(step, fuse=False)
    for _ in range(3):
        got = compiled(x)
    np.testing.assert_array_equal(got.numpy(), np.arange(3.0) + 301)
    program = compiled.programs()[0]
    assert len(program.instrs) > 300
    assert [i.kind for i in program.instrs if i.name == "copy"] == ["alias"]


def test_describe_shows_each_kind_of_argument():
    """describe()'s argument forms: the step's arguments, external arrays, values,
    tuples, lists, dicts (as some kernels take options), functions and constants."""
    from tinygrad_bn.compiled.program import _show
    forms = [(("a", 0), "arg0"), (("x", 2), "ext2"), (("v", 7), "v7"), (("c", 1.5), "1.5"),
             (("c", np.add), "add"), (("t", (("c", 1), ("v", 2))), "(1, v2)"), (("l", (("c", "s"),)), "['s']"),
             (("d", (("eps", ("c", 1e-5)), ("out", ("v", 3)))), "{eps: 1e-05, out: v3}")]
    for ref, shown in forms:
        assert _show(ref) == shown, ref


@pytest.mark.parametrize("constant", [[1.0, -2.0, 3.0], [float("nan")], [-0.0, 0.0]], ids=["three values", "NaN",
                                                                                              "signed zeros"])
def test_values_read_into_python_that_never_change_are_replayed_under_a_guard(constant):
    """A step may read a tensor into Python when its value is the same every call: two traces
    are one program when the values read agree bit for bit (a NaN agrees with itself, and
    three values are compared as a whole), and replay checks them each call."""
    table = tg.tensor(constant, dtype=tg.float64)

    def step(x):
        scale = sum(v if v == v else 1.0 for v in table.tolist())  # (NaN counts as 1)
        return x * (scale + 1.0)
    compiled = tg.compile(step)
    for k in range(4):
        x = tg.full((3,), float(k))
        np.testing.assert_array_equal(compiled(x).numpy(), step(x).numpy())
    assert next(iter(compiled._entries.values())).replays >= 1


def test_a_step_with_weighted_smoothed_cross_entropy_replays_bit_for_bit():
    """The composed cross entropy (class weights, label smoothing, an ignored row) traces and
    replays like the fused one: the same losses, bit for bit, as the eager steps."""
    from tinygrad_bn.models import SimpleNetBN
    runs = []
    for compiled in (False, True):
        tg.manual_seed(0)
        model = SimpleNetBN(in_features=20)
        opt = optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
        loss_fn = nn.CrossEntropyLoss(weight=tg.rand(10) + 0.5, label_smoothing=0.1)

        def step(x, y, model=model, opt=opt, loss_fn=loss_fn):
            opt.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            opt.step()
            return loss
        step = tg.compile(step) if compiled else step
        rng = np.random.default_rng(0)
        losses = []
        for _ in range(5):
            y = rng.integers(0, 10, 16)
            y[3] = -100
            losses.append(step(tg.tensor(rng.standard_normal((16, 20)).astype(np.float32)), tg.tensor(y)).item())
        runs.append(losses)
        if compiled:
            assert next(iter(step._entries.values())).replays >= 2
    assert runs[0] == runs[1]


def test_a_gradient_the_step_leaves_alone_stays_the_tensor_that_was_there():
    """zero_grad(set_to_none=False) zeroes each .grad in place: a parameter the forward
    does not use keeps the gradient tensor it had before the step, zeroed, and a replay
    leaves that very tensor there, as the eager step does."""
    rng = np.random.default_rng(3)
    xs = [tg.tensor(rng.standard_normal((5, 3)).astype(np.float32)) for _ in range(6)]
    weights = tg.tensor(rng.standard_normal((5, 2)).astype(np.float32))
    results = []
    for compiled in (False, True):
        tg.manual_seed(0)
        model = nn.Linear(3, 2)
        spare = nn.Parameter(tg.ones(4))
        opt = optim.SGD(list(model.parameters()) + [spare], lr=0.1, momentum=0.9)
        spare.grad = tg.full((4,), 2.0)
        kept = spare.grad

        def step(x, model=model, opt=opt):
            opt.zero_grad(set_to_none=False)
            (model(x) * weights).sum().backward()
            opt.step()
        if compiled:
            step = tg.compile(step)
        for x in xs:
            step(x)
            assert spare.grad is kept
            np.testing.assert_array_equal(spare.grad.numpy(), np.zeros(4, np.float32))
        results.append(_state(model, opt) | {"spare": spare.detach().numpy().copy()})
    _assert_same(*results)
    assert next(iter(step._entries.values())).replays >= 3


def test_a_step_over_a_dict_with_numbers_returns_a_dict_and_each_number_is_its_own_key():
    """Arguments in a dict and Python numbers (part of the key: another value is another
    program); a dict result keeps its keys, its tensors and its constants."""
    w = tg.tensor([1.0, -2.0, 0.5], requires_grad=True)
    opt = optim.SGD([w], lr=0.1)

    def step(batch, scale):
        opt.zero_grad()
        loss = ((w * batch["x"]).sum() * scale) ** 2
        loss.backward()
        opt.step()
        return {"loss": loss, "scale": scale, "grad": w.grad}

    compiled = tg.compile(step)
    eager_w = w.detach().numpy().astype(np.float64)
    for i in range(8):
        x = np.array([1.0, 2.0, 3.0]) * (i + 1) / 8
        scale = 0.5 if i % 2 else 2.0
        out = compiled({"x": tg.tensor(x)}, scale)
        want_loss = (eager_w @ x * scale) ** 2
        want_grad = 2 * (eager_w @ x * scale) * scale * x
        eager_w = eager_w - 0.1 * want_grad
        assert sorted(out) == ["grad", "loss", "scale"] and out["scale"] == scale
        np.testing.assert_allclose(out["loss"].item(), want_loss, rtol=1e-5)
        np.testing.assert_allclose(out["grad"].numpy(), want_grad, rtol=1e-5)
        np.testing.assert_allclose(w.detach().numpy(), eager_w, rtol=1e-5)
    assert len(compiled._entries) == 2 and repr(compiled) == "<compiled step: 2 keys>"
    assert all(e.replays >= 1 for e in compiled._entries.values())


@pytest.mark.parametrize("kind", [float, np.float64, np.float32])
def test_a_number_argument_is_a_key_by_what_the_step_can_tell_apart(kind):
    """0.0 == -0.0 in Python, but x * -0.0 makes negative zeros: they are two keys.
    1, True and 1.0 are three (their types differ). Every NaN is one key, though no
    NaN equals another, so a NaN argument replays instead of tracing each call."""
    def step(x, s):
        return x * s

    compiled = tg.compile(step)
    x = tg.tensor(np.array([1.0, 2.0], dtype=np.float32))
    for _ in range(3):
        assert not np.signbit(compiled(x, kind(0.0)).numpy()).any()
    assert np.signbit(compiled(x, kind(-0.0)).numpy()).all()
    assert not np.signbit(compiled(x, kind(0.0)).numpy()).any()
    assert len(compiled._entries) == 2
    for _ in range(4):
        assert np.isnan(compiled(x, kind(float("nan"))).numpy()).all()
    assert len(compiled._entries) == 3 and max(e.replays for e in compiled._entries.values()) >= 2
    for s in (1, True, 1.0):
        compiled(x, s)
    assert len(compiled._entries) == 6


def test_the_least_recently_used_key_goes_past_cache_size_and_is_traced_again():
    def step(x):
        return x * 2 + 1
    compiled = tg.compile(step, cache_size=2)
    for n in (1, 2, 1, 3):  # 2 is the least recently used when 3 comes
        for _ in range(3):
            np.testing.assert_array_equal(compiled(tg.ones(n)).numpy(), np.full(n, 3.0))
    assert [k[0][1][0][1] for k in compiled._entries] == [(1,), (3,)]
    assert repr(compiled) == "<compiled step: 2 keys>"
    compiled(tg.ones(2))  # evicted: traced anew, and 1 goes
    assert [k[0][1][0][1] for k in compiled._entries] == [(3,), (2,)]
    assert next(reversed(compiled._entries.values())).replays == 0


def test_a_step_that_returns_something_else_than_tensors_is_refused_or_run_eagerly():
    def step(x):
        return {"doubled": x * 2, "note": object()}
    with pytest.raises(CompileError, match="returned something other than tensors, numbers, None and tuples, "
                                           "lists or dicts of them. Pass fallback=True"):
        strict = tg.compile(step)
        for _ in range(3):
            strict(tg.ones(2))
    lenient = tg.compile(step, fallback=True)
    with pytest.warns(RuntimeWarning, match="running the step eagerly"):
        out = lenient(tg.ones(2))
    np.testing.assert_array_equal(out["doubled"].numpy(), [2.0, 2.0])


def test_a_value_read_under_a_guard_that_changes_after_tracing_stops_the_replay():
    """The guard of a value read into Python: when the tensor changes in place after the
    step was compiled, replay raises ReplayMismatch naming the op, before it returns a
    result computed with the old value."""
    from tinygrad_bn.compiled import ReplayMismatch

    table = tg.tensor([1.0, 2.0], dtype=tg.float64)

    def step(x):
        return x * sum(table.tolist())
    compiled = tg.compile(step)
    for _ in range(3):
        np.testing.assert_array_equal(compiled(tg.ones(2, dtype=tg.float64)).numpy(), [3.0, 3.0])
    assert next(iter(compiled._entries.values())).replays >= 1
    table.add_(1.0)
    with pytest.raises(ReplayMismatch, match=r"compiled step: op \d+ came out as .*not as when the step was traced"):
        compiled(tg.ones(2, dtype=tg.float64))


def test_a_step_without_arguments_returns_its_tensors_on_their_own_device(alt_device):
    """A step that closes over its model and batch (no arguments) on another
    device: the replayed loss is on that device, as the eager one is."""
    tg.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 4), nn.ReLU(), nn.Linear(4, 3)).to("alt")
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    x = tg.tensor(np.random.default_rng(0).standard_normal((5, 6)).astype(np.float32), device="alt")
    y = tg.tensor(np.array([0, 1, 2, 1, 0]), device="alt")

    def step():
        opt.zero_grad()
        loss = nn.CrossEntropyLoss()(model(x), y)
        loss.backward()
        opt.step()
        return {"loss": loss, "both": (loss, loss * 2)}

    compiled = tg.compile(step)
    outs = [compiled() for _ in range(4)]
    assert next(iter(compiled._entries.values())).replays >= 1  # the last calls were replays
    for out in outs:
        assert out["loss"].device == out["both"][0].device == out["both"][1].device == "alt"


def test_the_guards_fail_on_each_change_that_must_retrace_and_only_on_those():
    """The replay's guards, one change at a time from a fresh copy of the state:
    a module's train flag, a hyperparameter's value, a key added to a parameter
    group, another group, a parameter's or momentum buffer's array replaced.
    An equal hyperparameter (another float object) and the same keys in another
    order still hold."""
    import copy

    spec = dict(BASE, norm="bn", widths=[4])  # Linear, BatchNorm1d, ReLU, Linear; SGD with momentum
    ((x, y),) = _batches(spec, 1)

    def fresh():
        model, opt, loss_fn = _setup(spec)
        opt.param_groups[0]["mask"] = np.ones(3)  # a user's own entry, whose == is elementwise
        compiled = tg.compile(_make_step(model, opt, loss_fn))
        for _ in range(4):
            compiled(x, y)
        entry = next(iter(compiled._entries.values()))
        assert entry.replays >= 1 and entry.guards()
        return model, opt, entry

    def reorder(group):
        items = list(group.items())[::-1]
        group.clear()
        group.update(items)

    holds = {
        "an equal lr": lambda m, o: o.param_groups[0].update(lr=float("0.05")),
        "the keys in another order": lambda m, o: reorder(o.param_groups[0]),
        "nothing": lambda m, o: None,
    }
    breaks = {
        "eval mode": lambda m, o: m.eval(),
        "one layer in eval mode": lambda m, o: m[1].eval(),
        "a new lr": lambda m, o: o.param_groups[0].update(lr=0.01),
        "a new momentum": lambda m, o: o.param_groups[0].update(momentum=0.5),
        "a key added": lambda m, o: o.param_groups[0].update(initial_lr=0.05),
        "a group added": lambda m, o: o.param_groups.append(copy.copy(o.param_groups[0])),
        "a weight's array replaced": lambda m, o: setattr(m[0].weight, "_data", m[0].weight._data.copy()),
        "a running mean's array replaced": lambda m, o: setattr(m[1].running_mean, "_data",
                                                                 m[1].running_mean._data.copy()),
        "a momentum buffer replaced": lambda m, o: o.state[m[3].bias].update(
            momentum_buffer=o.state[m[3].bias]["momentum_buffer"].copy()),
        # the key count holds, and the traced value's == (an array's) never runs against a missing one
        "a key renamed": lambda m, o: o.param_groups[0].update(mask2=o.param_groups[0].pop("mask")),
    }
    for what, change in {**holds, **breaks}.items():
        model, opt, entry = fresh()
        change(model, opt)
        assert entry.guards() is (what in holds), what
