"""Train SimpleNet (784-64-ReLU-128-ReLU-10) on the bundled MNIST digits.

    python examples/train_mlp.py --epochs 10

The loop in full, so it can be copied and changed; ``tinygrad-bn train`` runs
the same thing from ``tinygrad_bn.train``.
"""
import argparse
import os

import tinygrad_bn as tg
from tinygrad_bn import nn, optim
from tinygrad_bn.data import DataLoader, TensorDataset, load_mnist_5k
from tinygrad_bn.models import SimpleNet
from tqdm import tqdm
from tinygrad_bn.train import evaluate


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--lr", type=float, default=0.05)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--checkpoint", default="checkpoints/simplenet.npz")
    args = ap.parse_args()

    tg.manual_seed(args.seed)
    x_train, y_train, x_test, y_test = load_mnist_5k(seed=args.seed)
    model = SimpleNet()
    opt = optim.SGD(model.parameters(), lr=args.lr, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    loader = DataLoader(TensorDataset(x_train, y_train), batch_size=args.batch_size,
                        shuffle=True, seed=args.seed)
    for epoch in range(1, args.epochs + 1):
        bar = tqdm(loader, desc=f"epoch {epoch}/{args.epochs}")
        for xb, yb in bar:
            opt.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            opt.step()
            bar.set_postfix_str(f"loss {loss.item():.4f}")
        print(f"epoch {epoch}: held-out accuracy {evaluate(model, x_test, y_test):.2%}")
    os.makedirs(os.path.dirname(args.checkpoint) or ".", exist_ok=True)
    tg.save(model.state_dict(), args.checkpoint)
    print(f"saved {args.checkpoint}")


if __name__ == "__main__":
    main()
