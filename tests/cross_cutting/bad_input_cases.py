"""The cases of the bad-input matrix (see bad_input_matrix.py): for every public
layer, functional, op, creation function, optimizer, scheduler, loader, save /
load / load_state_dict and CLI flag, inputs it must refuse, and the words its
error must hold (the op's name and what it got)."""
import os
import pathlib
import tempfile

import numpy as np

import tinygrad_bn as tg
import tinygrad_bn.nn.functional as F
from tinygrad_bn import data, nn, optim
from bad_input_matrix import Case

NONE = ("NoneType", "None")
# Non-tensor values where a tensor is required, with the word the error must use for each.
NOT_TENSORS = [
    ("None", None, NONE),
    ("a list", [[1.0, 2.0, 3.0]], "list"),
    ("a str", "abc", "str"),
    ("a NumPy array", np.ones((2, 3), np.float32), "ndarray"),
    ("a dict", {"x": 1}, "dict"),
]
# Values that are no operand of arithmetic at all (lists and arrays are: NumPy broadcasting)
NOT_OPERANDS = [("None", None, NONE), ("a str", "abc", "str"), ("a dict", {"x": 1}, "dict"),
                ("an object", object(), "object")]

CASES = []


def case(entry, bad, make, *says, cli=False):
    CASES.append(Case(entry, bad, make, tuple(says), cli=cli))


def x23(requires_grad=False):
    tg.manual_seed(0)
    return tg.randn(2, 3, requires_grad=requires_grad)


def calls(fn, *watched):
    """make() for a call that needs no fresh objects beyond ``watched``."""
    return lambda: (fn, list(watched))


# --------------------------------------------------------- tensor arguments
# entry, the word naming the op, fn(input) for an input of shape (2, 3)
TENSOR_FUNCTIONS = [
    ("F.relu", "relu", F.relu),
    ("F.leaky_relu", "leaky_relu", F.leaky_relu),
    ("F.gelu", "gelu", F.gelu),
    ("F.sigmoid", "sigmoid", F.sigmoid),
    ("F.tanh", "tanh", F.tanh),
    ("F.softmax", "softmax", F.softmax),
    ("F.log_softmax", "log_softmax", F.log_softmax),
    ("F.dropout", "dropout", F.dropout),
    ("F.linear", "linear", lambda a: F.linear(a, tg.randn(2, 3))),
    ("F.linear(weight)", "linear", lambda a: F.linear(tg.randn(2, 3), a)),
    ("F.batch_norm", "batch_norm", lambda a: F.batch_norm(a, None, None, training=True)),
    ("F.layer_norm", "layer_norm", lambda a: F.layer_norm(a, (3,))),
    ("F.group_norm", "group_norm", lambda a: F.group_norm(a, 1)),
    ("F.instance_norm", "instance_norm", F.instance_norm),
    ("F.cross_entropy", "cross_entropy", lambda a: F.cross_entropy(a, tg.tensor([0, 1]))),
    ("F.cross_entropy(target)", "cross_entropy", lambda a: F.cross_entropy(tg.randn(2, 3), a)),
    ("F.nll_loss", "nll_loss", lambda a: F.nll_loss(a, tg.tensor([0, 1]))),
    ("F.nll_loss(target)", "nll_loss", lambda a: F.nll_loss(tg.randn(2, 3), a)),
    ("F.mse_loss", "mse_loss", lambda a: F.mse_loss(a, tg.randn(2, 3))),
    ("F.mse_loss(target)", "mse_loss", lambda a: F.mse_loss(tg.randn(2, 3), a)),
    *[(f"tg.{n}", n, getattr(tg, n)) for n in tg.METHOD_FUNCTIONS],
    ("tg.matmul", "matmul", lambda a: tg.matmul(a, None)),
    ("tg.cat", "cat", lambda a: tg.cat([tg.randn(2, 3), a])),
    ("tg.stack", "stack", lambda a: tg.stack([tg.randn(2, 3), a])),
    ("tg.allclose", "allclose", lambda a: tg.allclose(a, tg.randn(2, 3))),
    ("tg.equal", "equal", lambda a: tg.equal(tg.randn(2, 3), a)),
    ("tg.zeros_like", "zeros_like", tg.zeros_like),
    ("tg.ones_like", "ones_like", tg.ones_like),
    ("tg.rand_like", "rand_like", tg.rand_like),
    ("tg.randn_like", "randn_like", tg.randn_like),
    ("tg.full_like", "full_like", lambda a: tg.full_like(a, 1.0)),
    ("tg.grad(outputs)", "grad", lambda a: tg.grad(a, [x23(True)])),
    ("tg.grad(inputs)", "grad", lambda a: tg.grad((x23(True) * 2).sum(), a)),
    ("nn.init.uniform_", "uniform_", nn.init.uniform_),
    ("nn.init.normal_", "normal_", nn.init.normal_),
    ("nn.init.constant_", "constant_", lambda a: nn.init.constant_(a, 1.0)),
    ("nn.init.zeros_", "zeros_", nn.init.zeros_),
    ("nn.init.ones_", "ones_", nn.init.ones_),
    ("nn.init.kaiming_uniform_", "kaiming_uniform_", nn.init.kaiming_uniform_),
    ("nn.init.kaiming_normal_", "kaiming_normal_", nn.init.kaiming_normal_),
    ("nn.init.xavier_uniform_", "xavier_uniform_", nn.init.xavier_uniform_),
    ("nn.init.xavier_normal_", "xavier_normal_", nn.init.xavier_normal_),
    ("nn.init.trunc_normal_", "trunc_normal_", nn.init.trunc_normal_),
    ("nn.init.orthogonal_", "orthogonal_", nn.init.orthogonal_),
    ("nn.init.sparse_", "sparse_", lambda a: nn.init.sparse_(a, 0.5)),
    ("nn.init.eye_", "eye_", nn.init.eye_),
    ("nn.init.dirac_", "dirac_", nn.init.dirac_),
    ("F.embedding", "embedding", lambda a: F.embedding(a, tg.randn(5, 3))),
    ("F.embedding(weight)", "embedding", lambda a: F.embedding(tg.tensor([0, 1]), a)),
    # the joining, indexing and product functions that are no tensor's method
    ("tg.einsum", "einsum", lambda a: tg.einsum("ij,jk->ik", a, tg.randn(3, 2))),
    ("tg.cdist", "cdist", lambda a: tg.cdist(a, tg.randn(4, 3))),
    ("tg.cdist(x2)", "cdist", lambda a: tg.cdist(tg.randn(4, 3), a)),
    ("tg.searchsorted", "searchsorted", lambda a: tg.searchsorted(a, tg.randn(2))),
    ("tg.bucketize(boundaries)", "bucketize", lambda a: tg.bucketize(tg.randn(2), a)),
    ("tg.meshgrid", "meshgrid", lambda a: tg.meshgrid(tg.arange(3.0), a)),
    ("tg.repeat_interleave", "repeat_interleave", lambda a: tg.repeat_interleave(a, 2)),
    ("tg.tensordot", "tensordot", lambda a: tg.tensordot(a, tg.randn(3, 2), dims=1)),
    ("tg.block_diag", "block_diag", lambda a: tg.block_diag(tg.randn(2, 3), a)),
    ("tg.hstack", "hstack", lambda a: tg.hstack([tg.randn(2, 3), a])),
    ("tg.vstack", "vstack", lambda a: tg.vstack([tg.randn(2, 3), a])),
    ("tg.dstack", "dstack", lambda a: tg.dstack([tg.randn(2, 3), a])),
    ("tg.column_stack", "column_stack", lambda a: tg.column_stack([tg.randn(2, 3), a])),
    ("tg.unravel_index", "unravel_index", lambda a: tg.unravel_index(a, (2, 3))),
    ("tg.isin", "isin", lambda a: tg.isin(a, tg.randn(2, 3))),
    ("tg.isin(test_elements)", "isin", lambda a: tg.isin(tg.randn(2, 3), a)),
    ("distributions.kl_divergence", "kl_divergence",
     lambda a: tg.distributions.kl_divergence(a, tg.distributions.Normal(0.0, 1.0))),
    ("Tensor.view_as", "view_as", lambda a: tg.randn(2, 3).view_as(a)),
    ("Tensor.expand_as", "expand_as", lambda a: tg.randn(1, 3).expand_as(a)),
    ("Tensor.to", "to", lambda a: tg.randn(2, 3).to(a)),
]

# A layer's error may name the layer or the functional it calls (PyTorch's do the latter).
LAYERS = {
    "Linear": (lambda: nn.Linear(3, 2), ("Linear", "linear")),
    "ReLU": (nn.ReLU, "relu"),
    "LeakyReLU": (nn.LeakyReLU, "leaky_relu"),
    "Sigmoid": (nn.Sigmoid, "sigmoid"),
    "Tanh": (nn.Tanh, "tanh"),
    "GELU": (nn.GELU, "gelu"),
    "Softmax": (lambda: nn.Softmax(dim=1), "softmax"),
    "LogSoftmax": (lambda: nn.LogSoftmax(dim=1), "log_softmax"),
    "Dropout": (nn.Dropout, "dropout"),
    "Flatten": (nn.Flatten, "flatten"),
    "Sequential": (lambda: nn.Sequential(nn.Linear(3, 2), nn.ReLU()), ("Linear", "linear")),
    "BatchNorm1d": (lambda: nn.BatchNorm1d(3), ("BatchNorm1d", "batch_norm")),
    "BatchNorm2d": (lambda: nn.BatchNorm2d(3), ("BatchNorm2d", "batch_norm")),
    "LayerNorm": (lambda: nn.LayerNorm(3), ("LayerNorm", "layer_norm")),
    "GroupNorm": (lambda: nn.GroupNorm(1, 3), ("GroupNorm", "group_norm")),
    "InstanceNorm1d": (lambda: nn.InstanceNorm1d(3, affine=True, track_running_stats=True),
                       ("InstanceNorm1d", "instance_norm")),
    "InstanceNorm2d": (lambda: nn.InstanceNorm2d(3, affine=True, track_running_stats=True),
                       ("InstanceNorm2d", "instance_norm")),
    "CrossEntropyLoss": (nn.CrossEntropyLoss, ("CrossEntropyLoss", "cross_entropy")),
    "NLLLoss": (nn.NLLLoss, ("NLLLoss", "nll_loss")),
    "MSELoss": (nn.MSELoss, ("MSELoss", "mse_loss")),
    "Embedding": (lambda: nn.Embedding(5, 3), ("Embedding", "embedding")),
}
LOSSES = {"CrossEntropyLoss", "NLLLoss", "MSELoss"}


def _tensor_argument_cases():
    for entry, word, fn in TENSOR_FUNCTIONS:
        for bad, value, got in NOT_TENSORS:
            if entry == "Tensor.to" and (value is None or isinstance(value, str)):
                continue  # to(None) keeps dtype and device, as in PyTorch; a str is a device (tested below)
            case(entry, f"input is {bad}", calls(lambda fn=fn, v=value: fn(v)), word, got)
    for name, (make_layer, word) in LAYERS.items():
        for bad, value, got in NOT_TENSORS:
            def make(make_layer=make_layer, value=value, name=name):
                layer = make_layer()
                if name == "MSELoss":
                    return (lambda: layer(value, tg.randn(2, 3))), [layer]
                if name in LOSSES:
                    return (lambda: layer(value, tg.tensor([0, 1]))), [layer]
                return (lambda: layer(value)), [layer]
            case(f"nn.{name}.forward", f"input is {bad}", make, word, got)
        if name in LOSSES:
            for bad, value, got in NOT_TENSORS:
                def make(make_layer=make_layer, value=value):
                    layer = make_layer()
                    return (lambda: layer(tg.randn(2, 3), value)), [layer]
                case(f"nn.{name}.forward", f"target is {bad}", make, word, got)


def _operand_cases():
    binary = {"+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b,
              "/": lambda a, b: a / b, "**": lambda a, b: a ** b, "@": lambda a, b: a @ b,
              "maximum": tg.maximum, "minimum": tg.minimum,
              "where": lambda a, b: tg.where(a > 0, a, b)}
    for op, fn in binary.items():
        for bad, value, got in NOT_OPERANDS:
            def make(fn=fn, value=value):
                x = x23(True)
                return (lambda: fn(x, value)), [x]
            case(f"Tensor {op}", f"other is {bad}", make, got)
    inplace = {"add_": lambda t, v: t.add_(v), "sub_": lambda t, v: t.sub_(v), "mul_": lambda t, v: t.mul_(v),
               "div_": lambda t, v: t.div_(v), "copy_": lambda t, v: t.copy_(v), "fill_": lambda t, v: t.fill_(v),
               "+=": _iadd, "clamp_": lambda t, v: t.clamp_(v, None), "masked setitem": _setitem}
    for op, fn in inplace.items():
        for bad, value, got in NOT_OPERANDS:
            def make(fn=fn, value=value):
                x = x23()
                return (lambda: fn(x, value)), [x]
            word = {"+=": ("add_", "+="), "masked setitem": ("setitem", "assigning")}.get(op, op.rstrip("_"))
            case(f"Tensor.{op}", f"value is {bad}", make, word, got)


def _iadd(t, v):
    t += v


def _setitem(t, v):
    t[t > 0] = v


