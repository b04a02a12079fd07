"""Tape capture, table, DOT, JSON, gradient flow, anomaly mode and hooks."""
import json
import shutil

import jsonschema
import numpy as np
import pytest

import tinygrad_bn as tg
from tinygrad_bn import nn
from tinygrad_bn.models import SimpleNetBN
from tinygrad_bn.tape import TAPE_JSON_SCHEMA, Tape


def one_step(model=None, batch=16, seed=0):
    tg.manual_seed(seed)
    model = model or SimpleNetBN()
    rng = np.random.default_rng(seed)
    x = tg.tensor(rng.standard_normal((batch, 784)).astype(np.float32))
    y = tg.tensor(rng.integers(0, 10, batch))
    with Tape() as tape:
        loss = nn.CrossEntropyLoss()(model(x), y)
    loss.backward()
    return tape, loss, model


def test_records_describe_each_op():
    tape, loss, model = one_step()
    ops = [r.op for r in tape.entries]
    assert ops == ["Linear", "BatchNorm", "ReLU", "Linear", "BatchNorm", "ReLU", "Linear", "CrossEntropy"]
    seqs = [r.seq for r in tape.entries]
    assert seqs == sorted(seqs)
    bn = tape.entries[1]
    assert bn.module == "layers.1 BatchNorm1d" and bn.kernel == "kernels.cpu.batchnorm"
    assert bn.params["eps"] == 1e-5 and bn.output["shape"] == [16, 64] and bn.output["dtype"] == "float32"
    assert bn.inputs[0]["id"] == tape.entries[0].output["id"] and bn.inputs[0]["kind"] == "op"
    assert bn.inputs[1]["id"] == "layers.1.weight" and bn.inputs[1]["kind"] == "param"
    assert bn.saved_bytes >= 16 * 64 * 4 and bn.forward_ms > 0
    assert bn.origin is not None and bn.origin[0].endswith("test_tape.py")
    # after backward: time and the gradient that reached each output
    assert all(r.backward_ms is not None and r.grad is not None for r in tape.entries)
    assert tape.entries[-1].grad["norm"] == pytest.approx(1.0)
    assert tape.entries[0].grad["shape"] == [16, 64] and tape.entries[0].grad["nan"] == 0


def test_records_are_read_only():
    tape, _, _ = one_step()
    r = tape.entries[0]
    with pytest.raises(AttributeError, match="read-only"):
        r.op = "Other"
    with pytest.raises(TypeError):
        r.params["x"] = 1
    # the dicts a record shows are copies: changing them changes nothing
    r.inputs[0]["shape"].append(99)
    r.output["dtype"] = "x"
    r.grad["norm"] = -1.0
    assert 99 not in r.inputs[0]["shape"] and r.output["dtype"] != "x" and r.grad["norm"] >= 0
    assert r.origin is not None and len(r.origin) == 3 and r.origin[2]  # file, line, source text


def test_capture_never_changes_results():
    model = SimpleNetBN()
    state = {k: v.numpy().copy() for k, v in model.state_dict().items()}
    x = tg.randn(8, 784)
    y = tg.tensor(np.arange(8))
    loss_plain = nn.CrossEntropyLoss()(model(x), y)
    loss_plain.backward()
    grads_plain = [p.grad.numpy().copy() for p in model.parameters()]
    model.load_state_dict(state)
    model.zero_grad()
    with Tape():
        loss_taped = nn.CrossEntropyLoss()(model(x), y)
    loss_taped.backward()
    assert loss_taped.item() == loss_plain.item()
    for p, g in zip(model.parameters(), grads_plain):
        np.testing.assert_array_equal(p.grad.numpy(), g)


