"""Rendering a tape with Graphviz: a ``dot`` that fails is a RuntimeError carrying dot's
own message, and nothing is left behind in the temporary folder."""
import shutil
import tempfile

import pytest

from tinygrad_bn.tape_export import render_dot

pytestmark = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz is not installed")


def test_a_dot_error_is_a_runtime_error_with_dots_message(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "scratch"))
    (tmp_path / "scratch").mkdir()
    with pytest.raises(RuntimeError, match=r"render: dot failed: .*syntax error") as caught:
        render_dot("digraph tape {\n  a -> \n", str(tmp_path / "g.svg"))
    assert "line 2" in str(caught.value) or "line 3" in str(caught.value)  # dot's diagnosis, not just a status
    assert list((tmp_path / "scratch").iterdir()) == []  # the .dot file written for dot is removed


def test_a_good_graph_renders_to_the_path_given(tmp_path):
    out = render_dot('digraph tape {\n  "a" -> "b" [label="(2,3)"];\n}\n', str(tmp_path / "g.svg"))
    assert out == str(tmp_path / "g.svg")
    text = (tmp_path / "g.svg").read_text()
    assert text.lstrip().startswith("<?xml") and "(2,3)" in text