# ------------------------------------------------------ shapes, dtypes, values
def _layer_input_cases():
    f32 = np.float32
    rng = np.random.default_rng(0)

    def arr(*shape, dtype=f32):
        return rng.standard_normal(shape).astype(dtype)

    bad_inputs = {
        "Linear": [("3 features, 4 expected", arr(2, 4), "4"), ("an int64 input", arr(2, 3, dtype=np.int64), "int64"),
                   ("a 0-d input", arr(), "()")],
        "BatchNorm1d": [("rank 1", arr(3), "(3,)"), ("rank 4", arr(2, 3, 2, 2), "(2, 3, 2, 2)"),
                        ("4 channels, 3 expected", arr(2, 4), "4"), ("an empty batch", arr(0, 3), "(0, 3)"),
                        ("one sample in training", arr(1, 3), "1"), ("int64", arr(2, 3, dtype=np.int64), "int64"),
                        ("a NaN in training", np.array([[np.nan, 1, 2], [3, 4, 5]], f32), "NaN"),
                        ("an Inf in training", np.array([[np.inf, 1, 2], [3, 4, 5]], f32), "Inf")],
        "BatchNorm2d": [("rank 2", arr(2, 3), "(2, 3)"), ("rank 3", arr(2, 3, 4), "(2, 3, 4)"),
                        ("4 channels, 3 expected", arr(2, 4, 2, 2), "4"), ("one value per channel", arr(1, 3, 1, 1), "1"),
                        ("a NaN in training", np.full((2, 3, 2, 2), np.nan, f32), "NaN")],
        "LayerNorm": [("last dim 4, 3 expected", arr(2, 4), "(2, 4)"), ("rank 0", arr(), "()"),
                      ("int64", arr(2, 3, dtype=np.int64), "int64"),
                      ("a NaN", np.array([[np.nan, 1, 2]], f32), "NaN")],
        "GroupNorm": [("rank 1", arr(3), "(3,)"), ("4 channels, 3 expected", arr(2, 4, 2), "4"),
                      ("int64", arr(2, 3, 2, dtype=np.int64), "int64")],
        "InstanceNorm1d": [("rank 2", arr(2, 3), "(2, 3)"), ("4 channels, 3 expected", arr(2, 4, 5), "4"),
                           ("one value per instance", arr(2, 3, 1), "1")],
        "InstanceNorm2d": [("rank 3", arr(2, 3, 4), "(2, 3, 4)"), ("4 channels, 3 expected", arr(2, 4, 2, 2), "4")],
        "Softmax": [("dim 1 of a 1-d input", arr(3), "1")],
        "LogSoftmax": [("dim 1 of a 1-d input", arr(3), "1")],
        "Flatten": [("a 0-d input", arr(), "()")],
        "Sequential": [("3 features, 4 expected", arr(2, 4), "4")],
        "Embedding": [("an index out of range", np.array([1, 7]), "7"), ("a negative index", np.array([-6]), "-6"),
                      ("float indices", arr(2), "float32"), ("bool indices", np.array([True, False]), "bool")],
    }
    for name, items in bad_inputs.items():
        make_layer, word = LAYERS[name]
        for bad, value, got in items:
            def make(make_layer=make_layer, value=value):
                layer = make_layer()
                return (lambda: layer(tg.tensor(value))), [layer]
            case(f"nn.{name}.forward", bad, make, word, got)
    losses = [
        ("CrossEntropyLoss", "3 targets for 2 rows", lambda: (tg.randn(2, 3), tg.tensor([0, 1, 2])), "3"),
        ("CrossEntropyLoss", "a class out of range", lambda: (tg.randn(2, 3), tg.tensor([0, 3])), "3"),
        ("CrossEntropyLoss", "a negative class", lambda: (tg.randn(2, 3), tg.tensor([0, -2])), "-2"),
        ("CrossEntropyLoss", "float targets not of the input's shape", lambda: (tg.randn(2, 3), tg.tensor([0.0, 1.0])),
         "(2,)"),
        ("CrossEntropyLoss", "a 0-d input", lambda: (tg.tensor(1.0), tg.tensor(0)), "0-d"),
        ("CrossEntropyLoss", "a 1-d input with a 1-d target", lambda: (tg.randn(3), tg.tensor([0])), "(1,)"),
        ("CrossEntropyLoss", "bool targets", lambda: (tg.randn(2, 3), tg.tensor([True, False])), "bool"),
        ("NLLLoss", "float targets", lambda: (tg.randn(2, 3), tg.randn(2, 3)), "float32"),
        ("NLLLoss", "a class out of range", lambda: (tg.randn(2, 3), tg.tensor([5, 0])), "5"),
        ("NLLLoss", "2-d targets", lambda: (tg.randn(2, 3), tg.tensor([[0], [1]])), "(2, 1)"),
        ("MSELoss", "shapes differ", lambda: (tg.randn(2, 3), tg.randn(3, 2)), "(3, 2)"),
        ("MSELoss", "int input", lambda: (tg.tensor([[1, 2]]), tg.tensor([[1, 2]])), "int64"),
    ]
    for name, bad, args, got in losses:
        make_layer, word = LAYERS[name]

        def make(make_layer=make_layer, args=args):
            layer, (inp, target) = make_layer(), args()
            inp.requires_grad_(inp.dtype.kind == "f")
            return (lambda: layer(inp, target)), [layer, inp, target]
        case(f"nn.{name}.forward", bad, make, word, got)


def _constructor_cases():
    bad = [
        ("nn.Linear", "in_features=-1", lambda: nn.Linear(-1, 2), "Linear", "-1"),
        ("nn.Linear", "in_features=2.5", lambda: nn.Linear(2.5, 2), "Linear", "2.5"),
        ("nn.Linear", "out_features='3'", lambda: nn.Linear(3, "3"), "Linear", "'3'"),
        ("nn.Linear", "in_features=None", lambda: nn.Linear(None, 3), "Linear", "None"),
        ("nn.Linear", "dtype=int64", lambda: nn.Linear(3, 2, dtype=tg.int64), "Linear", "int64"),
        ("nn.LeakyReLU", "negative_slope='x'", lambda: nn.LeakyReLU("x"), "LeakyReLU", "'x'"),
        ("nn.GELU", "approximate='fast'", lambda: nn.GELU("fast"), "gelu", "'fast'"),
        ("nn.Softmax", "dim='x'", lambda: nn.Softmax("x"), "Softmax", "'x'"),
        ("nn.Softmax", "dim=1.0", lambda: nn.Softmax(1.0), "Softmax", "1.0"),
        ("nn.LogSoftmax", "dim=0.5", lambda: nn.LogSoftmax(0.5), "LogSoftmax", "0.5"),
        ("nn.Softmin", "dim=1.0", lambda: nn.Softmin(1.0), "Softmin", "1.0"),
        ("F.softmin", "dim=1.0", lambda: F.softmin(tg.ones(2, 3), 1.0), "softmin", "1.0"),
        ("F.softmax", "dim=1.0", lambda: F.softmax(tg.ones(2, 3), 1.0), "softmax", "1.0"),
        ("F.log_softmax", "an int dtype", lambda: F.log_softmax(tg.ones(2, 3), 1, dtype=tg.int64), "log_softmax",
         "int64"),
        ("nn.Dropout", "p=-0.1", lambda: nn.Dropout(-0.1), "dropout", "-0.1"),
        ("nn.Dropout", "p=1.5", lambda: nn.Dropout(1.5), "dropout", "1.5"),
        ("nn.Dropout", "p='x'", lambda: nn.Dropout("x"), "dropout", "'x'"),
        ("nn.Flatten", "start_dim='x'", lambda: nn.Flatten("x"), "Flatten", "'x'"),
        ("nn.Flatten", "start_dim=1.0", lambda: nn.Flatten(1.0), "Flatten", "1.0"),
        ("nn.Flatten", "end_dim=-1.0", lambda: nn.Flatten(1, -1.0), "Flatten", "-1.0"),
        ("nn.Flatten", "start_dim=True", lambda: nn.Flatten(True), "Flatten", "True"),
        ("nn.Unflatten", "dim=1.0", lambda: nn.Unflatten(1.0, (2, 2)), "Unflatten", "1.0"),
        ("nn.Sequential", "a non-module", lambda: nn.Sequential(nn.ReLU(), 3), "Sequential", "int"),
        ("nn.ModuleList", "a non-module", lambda: nn.ModuleList([nn.ReLU(), "x"]), "ModuleList", "str"),
        ("nn.ModuleList", "not iterable", lambda: nn.ModuleList(3), "ModuleList", "int"),
        ("nn.ModuleDict", "a non-module value", lambda: nn.ModuleDict({"a": 1}), "ModuleDict", "int"),
        ("nn.ModuleDict", "a non-str key", lambda: nn.ModuleDict({1: nn.ReLU()}), "ModuleDict", "1"),
        ("nn.CrossEntropyLoss", "reduction='avg'", lambda: nn.CrossEntropyLoss(reduction="avg"), "CrossEntropyLoss",
         "'avg'"),
        ("nn.NLLLoss", "reduction=None", lambda: nn.NLLLoss(reduction=None), "NLLLoss", "None"),
        ("nn.MSELoss", "reduction='total'", lambda: nn.MSELoss(reduction="total"), "MSELoss", "'total'"),
        ("nn.CrossEntropyLoss", "ignore_index='x'", lambda: nn.CrossEntropyLoss(ignore_index="x"), "CrossEntropyLoss",
         "'x'"),
        ("nn.CrossEntropyLoss", "label_smoothing=1.5", lambda: nn.CrossEntropyLoss(label_smoothing=1.5),
         "CrossEntropyLoss", "1.5"),
        ("nn.CrossEntropyLoss", "a list weight", lambda: nn.CrossEntropyLoss([1.0, 2.0]), "CrossEntropyLoss", "list"),
        ("F.cross_entropy", "a weight per row, not per class",
         lambda: F.cross_entropy(tg.randn(2, 3), tg.tensor([0, 1]), weight=tg.ones(2)), "cross_entropy", "(2,)"),
        ("F.cross_entropy", "a float64 weight for float32 logits",
         lambda: F.cross_entropy(tg.randn(2, 3), tg.tensor([0, 1]), weight=tg.ones(3, dtype=tg.float64)),
         "cross_entropy", "float64"),
        ("F.cross_entropy", "a class out of range with a weight",
         lambda: F.cross_entropy(tg.randn(2, 3), tg.tensor([0, 5]), weight=tg.ones(3)), "cross_entropy", "5"),
        ("F.nll_loss", "a class out of range with a weight",
         lambda: F.nll_loss(tg.randn(2, 3), tg.tensor([-3, 0]), weight=tg.ones(3)), "nll_loss", "-3"),
        ("F.mse_loss", "a weight of another shape",
         lambda: F.mse_loss(tg.randn(2, 3), tg.randn(2, 3), weight=tg.ones(3)), "mse_loss", "(3,)"),
        ("nn.LayerNorm", "normalized_shape=0", lambda: nn.LayerNorm(0), "LayerNorm", "0"),
        ("nn.LayerNorm", "normalized_shape=-3", lambda: nn.LayerNorm(-3), "LayerNorm", "-3"),
        ("nn.LayerNorm", "normalized_shape=[]", lambda: nn.LayerNorm([]), "LayerNorm", "[]"),
        ("nn.LayerNorm", "normalized_shape='4'", lambda: nn.LayerNorm("4"), "LayerNorm", "'4'"),
        ("nn.LayerNorm", "normalized_shape=[2.5]", lambda: nn.LayerNorm([2.5]), "LayerNorm", "2.5"),
        ("nn.LayerNorm", "eps=0", lambda: nn.LayerNorm(3, eps=0), "LayerNorm", "0"),
        ("nn.LayerNorm", "eps=-1", lambda: nn.LayerNorm(3, eps=-1), "LayerNorm", "-1"),
        ("nn.LayerNorm", "eps='x'", lambda: nn.LayerNorm(3, eps="x"), "LayerNorm", "'x'"),
        ("nn.LayerNorm", "eps=nan", lambda: nn.LayerNorm(3, eps=float("nan")), "LayerNorm", "nan"),
        ("nn.GroupNorm", "num_groups=0", lambda: nn.GroupNorm(0, 4), "GroupNorm", "0"),
        ("nn.GroupNorm", "num_groups=3 of 4 channels", lambda: nn.GroupNorm(3, 4), "GroupNorm", "3"),
        ("nn.GroupNorm", "num_groups=-2", lambda: nn.GroupNorm(-2, 4), "GroupNorm", "-2"),
        ("nn.GroupNorm", "num_groups=2.0", lambda: nn.GroupNorm(2.0, 4), "GroupNorm", "2.0"),
        ("nn.GroupNorm", "num_channels=0", lambda: nn.GroupNorm(1, 0), "GroupNorm", "0"),
        ("nn.GroupNorm", "eps=0", lambda: nn.GroupNorm(2, 4, eps=0), "GroupNorm", "0"),
        ("nn.GroupNorm", "eps=-1e-5", lambda: nn.GroupNorm(2, 4, eps=-1e-5), "GroupNorm", "-1e-05"),
        ("nn.Embedding", "num_embeddings=-1", lambda: nn.Embedding(-1, 3), "Embedding", "-1"),
        ("nn.Embedding", "embedding_dim='3'", lambda: nn.Embedding(5, "3"), "Embedding", "'3'"),
        ("nn.Embedding", "padding_idx=9 of 5", lambda: nn.Embedding(5, 3, padding_idx=9), "Embedding", "9"),
        ("nn.Embedding", "padding_idx=-6 of 5", lambda: nn.Embedding(5, 3, padding_idx=-6), "Embedding", "-6"),
        ("nn.Embedding", "padding_idx=1.5", lambda: nn.Embedding(5, 3, padding_idx=1.5), "Embedding", "1.5"),
        ("F.embedding", "padding_idx=2.0", lambda: F.embedding(tg.tensor([0, 1]), tg.ones(5, 3), padding_idx=2.0),
         "embedding", "2.0"),
        ("nn.Embedding", "a 1-d _weight", lambda: nn.Embedding(5, 3, _weight=tg.ones(5)), "Embedding", "(5,)"),
        ("nn.Embedding.from_pretrained", "a 1-d tensor", lambda: nn.Embedding.from_pretrained(tg.ones(5)),
         "Embedding", "(5,)"),
    ]
    # an input of 5 channels whose other dims are not 5 (the batch is 6)
    CHANNELS_5 = {"BatchNorm1d": (6, 5), "BatchNorm2d": (6, 5, 7, 7), "InstanceNorm1d": (6, 5, 7),
                  "InstanceNorm2d": (6, 5, 7, 7)}
    for norm in ("BatchNorm1d", "BatchNorm2d", "InstanceNorm1d", "InstanceNorm2d"):
        cls = getattr(nn, norm)
        bad += [
            (f"nn.{norm}", "num_features=0", lambda cls=cls: cls(0), norm, "0"),
            (f"nn.{norm}", "num_features=-4", lambda cls=cls: cls(-4), norm, "-4"),
            (f"nn.{norm}", "num_features=4.0", lambda cls=cls: cls(4.0), norm, "4.0"),
            (f"nn.{norm}", "num_features='4'", lambda cls=cls: cls("4"), norm, "'4'"),
            (f"nn.{norm}", "num_features=None", lambda cls=cls: cls(None), norm, "None"),
            (f"nn.{norm}", "eps=0", lambda cls=cls: cls(4, eps=0), norm, "0"),
            (f"nn.{norm}", "eps=-1", lambda cls=cls: cls(4, eps=-1), norm, "-1"),
            (f"nn.{norm}", "eps=inf", lambda cls=cls: cls(4, eps=float("inf")), norm, "inf"),
            (f"nn.{norm}", "momentum=-0.1", lambda cls=cls: cls(4, momentum=-0.1), norm, "-0.1"),
            (f"nn.{norm}", "momentum=1.5", lambda cls=cls: cls(4, momentum=1.5), norm, "1.5"),
            (f"nn.{norm}", "momentum='x'", lambda cls=cls: cls(4, momentum="x"), norm, "'x'"),
            (f"nn.{norm}", "dtype=int32", lambda cls=cls: cls(4, dtype=tg.int32), norm, "int32"),
            # the message says which num_features the input has (dim 1), not another of its dims
            (f"nn.{norm}", "5 channels for 4", lambda cls=cls, shape=CHANNELS_5[norm]: cls(4, affine=True)(
                tg.zeros(shape)), norm, "num_features=5 "),
        ]
    for entry, bad_, fn, word, got in bad:
        case(entry, bad_, calls(fn), word, got)