def test_no_entries_when_grad_is_off_and_nested_tapes():
    x = tg.randn(4, 3, requires_grad=True)
    with Tape() as tape:
        with tg.no_grad():
            (x * 2).sum()
        tg.randn(3) * 2  # nothing requires grad: not recorded
    assert len(tape) == 0
    with Tape() as outer:
        a = x * 2
        with Tape() as inner:
            b = a.relu()
        c = b.sum()
    assert [r.op for r in outer.entries] == ["Mul", "ReLU", "Sum"]
    assert [r.op for r in inner.entries] == ["ReLU"]
    assert inner.entries[0] is outer.entries[1]
    c.backward()
    assert inner.entries[0].grad is not None


def test_table_fits_120_columns_and_names_every_op():
    tape, _, _ = one_step(batch=64)
    text = tape.table()
    lines = text.splitlines()
    assert max(len(l) for l in lines) <= 120
    for r in tape.entries:
        assert any(r.op in l and l.split()[0] == str(r.seq) for l in lines)
    assert "layers.4 BatchNorm1d" in text and "batchnorm" in text
    assert "|grad|" in text and "nan/inf" in text
    assert lines[-1].startswith("8 ops,") and "saved for backward" in lines[-1] and "backward" in lines[-1]
    assert str(tape) == text


def test_gradient_norms_print_with_three_decimals_between_0_01_and_1e4_else_in_scientific_form():
    """A norm between 0.01 and 10^4 reads 0.123; a smaller or larger one 1.23e-05.
    The first op's output gets a gradient of norm ``scale`` from the second."""
    cases = [(1.2345e-6, "1.23e-06"), (1.2345e-3, "1.23e-03"), (0.012345, "0.012"), (1.2345, "1.234"),
             (1234.5, "1234.500"), (12345.0, "1.23e+04"), (1.2345e7, "1.23e+07")]
    for scale, text in cases:
        x = tg.ones(1, dtype=tg.float64, requires_grad=True)
        with Tape() as tape:
            y = x * 2.0
            out = (y * scale).sum()
        out.backward()
        first = tape.entries[0]
        assert first.grad["norm"] == scale
        line = next(l for l in tape.table().splitlines() if l.split() and l.split()[0] == str(first.seq))
        assert f" {text} " in line + " ", (text, line)


def test_the_table_keeps_its_last_column_when_sequence_numbers_grow(monkeypatch):
    import itertools

    from tinygrad_bn import function

    monkeypatch.setattr(function, "_sequence", itertools.count(123_456_789))  # a long session
    tape, _, _ = one_step(batch=64)
    lines = tape.table().splitlines()
    assert max(len(line) for line in lines) <= 120
    assert lines[0].rstrip().endswith("nan/inf") and lines[2].split()[0] == "123456789"
    assert all(line.rstrip().endswith("0/0") for line in lines[2:-2])


@pytest.mark.parametrize("shape, loss", [((), True), ((1,), True), ((2,), False), ((1, 1), False)])
def test_dot_marks_the_last_op_as_the_loss_when_it_gives_one_number(shape, loss):
    """The last op's node is drawn as the loss when its output is 0-d or holds one element
    in one dim (a loss kept with keepdim); any other last op is an ordinary box."""
    x = tg.ones(2, requires_grad=True)
    with Tape() as tape:
        (x * 2).sum().reshape(shape) if shape in ((), (1,), (1, 1)) else (x * 2).reshape(shape)
    nodes = [line for line in tape.to_dot().splitlines() if "#" in line and "label=" in line]
    assert ("doubleoctagon" in nodes[-1]) == loss and not any("doubleoctagon" in n for n in nodes[:-1])


def test_dot_marks_kinds_and_shapes(tmp_path):
    tape, _, _ = one_step()
    dot = tape.to_dot()
    assert dot.startswith("digraph tape {") and dot.rstrip().endswith("}")
    assert '"layers.0.weight"' in dot and "fillcolor=\"#cfe2f3\"" in dot  # parameters
    assert "doubleoctagon" in dot  # the loss
    assert '[label="(16,64)"]' in dot  # edges carry shapes
    assert "\\n[batchnorm]" in dot and "\\n[cpu]" not in dot  # an op's box names its kernel (the module's last name)
    if shutil.which("dot") is None:
        with pytest.raises(RuntimeError, match="apt-get install graphviz"):
            tape.render(str(tmp_path / "g.svg"))
        pytest.skip("Graphviz is not installed: rendering checked only for its error message")
    out = tape.render(str(tmp_path / "g.svg"))
    assert open(out).read().lstrip().startswith("<?xml")
    tape.render(str(tmp_path / "g.png"))
    assert (tmp_path / "g.png").read_bytes()[:4] == b"\x89PNG"


