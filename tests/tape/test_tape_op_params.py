"""Each op's record on the tape says what the op was given: the parameters a
reader of the tape uses to tell one call from another (sizes, dims, eps,
modes). Inputs are chosen so that each parameter differs from its neighbours
(a Linear of 3 to 5 features, dims other than 0 and -1 where it matters), so a
parameter taken from the wrong place shows."""
import pytest

import tinygrad_bn as tg
import tinygrad_bn.nn.functional as F
from tinygrad_bn import nn


def _params(run):
    with tg.Tape() as tape:
        run()
    return [(e.op, dict(e.params)) for e in tape]


def test_the_forward_ops_record_the_parameters_they_were_given():
    x = tg.randn(4, 3, requires_grad=True)
    lin = nn.Linear(3, 5)
    y = lin(x).detach().requires_grad_()

    def run():
        lin(x)
        y.sum(1, keepdim=True)
        y.var(0, correction=0)
        y.reshape(2, 10)
        y.permute(1, 0)
        y[:, :1].expand(4, 5)
        y.clamp(min=-1, max=2)
        F.leaky_relu(y, 0.3)
        F.gelu(y, approximate="tanh")
        y.to(tg.float64)
        y.softmax(1)
        y.log_softmax(0)
        y.norm(dim=1)
        F.cross_entropy(y, tg.tensor([0, 1, 2, 3]), reduction="sum", ignore_index=2)
        tg.cat([y, y], 1)
        tg.stack([y, y], 0)
        y.max(1)
        y.mean(0)

    got = _params(run)
    want = [
        ("Linear", {"in_features": 3, "out_features": 5}),
        ("Sum", {"dim": (1,), "keepdim": True}),
        ("Var", {"dim": (0,), "correction": 0, "keepdim": False}),
        ("Reshape", {"shape": (2, 10)}),
        ("Permute", {"dims": (1, 0)}),
        ("Expand", {"shape": (4, 5)}),
        ("Clip", {"min": -1, "max": 2}),
        ("LeakyReLU", {"negative_slope": 0.3}),
        ("GELU", {"approximate": "tanh"}),
        ("Cast", {"dtype": "float64"}),
        ("Softmax", {"dim": 1}),
        ("LogSoftmax", {"dim": 0}),
        ("Norm2", {"p": 2, "dim": (1,), "keepdim": False}),
        ("CrossEntropy", {"reduction": "sum", "ignore_index": 2}),
        ("Cat", {"dim": 1}),
        ("Stack", {"dim": 0}),
        ("Max", {"dim": (1,), "keepdim": False}),
        ("Mean", {"dim": (0,), "keepdim": False}),
    ]
    assert [g for g in got if g[0] != "GetItem"] == want


def test_the_norms_and_their_recorded_backwards_record_their_parameters():
    y = tg.randn(4, 5, requires_grad=True)
    w = tg.randn(4, 5)

    def run():
        F.layer_norm(y, (5,), eps=1e-3)
        F.group_norm(tg.randn(4, 6, requires_grad=True), 3, eps=1e-4)
        F.batch_norm(y, None, None, training=True, eps=1e-2)
        nn.BatchRenorm1d(5, r_max=2.5, d_max=4.0, affine=False)(y)
        F.rms_norm(y, (5,), eps=1e-5)
        tg.autograd.grad((F.layer_norm(y, (5,), eps=1e-3) * w).sum(), y, create_graph=True)
        tg.autograd.grad(F.cross_entropy(y, tg.tensor([0, 1, 2, 3]), reduction="sum"), y, create_graph=True)

    got = [g for g in _params(run) if g[0] not in ("Mul", "Sum", "Add")]
    assert got == [
        ("LayerNorm", {"eps": 1e-3, "normalized_shape": (5,), "affine": False}),
        ("GroupNorm", {"eps": 1e-4, "num_groups": 3, "affine": False}),
        ("BatchNorm", {"eps": 1e-2, "training": True, "affine": False}),
        ("BatchRenorm", {"eps": 1e-5, "r_max": 2.5, "d_max": 4.0, "affine": False}),
        ("RMSNorm", {"eps": 1e-5, "normalized_shape": (5,), "affine": False}),
        ("LayerNorm", {"eps": 1e-3, "normalized_shape": (5,), "affine": False}),
        ("NormBackward", {"norm": "layer", "eps": 1e-3, "training": True}),
        ("CrossEntropy", {"reduction": "sum", "ignore_index": -100}),
        ("CrossEntropyBackward", {"reduction": "sum"}),
    ]



@pytest.mark.parametrize("shape, normalized", [((2, 3, 4), (4,)), ((2, 3, 4), (3, 4)), ((2, 3, 4, 5), (4, 5)),
                                               ((2, 3, 4, 5), (5,)), ((2, 3, 4, 5), (3, 4, 5))])
def test_layer_and_rms_norm_record_the_trailing_shape_they_normalize(shape, normalized):
    """The recorded normalized_shape is the input's last dims, for inputs of 3 and 4
    dims and 1 to 3 normalized dims (a 2-d input cannot tell x.shape[1:] from others)."""
    x = tg.randn(*shape, requires_grad=True)
    got = _params(lambda: (F.layer_norm(x, normalized), F.rms_norm(x, normalized)))
    assert got == [("LayerNorm", {"eps": 1e-5, "normalized_shape": normalized, "affine": False}),
                   ("RMSNorm", {"eps": got[1][1]["eps"], "normalized_shape": normalized, "affine": False})]
