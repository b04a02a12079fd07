"""Every CPU row kernel honours its row range exactly. A parallel run hands each
thread a chunk ``[r0, r1)``; a kernel that touches a row outside its chunk (a
loop started one row early, a guard that lets an empty chunk through) writes
into a neighbour's rows, and at one thread no other test would see it.

The kernels are caught as the normalization ops call them (``run_rows``), then
run again here, serially, on copies of their arguments:
- an empty range (at the start, in the middle, at the end) changes nothing;
- a split of the rows into two ranges gives what one whole range gives, up
  to rounding (a kernel that takes rows four at a time groups them from r0)."""
import numpy as np
import pytest

import tinygrad_bn as tg
from kernels.cpu import _common, batchnorm, double_backward, groupnorm, layernorm, rmsnorm
from tinygrad_bn.nn import functional as F

MODULES = (batchnorm, double_backward, groupnorm, layernorm, rmsnorm)


def _caught_kernel_calls(monkeypatch):
    """(name, serial kernel, rows, args, partial width) of every row kernel the
    normalization ops run, forward, backward and double backward, in float64."""
    calls = []
    for module in MODULES:
        def record(parallel, serial, rows, numel, args, partial_width=None, partial_rows=2, module=module):
            calls.append((f"{module.__name__}.{serial.py_func.__name__}", serial, rows,
                          tuple(a.copy() if isinstance(a, np.ndarray) else a for a in args), partial_width))
            return _common.run_rows(parallel, serial, rows, numel, args, partial_width, partial_rows)
        monkeypatch.setattr(module, "run_rows", record)
    rng = np.random.default_rng(0)
    x = tg.tensor(rng.standard_normal((7, 6)) * 3 + 1, dtype=tg.float64, requires_grad=True)
    w = tg.tensor(rng.uniform(0.5, 2, 6), dtype=tg.float64, requires_grad=True)
    b = tg.tensor(rng.standard_normal(6), dtype=tg.float64, requires_grad=True)
    project = tg.tensor(rng.standard_normal((7, 6)), dtype=tg.float64)
    for out in (F.layer_norm(x, (6,), w, b), F.rms_norm(x, (6,), w), F.group_norm(x, 3, w, b)):
        (g,) = tg.autograd.grad((out * project).sum(), [x], create_graph=True)
        (g * project).sum().backward()
    # batch norm runs its row kernels from 1 MB up (below, one compiled call): (N, C) and (N, C, L)
    for shape in ((2100, 64), (300, 8, 60)):
        xb = tg.tensor(rng.standard_normal(shape) + 2, dtype=tg.float64, requires_grad=True)
        out = F.batch_norm(xb, None, None, training=True)
        (out * tg.tensor(rng.standard_normal(shape), dtype=tg.float64)).sum().backward()
    return calls


def _call(serial, args, width, r0, r1):
    args = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
    sums = [np.zeros(width), np.zeros(width)] if width is not None else []
    serial(*args, *sums, r0, r1)
    return [a for a in args if isinstance(a, np.ndarray)], sums


def test_every_row_kernel_keeps_to_its_rows(monkeypatch):
    calls = _caught_kernel_calls(monkeypatch)
    names = {name for name, *_ in calls}
    for module in (layernorm, rmsnorm, groupnorm, batchnorm):  # forward and backward of each op were caught
        assert sum(name.startswith(module.__name__ + ".") for name in names) >= 2, (module.__name__, names)
    checked = set()
    for name, serial, rows, args, width in calls:
        if (name, rows) in checked:
            continue
        checked.add((name, rows))
        before = [a for a in args if isinstance(a, np.ndarray)]
        for k in sorted({0, 1, rows // 2, rows}):  # an empty range changes nothing
            after, sums = _call(serial, args, width, k, k)
            for i, (a, b) in enumerate(zip(after, before)):
                np.testing.assert_array_equal(a, b, err_msg=f"{name}: the empty range [{k}, {k}) wrote argument {i}")
            for s in sums:
                assert not s.any(), f"{name}: the empty range [{k}, {k}) summed something"
        whole, whole_sums = _call(serial, args, width, 0, rows)
        for k in sorted({1, 2, rows // 3, rows - 1} & set(range(1, rows))):  # two ranges make the whole
            split_args = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
            sums = [np.zeros(width), np.zeros(width)] if width is not None else []
            serial(*split_args, *sums, 0, k)
            serial(*split_args, *sums, k, rows)
            split = [a for a in split_args if isinstance(a, np.ndarray)]
            for i, (a, b) in enumerate(zip(split, whole)):  # (rows taken 4 at a time may round differently)
                np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12,
                                           err_msg=f"{name}: rows [0, {k}) then [{k}, {rows}), argument {i}")
            for s, t in zip(sums, whole_sums):
                np.testing.assert_allclose(s, t, rtol=1e-12, atol=1e-12, err_msg=f"{name}: split at {k}, sums")


if __name__ == "__main__":
    pytest.main([__file__])