# ------------------------------------------------------------ tensors and ops
def _tensor_op_cases():
    def on_x(entry, bad, fn, *says, requires_grad=True):
        def make():
            x = x23(requires_grad)
            return (lambda: fn(x)), [x]
        case(entry, bad, make, *says)

    on_x("Tensor.reshape", "5 elements from 6", lambda x: x.reshape(5), "reshape", "(5,)")
    on_x("Tensor.reshape", "two -1s", lambda x: x.reshape(-1, -1), "reshape", "-1")
    on_x("Tensor.reshape", "a str size", lambda x: x.reshape("a"), "reshape", "'a'")
    on_x("Tensor.view", "a float size", lambda x: x.view(2.5, 2), "view", "2.5")
    on_x("Tensor.transpose", "dim 2 of 2-d", lambda x: x.transpose(0, 2), "transpose", "2")
    on_x("Tensor.permute", "two dims repeated", lambda x: x.permute(0, 0), "permute", "(0, 0)")
    on_x("Tensor.permute", "three dims for 2-d", lambda x: x.permute(0, 1, 2), "permute", "3")
    on_x("Tensor.squeeze", "dim 5", lambda x: x.squeeze(5), "squeeze", "5")
    on_x("Tensor.unsqueeze", "dim 4", lambda x: x.unsqueeze(4), "unsqueeze", "4")
    on_x("Tensor.expand", "3 to 4", lambda x: x.expand(2, 4), "expand", "(2, 4)")
    on_x("Tensor.flatten", "start_dim after end_dim", lambda x: x.flatten(1, 0), "flatten", "1")
    on_x("Tensor.sum", "dim 2 of 2-d", lambda x: x.sum(2), "sum", "2")
    on_x("Tensor.mean", "dim 'a'", lambda x: x.mean("a"), "mean", "'a'")
    on_x("Tensor.max", "dim -3", lambda x: x.max(-3), "max", "-3")
    on_x("Tensor.softmax", "dim 2", lambda x: x.softmax(2), "softmax", "2")
    on_x("Tensor.argmax", "dim 3", lambda x: x.argmax(3), "argmax", "3")
    on_x("Tensor.__getitem__", "row 5 of 2", lambda x: x[5], "index", "5")
    on_x("Tensor.__getitem__", "three indices for 2-d", lambda x: x[0, 0, 0], "index", "3")
    on_x("Tensor.__getitem__", "a float index", lambda x: x[1.5], "ind", "float")
    on_x("Tensor.__getitem__", "a mask of another shape", lambda x: x[tg.tensor([True, False, True])], "index", "(3,)")
    on_x("Tensor.__getitem__", "a str index", lambda x: x["a"], "ind", ("str", "'a'"))
    on_x("Tensor.__setitem__", "on a leaf that requires grad", _setitem_one, "leaf", "requires grad")
    on_x("Tensor.__setitem__", "a value of another shape", lambda x: x.__setitem__(0, tg.ones(4)), "(4,)",
         requires_grad=False)
    on_x("Tensor.add_", "on a leaf that requires grad", lambda x: x.add_(1), "add_", "leaf")
    on_x("Tensor.mul_", "a broadcast that grows the tensor", lambda x: x.mul_(tg.ones(4, 2, 3)), "mul_", "(4, 2, 3)",
         requires_grad=False)
    on_x("Tensor.copy_", "a source of another shape", lambda x: x.copy_(tg.ones(3, 2)), "copy_", "(3, 2)",
         requires_grad=False)
    on_x("Tensor.__iadd__", "a float into an int tensor", lambda x: _iadd(x.long(), 0.5), ("add_", "+="), "floating",
         requires_grad=False)
    on_x("Tensor.backward", "non-scalar without gradient", lambda x: (x * 2).backward(), "backward", "(2, 3)")
    on_x("Tensor.backward", "gradient of another shape", lambda x: (x * 2).backward(tg.ones(3)), "backward", "(3,)")
    on_x("Tensor.backward", "on a tensor that does not require grad", lambda x: x.detach().sum().backward(),
         "backward", "require")
    def make_twice():
        x = x23(True)
        y = (x * x).sum()
        y.backward()
        return y.backward, [x]
    case("Tensor.backward", "twice without retain_graph", make_twice, "backward", "retain_graph")
    on_x("Tensor.item", "six elements", lambda x: x.item(), "item", "6")
    on_x("Tensor.__bool__", "six elements", lambda x: bool(x), "truth value", "6")
    on_x("Tensor.numpy", "requires grad", lambda x: x.numpy(), "numpy", "requires grad")
    on_x("Tensor.to", "device 'tpu'", lambda x: x.to("tpu"), "tpu", requires_grad=False)
    on_x("Tensor.to", "dtype 'float128x'", lambda x: x.to(dtype="float128x"), "float128x", requires_grad=False)
    on_x("Tensor.requires_grad_", "on an int tensor", lambda x: x.long().requires_grad_(), "requires_grad_", "int64")
    on_x("Tensor.requires_grad_", "on a non-leaf", lambda x: (x * 2).requires_grad_(False), "requires_grad_", "leaf")
    on_x("Tensor.register_hook", "on a tensor without grad", lambda x: x.detach().register_hook(print),
         "register_hook", "require")
    on_x("Tensor.retain_grad", "on a tensor without grad", lambda x: x.detach().retain_grad(), "retain_grad", "require")
    on_x("Tensor.data", "assigned an array", lambda x: setattr(x, "data", np.ones(3)), "data", "ndarray")
    on_x("Tensor.data", "assigned an int tensor", lambda x: setattr(x, "data", tg.tensor([1])), "data", "int64")
    on_x("Tensor.uniform_", "on an int tensor", lambda x: x.long().uniform_(), "uniform_", "int64",
         requires_grad=False)
    on_x("Tensor.normal_", "std=-1", lambda x: x.normal_(0, -1), "normal_", "-1", requires_grad=False)
    on_x("Tensor.clamp", "no bounds", lambda x: x.clamp(), "clamp", ("None", "min or max"))
    on_x("Tensor @", "inner dims 3 and 2", lambda x: x @ tg.randn(2, 3), "matmul", "(2, 3)")
    on_x("Tensor @", "a 0-d operand", lambda x: x @ tg.tensor(2.0), "matmul", "()")
    on_x("Tensor @", "a batch whose first dim matches the inner dim", lambda x: x @ tg.ones(3, 4, 5), "matmul",
         "(3, 4, 5)")
    on_x("Tensor +", "shapes (2, 3) and (4,)", lambda x: x + tg.ones(4), "add", "(4,)")
    on_x("Tensor *", "shapes (2, 3) and (2,)", lambda x: x * tg.ones(2), "mul", "(2,)")
    on_x("tg.cat", "shapes differ off the dim", lambda x: tg.cat([x, tg.ones(2, 4)]), "cat", "(2, 4)")
    on_x("tg.cat", "an empty list", lambda x: tg.cat([]), "cat", ("empty", "no tensors", "[]"))
    on_x("tg.cat", "dim 3", lambda x: tg.cat([x, x], dim=3), "cat", "3")
    on_x("tg.stack", "shapes differ", lambda x: tg.stack([x, tg.ones(3, 2)]), "stack", "(3, 2)")
    on_x("tg.where", "a float condition", lambda x: tg.where(x, x, x), "where", "float32")
    on_x("tg.grad", "an input that does not require grad", lambda x: tg.grad((x * 2).sum(), [tg.ones(2)]),
         "grad", "require")
    on_x("tg.grad", "an input not used by the output", lambda x: tg.grad((x * 2).sum(), [x23(True)]), "grad", "used")

    creation = [
        ("tg.tensor", "a str", lambda: tg.tensor("abc"), "tensor", "str"),
        ("tg.tensor", "a ragged list", lambda: tg.tensor([[1, 2], [3]]), "tensor", "list"),
        ("tg.tensor", "None", lambda: tg.tensor(None), "tensor", NONE),
        ("tg.tensor", "an object array", lambda: tg.tensor(np.array([object()])), "tensor", "object"),
        ("tg.tensor", "a complex array", lambda: tg.tensor(np.ones(2, complex)), "tensor", "complex"),
        ("tg.tensor", "requires_grad on ints", lambda: tg.tensor([1, 2], requires_grad=True), "tensor", "int64"),
        ("tg.tensor", "dtype 'float7'", lambda: tg.tensor([1.0], dtype="float7"), "float7"),
        ("tg.tensor", "device 'gpu'", lambda: tg.tensor([1.0], device="gpu"), "gpu"),
        ("tg.tensor", "device 'cuda:1'", lambda: tg.tensor([1.0], device="cuda:1"), "cuda:1"),
        ("tg.from_numpy", "a list", lambda: tg.from_numpy([1.0]), "from_numpy", "list"),
        ("tg.from_numpy", "a big-endian array", lambda: tg.from_numpy(np.ones(2, ">f4")), "from_numpy", ">f4"),
        ("tg.zeros", "size -1", lambda: tg.zeros(-1), "zeros", "-1"),
        ("tg.zeros", "size 'a'", lambda: tg.zeros("a"), "zeros", "'a'"),
        ("tg.ones", "size 2.5", lambda: tg.ones(2.5), "ones", "2.5"),
        ("tg.ones", "size None", lambda: tg.ones(None), "ones", "None"),
        ("tg.empty", "size (2, -3)", lambda: tg.empty(2, -3), "empty", "-3"),
        ("tg.full", "fill 'x'", lambda: tg.full((2,), "x"), "full", "'x'"),
        ("tg.full", "size 3 (not a tuple)", lambda: tg.full(-3, 1.0), "full", "-3"),
        ("tg.rand", "size -2", lambda: tg.rand(-2), "rand", "-2"),
        ("tg.randn", "size 1.5", lambda: tg.randn(1.5), "randn", "1.5"),
        ("tg.randn", "dtype int64", lambda: tg.randn(2, dtype=tg.int64), "randn", "int64"),
        ("tg.arange", "step 0", lambda: tg.arange(0, 10, 0), "arange", "0"),
        ("tg.arange", "end 'a'", lambda: tg.arange("a"), "arange", "'a'"),
        ("tg.arange", "step of the wrong sign", lambda: tg.arange(0, 10, -1), "arange", "-1"),
        ("tg.arange", "a step of the wrong sign over less than one step",
         lambda: tg.arange(0, 0.5, -0.25), "arange", "-0.25"),
        ("tg.arange", "a negative span less than one step", lambda: tg.arange(0, -0.5, 1), "arange", "-0.5"),
        ("tg.full_like", "fill None", lambda: tg.full_like(tg.ones(2), None), "full_like", "None"),
        ("tg.manual_seed", "seed 'a'", lambda: tg.manual_seed("a"), "manual_seed", "'a'"),
        ("tg.manual_seed", "seed -1", lambda: tg.manual_seed(-1), "manual_seed", "-1"),
        ("tg.manual_seed", "seed 1.5", lambda: tg.manual_seed(1.5), "manual_seed", "1.5"),
        ("tg.set_num_threads", "0", lambda: tg.set_num_threads(0), "set_num_threads", "0"),
        ("tg.set_num_threads", "'2'", lambda: tg.set_num_threads("2"), "set_num_threads", "'2'"),
        ("tg.set_num_threads", "1000", lambda: tg.set_num_threads(1000), "set_num_threads", "1000"),
        ("tg.set_grad_enabled", "'yes'", lambda: tg.set_grad_enabled("yes"), "set_grad_enabled", "'yes'"),
        ("tg.Tape", "max_records=0", lambda: tg.Tape(max_records=0), "max_records", "0"),
        ("tg.Tape", "max_records='x'", lambda: tg.Tape(max_records="x"), "max_records", "'x'"),
        ("tg.cuda.get_device_name", "no GPU (or device 5)", lambda: tg.cuda.get_device_name(5), "5"),
    ]
    for entry, bad, fn, *says in creation:
        case(entry, bad, calls(fn), *says)


def _setitem_one(x):
    x[0, 0] = 1.0


# ----------------------------------------------------------- functional args
def _functional_argument_cases():
    def x4():
        tg.manual_seed(0)
        return tg.randn(4, 3, requires_grad=True)

    items = [
        ("F.batch_norm", "running_var without running_mean",
         lambda x, rm, rv: F.batch_norm(x, None, rv, training=True), "batch_norm",
         "running_var was given but running_mean is None"),
        ("F.batch_norm", "running_mean without running_var",
         lambda x, rm, rv: F.batch_norm(x, rm, None, training=True), "batch_norm",
         "running_mean was given but running_var is None"),
        ("F.batch_norm", "running_mean of 4 values", lambda x, rm, rv: F.batch_norm(x, tg.zeros(4), rv, training=True),
         "batch_norm", "4"),
        ("F.batch_norm", "eval without running stats", lambda x, rm, rv: F.batch_norm(x, None, None, training=False),
         "batch_norm", "running"),
        ("F.batch_norm", "weight of 2 values", lambda x, rm, rv: F.batch_norm(x, rm, rv, tg.ones(2), training=True),
         "batch_norm", "2"),
        ("F.batch_norm", "bias a list", lambda x, rm, rv: F.batch_norm(x, rm, rv, None, [0.0] * 3, training=True),
         "batch_norm", "list"),
        ("F.batch_norm", "momentum 2", lambda x, rm, rv: F.batch_norm(x, rm, rv, training=True, momentum=2.0),
         "batch_norm", "2.0"),
        ("F.batch_norm", "eps -1", lambda x, rm, rv: F.batch_norm(x, rm, rv, training=True, eps=-1.0), "batch_norm", "-1"),
        ("F.batch_norm", "int running_mean", lambda x, rm, rv: F.batch_norm(x, tg.zeros(3, dtype=tg.int64), rv,
                                                                             training=True), "batch_norm", "int64"),
        ("F.layer_norm", "normalized_shape (4,)", lambda x, rm, rv: F.layer_norm(x, (4,)), "layer_norm", "(4,)"),
        ("F.layer_norm", "normalized_shape 'x'", lambda x, rm, rv: F.layer_norm(x, "x"), "layer_norm", "'x'"),
        ("F.layer_norm", "weight of another shape", lambda x, rm, rv: F.layer_norm(x, (3,), tg.ones(2)), "layer_norm",
         "(2,)"),
        ("F.layer_norm", "eps 0", lambda x, rm, rv: F.layer_norm(x, (3,), eps=0.0), "layer_norm", "0"),
        ("F.group_norm", "2 groups of 3 channels", lambda x, rm, rv: F.group_norm(x, 2), "group_norm", "2"),
        ("F.group_norm", "0 groups", lambda x, rm, rv: F.group_norm(x, 0), "group_norm", "0"),
        ("F.group_norm", "bias of 4", lambda x, rm, rv: F.group_norm(x, 1, None, tg.zeros(4)), "group_norm", "4"),
        ("F.instance_norm", "a 2-d input", lambda x, rm, rv: F.instance_norm(x), "instance_norm", "(4, 3)"),
        ("F.instance_norm", "running_mean without running_var",
         lambda x, rm, rv: F.instance_norm(x.reshape(2, 3, 2), rm, None), "instance_norm", "running_var"),
        ("F.instance_norm", "running_var of 2",
         lambda x, rm, rv: F.instance_norm(x.reshape(2, 3, 2), rm, tg.ones(2)), "instance_norm", "(2,)"),
        ("F.linear", "bias of 3 for 2 outputs", lambda x, rm, rv: F.linear(x, tg.randn(2, 3), tg.zeros(3)), "linear",
         "bias shape (3,) does not match 2 output features"),
        ("F.linear", "weight 1-d", lambda x, rm, rv: F.linear(x, tg.randn(3)), "linear", "(3,)"),
        ("F.dropout", "p 1.5", lambda x, rm, rv: F.dropout(x, 1.5), "dropout", "1.5"),
        ("F.dropout", "p None", lambda x, rm, rv: F.dropout(x, None), "dropout", "None"),
        ("F.softmax", "dim 2", lambda x, rm, rv: F.softmax(x, 2), "softmax", "2"),
        ("F.gelu", "approximate 'x'", lambda x, rm, rv: F.gelu(x, "x"), "gelu", "'x'"),
        ("F.leaky_relu", "negative_slope 'x'", lambda x, rm, rv: F.leaky_relu(x, "x"), "leaky_relu", "'x'"),
        ("F.relu", "inplace on a leaf that requires grad", lambda x, rm, rv: F.relu(x, inplace=True), "relu_", "leaf"),
        ("F.cross_entropy", "reduction 'avg'", lambda x, rm, rv: F.cross_entropy(x, tg.tensor([0, 1, 2, 0]),
                                                                               reduction="avg"), "cross_entropy", "'avg'"),
        ("F.cross_entropy", "4 rows, 2 targets", lambda x, rm, rv: F.cross_entropy(x, tg.tensor([0, 1])),
         "cross_entropy", "2"),
        ("F.nll_loss", "a class 3 of 3", lambda x, rm, rv: F.nll_loss(x, tg.tensor([0, 1, 3, 0])), "nll_loss", "3"),
        ("F.mse_loss", "reduction 'x'", lambda x, rm, rv: F.mse_loss(x, x.detach(), reduction="x"), "mse_loss", "'x'"),
    ]
    for entry, bad, fn, *says in items:
        def make(fn=fn):
            x, rm, rv = x4(), tg.zeros(3), tg.ones(3)
            return (lambda: fn(x, rm, rv)), [x, rm, rv]
        case(entry, bad, make, *says)

    init = [
        ("nn.init.kaiming_uniform_", "a 1-d tensor", lambda t: nn.init.kaiming_uniform_(tg.zeros(3)), "kaiming_uniform_",
         "1"),
        ("nn.init.xavier_normal_", "a 0-d tensor", lambda t: nn.init.xavier_normal_(tg.zeros(())), "xavier_normal_", "0"),
        ("nn.init.kaiming_normal_", "mode 'fan_x'", lambda t: nn.init.kaiming_normal_(t, mode="fan_x"),
         "kaiming_normal_", "'fan_x'"),
        ("nn.init.kaiming_uniform_", "nonlinearity 'swish'", lambda t: nn.init.kaiming_uniform_(t, nonlinearity="swish"),
         "swish"),
        ("nn.init.calculate_gain", "nonlinearity 'swish'", lambda t: nn.init.calculate_gain("swish"), "calculate_gain",
         "'swish'"),
        ("nn.init.uniform_", "a > b", lambda t: nn.init.uniform_(t, 1.0, 0.0), "uniform_", "1.0"),
        ("nn.init.normal_", "std -1", lambda t: nn.init.normal_(t, 0.0, -1.0), "normal_", "-1"),
        ("nn.init.normal_", "an int tensor", lambda t: nn.init.normal_(tg.zeros(2, 2, dtype=tg.int64)), "normal_",
         "int64"),
        ("nn.init.constant_", "value 'x'", lambda t: nn.init.constant_(t, "x"), "constant_", "'x'"),
    ]
    for entry, bad, fn, *says in init:
        def make(fn=fn):
            layer = nn.Linear(3, 2)
            return (lambda: fn(layer.weight)), [layer]
        case(entry, bad, make, *says)


