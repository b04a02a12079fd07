"""The Graphviz text of a tape, on hand-made records: each op a rounded box labelled
"#seq op", its module and its kernel's last name; the last op a red double octagon when
its output is a single number; every outside input declared once, drawn by kind (input
grey, parameter blue box, leaf green, an op outside the capture dashed), with the shape
on it and on each edge; quotes and backslashes in names escaped so that ``dot`` reads
them back as they were."""
import shutil
import subprocess
from types import SimpleNamespace

import pytest

from tinygrad_bn.tape_export import to_dot

HEAD = ['digraph tape {', '  rankdir=TB;', '  node [fontname="Helvetica", fontsize=10];',
        '  edge [fontname="Helvetica", fontsize=9];']


def _records(last_shape=()):
    x = {"id": "x", "kind": "input", "shape": [2, 3]}
    return [
        SimpleNamespace(seq=3, op="MatMul", module='enc "a\\b"', kernel="kernels.cpu.gemm",
                        inputs=[x, {"id": "w", "kind": "param", "shape": [3, 4]}], output={"id": "#3", "shape": [2, 4]}),
        SimpleNamespace(seq=4, op="Add", module="", kernel=None,
                        inputs=[{"id": "#3", "kind": "op", "shape": [2, 4]}, {"id": "b", "kind": "leaf", "shape": [4]}, x],
                        output={"id": "#4", "shape": [2, 4]}),
        SimpleNamespace(seq=5, op="Sum", module="", kernel=None,
                        inputs=[{"id": "#4", "kind": "op", "shape": [2, 4]}, {"id": "#1", "kind": "op", "shape": [1]}],
                        output={"id": "#5", "shape": list(last_shape)}),
    ]


def test_the_dot_text_of_a_small_graph():
    assert to_dot(_records()).splitlines() == HEAD + [
        '  "#3" [label="#3 MatMul\\nenc \\"a\\\\b\\"\\n[gemm]", shape=box, style="rounded,filled", fillcolor="#fff2cc"];',
        '  "x" [label="x\\n(2,3)", shape=ellipse, style=filled, fillcolor="#eeeeee"];',
        '  "x" -> "#3" [label="(2,3)"];',
        '  "w" [label="w\\n(3,4)", shape=box, style=filled, fillcolor="#cfe2f3"];',
        '  "w" -> "#3" [label="(3,4)"];',
        '  "#4" [label="#4 Add", shape=box, style="rounded,filled", fillcolor="#fff2cc"];',
        '  "#3" -> "#4" [label="(2,4)"];',
        '  "b" [label="b\\n(4)", shape=ellipse, style=filled, fillcolor="#d9ead3"];',
        '  "b" -> "#4" [label="(4)"];',
        '  "x" -> "#4" [label="(2,3)"];',  # x is declared once, at its first use
        '  "#5" [label="#5 Sum", shape=doubleoctagon, style=filled, fillcolor="#f4a6a6"];',
        '  "#4" -> "#5" [label="(2,4)"];',
        '  "#1" [label="#1\\n(1)", shape=ellipse, style=dashed];',
        '  "#1" -> "#5" [label="(1)"];',
        '}',
    ]


@pytest.mark.parametrize("shape, loss", [((), True), ((1,), True), ((2,), False), ((1, 1), False)])
def test_only_a_last_single_number_is_the_loss(shape, loss):
    text = to_dot(_records(shape))
    assert text.count("doubleoctagon") == int(loss)
    assert ('"#5" [label="#5 Sum", shape=doubleoctagon' in text) == loss


def test_no_records_give_an_empty_graph():
    assert to_dot([]) == "\n".join(HEAD + ["}"]) + "\n"


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz is not installed")
def test_dot_reads_the_escaped_names_back():
    svg = subprocess.run([shutil.which("dot"), "-Tsvg"], input=to_dot(_records()), capture_output=True, text=True,
                         timeout=60, check=True).stdout
    assert ">enc &quot;a\\b&quot;</text>" in svg  # the module's name as it was: enc "a\b"
    assert svg.count('class="node"') == 7  # three ops and four outside inputs, each once
