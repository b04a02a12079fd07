"""The training loop behind ``tinygrad-bn train`` and ``examples/train_mlp.py``."""
import time

import numpy as np

from . import nn, optim
from .creation import from_numpy
from .data import DataLoader, TensorDataset, load_mnist_5k
from .grad_mode import no_grad
from .models import build_model
from .progress import ProgressBar
from .random import manual_seed
from .serialization import save


def evaluate(model, x, y, batch_size=1000, device="cpu"):
    """Accuracy of ``model`` (on ``device``) on host arrays ``x``, ``y`` (eval mode, no tape)."""
    was_training = model.training
    model.eval()
    correct = 0
    with no_grad():
        for start in range(0, len(x), batch_size):
            logits = model(from_numpy(x[start:start + batch_size]).to(device))
            predicted = logits.argmax(1).cpu().numpy()
            correct += int((predicted == y[start:start + batch_size]).sum())
    model.train(was_training)
    return correct / len(x)


def make_optimizer(name, params, lr):
    if name == "sgd":
        return optim.SGD(params, lr=lr, momentum=0.9)
    if name == "adam":
        return optim.Adam(params, lr=lr)
    raise ValueError(f"unknown optimizer {name!r}; choose sgd or adam")


def train(model_name="simplenet", epochs=10, batch_size=64, lr=0.05, seed=0, optimizer="sgd",
          checkpoint=None, log=print, progress=True, device="cpu"):
    """Train a reference model on the bundled digits on ``device`` ("cpu" or
    "cuda"); returns the model and the history (a list of dicts with epoch,
    loss, test_acc, seconds). Batches are copied to the device as they are
    drawn; the only other host read per step is ``loss.item()``."""
    manual_seed(seed)
    x_train, y_train, x_test, y_test = load_mnist_5k(seed=seed)
    model = build_model(model_name).to(device)
    opt = make_optimizer(optimizer, model.parameters(), lr)
    loss_fn = nn.CrossEntropyLoss()
    loader = DataLoader(TensorDataset(x_train, y_train), batch_size=batch_size, shuffle=True, seed=seed)
    log(f"training {model_name} on {len(x_train)} bundled MNIST digits "
        f"({len(x_test)} held out), {epochs} epochs, batch {batch_size}, {optimizer} lr {lr}"
        + ("" if device == "cpu" else f", on {device}"))
    history = []
    for epoch in range(1, epochs + 1):
        model.train()
        start = time.perf_counter()
        total, count = 0.0, 0
        batches = ProgressBar(loader, desc=f"epoch {epoch}/{epochs}") if progress else loader
        for xb, yb in batches:
            if device != "cpu":
                xb, yb = xb.to(device), yb.to(device)
            opt.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            opt.step()
            total += loss.item() * len(yb)
            count += len(yb)
            if progress:
                batches.set_postfix(f"loss {total / count:.4f}")
        seconds = time.perf_counter() - start
        test_acc = evaluate(model, x_test, y_test, device=device)
        history.append({"epoch": epoch, "loss": total / count, "test_acc": test_acc, "seconds": seconds})
        log(f"epoch {epoch:2d}  loss {total / count:.4f}  held-out accuracy {test_acc:.2%}  ({seconds:.2f} s)")
    if checkpoint:
        import os

        os.makedirs(os.path.dirname(os.path.abspath(checkpoint)), exist_ok=True)
        save(model.state_dict(), checkpoint)
        log(f"saved checkpoint to {checkpoint}")
    log(f"final held-out accuracy: {history[-1]['test_acc']:.2%}")
    return model, history


def weights_digest(model):
    """A short hash of all parameters, to check runs reproduce to the bit."""
    import hashlib

    h = hashlib.sha256()
    for name, p in model.state_dict().items():
        h.update(name.encode())
        h.update(np.ascontiguousarray(p.detach().cpu().numpy()).tobytes())
    return h.hexdigest()[:16]