# ---------------------------------------------------- modules and optimizers
def _module_cases():
    def model():
        tg.manual_seed(0)
        return nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 2))

    def sd_case(bad, edit, *says, strict=True):
        def make():
            m = model()
            state = {k: v.clone() for k, v in model().state_dict().items()}
            edit(state)
            return (lambda: m.load_state_dict(state, strict=strict)), [m]
        case("Module.load_state_dict", bad, make, "load_state_dict", *says)

    sd_case("a missing key", lambda s: s.pop("0.weight"), "0.weight")
    sd_case("an unexpected key", lambda s: s.update(extra=tg.ones(1)), "extra")
    sd_case("a weight of another shape", lambda s: s.update({"0.weight": tg.ones(3, 4)}), "(3, 4)")
    sd_case("another shape, strict=False", lambda s: s.update({"3.bias": tg.ones(3)}), "(3,)", strict=False)
    sd_case("a value that is None", lambda s: s.update({"0.bias": None}), NONE)
    sd_case("a value that is a str", lambda s: s.update({"0.bias": "abc"}), "str")
    sd_case("running_var of another shape, the last key", lambda s: s.update({"1.running_var": tg.ones(5)}), "(5,)")

    def load_bad(bad, value, *says):
        def make():
            m = model()
            return (lambda: m.load_state_dict(value)), [m]
        case("Module.load_state_dict", bad, make, "load_state_dict", *says)

    load_bad("a list", [1, 2], "list")
    load_bad("None", None, NONE)
    load_bad("a str (a path)", "model.npz", "str")

    module_calls = [
        ("Module.to", "device 'tpu'", lambda m: m.to("tpu"), "tpu"),
        ("Module.to", "dtype int64", lambda m: m.to(tg.int64), "int64"),
        ("Module.register_buffer", "a non-tensor", lambda m: m.register_buffer("b", [1]), "register_buffer", "list"),
        ("Module.register_parameter", "a non-tensor", lambda m: m.register_parameter("p", 3), "register_parameter",
         "int"),
        ("Module.add_module", "a non-module", lambda m: m.add_module("x", 3), "add_module", "int"),
        ("Module.add_module", "a name with a dot", lambda m: m.add_module("a.b", nn.ReLU()), "add_module", "'a.b'"),
        ("Module.register_parameter", "a method's name", lambda m: m.register_parameter("forward", nn.Parameter(
            tg.ones(1))), "register_parameter", "'forward'"),
        ("Module.register_buffer", "a method's name", lambda m: m.register_buffer("train", tg.ones(1)),
         "register_buffer", "'train'"),
        ("Module.add_module", "a method's name", lambda m: m.add_module("parameters", nn.ReLU()), "add_module",
         "'parameters'"),
        ("Module.__setattr__", "a Parameter under a method's name",
         lambda m: setattr(m, "cuda", nn.Parameter(tg.ones(1))), "__setattr__", "'cuda'"),
        ("Module.train", "mode 'yes'", lambda m: m.train("yes"), "train", "'yes'"),
        ("Module.apply", "a non-callable", lambda m: m.apply(3), "apply", "int"),
        ("Module.__call__", "two inputs to Sequential", lambda m: m(tg.randn(2, 3), tg.randn(2, 3)), "Sequential"),
        ("nn.Sequential.__getitem__", "index 9", lambda m: m[9], "Sequential", "9"),
        ("nn.utils.clip_grad_norm_", "max_norm -1", lambda m: nn.utils.clip_grad_norm_(m.parameters(), -1.0),
         "clip_grad_norm_", "-1"),
        ("nn.utils.clip_grad_norm_", "norm_type 'x'", lambda m: nn.utils.clip_grad_norm_(m.parameters(), 1.0, "x"),
         "clip_grad_norm_", "'x'"),
        ("nn.utils.clip_grad_norm_", "parameters None", lambda m: nn.utils.clip_grad_norm_(None, 1.0),
         "clip_grad_norm_", NONE),
        ("nn.utils.clip_grad_norm_", "a non-tensor parameter", lambda m: nn.utils.clip_grad_norm_([1.0], 1.0),
         "clip_grad_norm_", "float"),
        ("nn.utils.clip_grad_value_", "clip_value 'x'", lambda m: nn.utils.clip_grad_value_(m.parameters(), "x"),
         "clip_grad_value_", "'x'"),
        ("nn.utils.clip_grad_value_", "parameters 3", lambda m: nn.utils.clip_grad_value_(3, 1.0), "clip_grad_value_",
         "int"),
        ("nn.utils.clip_grad_norm_", "a NaN gradient with error_if_nonfinite",
         lambda m: nn.utils.clip_grad_norm_(m.parameters(), 1.0, error_if_nonfinite=True), "clip_grad_norm_", "nan",
         "nan grad"),
    ]
    for entry, bad, fn, *says in module_calls:
        nan_grad = says[-1] == "nan grad"
        says = says[:-1] if nan_grad else says

        def make(fn=fn, nan_grad=nan_grad):
            m = model()
            (m(tg.randn(4, 3)) * tg.randn(4, 2)).sum().backward()
            if nan_grad:
                next(iter(m.parameters())).grad.fill_(float("nan"))
            return (lambda: fn(m)), [m]
        case(entry, bad, make, *says)

    optimizers = {"SGD": lambda p, **k: optim.SGD(p, **{"lr": 0.1, **k}),
                  "Adam": optim.Adam, "AdamW": optim.AdamW, "RMSprop": optim.RMSprop}
    for name, make_opt in optimizers.items():
        ctor = [
            ("params None", lambda p, make_opt=make_opt: make_opt(None), NONE),
            ("an empty parameter list", lambda p, make_opt=make_opt: make_opt([]), "empty"),
            ("a non-tensor parameter", lambda p, make_opt=make_opt: make_opt([1.0]), "float"),
            ("a non-leaf parameter", lambda p, make_opt=make_opt: make_opt([p[0] * 2]), "leaf"),
            ("a parameter in two groups", lambda p, make_opt=make_opt: make_opt([{"params": [p[0]]}, {"params": [p[0]]}]),
             "more than one"),
            ("lr -0.1", lambda p, make_opt=make_opt: make_opt(p, lr=-0.1), "-0.1"),
            ("lr 'x'", lambda p, make_opt=make_opt: make_opt(p, lr="x"), "'x'"),
            ("lr nan", lambda p, make_opt=make_opt: make_opt(p, lr=float("nan")), "nan"),
            ("weight_decay -1", lambda p, make_opt=make_opt: make_opt(p, weight_decay=-1.0), "-1"),
            ("eps -1", lambda p, make_opt=make_opt: make_opt(p, eps=-1.0), "-1") if name != "SGD" else
            ("momentum -0.5", lambda p, make_opt=make_opt: make_opt(p, momentum=-0.5), "-0.5"),
            ("a param group without params", lambda p, make_opt=make_opt: make_opt([{"lr": 0.1}]), "params"),
            ("the same parameter twice", lambda p, make_opt=make_opt: make_opt([p[0], p[1], p[0]]), "twice"),
        ]
        if name in ("Adam", "AdamW"):
            ctor += [("betas (1.0, 0.999)", lambda p, make_opt=make_opt: make_opt(p, betas=(1.0, 0.999)), "1.0"),
                     ("betas (0.9,)", lambda p, make_opt=make_opt: make_opt(p, betas=(0.9,)), "(0.9,)")]
        if name == "SGD":
            ctor += [("nesterov without momentum", lambda p, make_opt=make_opt: make_opt(p, nesterov=True), "nesterov"),
                     ("dampening with nesterov", lambda p, make_opt=make_opt: make_opt(p, momentum=0.9, nesterov=True, dampening=0.5),
                      "dampening")]
        if name == "RMSprop":
            ctor += [("alpha -0.5", lambda p, make_opt=make_opt: make_opt(p, alpha=-0.5), "-0.5")]
        for bad, fn, got in ctor:
            def make(fn=fn):
                ps = [tg.randn(3, 2, requires_grad=True), tg.randn(2, requires_grad=True)]
                return (lambda: fn(ps)), [ps]
            case(f"optim.{name}", bad, make, name, got)

        steps = [
            ("a grad of another shape", lambda ps: setattr(ps[1], "grad", tg.ones(3)), "(3,)"),
            ("a grad of another dtype", lambda ps: setattr(ps[1], "grad", tg.ones(2, dtype=tg.float64)), "float64"),
            ("a grad that is a list", lambda ps: setattr(ps[1], "grad", [1.0, 2.0]), "list"),
        ]
        for bad, edit, got in steps:
            def make(edit=edit, make_opt=make_opt):
                ps = [tg.randn(3, 2, requires_grad=True), tg.randn(2, requires_grad=True)]
                opt = make_opt(ps)
                (ps[0].sum() + ps[1].sum() * 2).backward()
                opt.step()  # the optimizer has state
                edit(ps)
                return opt.step, [ps, opt]
            case(f"optim.{name}.step", bad, make, "step", got)

        def make_sd(make_opt=make_opt):
            ps = [tg.randn(3, 2, requires_grad=True)]
            opt = make_opt(ps)
            return (lambda: opt.load_state_dict({"state": {}, "param_groups": [{"params": [0, 1]}]})), [opt]
        case(f"optim.{name}.load_state_dict", "two params for a group of one", make_sd, "load_state_dict", "2")

        def make_lr(make_opt=make_opt):
            ps = [tg.randn(3, 2, requires_grad=True)]
            opt = make_opt(ps)
            sd = opt.state_dict()
            sd["param_groups"][0]["lr"] = -1.0
            return (lambda: opt.load_state_dict(sd)), [opt]
        case(f"optim.{name}.load_state_dict", "lr -1", make_lr, "lr", "-1")

    def sched(bad, fn, *says):
        def make():
            p = tg.randn(2, requires_grad=True)
            opt = optim.SGD([p], lr=0.1)
            return (lambda: fn(opt)), [opt]
        case(bad[0], bad[1], make, *says)

    sched(("optim.lr_scheduler.StepLR", "step_size 0"), lambda o: optim.lr_scheduler.StepLR(o, 0), "StepLR", "0")
    sched(("optim.lr_scheduler.StepLR", "step_size 'x'"), lambda o: optim.lr_scheduler.StepLR(o, "x"), "StepLR", "'x'")
    sched(("optim.lr_scheduler.StepLR", "gamma 'x'"), lambda o: optim.lr_scheduler.StepLR(o, 2, gamma="x"), "StepLR",
          "'x'")
    sched(("optim.lr_scheduler.StepLR", "a non-optimizer"), lambda o: optim.lr_scheduler.StepLR([o], 2), "StepLR", "list")
    def sched_state(bad, edit, *says):
        def make():
            p = tg.randn(2, requires_grad=True)
            opt = optim.SGD([p], lr=0.1)
            s = optim.lr_scheduler.StepLR(opt, 2)
            state = s.state_dict()
            edit(state)
            return (lambda: (s.load_state_dict(state), s.step())), [opt, s.base_lrs, [s.last_epoch]]
        case("optim.lr_scheduler.StepLR.load_state_dict", bad, make, *says)

    sched_state("empty base_lrs", lambda st: st.update(base_lrs=[]), "load_state_dict", "[]")
    sched_state("base_lrs [-1.0]", lambda st: st.update(base_lrs=[-1.0]), "load_state_dict", "-1")
    sched_state("last_epoch 'x'", lambda st: st.update(last_epoch="x"), "load_state_dict", "'x'")
    sched(("optim.lr_scheduler.CosineAnnealingLR", "T_max 0"), lambda o: optim.lr_scheduler.CosineAnnealingLR(o, 0),
          "CosineAnnealingLR", "0")
    sched(("optim.lr_scheduler.CosineAnnealingLR", "T_max -5"), lambda o: optim.lr_scheduler.CosineAnnealingLR(o, -5),
          "CosineAnnealingLR", "-5")


