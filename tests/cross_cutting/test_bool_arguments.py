"""A bool is not a number to the argument checks. Python's True is an int (1), so a
check written as ``isinstance(x, int)`` takes it; PyTorch's argument parser
refuses a bool wherever it wants an int (a size, a dim, a count, an index), and
so does every checker here that takes numbers, with a message naming the entry
point, the argument and the bool. Where PyTorch's own Python checks let a bool
through as 1 (``lr=True``), number_arg refuses it too ("bools are not numbers here").

Each case below runs against PyTorch as well when it is installed, to show
PyTorch refuses the same bool."""
import numpy as np
import pytest

import tinygrad_bn as tg
from tinygrad_bn import nn, optim
from tinygrad_bn.arguments import number_arg
from tinygrad_bn.nn import functional as F

BOOLS = [True, False, np.True_]


@pytest.mark.parametrize("value", BOOLS, ids=["True", "False", "np.True_"])
@pytest.mark.parametrize("kw", [{}, {"integer": True}, {"low": 0}, {"low": 0, "high": 1}, {"allow_none": True},
                                {"finite": False}], ids=str)
def test_number_arg_refuses_a_bool_naming_the_op_the_argument_and_the_value(value, kw):
    with pytest.raises(TypeError, match=rf"^op: lr must be (a number|an int), got (bool|bool_) {value!r}$"):
        number_arg("op", "lr", value, **kw)
    assert number_arg("op", "lr", 1, **kw) == 1  # the int it equals is taken


def _x(lib, *shape):
    return lib.arange(6.0).reshape(*shape) if shape else lib.arange(6.0)


