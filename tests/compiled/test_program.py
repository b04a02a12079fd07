"""The program a compiled step keeps: which traces are one program (their calls'
constants compared as the eager step sees them), the copies it drops and the
ones it must keep, the version counters a replay raises, and describe()'s line
for each kind of op."""
import re

import numpy as np
import pytest

import tinygrad_bn as tg
from tinygrad_bn import nn, optim
from tinygrad_bn.compiled import CompileError, Program
from tinygrad_bn.compiled.tracing import Call, GradSync
from tinygrad_bn.tensor_base import array_of, backend_of, make_tensor


def _program(constants, x, sync=True):
    """A program of one ``mul(previous, c)`` per constant over argument array x, then
    (``sync``) the step's gradient sync."""
    events, prev = [], x
    for c in constants:
        out = prev * 2.0  # the values do not matter: the program compares what each call was given
        events.append(Call("mul", np.multiply, (prev, c), {}, out, "step.py:1", None))
        prev = out
    if sync:
        events.append(GradSync({}))
    return Program(events, [x])


def _square():
    return lambda v: v * v


@pytest.mark.parametrize(("first", "second", "same"), [
    (0.5, 0.5, True),
    (float("nan"), float("nan"), True),             # two NaN objects: the eager step computes alike
    (np.float32(1.0), np.float32(1.0), True),
    (_square(), _square(), True),                   # a closure made anew at each call: the same code
    (slice(1, None), slice(1, None), True),
    (0.5, 0.25, False),
    (1, 1.0, False),                                # equal in Python, but NumPy computes in other dtypes
    (True, 1, False),
    (np.float32(1.0), np.float64(1.0), False),
    (np.float32(0.0), np.float32(-0.0), False),     # equal, but the signed zeros they make differ
    (np.int32(0), np.float32(0.0), False),          # the same bytes, not the same dtype
    (0.0, -0.0, False),
    (float("nan"), 1.0, False),
    (_square(), lambda v: v + v, False),
    (slice(1, None), slice(2, None), False),
])
def test_two_traces_are_one_program_when_the_eager_step_cannot_tell_their_constants_apart(first, second, same):
    """first_difference: None when every op agrees; else the index of the first op that
    differs, here the second of three (the first and the third agree)."""
    x = np.arange(3.0)
    a, b = _program([2.0, first, 3.0], x), _program([2.0, second, 3.0], x)
    assert a.first_difference(b) == (None if same else 1)
    assert b.first_difference(a) == (None if same else 1)


def test_a_trace_that_is_the_start_of_another_differs_where_the_shorter_one_ends():
    x = np.arange(3.0)
    short, long = _program([2.0, 3.0], x, sync=False), _program([2.0, 3.0, 4.0], x, sync=False)
    assert short.first_difference(long) == 2 and long.first_difference(short) == 2
    assert short.first_difference(_program([2.0, 3.0], x, sync=False)) is None


def test_a_python_number_that_changes_every_call_is_refused_naming_the_op_and_its_line():
    """The MAX_TRACES-th trace still differs: the error names the first op that differs
    (by its index and name) and the step's line that made it."""
    scale = [1.0]

    def step(x):
        be = backend_of(x)
        a = be.add(array_of(x), 1.0)
        scale[0] += 1.0
        return make_tensor(be.mul(a, scale[0]), be)  # the line named
    line = step.__code__.co_firstlineno + 4
    compiled = tg.compile(step, fuse=False)
    with pytest.raises(CompileError, match=rf"op 1 \(mul, at .*test_program\.py:{line}\) differs between two runs"):
        for _ in range(6):
            compiled(tg.ones(3))


def test_a_constant_made_anew_each_call_that_the_eager_step_sees_alike_is_replayed():
    """NaN is not equal to itself, and a new closure is another object: neither makes two
    traces two programs."""
    def step(x):
        be = backend_of(x)
        a = be.mul(array_of(x), float("nan"))
        return make_tensor(be.where(be.less(a, 0.0), a, float("nan")), be)
    compiled = tg.compile(step, fuse=False)
    for _ in range(4):
        out = compiled(tg.ones(2))
    assert np.isnan(out.numpy()).all()
    assert next(iter(compiled._entries.values())).replays >= 1