# ----------------------------------------------------------------- data
def _data_cases():
    def xs(n=10):
        return tg.randn(n, 3), tg.tensor(list(range(n)))

    items = [
        ("data.TensorDataset", "lengths 10 and 9", lambda: data.TensorDataset(tg.randn(10, 3), tg.zeros(9)),
         "TensorDataset", "9"),
        ("data.TensorDataset", "a list", lambda: data.TensorDataset([1, 2, 3]), "TensorDataset", "list"),
        ("data.TensorDataset", "no tensors", lambda: data.TensorDataset(), "TensorDataset", ("no tensors", "at least")),
        ("data.TensorDataset", "a 0-d tensor", lambda: data.TensorDataset(tg.tensor(1.0)), "TensorDataset", "()"),
        ("data.DataLoader", "batch_size 0", lambda: data.DataLoader(data.TensorDataset(*xs()), batch_size=0),
         "DataLoader", "0"),
        ("data.DataLoader", "batch_size -2", lambda: data.DataLoader(data.TensorDataset(*xs()), batch_size=-2),
         "DataLoader", "-2"),
        ("data.DataLoader", "batch_size 2.5", lambda: data.DataLoader(data.TensorDataset(*xs()), batch_size=2.5),
         "DataLoader", "2.5"),
        ("data.DataLoader", "batch_size '8'", lambda: data.DataLoader(data.TensorDataset(*xs()), batch_size="8"),
         "DataLoader", "'8'"),
        ("data.DataLoader", "dataset None", lambda: data.DataLoader(None), "DataLoader", NONE),
        ("data.DataLoader", "a dataset without __getitem__", lambda: data.DataLoader(3), "DataLoader", "int"),
        ("data.DataLoader", "num_workers -1", lambda: data.DataLoader(data.TensorDataset(*xs()), num_workers=-1),
         "DataLoader", "-1"),
        ("data.DataLoader", "items of different shapes", lambda: list(data.DataLoader(_Ragged(), batch_size=2)),
         ("collate", "DataLoader"), ("(2,)", "(3,)")),
        ("data.DataLoader", "items that are objects", lambda: list(data.DataLoader(_Objects(), batch_size=2)),
         ("collate", "DataLoader"), "object"),
        ("data.DataLoader", "items with different fields", lambda: list(data.DataLoader(_Fields(), batch_size=2)),
         ("collate", "DataLoader"), "fields"),
        ("data.random_split", "lengths summing to 11 of 10", lambda: data.random_split(data.TensorDataset(*xs()), [5, 6]),
         "random_split", "11"),
        ("data.random_split", "a negative length", lambda: data.random_split(data.TensorDataset(*xs()), [12, -2]),
         "random_split", "-2"),
        ("data.random_split", "fractions summing to 0.9",
         lambda: data.random_split(data.TensorDataset(*xs()), [0.5, 0.4]), "random_split", "0.9"),
        ("data.random_split", "a dataset without len", lambda: data.random_split(3, [1, 2]), "random_split", "int"),
        ("data.Subset.__getitem__", "an index past the subset",
         lambda: data.Subset(data.TensorDataset(*xs()), [0, 1])[5], "Subset", "5"),
        ("data.Subset", "an index past the dataset", lambda: data.Subset(data.TensorDataset(*xs()), [0, 10]), "Subset",
         "10"),
        ("data.TensorDataset.__getitem__", "index 10 of 10", lambda: data.TensorDataset(*xs())[10], "10"),
        ("data.load_mnist_5k", "test_size 6000", lambda: data.load_mnist_5k(test_size=6000), "load_mnist_5k", "6000"),
        ("data.load_mnist_5k", "test_size -1", lambda: data.load_mnist_5k(test_size=-1), "load_mnist_5k", "-1"),
        ("data.load_mnist", "kind 'cifar'", lambda: data.load_mnist(tempfile.gettempdir(), kind="cifar"), "load_mnist",
         "'cifar'"),
        ("data.load_mnist", "a folder without the files",
         lambda: data.load_mnist(tempfile.mkdtemp()), "load_mnist", ("train-images", "no such", "not found")),
    ]
    for entry, bad, fn, *says in items:
        case(entry, bad, calls(fn), *says)

    import tinygrad_bn.distributed as dist
    dist_items = [
        ("distributed.all_reduce", "before init()", lambda: dist.all_reduce(np.ones(2)), "all_reduce", "init()"),
        ("distributed.all_reduce", "op 'max'", lambda: dist.all_reduce(np.ones(2), op="max"), "all_reduce", "'max'"),
        ("distributed.broadcast", "before init()", lambda: dist.broadcast(np.ones(2)), "broadcast", "init()"),
        ("distributed.DistributedSampler", "rank 4 of 2", lambda: dist.DistributedSampler(list(range(5)), 2, 4),
         "DistributedSampler", "4"),
        ("distributed.DistributedSampler", "rank -1 of 2", lambda: dist.DistributedSampler(list(range(5)), 2, -1),
         "DistributedSampler", "-1"),
        ("data.DataLoader", "a sampler with shuffle=True",
         lambda: data.DataLoader(data.TensorDataset(*xs()), sampler=[0, 1], shuffle=True), "DataLoader", "shuffle"),
        ("data.DataLoader", "a sampler that is an int", lambda: data.DataLoader(data.TensorDataset(*xs()), sampler=3),
         "DataLoader", "int"),
        ("nn.SyncBatchNorm", "num_features 0", lambda: nn.SyncBatchNorm(0), "SyncBatchNorm", "0"),
        ("nn.SyncBatchNorm", "a process_group", lambda: nn.SyncBatchNorm(4, process_group="group"), "SyncBatchNorm",
         "process_group", "str"),
        ("nn.SyncBatchNorm.convert_sync_batchnorm", "a process_group",
         lambda: nn.SyncBatchNorm.convert_sync_batchnorm(nn.BatchNorm1d(2), process_group=3),
         "convert_sync_batchnorm", "process_group", "int"),
        ("data.DataLoader", "a batch_sampler with batch_size 2",
         lambda: data.DataLoader(data.TensorDataset(*xs()), 2, batch_sampler=[[0]]), "DataLoader", "batch_sampler"),
        ("data.DataLoader", "a batch_sampler that is an int",
         lambda: data.DataLoader(data.TensorDataset(*xs()), batch_sampler=3), "DataLoader", "batch_sampler", "int"),
        ("data.DataLoader", "a collate_fn that is a string",
         lambda: data.DataLoader(data.TensorDataset(*xs()), collate_fn="stack"), "DataLoader", "collate_fn", "str"),
        ("data.DataLoader", "timeout -1", lambda: data.DataLoader(data.TensorDataset(*xs()), timeout=-1),
         "DataLoader", "timeout", "-1"),
        ("data.DataLoader", "a NumPy generator",
         lambda: data.DataLoader(data.TensorDataset(*xs()), shuffle=True, generator=np.random.default_rng(0)),
         "DataLoader", "generator", "Generator"),
        ("data.random_split", "a seed and a generator",
         lambda: data.random_split(data.TensorDataset(*xs()), [5, 5], tg.Generator(), seed=1), "random_split",
         "seed", "generator"),
        ("nn.parallel.DistributedDataParallel", "outside an MPI job",
         lambda: nn.parallel.DistributedDataParallel(nn.Linear(2, 2)), "world_size", "init()"),
    ]
    for entry, bad, fn, *says in dist_items:
        case(entry, bad, calls(fn), *says)

    def idx_case(bad, content, *says, name="x.idx"):
        def make():
            folder = pathlib.Path(tempfile.mkdtemp())
            path = folder / name
            if content is not None:
                path.write_bytes(content)
            return (lambda: data.mnist.read_idx(path)), [folder]
        case("data.read_idx", bad, make, "read_idx", *says)

    import gzip
    import struct
    idx_case("a missing file", None, ("no such", "not found"))
    idx_case("an empty file", b"", ("empty", "header", "truncated"))
    idx_case("a wrong magic number", b"\x12\x34\x08\x01" + struct.pack(">I", 3) + b"abc", "magic")
    idx_case("a truncated body", b"\x00\x00\x08\x01" + struct.pack(">I", 10) + b"abc", ("10", "truncated"))
    idx_case("a header claiming 4 GiB", gzip.compress(b"\x00\x00\x08\x03" + struct.pack(">III", 65536, 256, 256)),
             ("truncated", "holds", "size", "bytes"), name="x.gz")
    idx_case("an unknown type code", b"\x00\x00\x07\x01" + struct.pack(">I", 1) + b"a", ("type", "0x07", "7"))
    idx_case("a damaged gzip", b"\x1f\x8b\x08garbage", ("gzip", "damaged", "not a"), name="x.gz")


class _Fields(data.Dataset):
    def __len__(self):
        return 4

    def __getitem__(self, i):
        return (tg.zeros(2),) * (1 + i % 2)


class _Ragged(data.Dataset):
    def __len__(self):
        return 4

    def __getitem__(self, i):
        return tg.zeros(2 + i % 2)


class _Objects(data.Dataset):
    def __len__(self):
        return 4

    def __getitem__(self, i):
        return object()


