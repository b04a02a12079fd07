"""Look at what the autograd tape recorded during one training step.

    python examples/inspect_tape.py

Prints the table of one SimpleNetBN step, the gradient flow per parameter and
the activation statistics, writes tape.dot / tape.json (and tape.svg when
Graphviz is installed), then shows anomaly mode catching a planted log(0).
"""
import shutil

import numpy as np

import tinygrad_bn as tg
from tinygrad_bn import nn, optim
from tinygrad_bn.data import load_mnist_5k
from tinygrad_bn.models import SimpleNetBN


def main():
    tg.manual_seed(0)
    x_train, y_train, _, _ = load_mnist_5k()
    x, y = tg.tensor(x_train[:64]), tg.tensor(y_train[:64])
    model = SimpleNetBN()
    opt = optim.SGD(model.parameters(), lr=0.05, momentum=0.9)

    with tg.Tape() as tape:                       # capture one step
        loss = nn.CrossEntropyLoss()(model(x), y)
    loss.backward()                               # gradients land in the records too
    opt.step()

    print(tape)                                   # the table
    first = tape.entries[1]
    print(f"\nentry #{first.seq}: {first.op} in {first.module}, kernel {first.kernel}, "
          f"params {dict(first.params)}, saved {first.saved_bytes} bytes")

    print("\ngradient flow (L2 norm per parameter):")
    for f in tape.grad_flow():
        print(f"  {f['param']:<18} {f['norm']:.3e}")

    print("\nactivations (does BN keep them standardised?):")
    for a in tape.activations():
        print(f"  #{a['seq']:<3} {a['op']:<12} {a['module']:<22} mean {a['mean']:+.3f} std {a['std']:.3f}")

    with open("tape.dot", "w") as f:
        f.write(tape.to_dot())
    with open("tape.json", "w") as f:
        f.write(tape.to_json(indent=1))
    print("\nwrote tape.dot and tape.json", end="")
    if shutil.which("dot"):
        tape.render("tape.svg")
        print(" and tape.svg")
    else:
        print(" (install Graphviz to render tape.svg)")

    print("\nanomaly mode on a planted log(0):")
    mask = tg.tensor(np.eye(10, dtype=np.float32)[np.arange(64) % 10])
    with tg.detect_anomaly(), np.errstate(divide="ignore"):
        probs = model(x).softmax(-1) * mask       # zero outside each row's class
        try:
            probs.log()                           # planted: log(0)
        except tg.AnomalyError as err:
            print(f"  {err}")


if __name__ == "__main__":
    main()