# name -> (call(lib, F): the entry point given a bool, the message ours gives). Every one is an
# argument PyTorch's parser reads as an int (or a list of ints) and so refuses a bool for.
CASES = {
    # sizes
    "zeros(True, 2)": (lambda L, F: L.zeros(True, 2), r"zeros: .*True"),
    "zeros((True, 2))": (lambda L, F: L.zeros((True, 2)), r"zeros: .*True"),
    "ones(True)": (lambda L, F: L.ones(True), r"ones: .*True"),
    "randn(True, 2)": (lambda L, F: L.randn(True, 2), r"randn: .*True"),
    "full((True,), 1.0)": (lambda L, F: L.full((True,), 1.0), r"full: .*True"),
    "reshape(True, -1)": (lambda L, F: _x(L).reshape(True, -1), r"reshape: expected a shape of ints, got \(True, -1\)"),
    "expand(True, 6)": (lambda L, F: _x(L, 1, 6).expand(True, 6), r"expand: expected a shape of ints, got \(True, 6\)"),
    "repeat(True, 1)": (lambda L, F: _x(L).repeat(True, 1), r"repeat: .*True"),
    "permute(True, 0)": (lambda L, F: _x(L, 2, 3).permute(True, 0), r"permute: .*True"),
    # dims
    "sum(dim=True)": (lambda L, F: _x(L, 2, 3).sum(dim=True), r"sum: dim must be an int or a tuple of ints, got True"),
    "flip((True,))": (lambda L, F: L.flip(_x(L, 2, 3), (True,)), r"flip: dim .*True"),
    "flatten(True)": (lambda L, F: _x(L, 2, 3).flatten(True), r"flatten: dim .*True"),
    "transpose(True, 0)": (lambda L, F: _x(L, 2, 3).transpose(True, 0), r"transpose: dim .*True"),
    "transpose(True, 0) of a vector": (lambda L, F: _x(L).transpose(True, 0), r"transpose: dim .*True"),
    "unsqueeze(True)": (lambda L, F: _x(L, 2, 3).unsqueeze(True), r"unsqueeze: dim .*True"),
    "squeeze(True)": (lambda L, F: _x(L, 1, 6).squeeze(True), r"squeeze: dim .*True"),
    "softmax(x, True)": (lambda L, F: F.softmax(_x(L, 2, 3), True), r"softmax: dim .*True"),
    "log_softmax(x, True)": (lambda L, F: F.log_softmax(_x(L, 2, 3), True), r"log_softmax: dim .*True"),
    "argmax(True)": (lambda L, F: _x(L, 2, 3).argmax(True), r"argmax: dim .*True"),
    "cumsum(True)": (lambda L, F: _x(L, 2, 3).cumsum(True), r"cumsum: dim .*True"),
    "cat(dim=True)": (lambda L, F: L.cat([_x(L, 2, 3)] * 2, True), r"cat: dim .*True"),
    "stack(dim=True)": (lambda L, F: L.stack([_x(L, 2, 3)] * 2, True), r"stack: dim .*True"),
    "index_select(True, i)": (lambda L, F: _x(L, 2, 3).index_select(True, L.tensor([0])), r"index_select: dim .*True"),
    "narrow(True, 0, 1)": (lambda L, F: _x(L, 2, 3).narrow(True, 0, 1), r"narrow: dim .*True"),
    "movedim(True, 0)": (lambda L, F: _x(L, 2, 3).movedim(True, 0), r"movedim: .*True"),
    # counts and offsets
    "topk(True)": (lambda L, F: _x(L).topk(True), r"topk: k must be an int, got bool True"),
    "kthvalue(True)": (lambda L, F: _x(L).kthvalue(True), r"kthvalue: k must be an int, got bool True"),
    "chunk(True)": (lambda L, F: _x(L).chunk(True), r"chunk: chunks must be an int, got bool True"),
    "split(True)": (lambda L, F: _x(L).split(True), r"split: .*True"),
    "tensor_split(True)": (lambda L, F: L.tensor_split(_x(L), True), r"tensor_split: .*True"),
    "roll(True)": (lambda L, F: L.roll(_x(L), True), r"roll: shifts .*True"),
    "rot90(x, True)": (lambda L, F: L.rot90(_x(L, 2, 3), True), r"rot90: k must be an int, got bool True"),
    "diagonal(True)": (lambda L, F: _x(L, 2, 3).diagonal(True), r"diagonal: offset must be an int, got bool True"),
    "tril(True)": (lambda L, F: _x(L, 2, 3).tril(True), r"tril: diagonal must be an int, got bool True"),
    "diff(n=True)": (lambda L, F: L.diff(_x(L), n=True), r"diff: n must be an int >= 0, got True"),
    "unfold(0, True, 1)": (lambda L, F: _x(L).unfold(0, True, 1), r"unfold: size must be an int >= 0, got True"),
    "linspace(0, 1, True)": (lambda L, F: L.linspace(0, 1, True), r"linspace: steps must be an int >= 0, got True"),
    "multinomial(w, True)": (lambda L, F: L.multinomial(L.ones(3), True),
                             r"multinomial: num_samples must be a positive int, got True"),
    # layers and their functionals
    "layer_norm(x, True)": (lambda L, F: F.layer_norm(_x(L, 6, 1), True),
                            r"layer_norm: normalized_shape must be an int or a tuple of ints, got bool True"),
    "layer_norm(x, (True,))": (lambda L, F: F.layer_norm(_x(L, 6, 1), (True,)),
                               r"layer_norm: normalized_shape must be an int or a tuple of ints, got \(True,\)"),
    "LayerNorm(True)": (lambda L, F: L.nn.LayerNorm(True), r"LayerNorm: normalized_shape .*True"),
    "group_norm(x, True)": (lambda L, F: F.group_norm(_x(L, 1, 2, 3), True),
                            r"group_norm: num_groups must be a positive int, got True"),
    "BatchNorm1d(True)": (lambda L, F: L.nn.BatchNorm1d(True), r"BatchNorm1d: num_features must be an int, got bool True"),
    "Embedding(True, 2)": (lambda L, F: L.nn.Embedding(True, 2), r"Embedding: num_embeddings must be an int, got bool"),
    "cross_entropy(ignore_index=True)": (
        lambda L, F: F.cross_entropy(_x(L, 2, 3), L.tensor([0, 1]), ignore_index=True),
        r"cross_entropy: ignore_index must be an int, got bool True"),
    "nll_loss(ignore_index=True)": (
        lambda L, F: F.nll_loss(_x(L, 2, 3), L.tensor([0, 1]), ignore_index=True),
        r"nll_loss: ignore_index must be an int, got bool True"),
    "Adam(betas=(True, 0.9))": (lambda L, F: L.optim.Adam([L.zeros(1, requires_grad=True)], betas=(True, 0.9)),
                                r"Adam: betas\[0\] must be a number, got bool True"),
    "set_num_threads(True)": (lambda L, F: L.set_num_threads(True), r"set_num_threads: expected a positive int, got True"),
}