def test_render_without_graphviz_says_how_to_install(monkeypatch, tmp_path):
    tape, _, _ = one_step()
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(RuntimeError, match="Graphviz 'dot' program is not installed"):
        tape.render(str(tmp_path / "g.svg"))
    with pytest.raises(ValueError, match="unsupported file type"):
        tape.render(str(tmp_path / "g.txt"))


def test_json_validates_against_schema_and_round_trips():
    tape, _, _ = one_step()
    text = tape.to_json()
    doc = json.loads(text)
    jsonschema.validate(doc, TAPE_JSON_SCHEMA)
    back = Tape.from_json(text)
    assert len(back) == len(tape)
    for a, b in zip(tape.entries, back.entries):
        assert a.as_dict() == b.as_dict()
    assert back.table() == tape.table()
    assert back.to_json() == text
    with pytest.raises(ValueError, match="not a tinygrad_bn tape"):
        Tape.from_json('{"format": "other"}')


def test_json_before_backward_also_validates():
    with Tape() as tape:
        (tg.randn(3, requires_grad=True) * 2).sum()
    jsonschema.validate(json.loads(tape.to_json()), TAPE_JSON_SCHEMA)


_WRONG_TYPE = {"string": 1, "integer": "1", "number": "1", "boolean": "yes", "object": [], "array": {}}


def _breakages(schema, doc, path=()):
    """(path, value) pairs, each a change of ``doc`` that one rule of ``schema`` refuses:
    a required key dropped (value None), a negative count, size or time, another const or enum
    value, a value of the wrong type; through $ref, oneOf's matching branch, properties and
    the first item of arrays."""
    if "$ref" in schema:
        schema = TAPE_JSON_SCHEMA["$defs"][schema["$ref"].rsplit("/", 1)[1]]
    if "oneOf" in schema:
        branch = next(b for b in schema["oneOf"] if b.get("type") != "null") if doc is not None else None
        if branch is not None:
            yield from _breakages(branch, doc, path)
        return
    for key in schema.get("required", ()):
        yield path + (key,), None
    if "minimum" in schema and isinstance(doc, (int, float)):
        # every bounded value is a count, a size or a time: a negative one must be refused
        yield path, -1 if schema.get("type") == "integer" else -0.5
    if "const" in schema:
        yield path, "something else"
    if "enum" in schema:
        yield path, "not one of them"
    if isinstance(schema.get("type"), str):
        yield path, _WRONG_TYPE[schema["type"]]
    for key, sub in schema.get("properties", {}).items():
        if isinstance(doc, dict) and doc.get(key) is not None:
            yield from _breakages(sub, doc[key], path + (key,))
    if "items" in schema and isinstance(doc, list) and doc:
        yield from _breakages(schema["items"], doc[0], path + (0,))


def test_the_schema_refuses_a_document_that_breaks_any_of_its_rules():
    """The schema's own power: from a valid document of a step with backward, every rule
    (required keys, minimums, consts, enums, types, at every level) is broken one at a time,
    and each broken document must fail to validate."""
    import copy
    tape, _, _ = one_step()
    doc = json.loads(tape.to_json())
    broken = list(_breakages(TAPE_JSON_SCHEMA, doc))
    assert len(broken) > 60
    for path, value in broken:
        if not path:  # the document itself of another type
            with pytest.raises(jsonschema.ValidationError):
                jsonschema.validate(value, TAPE_JSON_SCHEMA)
            continue
        bad = copy.deepcopy(doc)
        parent = bad
        for key in path[:-1]:
            parent = parent[key]
        if value is None:
            del parent[path[-1]]
        else:
            parent[path[-1]] = value
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(bad, TAPE_JSON_SCHEMA)
    assert (("summary", "forward_ms"), -0.5) in broken and (("entries", 0, "forward_ms"), -0.5) in broken


