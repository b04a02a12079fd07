"""Every size argument of a layer is at least 1: a size of 0 (which PyTorch takes,
building an empty weight) is refused with a ValueError naming the layer, the argument
and the value, for each argument of each layer; a size of 1 builds."""
import pytest

from tinygrad_bn import nn

# (layer, argument, its position, the other arguments)
SIZES = [
    ("Linear", "in_features", 0, (3, 2)),
    ("Linear", "out_features", 1, (3, 2)),
    ("Bilinear", "in1_features", 0, (3, 2, 4)),
    ("Bilinear", "in2_features", 1, (3, 2, 4)),
    ("Bilinear", "out_features", 2, (3, 2, 4)),
    ("Embedding", "num_embeddings", 0, (5, 3)),
    ("Embedding", "embedding_dim", 1, (5, 3)),
    ("PReLU", "num_parameters", 0, (3,)),
    ("BatchNorm1d", "num_features", 0, (3,)),
    ("BatchNorm2d", "num_features", 0, (3,)),
    ("InstanceNorm1d", "num_features", 0, (3,)),
    ("InstanceNorm2d", "num_features", 0, (3,)),
    ("BatchRenorm1d", "num_features", 0, (3,)),
    ("BatchRenorm2d", "num_features", 0, (3,)),
    ("GroupNorm", "num_channels", 1, (1, 4)),
]


@pytest.mark.parametrize("layer, name, position, args", SIZES, ids=[f"{c}-{n}" for c, n, _, _ in SIZES])
def test_a_size_of_zero_is_refused_and_one_builds(layer, name, position, args):
    cls = getattr(nn, layer)
    zero = list(args)
    zero[position] = 0
    with pytest.raises(ValueError, match=rf"^{layer}: {name} must be >= 1, got 0$"):
        cls(*zero)
    one = list(args)
    one[position] = 1
    if layer == "GroupNorm":
        one[0] = 1
    built = cls(*one)
    assert getattr(built, name) == 1