@pytest.mark.parametrize("name", list(CASES))
def test_a_bool_where_pytorch_wants_an_int_is_refused_with_a_clear_message(name):
    call, says = CASES[name]
    with pytest.raises((TypeError, ValueError), match=says):
        call(tg, F)


@pytest.mark.parametrize("name", list(CASES))
def test_pytorch_refuses_the_same_bools(name):
    torch = pytest.importorskip("torch")
    call, _ = CASES[name]
    with pytest.raises((TypeError, ValueError, RuntimeError)):
        call(torch, torch.nn.functional)


def test_a_bool_anywhere_in_a_list_of_sizes_or_dims_is_refused():
    """PyTorch's parser looks at the first item of a list of ints only (``zeros((2, True))``
    passes there); here every item is checked."""
    x = tg.arange(6.0).reshape(2, 3)
    for call, says in ((lambda: tg.zeros((2, True)), r"zeros: .*\(2, True\)"),
                       (lambda: x.view(-1, True), r"view: expected a shape of ints, got \(-1, True\)"),
                       (lambda: x.mean(dim=(0, True)), r"mean: dim must be an int or a tuple of ints, got True"),
                       (lambda: x.permute(0, True), r"permute: expected a shape of ints, got \(0, True\)"),
                       (lambda: F.layer_norm(x, (3, True)), r"layer_norm: normalized_shape .*\(3, True\)")):
        with pytest.raises(TypeError, match=says):
            call()


# where PyTorch's checks are Python comparisons, a bool passes there as 1; number_arg refuses it here
STRICTER = {
    "SGD(lr=True)": (lambda: optim.SGD([tg.zeros(1, requires_grad=True)], lr=True), "SGD: lr"),
    "SGD(momentum=False)": (lambda: optim.SGD([tg.zeros(1, requires_grad=True)], lr=0.1, momentum=False),
                            "SGD: momentum"),
    "StepLR(step_size=True)": (
        lambda: optim.lr_scheduler.StepLR(optim.SGD([tg.zeros(1, requires_grad=True)], lr=0.1), True),
        "StepLR: step_size"),
    "ExponentialLR(gamma=True)": (
        lambda: optim.lr_scheduler.ExponentialLR(optim.SGD([tg.zeros(1, requires_grad=True)], lr=0.1), True),
        "ExponentialLR: gamma"),
    "BatchNorm1d(eps=True)": (lambda: nn.BatchNorm1d(3, eps=True), "BatchNorm1d: eps"),
    "BatchNorm1d(momentum=True)": (lambda: nn.BatchNorm1d(3, momentum=True), "BatchNorm1d: momentum"),
    "Dropout(True)": (lambda: nn.Dropout(True), "Dropout: p"),
    "Linear(True, 2)": (lambda: nn.Linear(True, 2), "Linear: in_features"),
    "clip_grad_norm_(max_norm=True)": (lambda: nn.utils.clip_grad_norm_([tg.zeros(1, requires_grad=True)], True),
                                       "clip_grad_norm_: max_norm"),
    "Flatten(True)": (lambda: nn.Flatten(True), "Flatten: start_dim"),
    "clamp(True)": (lambda: tg.arange(3.0).clamp(True), r"clamp.*: min"),
}


@pytest.mark.parametrize("name", list(STRICTER))
def test_number_arg_users_refuse_bools_pytorch_takes_as_one(name):
    call, says = STRICTER[name]
    with pytest.raises(TypeError, match=rf"{says} must be (a number|an int), got bool (True|False)"):
        call()
