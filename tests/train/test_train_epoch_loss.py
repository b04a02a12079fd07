"""The epoch loss that ``train`` reports, checked against a loss computed apart from it."""
import numpy as np

import tinygrad_bn as tg
from tinygrad_bn.data import load_mnist_5k
from tinygrad_bn.models import build_model
from tinygrad_bn.random import manual_seed
from tinygrad_bn.train import train


def test_an_epochs_loss_is_the_mean_loss_over_every_training_sample():
    """With lr=0 the weights never move, so the epoch's loss (the batch losses weighted by
    batch size, over the whole shuffled epoch, a short last batch included) is the mean
    cross-entropy of the initial model over all the training digits; the model is the one
    ``train`` builds after ``manual_seed(seed)`` and loading the data."""
    seed = 5
    logs = []
    _, history = train("simplenet", epochs=1, batch_size=96, lr=0.0, seed=seed, log=logs.append, progress=False)
    manual_seed(seed)
    x_train, y_train, _, _ = load_mnist_5k(seed=seed)
    assert len(x_train) % 96 != 0  # a short last batch is part of the epoch
    model = build_model("simplenet")
    with tg.no_grad():
        logits = model(tg.from_numpy(x_train)).numpy().astype(np.float64)
    shifted = logits - logits.max(1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(1, keepdims=True))
    expected = -log_probs[np.arange(len(y_train)), y_train].mean()
    assert abs(history[0]["loss"] - expected) < 1e-4 * expected
    assert any(f"loss {expected:.4f}" in line for line in logs), logs
