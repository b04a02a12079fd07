"""Training steps of the reference MLPs for the benchmarks: SimpleNet
(784-64-ReLU-128-ReLU-10) and SimpleNetBN (BatchNorm1d after each hidden
Linear), SGD with momentum and cross entropy, ours and PyTorch's, built alike.
Each ``step()`` returns the loss tensor; whether to read it (a host sync) is
the caller's choice. Imports happen inside, so importing this module loads
neither framework (PyTorch's OpenMP must not start before a benchmark wants it)."""
import numpy as np


def _step(model, opt, loss_fn, xb, yb):
    """The same training step in either framework (they share these names)."""
    def step():
        opt.zero_grad()
        loss = loss_fn(model(xb), yb)
        loss.backward()
        opt.step()
        return loss

    return step


def ours_step(model_name, x, y, device="cpu"):
    """A tinygrad_bn step on batch ``x`` (N, 784) float32, ``y`` (N,) int."""
    import tinygrad_bn as tg
    from tinygrad_bn import nn, optim
    from tinygrad_bn.models import SimpleNet, SimpleNetBN

    tg.manual_seed(0)
    model = (SimpleNet() if model_name == "simplenet" else SimpleNetBN()).to(device)
    opt = optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    xb, yb = tg.tensor(x, device=device), tg.tensor(y, device=device)
    return _step(model, opt, loss_fn, xb, yb)


def torch_step(model_name, x, y, device="cpu"):
    """The same model and step in PyTorch."""
    import torch

    torch.manual_seed(0)
    nn = torch.nn
    norm = (lambda n: nn.Identity()) if model_name == "simplenet" else nn.BatchNorm1d
    model = nn.Sequential(nn.Linear(784, 64), norm(64), nn.ReLU(), nn.Linear(64, 128), norm(128), nn.ReLU(),
                          nn.Linear(128, 10)).to(device)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    xb = torch.from_numpy(np.ascontiguousarray(x)).to(device)
    yb = torch.from_numpy(np.ascontiguousarray(y)).to(device)
    return _step(model, opt, loss_fn, xb, yb)