def _replayed_as_eager(step, x):
    """The eager step's results (copied), the compiled step's on its first replay (the
    third call), checked equal, and the program."""
    expected = [t.numpy().copy() for t in step(x)]
    compiled = tg.compile(step, fuse=False)
    for _ in range(3):
        got = compiled(x)
    assert next(iter(compiled._entries.values())).replays == 1
    for g, e in zip(got, expected):
        np.testing.assert_array_equal(g.numpy(), e)
    return expected, got, compiled.programs()[0]


def test_copies_are_kept_where_a_container_or_the_result_reads_their_source():
    """A copy whose source is read again only inside a tuple (concatenate's arrays), is
    itself returned, or is written next through a view, stays a copy; a copy of a copy that nothing reads again goes with
    the copy before it, and a tuple that reads it reads the source."""
    def step(x):
        be = backend_of(x)
        a = be.mul(array_of(x), 2.0)
        kept = be.copy(a)                       # a is read below, inside a tuple
        be.iadd(kept, 1.0)
        joined = be.concatenate((a, kept), 0)
        b = be.add(array_of(x), 1.0)
        moved = be.copy(b)                      # nothing reads b again
        again = be.copy(moved)                  # nor moved
        both = be.concatenate((again, joined), 0)
        r = be.mul(array_of(x), 3.0)
        dup = be.copy(r)                        # r is returned: two arrays, not one
        shared = be.mul(array_of(x), 4.0)
        flat = be.reshape(shared, (-1,))
        snapshot = be.copy(shared)              # shared is written next, through a view of it
        be.iadd(flat, 5.0)
        return make_tensor(both, be), make_tensor(r, be), make_tensor(dup, be), make_tensor(snapshot, be)
    expected, got, program = _replayed_as_eager(step, tg.tensor(np.arange(3.0)))
    np.testing.assert_array_equal(expected[0], [1, 2, 3, 0, 2, 4, 1, 3, 5])
    np.testing.assert_array_equal(expected[3], [0, 4, 8])
    assert not np.shares_memory(got[1].numpy(), got[2].numpy())
    got[2].add_(1.0)
    np.testing.assert_array_equal(got[1].numpy(), [0.0, 3.0, 6.0])
    assert [i.kind for i in program.instrs if i.name == "copy"] == ["call", "alias", "alias", "call", "call"]
    assert re.search(r"= concatenate\(\(v\d+, v\d+\), 0\)\n", program.describe())


def test_a_reshape_of_a_value_to_its_own_shape_is_the_value_itself_and_others_stay_calls():
    """reshape(v, (-1, C)) of an (N, C) value (a linear layer's backward does it) gives a
    view like v in every way, so the replay reads v (a transposed view too); a reshape
    that changes the shape stays a call (a view, or a copy of a transposed value), and
    every result is the eager step's, also through later in-place writes."""
    def step(x):
        be = backend_of(x)
        a = be.mul(array_of(x), 2.0)
        same = be.reshape(a, (-1, 3))               # (2, 3) -> (2, 3): a itself
        flat = be.reshape(a, (-1,))                 # another shape: a call
        t = be.swapaxes(a, 0, 1)
        turned = be.reshape(t, (-1, 2))             # (3, 2) -> (3, 2): t itself
        copied = be.reshape(t, (-1,))               # NumPy copies: a call
        be.iadd(same, 1.0)                          # written through the view: a, flat and t see it
        return make_tensor(flat, be), make_tensor(be.add(turned, 0.0), be), make_tensor(copied, be), \
            make_tensor(be.add(same, 0.5), be)
    expected, _, program = _replayed_as_eager(step, tg.tensor(np.arange(6.0).reshape(2, 3)))
    np.testing.assert_array_equal(expected[0], [1, 3, 5, 7, 9, 11])
    np.testing.assert_array_equal(expected[1], [[1, 7], [3, 9], [5, 11]])
    np.testing.assert_array_equal(expected[2], [0, 6, 2, 8, 4, 10])  # copied before the write
    assert [i.kind for i in program.instrs if i.name == "reshape"] == ["alias", "call", "alias", "call"]
    assert "reshape(v0, (-1, 3))   (its argument itself: skipped)" in program.describe()


