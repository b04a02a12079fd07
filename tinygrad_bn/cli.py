"""The ``tinygrad-bn`` command line."""
import argparse
import sys


def _train(args):
    from .train import train, weights_digest

    model, history = train(args.model, epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
                           seed=args.seed, optimizer=args.optimizer, checkpoint=args.checkpoint,
                           progress=not args.no_progress)
    print(f"weights digest: {weights_digest(model)}")
    return 0


def build_parser():
    from .models import MODELS

    p = argparse.ArgumentParser(prog="tinygrad-bn", description="tinygrad_bn command line")
    sub = p.add_subparsers(dest="command", required=True)
    t = sub.add_parser("train", help="train a reference MLP on the bundled MNIST digits")
    t.add_argument("--model", default="simplenet", choices=sorted(MODELS))
    t.add_argument("--epochs", type=int, default=10)
    t.add_argument("--batch-size", type=int, default=64)
    t.add_argument("--lr", type=float, default=0.05)
    t.add_argument("--optimizer", default="sgd", choices=["sgd", "adam"])
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--checkpoint", default="checkpoints/model.npz",
                   help="where to save the trained weights (default: %(default)s)")
    t.add_argument("--no-progress", action="store_true", help="do not draw progress bars")
    t.set_defaults(func=_train)
    return p


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "epochs", 1) is not None and getattr(args, "epochs", 1) < 1:
        parser.error("--epochs must be at least 1")
    if getattr(args, "batch_size", 1) < 1:
        parser.error("--batch-size must be at least 1")
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
