"""The ``tinygrad-bn`` command line."""
import argparse
import signal
import sys


def _train(args):
    from .train import train, weights_digest

    model, history = train(args.model, epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
                           seed=args.seed, optimizer=args.optimizer, checkpoint=args.checkpoint,
                           progress=not args.no_progress, device=args.device, distributed=args.distributed,
                           compile=args.compile)
    from . import distributed
    if not distributed.is_initialized() or distributed.rank() == 0:
        print(f"weights digest: {weights_digest(model)}")
    return 0


def _tape(args):
    import numpy as np

    from . import nn, optim
    from .data import load_mnist_5k
    from .models import build_model
    from .tape import Tape
    from .random import manual_seed
    from .tensor import Tensor

    manual_seed(args.seed)
    x_train, y_train, _, _ = load_mnist_5k(seed=args.seed)
    model = build_model(args.model).to(args.device)
    opt = optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    xb = Tensor(np.ascontiguousarray(x_train[: args.batch_size]), device=args.device)
    yb = Tensor(y_train[: args.batch_size], device=args.device)
    # one step first so every kernel is loaded and the timings are a steady step's
    opt.zero_grad()
    nn.CrossEntropyLoss()(model(xb), yb).backward()
    opt.step()
    opt.zero_grad()
    with Tape() as tape:
        loss = nn.CrossEntropyLoss()(model(xb), yb)
    loss.backward()
    opt.step()
    print(f"one training step of {args.model}, batch {args.batch_size}, loss {loss.item():.4f}")
    print(tape.table())
    _write_text(args.dot, tape.to_dot())
    print(f"wrote {args.dot} (render with: dot -Tsvg {args.dot} -o tape.svg)")
    if args.json:
        _write_text(args.json, tape.to_json(indent=1))
        print(f"wrote {args.json}")
    return 0


def _write_text(path, text):
    """Write ``text`` to ``path``; a failed write (a full disk) names the file."""
    from .serialization import _name_the_file

    try:
        with open(path, "w") as f:
            f.write(text)
    except OSError as exc:
        _name_the_file(exc, path)
        raise


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
    t.add_argument("--device", default="cpu", help="cpu or cuda (default: %(default)s)")
    t.add_argument("--distributed", action="store_true",
                   help="data-parallel over MPI: run as mpiexec -n N tinygrad-bn train --distributed")
    t.add_argument("--compile", action="store_true",
                   help="run each step as a compiled step (tg.compile): the same weights, less time per step")
    t.set_defaults(func=_train)
    tp = sub.add_parser("tape", help="print the autograd tape of one training step and write its graph")
    tp.add_argument("--model", default="simplenet-bn", choices=sorted(MODELS))
    tp.add_argument("--batch-size", type=int, default=64)
    tp.add_argument("--seed", type=int, default=0)
    tp.add_argument("--device", default="cpu", help="cpu or cuda (default: %(default)s)")
    tp.add_argument("--dot", default="tape.dot", help="where to write the Graphviz DOT file (default: %(default)s)")
    tp.add_argument("--json", default=None, help="also write the tape as JSON to this file")
    tp.set_defaults(func=_tape)
    from .experiments import add_arguments
    ex = sub.add_parser("experiment", help="rerun a batch-norm claim: a verdict table, PNG plots and a JSON")
    add_arguments(ex)
    ex.set_defaults(func=_experiment)
    return p


def _experiment(args):
    from .experiments import run

    run(args.name, args.out, args.seeds, args.epochs, args.quick, not args.no_progress)
    return 0


def _check_args(parser, args):
    """Usage errors for flag values argparse's types let through, before any work starts."""
    import math
    import os

    from .models import build_model
    from .train import check_writable, has_batch_norm

    if args.command == "experiment":
        if args.seeds < 1:
            parser.error(f"--seeds must be at least 1, got {args.seeds}")
        if args.epochs is not None and args.epochs < 1:
            parser.error(f"--epochs must be at least 1, got {args.epochs}")
        try:
            check_writable(os.path.join(args.out, "experiment.json"))
        except (OSError, ValueError) as exc:
            parser.error(f"--out {args.out}: cannot write there ({exc}); expected a writable folder")
        return
    if getattr(args, "epochs", 1) < 1:
        parser.error(f"--epochs must be at least 1, got {args.epochs}")
    if args.batch_size < 1:
        parser.error(f"--batch-size must be at least 1, got {args.batch_size}")
    if args.command == "train" and args.distributed:
        if args.device != "cpu":
            parser.error(f"--distributed runs on the CPU, got --device {args.device}")
        from . import distributed
        try:
            distributed.init()
        except RuntimeError as exc:
            parser.error(f"--distributed: {exc}")
        world = distributed.world_size()
        if args.batch_size % world:
            parser.error(f"--batch-size {args.batch_size} must be divisible by the {world} processes "
                         f"(each takes batch / {world} samples)")
    if args.command == "train" and not (math.isfinite(args.lr) and args.lr > 0):
        parser.error(f"--lr must be a positive number, got {args.lr}")
    if args.batch_size == 1 and has_batch_norm(build_model(args.model)):
        parser.error(f"--batch-size 1 with {args.model}: batch norm needs at least 2 samples per batch; "
                     "use --batch-size 2 or more")
    outputs = {"train": [("--checkpoint", "checkpoint")], "tape": [("--dot", "dot"), ("--json", "json")]}
    for flag, attr in outputs[args.command]:
        path = getattr(args, attr)
        if path:
            try:
                check_writable(path)
            except (OSError, ValueError) as exc:
                parser.error(f"{flag} {path}: cannot write there ({exc}); expected a writable file path")


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    _check_args(parser, args)
    if getattr(args, "device", "cpu") != "cpu":
        from .backends import get_backend
        try:
            get_backend(args.device)
        except (RuntimeError, ValueError) as exc:
            parser.error(f"--device {args.device}: {exc}")
    from .train import NonFiniteLoss, _InterruptFlag
    if argv is None and args.command == "train":
        # run as a program, Ctrl-C only sets a flag for the whole command: training
        # stops between steps and saves; a second one never lands mid-save or mid-exit
        _InterruptFlag().install()
    try:
        return args.func(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except NonFiniteLoss as exc:
        print(f"tinygrad-bn {exc}", file=sys.stderr)
        return 1
    except OSError as exc:  # a full disk, a folder gone: what the system said, not a traceback
        print(f"tinygrad-bn {args.command}: {exc.strerror or exc}"
              + (f": {exc.filename}" if getattr(exc, "filename", None) else "")
              + "; free space or choose another path", file=sys.stderr)
        return 1
    finally:
        if argv is None and args.command == "train":
            # the interpreter restores the default handler as it shuts down: a Ctrl-C then
            # would kill the process by the signal; it has nothing left to stop
            signal.signal(signal.SIGINT, signal.SIG_IGN)


if __name__ == "__main__":
    sys.exit(main())
