"""A tape record's smaller promises: an output with no finite value has mean and
std 0 and its NaN and Inf counts; records refuse unknown fields and changes; the
tape and its entries print what they hold; backward into an empty list of inputs
is refused."""
import math
import re

import numpy as np
import pytest

import tinygrad_bn as tg
from tinygrad_bn.tape import TapeRecord


def test_an_output_without_finite_values_has_zero_moments_and_its_counts():
    x = tg.tensor([1.0, -2.0, 0.5], requires_grad=True)
    with tg.Tape() as tape:
        infinite = x * math.inf          # +inf, -inf, +inf
        nan = infinite * 0               # all NaN
        mixed = x * tg.tensor([math.inf, 1.0, 1.0])  # one inf, two finite
    stats = [e.activation for e in tape.entries]
    assert stats[0] == {"mean": 0.0, "std": 0.0, "nan": 0, "inf": 3}
    assert stats[1] == {"mean": 0.0, "std": 0.0, "nan": 3, "inf": 0}
    assert stats[2]["inf"] == 1 and stats[2]["nan"] == 0
    np.testing.assert_allclose([stats[2]["mean"], stats[2]["std"]], [-0.75, 1.25])  # of -2 and 0.5
    assert (infinite.grad_fn, nan.grad_fn, mixed.grad_fn)  # recorded ops, not constants


def test_a_record_takes_only_its_fields_and_is_read_only():
    with pytest.raises(TypeError, match=r"TapeRecord: unknown fields \['colour', 'size'\]; expected some of"):
        TapeRecord(op="Mul", size=3, colour="red")
    record = TapeRecord(op="Mul", seq=4)
    assert record.op == "Mul" and record.seq == 4 and record.grad is None
    with pytest.raises(AttributeError, match="TapeRecord is read-only \\(tried to set 'op'\\)"):
        record.op = "Add"


def test_the_tape_and_its_entries_print_what_they_hold():
    x = tg.ones(2, 3, requires_grad=True)
    with tg.Tape() as tape:
        y = (x * 2).sum(1)
    assert repr(tape) == "<Tape: 2 entries>"
    assert re.fullmatch(r"<TapeEntry #\d+ Sum -> \(2,\)>", repr(y.grad_fn))


def test_backward_into_an_empty_list_of_inputs_is_refused():
    x = tg.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="backward: inputs is empty; pass the tensors to accumulate into, or None"):
        (x * 2).sum().backward(inputs=[])
    assert x.grad is None


def test_backward_time_is_recorded_and_adds_up_over_backward_passes():
    x = tg.tensor(np.linspace(-1, 1, 2000), requires_grad=True)
    with tg.Tape() as tape:
        y = (x.exp() * x).sum()
    assert all(r.backward_ms is None for r in tape.entries)  # no backward yet
    y.backward(retain_graph=True)
    first = [r.backward_ms for r in tape.entries]
    assert all(ms > 0 for ms in first), first
    y.backward()
    second = [r.backward_ms for r in tape.entries]
    assert all(b > a for a, b in zip(first, second)), (first, second)  # each pass's time added


def test_a_norms_record_says_its_order_dims_and_keepdim():
    x = tg.ones(2, 3, requires_grad=True)
    with tg.Tape() as tape:
        x.norm()
        x.norm(dim=1, keepdim=True)
    assert [dict(r.params) for r in tape.entries] == [{"p": 2, "dim": (0, 1), "keepdim": False},
                                                     {"p": 2, "dim": (1,), "keepdim": True}]