def test_grad_flow_lists_parameter_norms_in_layer_order():
    tape, _, model = one_step()
    flow = tape.grad_flow()
    names = [f["param"] for f in flow]
    assert names == [n for n, _ in model.named_parameters()]
    grads = dict(model.named_parameters())
    for f in flow:
        np.testing.assert_allclose(f["norm"], np.linalg.norm(grads[f["param"]].grad.numpy()), rtol=1e-5)
    assert flow[0]["layer"] == "layers.0 Linear"


def test_activation_statistics_answer_the_gaussian_question():
    tape, _, _ = one_step(batch=64)
    acts = {(a["module"]): a for a in tape.activations()}
    bn = acts["layers.1 BatchNorm1d"]
    assert abs(bn["mean"]) < 1e-5 and bn["std"] == pytest.approx(1.0, abs=1e-3)  # gamma=1, beta=0 at init


def test_plot_grad_flow(tmp_path):
    pytest.importorskip("matplotlib")
    tape, _, _ = one_step()
    path = tmp_path / "flow.png"
    tg.plot_grad_flow(tape, str(path))
    assert path.read_bytes()[:4] == b"\x89PNG"
    with pytest.raises(ValueError, match="no parameter gradients"):
        tg.plot_grad_flow([], str(path))


def test_plot_grad_flows_own_figure_widens_with_the_number_of_parameters(monkeypatch):
    """6 inches up to 12 parameters, then half an inch each, so the names stay legible."""
    pytest.importorskip("matplotlib")
    import matplotlib.pyplot as plt
    monkeypatch.setattr(plt, "show", lambda *a, **k: None)
    for count, width in ((3, 6.0), (12, 6.0), (20, 10.0)):
        flow = [{"param": f"p{i}", "norm": 1.0 + i} for i in range(count)]
        tg.plot_grad_flow(flow)
        fig = plt.gcf()
        assert tuple(fig.get_size_inches()) == (width, 4.0), count
        plt.close(fig)


def test_plot_grad_flow_picks_the_file_backend_only_when_it_saves_its_own_figure(tmp_path, monkeypatch):
    """Saving to a file needs no display, so that call switches matplotlib to Agg;
    drawing on the screen or on the caller's axes keeps the caller's backend."""
    matplotlib = pytest.importorskip("matplotlib")
    import matplotlib.pyplot as plt
    tape, _, _ = one_step()
    chosen = []
    monkeypatch.setattr(matplotlib, "use", lambda name, *a, **k: chosen.append(name))
    tg.plot_grad_flow(tape, str(tmp_path / "flow.png"))
    assert chosen == ["Agg"]
    ax = tg.plot_grad_flow(tape)  # for plt.show(): the caller's backend
    fig, own = plt.subplots()
    assert tg.plot_grad_flow(tape, str(tmp_path / "unused.png"), ax=own) is own  # the caller's figure
    assert chosen == ["Agg"] and not (tmp_path / "unused.png").exists()
    plt.close(ax.figure)
    plt.close(fig)


def test_anomaly_mode_finds_a_planted_log_of_zero():
    x = tg.tensor([1.0, 0.0, 2.0], requires_grad=True)
    with tg.detect_anomaly():
        y = x * 2
        with pytest.raises(tg.AnomalyError) as info:
            y.log()  # planted: log(0) = -inf
    err = info.value
    assert err.op == "Log" and err.phase == "forward" and err.seq == y.grad_fn.seq + 1
    assert "test_tape.py" in str(err) and "y.log()" in str(err)
    assert "1 Inf" in str(err)


