"""The training loop behind ``tinygrad-bn train`` and ``examples/train_mlp.py``."""
import math
import os
import signal
import threading
import time

import numpy as np
from tqdm import tqdm

from . import nn, optim
from .creation import from_numpy
from .data import DataLoader, TensorDataset, load_mnist_5k
from .grad_mode import no_grad
from .models import build_model
from .random import manual_seed
from .serialization import save
from .tensor_base import array_of, backend_of


def evaluate(model, x, y, batch_size=1000, device="cpu"):
    """Accuracy of ``model`` (on ``device``) on host arrays ``x``, ``y`` (eval mode, no tape)."""
    was_training = model.training
    model.eval()
    correct = 0
    try:
        with no_grad():
            for start in range(0, len(x), batch_size):
                logits = model(from_numpy(x[start:start + batch_size]).to(device))
                predicted = logits.argmax(1).cpu().numpy()
                correct += int((predicted == y[start:start + batch_size]).sum())
    finally:  # the model's mode as it was, also after an error
        model.train(was_training)
    return correct / len(x)


def make_optimizer(name, params, lr):
    if name == "sgd":
        return optim.SGD(params, lr=lr, momentum=0.9)
    if name == "adam":
        return optim.Adam(params, lr=lr)
    raise ValueError(f"unknown optimizer {name!r}; choose sgd or adam")


def has_batch_norm(model):
    return any(isinstance(m, nn.normalization._BatchNorm) for m in model.modules())


def train(model_name="simplenet", epochs=10, batch_size=64, lr=0.05, seed=0, optimizer="sgd",
          checkpoint=None, log=print, progress=True, device="cpu", distributed=False, compile=False):
    """Train a reference model on the bundled digits on ``device`` ("cpu" or
    "cuda"); returns the model and the history (a list of dicts with epoch,
    loss, test_acc, seconds). Batches are copied to the device as they are
    drawn; the only other host read per step is ``loss.item()``.

    With ``checkpoint``, the weights are saved (atomically) at the end of every
    epoch and when the run is interrupted (Ctrl-C), then the interrupt goes on.
    A batch-norm model drops a last batch of one sample (batch norm needs two
    values per channel to normalize in training).

    With ``distributed`` (under ``mpiexec -n N``): each process trains on its
    shard of every batch (``batch_size / N`` samples, so the global batch is
    ``batch_size``), gradients are averaged by DistributedDataParallel and batch
    norm layers become SyncBatchNorm, so the run follows the one-process one;
    only rank 0 logs and saves.

    With ``compile``, each step (forward, loss, backward, update) runs as a
    ``tg.compile``d step: the same weights bit for bit, faster; a non-finite
    loss stops it before the update, as without."""
    if compile and distributed:
        raise ValueError("train: compile=True with distributed=True: the gradient all-reduce runs from hooks, "
                         "which a compiled step does not replay; use one or the other")
    manual_seed(seed)
    x_train, y_train, x_test, y_test = load_mnist_5k(seed=seed)
    model = build_model(model_name).to(device)
    dataset = TensorDataset(x_train, y_train)
    drop_single = not distributed and has_batch_norm(model) and len(x_train) % batch_size == 1
    if distributed:
        model, trained, loader, log, progress = _distributed_setup(model, dataset, batch_size, seed, log, progress)
        from . import distributed as dist
        if dist.rank() != 0:
            checkpoint = None  # rank 0 saves the (unwrapped) model for all
    else:
        trained = model
        loader = DataLoader(dataset, batch_size=batch_size, shuffle=True, seed=seed, drop_last=drop_single)
    opt = make_optimizer(optimizer, trained.parameters(), lr)
    loss_fn = nn.CrossEntropyLoss()
    compiled = compiled_training_step(trained, opt, loss_fn) if compile else None
    # Ctrl-C sets a flag, read between steps: the caller's (the CLI keeps one), or ours until we return
    outer = _InterruptFlag.active()
    interrupt = outer or _InterruptFlag().install()
    log(f"training {model_name} on {len(x_train)} bundled MNIST digits "
        f"({len(x_test)} held out), {epochs} epoch{'' if epochs == 1 else 's'}, batch {batch_size}, {optimizer} lr {lr}"
        + ("" if device == "cpu" else f", on {device}")
        + ("; the last batch of each epoch holds one sample and is dropped (batch norm needs two)"
           if drop_single else ""))
    history = []
    epoch = 0
    try:
        for epoch in range(1, epochs + 1):
            model.train()
            if distributed:
                loader.sampler.set_epoch(epoch)
            start = time.perf_counter()
            total, count = 0.0, 0
            bar = tqdm(loader, desc=f"epoch {epoch}/{epochs}", disable=not progress, leave=True,
                       dynamic_ncols=True, mininterval=0.2)
            for xb, yb in bar:
                if interrupt.requested:
                    raise KeyboardInterrupt
                if device != "cpu":
                    xb, yb = xb.to(device), yb.to(device)
                if compiled is not None:
                    try:
                        value = compiled(xb, yb).item()
                    except ValueError as exc:
                        if str(exc) != LOSS_NOT_FINITE:
                            raise
                        value = float("nan")
                    _check_finite_loss(value, count, yb, epoch, lr, checkpoint)
                else:
                    opt.zero_grad()
                    loss = loss_fn(trained(xb), yb)
                    value = loss.item()
                    _check_finite_loss(value, count, yb, epoch, lr, checkpoint)  # before the step: no NaN weights
                    loss.backward()
                    opt.step()
                total += value * len(yb)
                count += len(yb)
                if progress:
                    bar.set_postfix_str(f"loss {total / count:.4f}", refresh=False)
            bar.close()
            if distributed:  # the loss over every rank's samples
                total, count = _summed_over_ranks(total, count)
            seconds = time.perf_counter() - start
            test_acc = evaluate(model, x_test, y_test, device=device)
            history.append({"epoch": epoch, "loss": total / count, "test_acc": test_acc, "seconds": seconds})
            log(f"epoch {epoch:2d}  loss {total / count:.4f}  held-out accuracy {test_acc:.2%}  ({seconds:.2f} s)")
            if checkpoint:
                save_checkpoint(model, checkpoint)
    except KeyboardInterrupt:
        if checkpoint:  # (more Ctrl-C's meanwhile only set the flag: the save completes)
            save_checkpoint(model, checkpoint)
            log(f"interrupted in epoch {epoch}: saved the weights as they were to {checkpoint}")
        raise
    finally:
        if outer is None:
            interrupt.restore()
    if checkpoint:
        log(f"saved checkpoint to {checkpoint}")
    log(f"final held-out accuracy: {history[-1]['test_acc']:.2%}")
    return model, history