def _versions(compiled, make_step, calls=5):
    """The version counters after each call of one step, eager or compiled."""
    step, watched = make_step()
    if compiled:
        step = tg.compile(step)
    seen = []
    for _ in range(calls):
        seen.append(step())
        seen.append([t._version for t in watched])
    return seen


def _adam_and_sgd():
    tg.manual_seed(0)
    first, second = nn.Linear(3, 2), nn.Linear(2, 1)
    sgd, adam = optim.SGD(first.parameters(), lr=0.1), optim.Adam(second.parameters(), lr=0.1)
    x = tg.ones(4, 3)

    def step():
        sgd.zero_grad()
        adam.zero_grad()
        (second(first(x)) ** 2).sum().backward()
        sgd.step()
        adam.step()  # Adam's step count keeps its step a Python call: it raises its own versions
    return step, [first.weight, first.bias, second.weight, second.bias]


def test_a_replay_raises_every_version_counter_as_often_as_the_eager_step():
    """Each in-place write raises a version once: the traced update's writes and a host
    optimizer step's (which runs in Python in a replay too) alike."""
    eager, compiled = _versions(False, _adam_and_sgd), _versions(True, _adam_and_sgd)
    assert [v for v in compiled if isinstance(v, list)] == [v for v in eager if isinstance(v, list)]
    assert eager[-1] == [6, 6, 6, 6]


@pytest.mark.parametrize("write", ["the argument", "a view of it"])
def test_an_argument_written_in_place_has_its_version_raised_by_a_replay(write):
    """A step that scales its argument in place: the call's own argument gets the new
    version, so a backward through a graph that saved it before the call refuses, as
    after the eager step."""
    w = tg.tensor([1.0, 2.0], requires_grad=True)

    def step(x):
        with tg.no_grad():
            (x if write == "the argument" else x.view(2, 1)).mul_(2.0)
        return x * 1.0
    compiled = tg.compile(step)
    for _ in range(3):
        compiled(tg.ones(2))
    assert next(iter(compiled._entries.values())).replays >= 1
    for k in range(2):
        x = tg.ones(2)
        stale = (w * x).sum()
        compiled(x)
        compiled(x)
        assert x._version == 2
        np.testing.assert_array_equal(x.numpy(), [4.0, 4.0])
        with pytest.raises(RuntimeError, match="modified by an inplace operation|in-place|inplace"):
            stale.backward()
    assert "version of a tensor of shape (2,) + 1 (an in-place write)" in compiled.describe()


def test_a_write_through_a_view_of_a_state_tensor_raises_its_version_in_a_replay():
    """buf.view(2, 2)[0].add_(...) inside the step writes into a buffer from before the
    step through views made in it: they share the buffer's version counter, which every
    replay raises as the eager step does."""
    def make():
        buf = tg.zeros(4)
        w = tg.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
        opt = optim.SGD([w], lr=0.1)

        def step(x):
            opt.zero_grad()
            buf.view(2, 2)[0].add_(x.sum())
            loss = (w * x).sum()
            loss.backward()
            opt.step()
            return loss
        return buf, step

    eager_buf, eager = make()
    buf, step = make()
    compiled = tg.compile(step)
    for i in range(5):
        x = tg.tensor(np.full(4, float(i)))
        eager(x)
        compiled(x)
        assert buf._version == eager_buf._version == i + 1 and buf.tolist() == eager_buf.tolist()
    assert next(iter(compiled._entries.values())).replays >= 2