def test_anomaly_mode_in_backward_names_op_module_and_line():
    lin = nn.Linear(3, 3)
    x = tg.tensor([[0.0, 1.0, 4.0]], requires_grad=True)
    with tg.detect_anomaly():
        y = x.sqrt()  # finite forward, infinite derivative at 0
        out = lin(y).sum()
        with pytest.raises(tg.AnomalyError) as info:
            out.backward()
    err = info.value
    assert err.op == "Sqrt" and err.phase == "backward"
    assert "y = x.sqrt()" in str(err)
    with tg.detect_anomaly():
        with pytest.raises(tg.AnomalyError, match="Linear.*in module Linear.*3 NaN"):
            lin(tg.tensor([[1.0, float("nan"), 0.0]]))
    assert not tg.anomaly.is_anomaly_enabled()


def test_hooks_see_gradients_and_forward_outputs():
    model = SimpleNetBN()
    seen = {}
    h = model.layers[1].register_forward_hook(lambda m, inp, out: seen.update(bn_out=out.shape))
    x = tg.randn(8, 784, requires_grad=True)
    x.register_hook(lambda g: seen.update(x_grad=g.shape))  # returning None keeps the gradient
    nn.CrossEntropyLoss()(model(x), tg.tensor(np.arange(8))).backward()
    assert seen == {"bn_out": (8, 64), "x_grad": (8, 784)}
    h.remove()


def test_cli_tape_prints_table_and_writes_dot(tmp_path, capsys):
    from tinygrad_bn.cli import main

    dot, js = tmp_path / "t.dot", tmp_path / "t.json"
    assert main(["tape", "--model", "simplenet-bn", "--dot", str(dot), "--json", str(js), "--batch-size", "32"]) == 0
    out = capsys.readouterr().out
    assert "layers.1 BatchNorm1d" in out and "CrossEntropy" in out
    assert dot.read_text().startswith("digraph")
    jsonschema.validate(json.loads(js.read_text()), TAPE_JSON_SCHEMA)


def test_an_open_tape_keeps_no_input_batch_alive_and_names_stay_distinct():
    import gc
    import weakref

    lin = tg.nn.Linear(4, 2)
    refs, names = [], []
    with tg.Tape(activation_stats=False) as tape:
        for i in range(50):
            x = tg.tensor(np.full((3, 4), float(i), dtype=np.float32))
            (lin(x) * 1.0).sum()
            refs.append(weakref.ref(x))
            del x
        gc.collect()
        assert sum(r() is not None for r in refs) == 0  # every batch freed while the tape is open
    names = [r.inputs[0]["id"] for r in tape.entries if r.op == "Linear"]
    assert len(names) == 50 and len(set(names)) == 50  # a new batch at a reused id gets a new name


def test_max_records_keeps_the_newest_records_and_still_collects_their_gradients():
    lin = tg.nn.Linear(4, 2)
    w = tg.tensor(np.random.default_rng(0).standard_normal((3, 2)).astype(np.float32))
    with tg.Tape(max_records=3) as tape:
        for i in range(5):
            x = tg.tensor(np.full((3, 4), float(i + 1), dtype=np.float32))
            (lin(x) * w).sum().backward()  # Linear, Mul, Sum per step
    assert len(tape) == 3 and [r.op for r in tape] == ["Linear", "Mul", "Sum"]
    assert tape.entries[0].inputs[0]["id"] == "input5"  # the last batch (w is input1, batches 0, 2..5)
    assert all(r.backward_ms is not None for r in tape)
    assert tape.grad_flow() and "Linear" in tape.table()
    for bad in (0, -1, 2.5, True, "3"):
        with pytest.raises(ValueError, match="max_records must be a positive int"):
            tg.Tape(max_records=bad)


class _CountedKernels:
    """A device's kernel package whose ``summarize`` notes each call: the
    array it got (on the device) and what came back to the host."""

    def __init__(self, package):
        self._package = package
        self.summaries = []

    def __getattr__(self, name):
        return getattr(self._package, name)

    def summarize(self, x):
        out = self._package.summarize(x)
        self.summaries.append((tuple(x.shape), out))
        return out