# ----------------------------------------------------------- save and load
def _serialization_cases():
    def saved(obj, folder):
        path = folder / "m.npz"
        tg.save(obj, path)
        return path

    def load_case(bad, write, *says, suffix=".npz"):
        def make():
            folder = pathlib.Path(tempfile.mkdtemp())
            path = folder / ("f" + suffix)
            write(path)
            return (lambda: tg.load(path)), [folder]
        case("tg.load", bad, make, "load", *says)

    def npz_with_meta(meta):
        import json

        def write(path):
            np.savez(path, __tinygrad_bn__=np.frombuffer(json.dumps(meta).encode(), np.uint8))
        return write

    load_case("a missing file", lambda p: None, "no such file")
    load_case("a folder", lambda p: p.mkdir(), "not a regular file")
    load_case("a FIFO", lambda p: os.mkfifo(p), "not a regular file")
    load_case("an empty file", lambda p: p.write_bytes(b""), "not a readable")
    load_case("a text file", lambda p: p.write_text("hello"), "not a readable")
    load_case("a foreign npz", lambda p: np.savez(p, a=np.ones(2)), "not a tinygrad_bn checkpoint")
    load_case("a pickled entry", lambda p: np.savez(p, __tinygrad_bn__=np.array([{"a": 1}], dtype=object)),
              ("pickle", "object"))
    load_case("a truncated checkpoint", lambda p: p.write_bytes(saved({"w": tg.ones(100)}, p.parent).read_bytes()[:300]),
              ("truncated", "not a readable"))
    load_case("another format", npz_with_meta({"format": "other", "version": 1, "tree": {}}), "'other'")
    load_case("a newer version", npz_with_meta({"format": "tinygrad_bn.checkpoint", "version": 99, "tree": {}}),
              "99")
    for tree in ([1, 2], {"dict": [[1]]}, 7, {"list": [[]]}, {"dict": "x"}, {"tensor": "t9"}, {"list": [{"dict": 3}]}):
        load_case(f"a malformed tree {tree}", npz_with_meta({"format": "tinygrad_bn.checkpoint", "version": 1,
                                                              "tree": tree}), "not a readable")
    deep = '{"format": "tinygrad_bn.checkpoint", "version": 1, "tree": ' + _Deep(5000).text + "}"
    load_case("a deeply nested tree", lambda p: np.savez(p, __tinygrad_bn__=np.frombuffer(deep.encode(), np.uint8)),
              "not a readable")
    load_case("metadata that is not JSON", lambda p: np.savez(p, __tinygrad_bn__=np.frombuffer(b"{nope", np.uint8)),
              "not a readable")
    load_case("a decompression bomb", _write_bomb, "would unpack")
    load_case("an array header that lies", _write_lying_header, "declares")
    load_case("a damaged .safetensors file", lambda p: p.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{garbage"),
              ".safetensors", suffix=".safetensors")
    load_case("an empty .safetensors file", lambda p: p.write_bytes(b""), ".safetensors", suffix=".safetensors")

    def save_case(bad, obj, *says, name="m.npz", prepare=None):
        def make():
            folder = pathlib.Path(tempfile.mkdtemp())
            if prepare:
                prepare(folder)
            value = obj() if callable(obj) else obj
            return (lambda: tg.save(value, folder / name)), [folder]
        case("tg.save", bad, make, "save", *says)

    save_case("an object", {"x": object()}, "object")
    save_case("a set", {"x": {1, 2}}, "set")
    save_case("a float key", {1.5: 1}, "1.5")
    save_case("a complex array", {"x": np.ones(2, complex)}, "complex")
    save_case("a datetime scalar", {"t": np.datetime64("2026-01-01")}, "datetime64")
    save_case("a folder that does not exist", {"x": 1}, ("no such", "not found"), name="missing/m.npz")
    save_case("a path that is a folder", {"x": 1}, ("directory", "is a folder"), name="sub",
              prepare=lambda f: (f / "sub").mkdir())
    save_case(".safetensors of a nested dict", {"a": {"b": tg.ones(2)}}, "dict", name="m.safetensors")
    save_case(".safetensors of a list", lambda: [tg.ones(2)], "list", name="m.safetensors")
    save_case(".safetensors with an int key", {1: tg.ones(2)}, "1", name="m.safetensors")


class _Deep:
    """A tree nested ``n`` deep, as JSON text (json.dumps itself would recurse too deep)."""

    def __init__(self, n):
        self.text = '{"list": [' * n + '{"value": 1}' + "]}" * n


def _write_bomb(path):
    import zipfile

    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        meta = b'{"format": "tinygrad_bn.checkpoint", "version": 1, "tree": {"tensor": "t0"}}'
        buf = np.frombuffer(meta, np.uint8)
        import io
        f = io.BytesIO()
        np.save(f, buf)
        z.writestr("__tinygrad_bn__.npy", f.getvalue())
        with z.open("t0.npy", "w", force_zip64=True) as out:
            np.lib.format.write_array_header_1_0(out, {"descr": "<f4", "fortran_order": False, "shape": (25_000_000,)})
            chunk = bytes(10_000_000)
            for _ in range(10):
                out.write(chunk)


def _write_lying_header(path):
    import zipfile

    tg.save({"w": tg.ones(4)}, path)
    with zipfile.ZipFile(path) as z:
        entries = {i.filename: z.read(i) for i in z.infolist()}
    entries["t0.npy"] = entries["t0.npy"].replace(b"(4,)", b"(999999999999,)")
    with zipfile.ZipFile(path, "w") as z:
        for name, raw in entries.items():
            z.writestr(name, raw)


# --------------------------------------------------------------------- CLI
def _cli_cases():
    from tinygrad_bn import cli

    def cli_case(bad, argv, *says, prepare=None):
        def make():
            folder = pathlib.Path(tempfile.mkdtemp())
            args = [a.replace("{tmp}", str(folder)) for a in argv]
            if prepare:
                prepare(folder)
            return (lambda: cli.main(args)), [folder]
        case("tinygrad-bn " + argv[0] if argv else "tinygrad-bn", bad, make, *says, cli=True)

    train = ["train", "--epochs", "1", "--no-progress", "--checkpoint", "{tmp}/m.npz"]
    cli_case("no command", [], "command")
    cli_case("an unknown command", ["fit"], "'fit'")
    cli_case("an unknown flag", train + ["--layers", "3"], "--layers")
    for flag, values in {"--epochs": ["0", "-1", "abc", "1.5"], "--batch-size": ["0", "-3", "abc"],
                         "--lr": ["0", "-0.1", "nan", "inf", "abc"], "--model": ["resnet"],
                         "--optimizer": ["lbfgs"], "--seed": ["abc", "1.5"], "--device": ["tpu", "cuda:1"]}.items():
        for v in values:
            cli_case(f"{flag} {v}", train + [flag, v], flag, v)
    cli_case("--batch-size 1 with a batch-norm model", train + ["--model", "simplenet-bn", "--batch-size", "1"],
             "--batch-size", "1")
    # (missing folders are made, as for the default checkpoints/model.npz)
    cli_case("--checkpoint under a file", ["train", "--epochs", "1", "--checkpoint", "{tmp}/file/m.npz"],
             "--checkpoint", "file/m.npz", prepare=_a_file)
    cli_case("--checkpoint that is a folder", ["train", "--epochs", "1", "--checkpoint", "{tmp}"], "--checkpoint")
    if os.geteuid() != 0:  # root writes anywhere
        cli_case("--checkpoint in a read-only folder", ["train", "--epochs", "1", "--checkpoint", "{tmp}/ro/m.npz"],
                 "--checkpoint", prepare=_read_only_folder)
    tape = ["tape", "--dot", "{tmp}/t.dot"]
    for flag, values in {"--batch-size": ["0", "abc", "1"], "--model": ["resnet"], "--seed": ["x"],
                         "--device": ["tpu"]}.items():
        for v in values:
            cli_case(f"tape {flag} {v}", tape + [flag, v], flag, v)
    experiment = ["experiment", "sigmoid", "--out", "{tmp}/out"]
    for flag, values in {"--seeds": ["0", "-2", "abc"], "--epochs": ["0", "1.5"]}.items():
        for v in values:
            cli_case(f"experiment {flag} {v}", experiment + [flag, v], flag, v)
    cli_case("--distributed with --device cuda", train + ["--distributed", "--device", "cuda"], "--distributed", "cuda")
    cli_case("experiment: an unknown name", ["experiment", "resnet-sweep"], "'resnet-sweep'")
    cli_case("experiment --out under a file", ["experiment", "sigmoid", "--out", "{tmp}/file/out"], "--out",
             "file/out", prepare=_a_file)
    cli_case("tape --dot under a file", ["tape", "--dot", "{tmp}/file/t.dot"], "--dot", "file/t.dot", prepare=_a_file)
    cli_case("tape --dot that is a folder", ["tape", "--dot", "{tmp}"], "--dot")
    cli_case("tape --json under a file", tape + ["--json", "{tmp}/file/t.json"], "--json", "file/t.json",
             prepare=_a_file)


def _a_file(folder):
    (folder / "file").write_text("a file, not a folder")


def _read_only_folder(folder):
    (folder / "ro").mkdir()
    os.chmod(folder / "ro", 0o500)


# ------------------------------------- autograd semantics, devices, files (the hostile classes)
def _alt_device():
    """A second device in this child: the CPU backend's computation registered as "alt"."""
    from tinygrad_bn import backends
    from tinygrad_bn.backends.cpu import cpu_backend
    backends._BACKENDS.setdefault("alt", cpu_backend("alt"))
    return "alt"


def _semantics_device_and_file_cases():
    def leaf_and_loss(hook=None):
        x = x23(requires_grad=True)
        if hook is not None:
            x.register_hook(hook)
        return x, (x * x).sum()

    def backward_with_hook(bad, hook, *says):
        def make():
            x, loss = leaf_and_loss(hook)
            return (lambda: loss.backward()), [x]
        case("Tensor.register_hook", bad, make, "hook", *says)

    backward_with_hook("a hook returning the wrong shape", lambda g: g.reshape(3, 2), "shape", "(3, 2)")
    backward_with_hook("a hook returning the wrong dtype", lambda g: g.double(), "dtype", "float64")
    backward_with_hook("a hook returning a list", lambda g: [1.0], "list")
    backward_with_hook("a hook returning a gradient on another device",
                       lambda g: g.to(_alt_device()), "alt")

    def function_case(bad, backward, *says, forward=None):
        class Bad(tg.autograd.Function):
            @staticmethod
            def forward(ctx, x, scale):
                return forward(x) if forward else x * scale

            @staticmethod
            def backward(ctx, g):
                return backward(g)

        def make():
            x = x23(requires_grad=True)
            return (lambda: Bad.apply(x, 2.0).sum().backward()), [x]
        case("autograd.Function", bad, make, *says)

    function_case("backward returning more gradients than inputs", lambda g: (g, None, g), "3", "gradients")
    function_case("a gradient for a non-tensor argument", lambda g: (g * 2, g.sum()), "argument 1", "non-tensor")

    class ListOut(tg.Function):  # the array-level Function: its forward returns arrays
        @staticmethod
        def forward(ctx, x):
            return [x * 2, x]

        @staticmethod
        def backward(ctx, g1, g2):
            return g1

    def list_output():
        x = x23(requires_grad=True)
        return (lambda: ListOut.apply(x)), [x]
    case("tg.Function", "forward returning a list", list_output, "ListOut", "list")

    def grad_case(bad, call, *says):
        def make():
            x = x23(requires_grad=True)
            y1, y2 = (x * 2).sum(), (x * 3).sum()
            return (lambda: call(x, y1, y2)), [x]
        case("tg.grad", bad, make, "grad", *says)

    grad_case("fewer grad_outputs than outputs", lambda x, y1, y2: tg.grad([y1, y2], [x], grad_outputs=[tg.ones(())]),
              "2 outputs", "1")
    grad_case("an input that is not a tensor", lambda x, y1, y2: tg.grad(y1, [x, 3.0]), "float")

    def view_of_leaf():
        x = x23(requires_grad=True)
        return (lambda: x[0].mul_(2)), [x]
    case("Tensor.mul_", "an in-place write through a view of a leaf that requires grad", view_of_leaf,
         "view", "leaf")

    def mixed(entry, bad, call, *says, watch=lambda a, b: [a, b]):
        def make():
            a = x23()
            b = x23().to(_alt_device())
            return (lambda: call(a, b)), watch(a, b)
        case(entry, bad, make, "cpu", "alt", *says)

    mixed("Tensor.add_", "an operand on another device", lambda a, b: a.add_(b))
    mixed("tg.where", "a branch on another device", lambda a, b: tg.where(a > 0, a, b))
    mixed("Tensor.__setitem__", "a value on another device", lambda a, b: a.__setitem__(0, b[0]))

    def norm_with_running_elsewhere():
        x = tg.randn(4, 3)
        alt = _alt_device()
        rm, rv = tg.zeros(3, device=alt), tg.ones(3, device=alt)
        return (lambda: F.batch_norm(x, rm, rv, training=True)), [x, rm, rv]
    case("F.batch_norm", "running statistics on another device", norm_with_running_elsewhere,
         "batch_norm", "cpu", "alt")

    def clip_elsewhere():
        p = x23(requires_grad=True)
        p.grad = x23().to(_alt_device())
        return (lambda: nn.utils.clip_grad_norm_([p], 0.1)), [p]
    case("nn.utils.clip_grad_norm_", "a gradient on another device than its parameter", clip_elsewhere,
         "clip_grad_norm_", "cpu", "alt")

    def safetensors_metadata():
        folder = pathlib.Path(tempfile.mkdtemp())
        return (lambda: tg.save({"__metadata__": tg.ones(2), "w": tg.ones(2)}, folder / "m.safetensors")), [folder]
    case("tg.save", ".safetensors with a __metadata__ entry", safetensors_metadata, "save", "__metadata__")


# ------------------------------------------------- random sampling and PyTorch's names
def _sampling_and_name_cases():
    def call_case(entry, bad, fn, *says):
        case(entry, bad, lambda: (fn, []), *says)

    call_case("tg.randint", "low >= high", lambda: tg.randint(5, 5, (2,)), "randint", "low=5")
    call_case("tg.randint", "a size that is an int", lambda: tg.randint(5, 3), "randint", "int")
    call_case("tg.randint", "a float bound", lambda: tg.randint(0.5, 3, (2,)), "randint", "float")
    call_case("tg.randperm", "a negative n", lambda: tg.randperm(-1), "randperm", "-1")
    call_case("tg.Generator.manual_seed", "a negative seed", lambda: tg.Generator().manual_seed(-3), "manual_seed", "-3")
    call_case("tg.randn", "a generator that is an int", lambda: tg.randn(2, generator=3), "randn", "int")

    def weights(values, k, replacement, *says):
        def make():
            w = tg.tensor(values)
            return (lambda: tg.multinomial(w, k, replacement)), [w]
        case("tg.multinomial", f"weights {values}, {k} samples, replacement={replacement}", make, "multinomial",
             *says)
    weights([0.5, -0.1], 1, True, "negative")
    weights([0.0, 0.0], 1, True, "sums to 0")
    weights([1.0, 0.0, 2.0], 3, False, "3 samples")
    weights([1, 2], 1, True, "int64")
    call_case("tg.multinomial", "num_samples 0", lambda: tg.multinomial(tg.ones(3), 0), "multinomial", "0")
    call_case("tg.device", "an int", lambda: tg.device(3), "device", "int")
    call_case("tg.device", "a malformed index", lambda: tg.device("cuda:x"), "device", "cuda:x")
    call_case("tg.Size", "a float size", lambda: tg.Size([2, 1.5]), "Size", "float")
    call_case("Tensor.type", "an unknown type name", lambda: tg.ones(2).type("torch.FooTensor"), "type", "FooTensor")
    call_case("tg.FloatTensor", "mixed data and sizes", lambda: tg.FloatTensor([1], 2), "FloatTensor", "list")
    call_case("Tensor.triu", "a 1-d tensor", lambda: tg.ones(3).triu(), "triu", "1")
    call_case("Tensor.triu", "a float diagonal", lambda: tg.ones(2, 2).triu(0.5), "triu", "float")
    call_case("autograd.Variable", "a list", lambda: tg.autograd.Variable([1.0]), "Variable", "list")


def _math_creation_and_sampling_cases():
    def call_case(entry, bad, fn, *says):
        case(entry, bad, lambda: (fn, []), *says)

    def on_x(entry, bad, fn, *says):
        def make():
            x = x23(requires_grad=True)
            return (lambda: fn(x)), [x]
        case(entry, bad, make, *says)

    on_x("tg.sin", "a list", lambda x: tg.sin([1.0, 2.0]), "sin", "list")
    on_x("Tensor.atan2", "a str operand", lambda x: x.atan2("abc"), "atan2", "str")
    on_x("Tensor.hypot", "a dict operand", lambda x: x.hypot({"a": 1}), "hypot", "dict")
    on_x("Tensor.polygamma", "a negative n", lambda x: x.polygamma(-1), "polygamma", "-1")
    on_x("tg.polygamma", "a float n", lambda x: tg.polygamma(1.5, x), "polygamma", "1.5")
    on_x("Tensor.mvlgamma", "p = 0", lambda x: x.mvlgamma(0), "mvlgamma", "0")
    on_x("Tensor.mvlgamma", "elements at or below (p-1)/2", lambda x: x.mvlgamma(3), "mvlgamma", "(p-1)/2")
    on_x("Tensor.round", "a float decimals", lambda x: x.round(1.5), "round", "float")
    on_x("Tensor.div", "an unknown rounding_mode", lambda x: x.div(2, rounding_mode="ceil"), "div", "ceil")
    on_x("Tensor.logit", "a negative eps", lambda x: x.logit(eps=-0.1), "logit", "-0.1")
    on_x("Tensor.isclose", "a negative rtol", lambda x: x.isclose(x, rtol=-1.0), "isclose", "-1")
    on_x("Tensor.bitwise_and", "float tensors", lambda x: x.bitwise_and(x), "bitwise_and", "float32")
    on_x("Tensor.prod", "a dim out of range", lambda x: x.prod(2), "prod", "2")
    on_x("Tensor.logsumexp", "a dim out of range", lambda x: x.logsumexp(-3), "logsumexp", "-3")
    on_x("Tensor.nan_to_num", "a str for nan", lambda x: x.nan_to_num("zero"), "nan_to_num", "str")
    on_x("Tensor.addcmul", "a str value", lambda x: x.addcmul(x, x, value="2"), "addcmul", "str")
    on_x("Tensor.add", "a str alpha", lambda x: x.add(x, alpha="2"), "add", "str")
    on_x("Tensor.sin_", "a leaf that requires grad", lambda x: x.sin_(), "sin_", "leaf")
    on_x("Tensor.norm", "p = 'nuc'", lambda x: x.norm("nuc"), "norm", "nuc")
    call_case("Tensor.frexp", "an int64 tensor", lambda: tg.tensor([1, 2]).frexp(), "frexp", "int64")
    call_case("Tensor.cos_", "an int64 tensor", lambda: tg.tensor([1, 2]).cos_(), "cos_", "int64")
    call_case("Tensor.imag", "a real tensor", lambda: tg.ones(2).imag, "imag", "complex")

    def igamma_in_a():
        a = tg.tensor([1.5, 2.0], dtype=tg.float64, requires_grad=True)
        out = tg.igamma(a, tg.tensor([1.0, 3.0], dtype=tg.float64))
        return (lambda: out.backward(tg.ones(2, dtype=tg.float64))), [a]
    case("Tensor.igamma backward", "a gradient for a", igamma_in_a, "igamma", "first argument")

    call_case("tg.linspace", "a negative steps", lambda: tg.linspace(0, 1, -2), "linspace", "-2")
    call_case("tg.linspace", "a str start", lambda: tg.linspace("a", 1, 3), "linspace", "str")
    call_case("tg.logspace", "a str base", lambda: tg.logspace(0, 1, 3, base="e"), "logspace", "str")
    call_case("tg.eye", "a negative n", lambda: tg.eye(-1), "eye", "-1")
    call_case("tg.eye", "a float m", lambda: tg.eye(2, 2.5), "eye", "2.5")
    call_case("tg.asarray", "copy=False of a list", lambda: tg.asarray([1.0], copy=False), "asarray", "copy")
    call_case("tg.as_tensor", "an unknown dtype", lambda: tg.as_tensor([1.0], dtype="float128x"), "as_tensor",
              "float128x")
    call_case("tg.randint_like", "low >= high", lambda: tg.randint_like(tg.ones(2), 3, 3), "randint", "low=3")
    call_case("tg.bernoulli", "probabilities above 1", lambda: tg.bernoulli(tg.tensor([0.5, 1.5])), "bernoulli",
              "[0, 1]")
    call_case("tg.bernoulli", "an int64 tensor", lambda: tg.bernoulli(tg.tensor([0, 1])), "bernoulli", "int64")
    call_case("tg.poisson", "a negative rate", lambda: tg.poisson(tg.tensor([1.0, -2.0])), "poisson", "negative")
    call_case("tg.normal", "a negative std", lambda: tg.normal(tg.zeros(2), tg.tensor([1.0, -1.0])), "normal",
              "std")
    call_case("tg.normal", "numbers without size", lambda: tg.normal(0.0, 1.0), "normal", "size")
    call_case("tg.normal", "a str mean", lambda: tg.normal("0", 1.0, (2,)), "normal", "str")
    call_case("tg.normal", "a bool dtype", lambda: tg.normal(0.0, 1.0, (2,), dtype=tg.bool_), "normal", "bool")
    call_case("tg.normal", "an int64 dtype", lambda: tg.normal(0.0, 1.0, (2,), dtype=tg.int64), "normal", "int64")
    call_case("tg.normal", "an integer mean tensor", lambda: tg.normal(tg.zeros(2, dtype=tg.int32), 1.0), "normal",
              "int32")
    call_case("tg.normal", "a dtype beside tensors", lambda: tg.normal(tg.zeros(2), 1.0, dtype=tg.float64), "normal",
              "dtype")

    def fill(entry, bad, fn, *says):
        def make():
            t = tg.zeros(4)
            return (lambda: fn(t)), [t]
        case(entry, bad, make, *says)

    fill("Tensor.bernoulli_", "p = 2", lambda t: t.bernoulli_(2), "bernoulli_", "2")
    fill("Tensor.exponential_", "lambd = 0", lambda t: t.exponential_(0), "exponential_", "0")
    fill("Tensor.cauchy_", "sigma = -1", lambda t: t.cauchy_(0.0, -1.0), "cauchy_", "-1")
    fill("Tensor.geometric_", "p = 0", lambda t: t.geometric_(0.0), "geometric_", "0")
    fill("Tensor.log_normal_", "std = inf", lambda t: t.log_normal_(0.0, float("inf")), "log_normal_", "inf")
    # not numbers: a str, a bool (bools are not numbers here), NaN
    fill("Tensor.bernoulli_", "p a str", lambda t: t.bernoulli_("0.5"), "bernoulli_", "'0.5'")
    fill("Tensor.bernoulli_", "p = True", lambda t: t.bernoulli_(True), "bernoulli_", "True")
    fill("Tensor.bernoulli_", "p = nan", lambda t: t.bernoulli_(float("nan")), "bernoulli_", "nan")
    fill("Tensor.geometric_", "p = True", lambda t: t.geometric_(True), "geometric_", "True")
    fill("Tensor.exponential_", "lambd a str", lambda t: t.exponential_("1"), "exponential_", "'1'")
    fill("Tensor.cauchy_", "sigma = True", lambda t: t.cauchy_(0.0, True), "cauchy_", "True")
    fill("Tensor.log_normal_", "std = nan", lambda t: t.log_normal_(0.0, float("nan")), "log_normal_", "nan")
    fill("Tensor.random_", "from >= to", lambda t: t.random_(4, 2), "random_", "from=4")
    fill("Tensor.random_", "a float bound", lambda t: t.random_(0, 2.5), "random_", "float")
    # fill values an integer tensor cannot hold
    for entry, fn in (("Tensor.fill_", lambda t, v: t.fill_(v)),
                      ("Tensor.masked_fill", lambda t, v: t.masked_fill(tg.tensor([True, False, True, False]), v)),
                      ("Tensor.index_fill", lambda t, v: t.index_fill(0, tg.tensor([1]), v))):
        who = entry.split(".")[1]
        for bad, v, says in (("NaN", float("nan"), "nan"), ("inf", float("inf"), "inf"), ("2**40", 2 ** 40, "int32")):
            def make(fn=fn, v=v):
                t = tg.zeros(4, dtype=tg.int32)
                return (lambda: fn(t, v)), [t]
            case(entry, f"{bad} into an int32 tensor", make, who, says)
    call_case("Tensor.random_", "an int64 tensor", lambda: tg.zeros(2, dtype=tg.int64).random_(0, 3), "random_",
              "int64")
    call_case("tg.set_rng_state", "a list", lambda: tg.set_rng_state([1, 2]), "set_rng_state", "list")
    call_case("tg.bmm", "batches that differ", lambda: tg.bmm(tg.ones(2, 3, 4), tg.ones(3, 4, 5)), "bmm", "(2, 3, 4)")
    call_case("Tensor.mv", "a vector of the wrong length", lambda: tg.ones(2, 3).mv(tg.ones(4)), "mv", "4")
    call_case("Tensor.addmm", "a str beta", lambda: tg.ones(2, 2).addmm(tg.ones(2, 2), tg.ones(2, 2), beta="1"),
              "addmm", "str")
    # the beta * self + alpha * product family: operands of the wrong rank, a self the product cannot take
    for entry, bad, fn, says in (
            ("Tensor.addr", "a 2-d vec1", lambda: tg.zeros(2, 3).addr(tg.ones(2, 1), tg.ones(3)), ("addr", "2-d")),
            ("Tensor.addr", "a 2-d vec2", lambda: tg.zeros(2, 3).addr(tg.ones(2), tg.ones(1, 3)), ("addr", "2-d")),
            ("Tensor.addr", "a list vec2", lambda: tg.zeros(2, 3).addr(tg.ones(2), [1.0, 1.0, 1.0]), ("addr", "list")),
            ("Tensor.addr", "a self larger than the product", lambda: tg.zeros(3, 3).addr(tg.ones(2), tg.ones(3)),
             ("addr", "(3, 3)", "(2, 3)")),
            ("Tensor.addmv", "a 2-d vec", lambda: tg.zeros(2).addmv(tg.ones(2, 3), tg.ones(3, 1)), ("addmv", "2-d")),
            ("Tensor.addmm", "a 1-d mat2", lambda: tg.zeros(2, 3).addmm(tg.ones(2, 3), tg.ones(3)), ("addmm", "1-d")),
            ("Tensor.addmm", "a self of more dims than the product",
             lambda: tg.zeros(2, 2, 3).addmm(tg.ones(2, 3), tg.ones(3, 3)), ("addmm", "(2, 2, 3)")),
            ("Tensor.baddbmm", "a 2-d batch1", lambda: tg.zeros(4, 2, 3).baddbmm(tg.ones(2, 5), tg.ones(4, 5, 3)),
             ("baddbmm", "2-d")),
            ("Tensor.addbmm", "a 2-d batch2", lambda: tg.zeros(2, 3).addbmm(tg.ones(4, 2, 5), tg.ones(5, 3)),
             ("addbmm", "2-d"))):
        call_case(entry, bad, fn, *says)
    call_case("Tensor.matrix_power", "a negative power", lambda: tg.ones(2, 2).matrix_power(-2), "matrix_power",
              "-2")
    call_case("Tensor.matrix_power", "a non-square matrix", lambda: tg.ones(2, 3).matrix_power(2), "matrix_power",
              "(2, 3)")
    call_case("Tensor.cross", "no dim of size 3", lambda: tg.ones(2, 2).cross(tg.ones(2, 2)), "cross", "size 3")
    call_case("Tensor.cov", "fweights of the wrong length", lambda: tg.ones(2, 4).cov(fweights=tg.ones(3)), "cov",
              "fweights")
    call_case("tg.gradient", "edge_order 2", lambda: tg.gradient(tg.ones(4), edge_order=2), "gradient", "2")
    call_case("tg.gradient", "edge_order 0", lambda: tg.gradient(tg.ones(4), edge_order=0), "gradient", "edge_order")
    call_case("tg.gradient", "a dim of one point", lambda: tg.gradient(tg.ones(1)), "gradient", "2 points")
    call_case("tg.vander", "a negative N", lambda: tg.vander(tg.ones(3), N=-1), "vander", "-1")
    call_case("tg.combinations", "a negative r", lambda: tg.combinations(tg.ones(3), -1), "combinations", "-1")
    call_case("Tensor.add_", "an int into a bool tensor", lambda: tg.tensor([True, False]).add_(1), "add_", "bool")
    call_case("Tensor.mul_", "an int tensor into a bool tensor",
              lambda: tg.tensor([True, False]).mul_(tg.tensor([2, 3])), "mul_", "bool")
    call_case("tg.unique", "a bool dim", lambda: tg.unique(tg.ones(2, 3), dim=True), "unique", "True")
    call_case("tg.unique", "a float dim", lambda: tg.unique(tg.ones(2, 3), dim=1.0), "unique", "1.0")
    call_case("tg.unique_consecutive", "a bool dim", lambda: tg.unique_consecutive(tg.ones(2, 3), dim=False),
              "unique_consecutive", "False")
    call_case("tg.unique_consecutive", "a float dim", lambda: tg.unique_consecutive(tg.ones(2, 3), dim=0.0),
              "unique_consecutive", "0.0")
    call_case("tg.trapezoid", "x and dx both", lambda: tg.trapezoid(tg.ones(3), tg.ones(3), dx=1.0), "trapezoid",
              "dx")
    call_case("tg.is_nonzero", "two elements", lambda: tg.is_nonzero(tg.ones(2)), "is_nonzero", "one element")
    call_case("tg.set_default_dtype", "an int dtype", lambda: tg.set_default_dtype(tg.int32), "set_default_dtype",
              "int32")
    call_case("tg.finfo", "an int dtype", lambda: tg.finfo(tg.int64), "finfo", "int64")
    call_case("tg.iinfo", "a float dtype", lambda: tg.iinfo(tg.float32), "iinfo", "float32")
    call_case("tg.set_printoptions", "an unknown profile", lambda: tg.set_printoptions(profile="tiny"),
              "set_printoptions", "tiny")
    call_case("tg.set_printoptions", "a negative precision", lambda: tg.set_printoptions(precision=-1),
              "set_printoptions", "-1")
    call_case("tg.set_printoptions", "a profile with a negative threshold",
              lambda: tg.set_printoptions(profile="full", threshold=-1), "set_printoptions", "-1")
    call_case("tg.set_printoptions", "a precision and a bad linewidth",
              lambda: tg.set_printoptions(precision=2, linewidth="80"), "set_printoptions", "'80'")
    call_case("tg.inference_mode", "a str mode", lambda: tg.inference_mode("yes"), "inference_mode", "str")
    call_case("Tensor.sum_to_size", "a size that does not broadcast", lambda: tg.ones(2, 3).sum_to_size(4),
              "sum_to_size", "(4,)")
    call_case("Tensor.type_as", "a list", lambda: tg.ones(2).type_as([1]), "type_as", "list")
    call_case("F.pad", "an odd number of pads", lambda: F.pad(tg.ones(2, 3), (1,)), "pad", "(1,)")
    call_case("F.pad", "more pairs than dims", lambda: F.pad(tg.ones(3), (1, 1, 1, 1)), "pad", "2")
    call_case("F.pad", "reflect wider than the dim", lambda: F.pad(tg.ones(2, 3), (3, 0), mode="reflect"), "pad",
              "reflect")
    call_case("F.pad", "an unknown mode", lambda: F.pad(tg.ones(2, 3), (1, 1), mode="mirror"), "pad", "mirror")
    call_case("F.gumbel_softmax", "tau = 0", lambda: F.gumbel_softmax(tg.ones(3), tau=0), "gumbel_softmax", "tau")
    call_case("F.alpha_dropout", "p = 2", lambda: F.alpha_dropout(tg.ones(3), 2.0, True), "alpha_dropout", "2")
    call_case("Tensor.hardshrink", "a negative lambd", lambda: tg.ones(3).hardshrink(-1.0), "hardshrink", "-1")
    call_case("autograd.set_detect_anomaly", "an int mode", lambda: tg.autograd.set_detect_anomaly(1),
              "set_detect_anomaly", "int")
    call_case("tg.set_rng_state", "bytes that are no state",
              lambda: tg.set_rng_state(tg.tensor([1, 2, 3], dtype=tg.uint8)), "set_rng_state", "get_rng_state")


def _new_api_cases():
    """The activations, losses, distributions, optimizers and schedulers beyond the core, by rule:
    each function refuses a non-tensor input, each distribution a str parameter, each optimizer a
    negative lr and each scheduler something that is no optimizer."""
    import inspect

    from tinygrad_bn import distributions as D
    from tinygrad_bn.nn import activation_functional, functional_misc, loss_functional
    from tinygrad_bn.optim import lr_scheduler

    def call_case(entry, bad, fn, *says):
        case(entry, bad, lambda: (fn, []), *says)

    def rest(f, first, last=None):
        """first, then valid values for f's other required arguments (a (2, 3) tensor unless named
        below), the last one replaced by ``last`` when given."""
        fills = {"weight": tg.ones(1), "threshold": 0.5, "value": 0.0, "pad": (1, 1), "lambd": 0.5}
        names = [q.name for q in inspect.signature(f).parameters.values()
                 if q.default is inspect.Parameter.empty and q.kind is q.POSITIONAL_OR_KEYWORD][1:]
        args = [fills.get(n, tg.randn(2, 3)) for n in names]
        if f is F.bilinear:
            args = [tg.randn(2, 3), tg.randn(4, 3, 3)]
        if last is not None:
            args[-1] = last
        return (first, *args)

    for name in activation_functional.__all__ + functional_misc.__all__:
        f = getattr(F, name)
        call_case(f"F.{name}", "input is None", lambda f=f: f(*rest(f, None)), name.rstrip("_"), ("None", "NoneType"))
    for name in loss_functional.__all__:
        f = getattr(F, name)
        call_case(f"F.{name}", "input is None", lambda f=f: f(*rest(f, None)), name, ("None", "NoneType"))
        call_case(f"F.{name}", "a str target", lambda f=f: f(*rest(f, tg.randn(2, 3), "abc")), name, "str")
    from tinygrad_bn.nn import activation, losses
    for name in activation.__all__ + losses.__all__:
        cls = getattr(nn, name)
        required = [q.name for q in inspect.signature(cls).parameters.values()
                    if q.default is inspect.Parameter.empty and q.kind is q.POSITIONAL_OR_KEYWORD]
        init_args = [{"threshold": 0.5, "value": 0.0}[n] for n in required]
        n_inputs = len([q for q in inspect.signature(cls.forward).parameters.values()
                        if q.default is inspect.Parameter.empty and q.kind is q.POSITIONAL_OR_KEYWORD]) - 1
        call_case(f"nn.{name}.forward", "input is None",
                  lambda cls=cls, a=init_args, k=n_inputs: cls(*a)(None, *[tg.randn(2, 3)] * (k - 1)),
                  ("None", "NoneType"))
    for name in D.__all__:
        cls = getattr(D, name)
        if not inspect.isclass(cls) or not issubclass(cls, D.Distribution) or inspect.isabstract(cls) \
                or name in ("Distribution", "Independent"):
            continue
        params = inspect.signature(cls).parameters
        if "probs" in params:  # the parameter PyTorch names: probs (logits the other way)
            args, kwargs = [1] * len([q for q in params.values() if q.default is inspect.Parameter.empty
                                      and q.kind is q.POSITIONAL_OR_KEYWORD]), {"probs": "abc"}
        else:
            required = [q for q in params.values() if q.default is inspect.Parameter.empty
                        and q.kind is q.POSITIONAL_OR_KEYWORD]
            args, kwargs = ["abc"] + [1.0] * (len(required) - 1), {}
        call_case(f"distributions.{name}", "a str parameter", lambda cls=cls, a=args, k=kwargs: cls(*a, **k), name,
                  "str")
    for name in ("Adagrad", "Adadelta", "Adamax", "NAdam", "RAdam", "Rprop", "ASGD"):
        def make(name=name):
            p = tg.zeros(2, requires_grad=True)
            return (lambda: getattr(optim, name)([p], lr=-1.0)), [p]
        case(f"optim.{name}", "lr = -1", make, name, "-1")
    for name in ("LambdaLR", "MultiplicativeLR", "MultiStepLR", "ConstantLR", "LinearLR", "ExponentialLR",
                 "PolynomialLR", "ReduceLROnPlateau", "CyclicLR", "OneCycleLR", "CosineAnnealingWarmRestarts",
                 "SequentialLR", "ChainedScheduler"):
        cls = getattr(lr_scheduler, name)
        fills = {"lr_lambda": lambda epoch: 1.0, "milestones": [1], "gamma": 0.9, "base_lr": 0.1, "max_lr": 1.0,
                 "T_0": 5, "schedulers": []}
        required = [q.name for q in inspect.signature(cls).parameters.values()
                    if q.default is inspect.Parameter.empty and q.kind is q.POSITIONAL_OR_KEYWORD][1:]
        call_case(f"lr_scheduler.{name}", "None for the optimizer",
                  lambda cls=cls, a=[fills[n] for n in required]: cls(None, *a), name, ("None", "NoneType", "optimizer"))


def _normalization_family_cases():
    from tinygrad_bn.nn.utils import parametrizations, parametrize

    def call_case(entry, bad, fn, *says):
        case(entry, bad, lambda: (fn, []), *says)

    call_case("F.rms_norm", "a normalized_shape that is not the input's last dims",
              lambda: F.rms_norm(tg.randn(2, 3), (4,)), "rms_norm", "(4,)")
    call_case("F.rms_norm", "a negative eps", lambda: F.rms_norm(tg.randn(2, 3), (3,), eps=-1.0), "rms_norm", "-1")
    call_case("nn.RMSNorm", "a normalized_shape of 0", lambda: nn.RMSNorm(0), "RMSNorm", "0")
    call_case("nn.RMSNorm", "a str eps", lambda: nn.RMSNorm(3, eps="small"), "RMSNorm", "str")

    def linear_case(entry, bad, fn, *says):
        def make():
            layer = nn.Linear(3, 2)
            return (lambda: fn(layer)), [layer]
        case(entry, bad, make, *says)

    class Widen(nn.Module):
        def forward(self, w):
            return tg.cat([w, w], 0)

    linear_case("parametrize.register_parametrization", "an unknown tensor name",
                lambda m: parametrize.register_parametrization(m, "kernel", nn.Identity()), "register_parametrization",
                "kernel")
    linear_case("parametrize.register_parametrization", "a parametrization that changes the shape",
                lambda m: parametrize.register_parametrization(m, "weight", Widen()), "register_parametrization",
                "shape")
    linear_case("parametrize.remove_parametrizations", "a module without parametrizations",
                lambda m: parametrize.remove_parametrizations(m, "weight"), "remove_parametrizations", "weight")
    linear_case("parametrizations.weight_norm", "an unknown name",
                lambda m: parametrizations.weight_norm(m, "kernel"), "weight_norm", "kernel")
    linear_case("parametrizations.weight_norm", "a dim out of range",
                lambda m: parametrizations.weight_norm(m, dim=5), "weight_norm", "5")
    linear_case("parametrizations.spectral_norm", "n_power_iterations 0",
                lambda m: parametrizations.spectral_norm(m, n_power_iterations=0), "spectral_norm", "0")


def _batch_renorm_cases():
    def functional_case(bad, fn, *says):
        """F.batch_renorm on a (4, 3) input with running buffers it must leave as they were."""
        def make():
            x, rm, rv = tg.randn(4, 3, requires_grad=True), tg.zeros(3), tg.ones(3)
            return (lambda: fn(x, rm, rv)), [x, rm, rv]
        case("F.batch_renorm", bad, make, *says)

    functional_case("r_max < 1", lambda x, rm, rv: F.batch_renorm(x, rm, rv, training=True, r_max=0.5),
                    "batch_renorm", "r_max", "0.5")
    functional_case("a negative d_max", lambda x, rm, rv: F.batch_renorm(x, rm, rv, training=True, d_max=-1.0),
                    "batch_renorm", "d_max", "-1")
    functional_case("an infinite r_max", lambda x, rm, rv: F.batch_renorm(x, rm, rv, training=True,
                                                                          r_max=float("inf")),
                    "batch_renorm", "r_max", "inf")
    functional_case("a str d_max", lambda x, rm, rv: F.batch_renorm(x, rm, rv, training=True, d_max="1"),
                    "batch_renorm", "d_max", "str")
    functional_case("no running buffers", lambda x, rm, rv: F.batch_renorm(x, None, None, training=True),
                    "batch_renorm", "running_mean")
    functional_case("a running_mean of the wrong size",
                    lambda x, rm, rv: F.batch_renorm(x, tg.zeros(4), rv, training=True),
                    "batch_renorm", "running_mean", "(4,)")
    functional_case("a weight of the wrong size",
                    lambda x, rm, rv: F.batch_renorm(x, rm, rv, tg.ones(2), training=True),
                    "batch_renorm", "weight", "(2,)")
    functional_case("a 1-d input", lambda x, rm, rv: F.batch_renorm(tg.randn(3), rm, rv, training=True),
                    "batch_renorm", "(3,)")
    functional_case("one value per channel", lambda x, rm, rv: F.batch_renorm(tg.randn(1, 3), rm, rv, training=True),
                    "batch_renorm", "(1, 3)")
    functional_case("a NaN in the input",
                    lambda x, rm, rv: F.batch_renorm(tg.tensor([[float("nan"), 0.0, 1.0], [1.0, 2.0, 3.0]]), rm, rv,
                                                     training=True),
                    "batch_renorm", "NaN")
    functional_case("a list input", lambda x, rm, rv: F.batch_renorm([[1.0, 2.0, 3.0]], rm, rv, training=True),
                    "batch_renorm", "list")

    def call_case(entry, bad, fn, *says):
        case(entry, bad, lambda: (fn, []), *says)

    call_case("nn.BatchRenorm1d", "r_max < 1", lambda: nn.BatchRenorm1d(3, r_max=0.9), "BatchRenorm1d", "r_max", "0.9")
    call_case("nn.BatchRenorm2d", "a negative d_max", lambda: nn.BatchRenorm2d(3, d_max=-2), "BatchRenorm2d",
              "d_max", "-2")
    call_case("nn.BatchRenorm1d", "track_running_stats=False",
              lambda: nn.BatchRenorm1d(3, track_running_stats=False), "BatchRenorm1d", "track_running_stats")
    call_case("nn.BatchRenorm1d", "a warmup that is an int", lambda: nn.BatchRenorm1d(3, warmup=100),
              "BatchRenorm1d", "warmup", "100")
    call_case("nn.BatchRenorm1d", "a negative warmup step", lambda: nn.BatchRenorm1d(3, warmup=(-1, 10)),
              "BatchRenorm1d", "warmup", "-1")

    def module_case(cls, bad, shape, *says):
        def make():
            m = getattr(nn, cls)(3, r_max=2.0, d_max=1.0)
            x = tg.randn(*shape)
            return (lambda: m(x)), [m, x]
        case(f"nn.{cls}", bad, make, cls, *says)

    module_case("BatchRenorm1d", "a 4-d input", (2, 3, 4, 4), "4D")
    module_case("BatchRenorm2d", "a 2-d input", (2, 3), "2D")
    module_case("BatchRenorm1d", "the wrong channel count", (2, 5), "5")


def _joining_indexing_and_init_cases():
    """The functions that are no tensor's method (joining, products, indices), nn.init's structured
    fills, kl_divergence and the PyTorch names these rely on: values, shapes and options to refuse."""
    from tinygrad_bn import distributions as D

    def call_case(entry, bad, fn, *says):
        case(entry, bad, lambda: (fn, []), *says)

    call_case("tg.einsum", "fewer operands than the equation has", lambda: tg.einsum("ij,jk->ik", tg.ones(2, 3)),
              "einsum", "1 operand")
    call_case("tg.einsum", "an equation that is not a str", lambda: tg.einsum(3, tg.ones(2, 3)), "einsum", "int")
    call_case("tg.einsum", "sizes of one letter that differ", lambda: tg.einsum("ij,jk->ik", tg.ones(2, 3), tg.ones(4, 2)),
              "einsum", "j")
    call_case("tg.einsum", "a letter in the output only", lambda: tg.einsum("ij->ik", tg.ones(2, 3)), "einsum", "k")
    call_case("tg.einsum", "more letters than dims", lambda: tg.einsum("ijk->i", tg.ones(2, 3)), "einsum", "3")
    call_case("tg.cdist", "column counts that differ", lambda: tg.cdist(tg.ones(3, 4), tg.ones(2, 5)), "cdist", "5")
    call_case("tg.cdist", "a negative p", lambda: tg.cdist(tg.ones(3, 4), tg.ones(2, 4), p=-1), "cdist", "-1")
    call_case("tg.cdist", "1-d inputs", lambda: tg.cdist(tg.ones(4), tg.ones(4)), "cdist", "1")
    call_case("tg.searchsorted", "side 'middle'",
              lambda: tg.searchsorted(tg.arange(5.0), tg.ones(1), side="middle"), "searchsorted", "middle")
    call_case("tg.searchsorted", "right=True with side='left'",
              lambda: tg.searchsorted(tg.arange(5.0), tg.ones(1), right=True, side="left"), "searchsorted", "side")
    call_case("tg.searchsorted", "leading dims that differ",
              lambda: tg.searchsorted(tg.ones(2, 5), tg.ones(3, 1)), "searchsorted", ("(3, 1)", "(2, 5)", "3"))
    call_case("tg.bucketize", "2-d boundaries", lambda: tg.bucketize(tg.ones(1), tg.ones(2, 2)), "bucketize", "2")
    for entry, fn in (("F.dropout", lambda x, inplace: F.dropout(x, 0.5, True, inplace)),
                      ("F.alpha_dropout", lambda x, inplace: F.alpha_dropout(x, 0.5, True, inplace))):
        for inplace in (False, True):
            call_case(entry, f"an int64 input in training{' in place' if inplace else ''}",
                      lambda fn=fn, inplace=inplace: fn(tg.ones(3, dtype=tg.int64), inplace),
                      entry.split(".")[1], "int64")
    call_case("tg.bincount", "a 2-d input", lambda: tg.bincount(tg.ones(2, 2, dtype=tg.int64)), "bincount", "2-d")
    call_case("tg.bincount", "a float input", lambda: tg.bincount(tg.ones(3)), "bincount", "float32")
    call_case("tg.bincount", "a negative value", lambda: tg.bincount(tg.tensor([1, -2])), "bincount", "-2")
    call_case("tg.searchsorted", "a 0-d sorted_sequence", lambda: tg.searchsorted(tg.tensor(1.0), tg.ones(1)),
              "searchsorted", "0-d")
    call_case("tg.bucketize", "0-d boundaries", lambda: tg.bucketize(tg.ones(1), tg.tensor(1.0)), "bucketize", "()")
    call_case("tg.meshgrid", "indexing 'zz'", lambda: tg.meshgrid(tg.arange(3.0), tg.arange(2.0), indexing="zz"),
              "meshgrid", "'zz'")
    call_case("tg.meshgrid", "a 2-d tensor", lambda: tg.meshgrid(tg.ones(2, 2), tg.ones(2), indexing="ij"),
              "meshgrid", "2")
    call_case("tg.repeat_interleave", "a negative repeat", lambda: tg.repeat_interleave(tg.arange(3.0), -1),
              "repeat_interleave", "-1")
    call_case("tg.repeat_interleave", "repeats of the wrong length",
              lambda: tg.repeat_interleave(tg.arange(3.0), tg.tensor([1, 2])), "repeat_interleave", "2")
    call_case("tg.tensordot", "dims 5 of 2-d tensors", lambda: tg.tensordot(tg.ones(2, 3), tg.ones(3, 2), dims=5),
              "tensordot", "5")
    call_case("tg.tensordot", "contracted sizes that differ",
              lambda: tg.tensordot(tg.ones(2, 3), tg.ones(4, 2), dims=([1], [0])), "tensordot", ("3", "4"))
    call_case("tg.block_diag", "a list argument", lambda: tg.block_diag([1, 2]), "block_diag", "list")
    call_case("tg.block_diag", "a 3-d tensor", lambda: tg.block_diag(tg.ones(2, 2, 2)), "block_diag", "3")
    for name in ("tril_indices", "triu_indices"):
        fn = getattr(tg, name)
        call_case(f"tg.{name}", "a negative row", lambda fn=fn: fn(-1, 3), name, "-1")
        call_case(f"tg.{name}", "a float col", lambda fn=fn: fn(3, 2.5), name, "2.5")
        call_case(f"tg.{name}", "a str offset", lambda fn=fn: fn(3, 3, "1"), name, "str")
    call_case("tg.hstack", "a tensor, not a sequence", lambda: tg.hstack(tg.ones(2, 3)), "hstack", "Tensor")
    call_case("tg.hstack", "an empty list", lambda: tg.hstack([]), "hstack", ("empty", "[]"))
    call_case("tg.vstack", "shapes that differ", lambda: tg.vstack([tg.ones(2, 3), tg.ones(2, 4)]), "vstack",
              "(2, 4)")
    call_case("tg.dstack", "shapes that differ", lambda: tg.dstack([tg.ones(2, 3), tg.ones(3, 3)]), "dstack",
              ("(3, 3", "(1, 3, 3)"))
    call_case("tg.column_stack", "row counts that differ", lambda: tg.column_stack([tg.ones(2), tg.ones(3)]),
              "column_stack", "3")
    call_case("tg.unravel_index", "float indices", lambda: tg.unravel_index(tg.tensor([1.5]), (2, 3)),
              "unravel_index", "float32")
    call_case("tg.unravel_index", "an index past the shape", lambda: tg.unravel_index(tg.tensor([6]), (2, 3)),
              "unravel_index", "6")
    call_case("tg.unravel_index", "a negative size", lambda: tg.unravel_index(tg.tensor([1]), (2, -3)),
              "unravel_index", "-3")
    call_case("tg.isin", "elements that are a str", lambda: tg.isin("a", tg.ones(2)), "isin", "str")
    call_case("tg.isin", "test elements that are a dict", lambda: tg.isin(tg.ones(2), {"a": 1}), "isin", "dict")
    call_case("nn.init.trunc_normal_", "a > b", lambda: nn.init.trunc_normal_(tg.empty(3, 3), a=2.0, b=-2.0),
              "trunc_normal_", "2")
    call_case("nn.init.trunc_normal_", "a negative std", lambda: nn.init.trunc_normal_(tg.empty(3, 3), std=-1.0),
              "trunc_normal_", "-1")
    call_case("nn.init.orthogonal_", "a 1-d tensor", lambda: nn.init.orthogonal_(tg.empty(3)), "orthogonal_", "1")
    call_case("nn.init.sparse_", "sparsity 1.5", lambda: nn.init.sparse_(tg.empty(3, 3), 1.5), "sparse_", "1.5")
    call_case("nn.init.sparse_", "a 3-d tensor", lambda: nn.init.sparse_(tg.empty(2, 2, 2), 0.5), "sparse_", "3")
    call_case("nn.init.eye_", "a 3-d tensor", lambda: nn.init.eye_(tg.empty(2, 2, 2)), "eye_", "3")
    call_case("nn.init.dirac_", "a 2-d tensor", lambda: nn.init.dirac_(tg.empty(2, 2)), "dirac_", "2")
    call_case("nn.init.dirac_", "groups that do not divide the channels",
              lambda: nn.init.dirac_(tg.empty(3, 3, 3), groups=2), "dirac_", "2")
    call_case("distributions.kl_divergence", "a pair with no registered KL",
              lambda: D.kl_divergence(D.Normal(0.0, 1.0), D.Categorical(tg.ones(3))), "kl_divergence", "Normal",
              "Categorical")
    call_case("distributions.kl_divergence", "q not a distribution",
              lambda: D.kl_divergence(D.Normal(0.0, 1.0), 3.0), "kl_divergence", "float")
    call_case("Tensor.type", "an unknown dtype name", lambda: tg.ones(2).type("torch.Foo"), "type", "torch.Foo")
    call_case("Tensor.type", "an int", lambda: tg.ones(2).type(3), "type", "int")
    call_case("tg.device", "an unknown device type", lambda: tg.device("banana"), "device", "banana")
    call_case("tg.device", "a negative index", lambda: tg.device("cpu", -1), "device", "-1")
    call_case("tg.Generator", "an unknown device", lambda: tg.Generator(device="tpu"), "Generator", "tpu")
    call_case("Tensor.new_full", "a size that is a str", lambda: tg.zeros(3).new_full("a", 1.0), "new_full", "'a'")
    call_case("Tensor.new_full", "a fill value that is a str", lambda: tg.zeros(3).new_full((2,), "x"), "new_full",
              "'x'")
    call_case("Tensor.new_zeros", "a negative size", lambda: tg.zeros(3).new_zeros(-2), "new_zeros", "-2")
    call_case("Tensor.uniform_", "a generator that is an int", lambda: tg.zeros(3).uniform_(generator=3), "uniform_",
              "int")
    call_case("tg.rand_like", "a generator that is a str", lambda: tg.rand_like(tg.zeros(3), generator="g"),
              "rand", "str")
    call_case("Tensor.all", "dim 2 of 2-d", lambda: tg.ones(2, 3).all(2), "all", "2")
    call_case("Tensor.any", "a dim repeated", lambda: tg.ones(2, 3).any(dim=(0, 0)), "any", "(0, 0)")
    call_case("Tensor.sum", "dim and axis both", lambda: tg.ones(2, 3).sum(dim=0, axis=1), "sum", "axis")
    call_case("Tensor.clamp", "a bound that is a str", lambda: tg.ones(2).clamp(min="a"), "clamp", "'a'")
    call_case("Tensor.max", "a tensor with keepdim", lambda: tg.ones(2).max(tg.ones(2), True), "max", "keepdim")


def all_cases():
    CASES.clear()
    for build in (_tensor_argument_cases, _operand_cases, _layer_input_cases, _constructor_cases, _tensor_op_cases,
                  _functional_argument_cases, _module_cases, _data_cases, _serialization_cases, _cli_cases,
                  _semantics_device_and_file_cases, _sampling_and_name_cases, _math_creation_and_sampling_cases,
                  _new_api_cases, _normalization_family_cases, _batch_renorm_cases, _joining_indexing_and_init_cases):
        build()
    return list(CASES)
