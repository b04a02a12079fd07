"""Reference models from the batch-norm tutorials."""
from . import nn


class SimpleNet(nn.Module):
    """784-64-ReLU-128-ReLU-10: the MLP of the batch-norm tutorials, without normalization."""

    def __init__(self, in_features=784, num_classes=10):
        super().__init__()
        self.layers = nn.Sequential(
            nn.Linear(in_features, 64), nn.ReLU(),
            nn.Linear(64, 128), nn.ReLU(),
            nn.Linear(128, num_classes),
        )

    def forward(self, x):
        return self.layers(x)


class SimpleNetBN(nn.Module):
    """784-64-BN-ReLU-128-BN-ReLU-10: SimpleNet with batch norm after each hidden Linear."""

    def __init__(self, in_features=784, num_classes=10):
        super().__init__()
        self.layers = nn.Sequential(
            nn.Linear(in_features, 64), nn.BatchNorm1d(64), nn.ReLU(),
            nn.Linear(64, 128), nn.BatchNorm1d(128), nn.ReLU(),
            nn.Linear(128, num_classes),
        )

    def forward(self, x):
        return self.layers(x)


MODELS = {"simplenet": SimpleNet, "simplenet-bn": SimpleNetBN}


def build_model(name):
    try:
        return MODELS[name]()
    except KeyError:
        raise ValueError(f"unknown model {name!r}; choose one of {sorted(MODELS)}") from None