def test_a_tape_summarizes_on_the_device_and_reads_back_six_numbers_per_array(monkeypatch):
    """On a second device ("alt", the CPU's computation under another name, with
    its host copies counted) a Tape summarizes each op's output and gradients
    through the device's kernels (``kernels.summarize``) and copies nothing of
    theirs to the host: a step makes as many host copies with a Tape as without."""
    import numbers

    from tinygrad_bn import backends
    from tinygrad_bn.backends.cpu import cpu_backend

    be = cpu_backend("alt")
    be.kernels = counted = _CountedKernels(be.kernels)
    monkeypatch.setitem(backends._BACKENDS, "alt", be)
    host_copies = []
    to_numpy = be.to_numpy
    monkeypatch.setattr(be, "to_numpy", lambda a: host_copies.append(tuple(a.shape)) or to_numpy(a))
    tg.manual_seed(0)
    model = SimpleNetBN().to("alt")
    rng = np.random.default_rng(0)
    x = tg.tensor(rng.standard_normal((16, 784)).astype(np.float32), device="alt")
    y = tg.tensor(rng.integers(0, 10, 16), device="alt")

    nn.CrossEntropyLoss()(model(x), y).backward()  # without a Tape: the step's own host copies
    without_tape = list(host_copies)
    host_copies.clear()
    assert counted.summaries == []
    with Tape() as tape:
        loss = nn.CrossEntropyLoss()(model(x), y)
    loss.backward()
    assert host_copies == without_tape
    records = tape.entries
    assert len(records) == 8 and all(r.output["device"] == "alt" for r in records)
    outputs = [tuple(r.output["shape"]) for r in records]
    grads = [tuple(g["shape"]) for r in records for g in (r.grad, *r.input_grads) if g is not None]
    shapes = [shape for shape, _ in counted.summaries]
    assert shapes[:len(outputs)] == outputs  # each op's output as it ran
    assert sorted(shapes[len(outputs):]) == sorted(grads)  # each gradient in backward
    for _, out in counted.summaries:
        assert len(out) == 6 and all(isinstance(v, numbers.Real) for v in out)


def test_parameters_outside_a_module_call_are_named_by_the_tape():
    """A parameter used in a module's forward is named by the module; one used outside
    any module call (a bare nn.Parameter, or a module's weight in user code) gets the
    Tape's own name, once per Tape, with the kind "param"."""
    w = nn.Parameter(tg.tensor(np.ones((3, 2), np.float32)))
    x = tg.tensor(np.ones((4, 3), np.float32))
    lin = nn.Linear(3, 2)
    with Tape() as tape:
        (x @ w).relu()
        lin(x)
        x @ lin.weight.t()
        x @ w
    inputs = [[(i["id"], i["kind"]) for i in e.inputs] for e in tape.entries]
    assert inputs[0] == [("input0", "input"), ("param1", "param")]
    assert inputs[2] == [("input0", "input"), ("weight", "param"), ("bias", "param")]
    assert inputs[3] == [("param2", "param")]
    assert inputs[5] == [("input0", "input"), ("param1", "param")]  # the same parameter, the same name


@pytest.mark.parametrize("affine", [True, False])
def test_each_norm_entry_records_its_eps_and_whether_it_is_affine(affine):
    """The params a norm's tape entry shows: eps, affine, and batch norm's training flag, as set."""
    x3, x4 = tg.randn(4, 3, requires_grad=True), tg.randn(4, 3, 5, requires_grad=True)
    layers = [(nn.BatchNorm1d(3, eps=1e-3, affine=affine), x3, "BatchNorm"),
              (nn.BatchRenorm1d(3, eps=1e-3, affine=affine), x3, "BatchRenorm"),
              (nn.LayerNorm(3, eps=1e-3, elementwise_affine=affine), x3, "LayerNorm"),
              (nn.RMSNorm(3, eps=1e-3, elementwise_affine=affine), x3, "RMSNorm"),
              (nn.GroupNorm(1, 3, eps=1e-3, affine=affine), x4, "GroupNorm"),
              (nn.InstanceNorm1d(3, eps=1e-3, affine=affine), x4, "GroupNorm")]
    for layer, x, op in layers:
        with Tape() as tape:
            layer(x)
        (entry,) = [e for e in tape.entries if e.op == op]
        assert entry.params["eps"] == 1e-3 and entry.params["affine"] is affine, (type(layer).__name__, entry.params)
    bn = nn.BatchNorm1d(3).eval()
    with Tape() as tape:
        bn(x3)
    assert tape.entries[0].params["training"] is False