def test_describe_has_a_line_for_each_kind_of_op():
    """zero_grad, a cast to the dtype its argument has (skipped), keyword arguments, a value
    read into Python (checked), a view of a weight (made once), a fused run's header with
    the arrays it writes out, a version bump, the gradients set, a host optimizer step."""
    tg.manual_seed(0)
    first, second = nn.Linear(3, 2), nn.Linear(2, 1)
    sgd, adam = optim.SGD(first.parameters(), lr=0.1), optim.Adam(second.parameters(), lr=0.1)
    table = tg.tensor([2.0])

    def step(x):
        sgd.zero_grad()
        be = backend_of(x)
        same = be.cast(array_of(x), np.dtype("float32"))
        total = be.sum(same, axis=0)
        k = table.tolist()[0]
        loss = (second(first(x)) ** 2).sum() * k
        loss.backward()
        sgd.step()
        adam.step()
        return loss, make_tensor(total, be)
    compiled = tg.compile(step)
    for _ in range(5):
        compiled(tg.ones(4, 3))
    text = compiled.describe()
    program = compiled.programs()[0]
    head = text.splitlines()[0]
    assert re.search(rf": {len(program.instrs)} ops, {program.n_values} values, {len(program.externals)} state arrays, "
                     rf"{len(program.runs)} fused runs \(generated and compiled in \d+\.\d{{3}} s\), replayed 2 times$",
                     head), head
    lines = text.splitlines()[1:]
    assert lines[0] == "   0  zero_grad: .grad = None for 2 tensors"
    assert lines[1] == "   1  cast(arg0, dtype('float32'))   (its argument itself: skipped)"
    assert lines[2] == "   2  v0:float32[3] = sum(arg0, axis=0)"
    assert lines[3] == "   3  to_numpy(ext0)   (checked: the trace's value)"
    assert re.match(r" +4  v1:float32\[3, 2\] = swapaxes\(ext1, 0, 1\)   \(of state arrays only", lines[4])
    assert re.search(r"\n +(\d+)  axpy\(ext1, -0\.1, v\d+\)\n +\d+  version of a tensor of shape \(2, 3\) \+ 1 "
                     r"\(an in-place write\)\n", text), text
    assert re.search(r"\n +\d+  \.grad of 4 leaves set from v\d+, v\d+, ext\d+, ext\d+\n +\d+  Adam\.step\(\)   \(run in "
                     r"Python: its update is not traced\)\n +\d+  \.grad of 4 leaves set from", text), text
    assert "version of a tensor of shape (1, 2)" not in text  # Adam's writes: Python, in a replay too
    for k, run in enumerate(program.runs):
        n = len(run.outputs)
        assert f"fused run {k}: " in text and re.search(rf"fused run {k}: \d+ calls in one Numba function "
                                                        rf"\(fused_\w+\), {n} arrays out\n", text), text


def test_a_fused_runs_header_says_when_it_checks_first():
    def step(x):
        be = backend_of(x)
        m = be.mul(array_of(x), 2.0)
        be.check_finite("step: not finite", m)
        return make_tensor(be.add(be.mul(m, 3.0), 1.0), be)
    compiled = tg.compile(step)
    for _ in range(3):
        compiled(tg.ones(3))
    text = compiled.describe()
    assert re.search(r"fused run 0: 3 calls in one Numba function \(fused_\w+\), 1 arrays out \(it checks "
                     r"first, and writes nothing when the check fails\)\n", text), text


def test_a_value_read_under_a_guard_is_checked_bit_for_bit_in_a_replay():
    """A zero read into Python that turns into -0.0 in place after compiling changes what
    the eager step computes (x * -0.0): replay notices, as two traces would."""
    from tinygrad_bn.compiled import ReplayMismatch

    table = tg.tensor([0.0], dtype=tg.float64)

    def step(x):
        return x * table.tolist()[0]
    compiled = tg.compile(step)
    for _ in range(3):
        out = compiled(tg.ones(2, dtype=tg.float64))
    assert not np.signbit(out.numpy()).any()
    assert next(iter(compiled._entries.values())).replays >= 1
    table.mul_(-1.0)
    assert np.signbit(step(tg.ones(2, dtype=tg.float64)).numpy()).all()
    with pytest.raises(ReplayMismatch, match=r"compiled step: op \d+ came out as"):
        compiled(tg.ones(2, dtype=tg.float64))
