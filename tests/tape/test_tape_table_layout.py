"""The tape's table on hand-made records, cell by cell: a text longer than its column
cut to the column's width with "~" last; parameters left out of the shapes column; the
kernel's last two names (its device and kernel), else the output's device; an op recorded
by a create_graph pass named "bwd of #N" when it has no module; "-" where an op has no
backward time or gradient; the gradient columns only when some op has a gradient; the
summary line; every line cut to the width asked for."""
from types import SimpleNamespace

from tinygrad_bn.tape_export import format_table


def _rec(seq, op, module, kernel, inputs, out, saved, fwd, bwd=None, grad=None, made_by=None, device="cpu"):
    return SimpleNamespace(seq=seq, op=op, module=module, kernel=kernel, inputs=inputs,
                           output={"shape": out, "device": device}, saved_bytes=saved, forward_ms=fwd,
                           backward_ms=bwd, grad=grad, made_by=made_by)


RECORDS = [
    _rec(7, "BatchNormalization", "encoder.layers.12.norm BatchNorm1d", "kernels.cuda.batchnorm",
         [{"kind": "input", "shape": [128, 64]}, {"kind": "param", "shape": [64]}], [128, 64], 2048, 1.23456, 0.5,
         {"norm": 0.012345, "nan": 0, "inf": 2}, device="cuda"),
    _rec(8, "Mul", "", None, [{"kind": "op", "shape": [1000, 1000, 3]}, {"kind": "leaf", "shape": [1000, 1000, 3]}],
         [1000, 1000, 3], 3 * 1024 * 1024, 12.5, made_by=7),
    _rec(9, "Sum", "", None, [{"kind": "op", "shape": [2]}], [], 0, 0.001, None, {"norm": 0, "nan": 1, "inf": 0}),
]
SUMMARY = {"ops": 3, "saved_bytes": 3 * 1024 * 1024 + 2048, "forward_ms": 13.735, "backward_ms": None}
RULE = "-" * 118


def test_the_table_cell_by_cell():
    assert format_table(RECORDS, SUMMARY, 200).splitlines() == [
        ("  # op           module               device.kernel  in -> out                 saved  fwd ms  bwd ms"
         "    |grad| nan/inf"),
        RULE,
        ("  7 BatchNormal~ encoder.layers.12.n~ cuda.batchnorm (128,64)->(128,64)        2.0KB   1.235   0.500"
         "     0.012     0/2"),
        ("  8 Mul          bwd of #7            cpu            (1000,1000,3) (1000,1~    3.0MB  12.500       -"
         "         -       -"),
        ("  9 Sum                               cpu            (2)->()                      0B   0.001       -"
         "         0     1/0"),
        RULE,
        "3 ops, 3.0MB saved for backward, forward 13.735 ms",
    ]


def test_without_gradients_the_gradient_columns_are_left_out_and_lines_are_cut_to_the_width():
    summary = dict(SUMMARY, backward_ms=2.5)
    lines = format_table(RECORDS[1:2], summary, 200).splitlines()
    assert lines == [
        "  # op           module               device.kernel  in -> out                 saved  fwd ms",
        "-" * 92,
        "  8 Mul          bwd of #7            cpu            (1000,1000,3) (1000,1~    3.0MB  12.500",
        "-" * 92,
        "3 ops, 3.0MB saved for backward, forward 13.735 ms, backward 2.500 ms",
    ]
    assert format_table(RECORDS[1:2], summary, 40).splitlines() == [line[:40] for line in lines]