class _Renumbered:
    """A tape record shown under another sequence number (records are read-only)."""

    def __init__(self, record, seq):
        self._record, self.seq = record, seq

    def __getattr__(self, name):
        return getattr(self._record, name)


def test_the_table_keeps_its_width_as_sequence_numbers_grow():
    """Longer sequence numbers (a long session) take their room from the shapes column, then the
    module column, so every line stays as wide as with 3-digit numbers, until both are at their
    minimum (up to 17 digits)."""
    from tinygrad_bn.tape_export import format_table
    tape, _, _ = one_step()
    widths = {}
    for digits in (3, 4, 6, 9, 12, 17, 18):
        records = [_Renumbered(r, 10 ** (digits - 1) + i) for i, r in enumerate(tape.entries)]
        lines = format_table(records, tape.summary(), 500).splitlines()
        widths[digits] = {len(line) for line in lines[:-1]}  # (the summary line is free text)
    assert all(len(w) == 1 for w in widths.values()), widths
    assert len({widths[d].pop() for d in (3, 4, 6, 9, 12, 17)}) == 1
    assert widths[18].pop() == len(format_table(tape.entries, tape.summary(), 500).splitlines()[0]) + 1


def test_the_table_header_and_rows_keep_their_columns():
    """The header as documented, the rule under it as long, and each row's fields
    starting where their column's title starts (op, module, device, shapes) or ending
    where it ends (the numbers, right-aligned)."""
    from tinygrad_bn.tape_export import format_table
    tape, _, _ = one_step()
    records = [_Renumbered(r, i) for i, r in enumerate(tape.entries)]  # (a long session's numbers widen "#")
    header, rule, *rows = format_table(records, tape.summary(), 120).splitlines()[:-1]
    assert header == ("  # op           module               device.kernel  in -> out                 saved  fwd ms"
                      "  bwd ms    |grad| nan/inf")
    assert rule == "-" * len(header)
    starts = {name: header.index(name) for name in ("op", "module", "device.kernel", "in -> out")}
    ends = {name: header.index(name) + len(name) for name in ("saved", "fwd ms", "bwd ms", "|grad|", "nan/inf")}
    for row, r in zip(rows, records):
        assert len(row) == len(header), row
        assert row[:3] == f"{r.seq:>3}" and row[starts["op"]:].startswith(r.op[:12]), row
        assert row[starts["module"] - 1] == " " and row[starts["device.kernel"]:].startswith("cpu"), row
        assert row[starts["in -> out"]:].startswith("("), row
        for name, end in ends.items():
            assert row[end - 1] != " " and row[end] == " " if end < len(row) else row[end - 1] != " ", (name, row)


def test_anomaly_mode_finds_a_nan_gradient_after_an_input_with_none():
    """A backward that returns None for its first input and NaN for its second: the
    check goes on past the None and names the op."""
    class FirstFree(tg.autograd.Function):
        @staticmethod
        def forward(ctx, a, b):
            return a + b

        @staticmethod
        def backward(ctx, g):
            return None, g * float("nan")

    a = tg.tensor([1.0, 2.0], requires_grad=True)
    b = tg.tensor([3.0, 4.0], requires_grad=True)
    with tg.detect_anomaly():
        out = FirstFree.apply(a, b).sum()
        with pytest.raises(tg.AnomalyError, match="FirstFree"):
            out.backward()