LOSS_NOT_FINITE = "the loss is not finite"


def compiled_training_step(model, opt, loss_fn, fallback=False):
    """``tg.compile`` of a step that stops before backward when the loss is NaN
    or Inf, as the eager loops do: the check is a backend call (ValueError with
    ``LOSS_NOT_FINITE``), so a replay stops there too and no weight moves.
    ``fallback``: as ``compile``'s (run a step it cannot replay eagerly)."""
    from .compiled import compile as compile_step

    def step(xb, yb):
        opt.zero_grad()
        loss = loss_fn(model(xb), yb)
        backend_of(loss).check_finite(LOSS_NOT_FINITE, array_of(loss))
        loss.backward()
        opt.step()
        return loss
    return compile_step(step, fallback=fallback)


def _check_finite_loss(value, count, yb, epoch, lr, checkpoint):
    if not math.isfinite(value):  # no NaN checkpoint
        raise NonFiniteLoss(
            f"train: the loss is {value} at step {count // max(len(yb), 1) + 1} of epoch {epoch} "
            f"(lr {lr}); training stopped" + (f", {checkpoint} keeps the weights of the last finished "
                                              "epoch" if checkpoint and epoch > 1 else "")
            + "; try a smaller --lr")


def _distributed_setup(model, dataset, batch_size, seed, log, progress):
    from . import distributed as dist

    rank = dist.init()
    world = dist.world_size()
    if batch_size % world:
        raise ValueError(f"train: --batch-size {batch_size} must be divisible by the {world} processes "
                         f"(each takes batch / {world} samples); expected a multiple of {world}")
    model = nn.SyncBatchNorm.convert_sync_batchnorm(model)
    trained = nn.parallel.DistributedDataParallel(model)
    sampler = dist.DistributedSampler(dataset, shuffle=True, seed=seed)
    loader = DataLoader(dataset, batch_size=batch_size // world, sampler=sampler, drop_last=True)
    if rank != 0:
        log, progress = (lambda *a, **k: None), False
    log(f"distributed: {world} processes, {batch_size // world} samples each per step")
    return model, trained, loader, log, progress


def _summed_over_ranks(total, count):
    from . import distributed as dist

    both = np.array([total, count], dtype=np.float64)
    dist.all_reduce(both)
    return float(both[0]), int(both[1])


class _InterruptFlag:
    """While active (in the main thread), SIGINT sets ``requested`` instead of
    raising KeyboardInterrupt wherever Python happens to be: inside a kernel
    call, while Numba loads a cached kernel, mid-save. The training loop reads
    the flag between steps and stops there. Elsewhere it changes nothing."""

    requested = False
    _previous = None

    @staticmethod
    def active():
        """The flag installed by a caller (the CLI keeps one for the whole command), or None."""
        handler = signal.getsignal(signal.SIGINT)
        owner = getattr(handler, "__self__", None)
        return owner if isinstance(owner, _InterruptFlag) else None

    def install(self):
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def _handle(self, signum, frame):
        self.requested = True

    def restore(self):
        """Put the previous handler back (a flag that found one already installed has none to restore)."""
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
            self._previous = None


class NonFiniteLoss(RuntimeError):
    """The training loss turned NaN or Inf (a learning rate too large, bad data)."""


def save_checkpoint(model, path):
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    save(model.state_dict(), path)


def check_writable(path):
    """Raise OSError (or ValueError for a folder) now if a checkpoint cannot be
    written at ``path``, rather than after training."""
    import tempfile

    if os.path.isdir(path):
        raise ValueError(f"{path} is a folder; give a file name such as {os.path.join(path, 'model.npz')}")
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=folder, prefix=".write-test-"):
        pass


def weights_digest(model):
    """A short hash of all parameters, to check runs reproduce to the bit."""
    import hashlib

    h = hashlib.sha256()
    for name, p in model.state_dict().items():
        h.update(name.encode())
        h.update(np.ascontiguousarray(p.detach().cpu().numpy()).tobytes())
    return h.hexdigest()[:16]
