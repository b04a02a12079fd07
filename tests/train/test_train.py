"""End to end: training SimpleNet on the bundled digits, the CLI, reproducibility."""
import json
import os
import re
import subprocess
import sys

import numpy as np
import pytest

import tinygrad_bn as tg
from tinygrad_bn.cli import main
from tinygrad_bn.train import train, weights_digest


def test_two_epochs_learn_and_reproduce_to_the_bit(tmp_path, capsys):
    logs = []
    model, hist = train(epochs=2, seed=3, checkpoint=str(tmp_path / "m.npz"), log=logs.append, progress=False)
    assert hist[-1]["test_acc"] > 0.85
    assert hist[1]["loss"] < hist[0]["loss"]
    assert "epoch 1/2" not in capsys.readouterr().err
    assert f"saved checkpoint to {tmp_path / 'm.npz'}" in logs
    logs2 = []
    model2, _ = train(epochs=2, seed=3, log=logs2.append)  # progress bars by default, as the CLI
    assert not any("checkpoint" in line for line in logs2)  # none asked for, none said
    err = capsys.readouterr().err
    assert "epoch 1/2" in err and weights_digest(model) == weights_digest(model2)
    for epoch in ("1/2", "2/2"):  # each epoch's finished bar stays on screen, ended by a newline
        assert re.search(rf"epoch {epoch}: 100%[^\r\n]*\n", err), err[-500:]
    assert set(tg.load(tmp_path / "m.npz")) == set(model.state_dict())
    assert any("held-out accuracy" in line for line in logs)
    # on the CPU the first line names no device
    assert logs[0] == "training simplenet on 4000 bundled MNIST digits (1000 held out), 2 epochs, batch 64, sgd lr 0.05"


@pytest.mark.parametrize("model_name, optimizer", [("simplenet-bn", "sgd"), ("simplenet", "adam")])
def test_compiled_training_ends_with_the_eager_weights_to_the_bit(model_name, optimizer, capsys):
    """--compile replays each step (Adam's update as a Python call); the last batch of each
    epoch is smaller, a second program; train and eval alternate between epochs."""
    runs = [train(model_name, epochs=2, seed=1, optimizer=optimizer, lr=0.01, log=lambda s: None,
                  progress=False, compile=c) for c in (False, True)]
    assert weights_digest(runs[0][0]) == weights_digest(runs[1][0])
    assert [h["loss"] for h in runs[0][1]] == [h["loss"] for h in runs[1][1]]
    with pytest.raises(ValueError, match="compile=True with distributed=True"):
        train(epochs=1, compile=True, distributed=True)


def test_cli_train_runs(tmp_path, capsys):
    assert main(["train", "--epochs", "1", "--checkpoint", str(tmp_path / "c.npz"), "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "final held-out accuracy" in out and "weights digest" in out
    assert main(["train", "--epochs", "1", "--checkpoint", str(tmp_path / "c.npz"), "--no-progress", "--compile"]) == 0
    assert out.splitlines()[-1] == capsys.readouterr().out.splitlines()[-1]  # the same weights digest


def test_console_script_help():
    res = subprocess.run([sys.executable, "-m", "tinygrad_bn.cli", "train", "--help"], capture_output=True, text=True)
    assert res.returncode == 0 and "--batch-size" in res.stdout
    res = subprocess.run([sys.executable, "-m", "tinygrad_bn.cli", "train", "--epochs", "0"], capture_output=True, text=True)
    assert res.returncode != 0 and "--epochs must be at least 1" in res.stderr


def test_cli_refuses_bad_flags_before_training(tmp_path, capsys):
    from tinygrad_bn.cli import main

    (tmp_path / "a-file").write_text("x")
    for argv, message in ((["train", "--lr", "-0.1"], "--lr must be a positive number"),
                          (["train", "--lr", "nan"], "--lr must be a positive number"),
                          (["train", "--model", "simplenet-bn", "--batch-size", "1"], "batch norm needs at least 2"),
                          (["train", "--checkpoint", str(tmp_path)], "is a folder"),
                          (["train", "--batch-size", "0"], "--batch-size must be at least 1, got 0"),
                          (["tape", "--batch-size", "0"], "--batch-size must be at least 1, got 0"),
                          (["train", "--distributed", "--device", "cuda"], "--distributed runs on the CPU, got "
                                                                           "--device cuda"),
                          (["train", "--device", "tpu"], "--device tpu: unknown device 'tpu'"),
                          (["experiment", "bn-vs-plain", "--out", str(tmp_path / "a-file" / "x")],
                           "cannot write there"),  # a file where a folder should be
                          (["experiment", "bn-vs-plain", "--seeds", "0"], "--seeds must be at least 1, got 0")):
        with pytest.raises(SystemExit) as exc:
            main(argv)
        assert exc.value.code == 2
        err = capsys.readouterr().err
        assert message in err and "Traceback" not in err, (argv, err)
    blocked = tmp_path / "file"
    blocked.write_text("x")
    with pytest.raises(SystemExit):
        main(["train", "--checkpoint", str(blocked / "sub" / "m.npz")])  # a file where a folder should be
    assert "cannot write there" in capsys.readouterr().err


def test_checkpoint_each_epoch_and_on_interrupt(tmp_path, monkeypatch):
    from tinygrad_bn import optim
    from tinygrad_bn.train import train

    path = tmp_path / "ck" / "m.npz"
    steps = {"n": 0}
    original = optim.SGD.step

    def step_then_interrupt(self):
        original(self)
        steps["n"] += 1
        if steps["n"] == 70:  # in epoch 2 (63 batches of 64 per epoch)
            raise KeyboardInterrupt

    monkeypatch.setattr(optim.SGD, "step", step_then_interrupt)
    logs = []
    with pytest.raises(KeyboardInterrupt):
        train(epochs=3, checkpoint=str(path), log=logs.append, progress=False)
    assert path.exists() and any("interrupted in epoch 2" in line for line in logs)
    assert set(tg.load(path)) == {"layers.0.weight", "layers.0.bias", "layers.2.weight", "layers.2.bias",
                                  "layers.4.weight", "layers.4.bias"}


def test_train_puts_back_the_ctrl_c_handler_it_found():
    """While it trains, Ctrl-C only sets a flag; afterwards it raises KeyboardInterrupt again.
    Called under a flag a caller installed (the CLI's), train keeps that flag in place."""
    import signal

    from tinygrad_bn.train import _InterruptFlag
    before = signal.getsignal(signal.SIGINT)
    train(epochs=1, log=lambda s: None, progress=False)
    assert signal.getsignal(signal.SIGINT) is before
    outer = _InterruptFlag().install()
    try:
        train(epochs=1, log=lambda s: None, progress=False)
        assert _InterruptFlag.active() is outer
    finally:
        outer.restore()
    assert signal.getsignal(signal.SIGINT) is before


def test_a_batch_norm_model_drops_a_last_batch_of_one():
    from tinygrad_bn.train import train

    logs = []
    # 4,000 training digits: batch 3 leaves one sample over
    _, hist = train("simplenet-bn", epochs=1, batch_size=3, log=logs.append, progress=False)
    assert "last batch of each epoch holds one sample and is dropped" in logs[0]
    assert "(1000 held out), 1 epoch, batch 3, sgd lr 0.05; the last batch" in logs[0]
    assert hist[0]["loss"] > 0


@pytest.mark.parametrize("flags", [[], ["--compile"]])
def test_a_loss_that_turns_nan_stops_training_with_an_error_and_keeps_the_last_good_checkpoint(tmp_path, capsys,
                                                                                              flags):
    from tinygrad_bn.cli import main
    path = tmp_path / "m.npz"
    assert main(["train", "--epochs", "1", "--checkpoint", str(path), "--no-progress"]) == 0
    good = {k: v.numpy().copy() for k, v in tg.load(path).items()}
    assert main(["train", "--epochs", "2", "--lr", "1e6", "--checkpoint", str(path), "--no-progress", *flags]) == 1
    err = capsys.readouterr().err
    assert "the loss is nan" in err and "try a smaller --lr" in err and "Traceback" not in err
    for k, v in tg.load(path).items():  # the diverged run never saved
        np.testing.assert_array_equal(v.numpy(), good[k])


@pytest.mark.parametrize("checkpoint, epoch, keeps", [(None, 3, False), ("m.npz", 1, False), ("m.npz", 2, True)])
def test_the_non_finite_loss_message_names_the_checkpoint_only_when_it_holds_a_finished_epoch(checkpoint, epoch,
                                                                                              keeps):
    from tinygrad_bn import train as train_module
    with pytest.raises(train_module.NonFiniteLoss) as caught:
        train_module._check_finite_loss(float("nan"), 30, np.zeros(10), epoch, 0.5, checkpoint)
    message = str(caught.value)
    assert message.startswith(f"train: the loss is nan at step 4 of epoch {epoch} (lr 0.5); training stopped")
    assert ("m.npz keeps the weights of the last finished epoch" in message) == keeps
    assert message.endswith("; try a smaller --lr")
    train_module._check_finite_loss(1.5, 30, np.zeros(10), epoch, 0.5, checkpoint)  # a finite loss passes


def test_a_disk_error_is_a_message_and_exit_status_1_not_a_traceback(tmp_path, monkeypatch, capsys):
    import errno

    from tinygrad_bn import train as train_module
    from tinygrad_bn.cli import main

    def full_disk(model, path):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))
    monkeypatch.setattr(train_module, "save_checkpoint", full_disk)
    assert main(["train", "--epochs", "1", "--checkpoint", str(tmp_path / "m.npz"), "--no-progress"]) == 1
    err = capsys.readouterr().err
    assert "No space left on device" in err and "m.npz" in err and "Traceback" not in err


@pytest.mark.parametrize("where", ["train", "tape --dot", "tape --json", "experiment json", "experiment png"])
def test_a_full_disk_is_a_message_naming_the_file_for_every_command_that_writes(tmp_path, monkeypatch, capsys, where):
    """ENOSPC as a real write raises it (no file name of its own) in each file
    the CLI writes: exit status 1 and a message with the file, not a traceback."""
    import errno
    import os

    from tinygrad_bn import cli

    def no_space(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    dot, tape_json = str(tmp_path / "t.dot"), str(tmp_path / "t.json")
    if where == "train":
        monkeypatch.setattr(np, "savez", no_space)  # partway through the checkpoint's write
        argv, name = ["train", "--epochs", "1", "--no-progress", "--checkpoint", str(tmp_path / "m.npz")], "m.npz"
    elif where.startswith("tape"):
        target, real_open = dot if where.endswith("dot") else tape_json, open

        class FullFile:
            def __init__(self, f):
                self.f = f

            def __enter__(self):
                return self

            def __exit__(self, *exc):
                self.f.close()

            def write(self, text):
                no_space()

        def open_on_a_full_disk(path, *args, **kwargs):
            f = real_open(path, *args, **kwargs)
            return FullFile(f) if os.fspath(path) == target else f
        monkeypatch.setattr(cli, "open", open_on_a_full_disk, raising=False)
        argv, name = ["tape", "--dot", dot, "--json", tape_json], os.path.basename(target)
    else:
        pytest.importorskip("matplotlib")
        from matplotlib.figure import Figure

        from tinygrad_bn.experiments import common
        if where.endswith("json"):
            monkeypatch.setattr(common.json, "dump", no_space)
        else:
            monkeypatch.setattr(Figure, "savefig", no_space)
        argv = ["experiment", "bn-vs-plain", "--out", str(tmp_path / "out"), "--seeds", "1", "--quick", "--no-progress"]
        name = "bn-vs-plain." + where.split()[1]
    assert main(argv) == 1
    err = capsys.readouterr().err
    command = where.split()[0]
    assert err.startswith(f"tinygrad-bn {command}: No space left on device: ") and "Traceback" not in err, err
    assert err.rstrip().endswith(f"{name}; free space or choose another path"), err


# Ctrl-C from outside: a run long enough (40 epochs, about 3 s of training) that
# every signal below lands during training, so a run that ignored it would exit 0
CLI_TRAIN = [sys.executable, "-u", "-m", "tinygrad_bn.cli", "train", "--epochs", "40", "--no-progress"]
STEPS_PER_EPOCH = 63  # 4,000 digits in batches of 64


# One OpenBLAS thread configured in the processes whose weights are compared bit for bit:
# with two configured, NumPy's OpenBLAS 0.3.31 gave some processes other bits for the same
# one-thread product than others (a SimpleNet step's gradients differed in 1 process of 2-4).
ONE_BLAS_THREAD = {**os.environ, "OPENBLAS_NUM_THREADS": "1"}


def _start_training(path):
    return subprocess.Popen([*CLI_TRAIN, "--checkpoint", str(path)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=ONE_BLAS_THREAD)


# The states a CLI-default run passes through, step by step, as digests (run in a process
# of its own with ONE_BLAS_THREAD, as the interrupted run).
_STATES_SCRIPT = """
import hashlib, json, sys
import numpy as np
from tinygrad_bn import optim
from tinygrad_bn.train import train
states, original = [], optim.SGD.step
def step_and_record(self):
    original(self)
    h = hashlib.sha256()
    for p in self.param_groups[0]["params"]:
        h.update(np.ascontiguousarray(p.detach().numpy()).tobytes())
    states.append(h.hexdigest())
optim.SGD.step = step_and_record
train(epochs=int(sys.argv[1]), seed=0, log=lambda s: None, progress=False)  # the CLI's defaults
print(json.dumps(states))
"""


def _read_until(proc, prefix):
    """The lines the run printed up to and including the first that starts with ``prefix``."""
    lines = []
    while not (lines and lines[-1].startswith(prefix)):
        line = proc.stdout.readline()
        assert line, (f"the run ended before printing {prefix!r}", lines, proc.stderr.read()[-2000:])
        lines.append(line)
    return lines


def _assert_stopped_by_ctrl_c(proc, path, seen, out, err):
    out = "".join(seen) + out
    assert proc.returncode == 130, (proc.returncode, out[-2000:], err[-2000:])  # 0: the interrupt was ignored
    assert err.strip().endswith("interrupted") and "Traceback" not in err and "Error" not in err, err[-2000:]
    assert "saved the weights as they were" in out and "final held-out accuracy" not in out, out[-2000:]
    assert len(tg.load(path)) == 6  # a whole checkpoint
    return out


_FLAG_SCRIPT = """
import os, signal, sys
# SIGINT raises KeyboardInterrupt, as in a program a shell starts (a test run from a
# background job, nohup or &, hands its children SIGINT ignored, and Python then keeps it so)
signal.signal(signal.SIGINT, signal.default_int_handler)
import tinygrad_bn.train as T
from tinygrad_bn import cli
def spy(*args, **kwargs):
    print("flag held:", T._InterruptFlag.active() is not None, flush=True)
    signal.raise_signal(signal.SIGINT)  # a Ctrl-C as train starts
    print("still running", flush=True)
    os._exit(0)
T.train = spy
sys.exit(cli.main())
"""


def test_the_train_command_run_as_a_program_holds_the_ctrl_c_flag_from_the_start():
    """Run as a program (no argv given), the CLI installs the Ctrl-C flag before it
    calls train, so a SIGINT from then on only sets the flag (train stops between
    steps and saves); a call with argv (a caller's own program) leaves SIGINT alone."""
    command = ["train", "--epochs", "1", "--no-progress"]  # the words as a shell passes them
    run = subprocess.run([sys.executable, "-c", _FLAG_SCRIPT, *command], capture_output=True, text=True, timeout=120,
                         env=ONE_BLAS_THREAD)
    assert run.returncode == 0 and run.stdout.split("\n")[:2] == ["flag held: True", "still running"], \
        (run.returncode, run.stdout, run.stderr[-2000:])
    with_argv = _FLAG_SCRIPT.replace("sys.exit(cli.main())", "sys.exit(cli.main(sys.argv[1:]))")
    run = subprocess.run([sys.executable, "-c", with_argv, *command], capture_output=True, text=True, timeout=120,
                         env=ONE_BLAS_THREAD)
    assert run.stdout.split("\n")[0] == "flag held: False" and "still running" not in run.stdout, run.stdout


def test_a_storm_of_sigints_stops_training_cleanly_with_a_checkpoint(tmp_path):
    """Ctrl-C becomes a flag read between steps: SIGINT every 0.5-20 ms, from the
    first steps (kernels loading) or from the end of the first epoch on, through
    the save and the exit, never lands inside a kernel or a save, and every run
    stops as one Ctrl-C does: exit status 130, "interrupted", a whole checkpoint."""
    import os
    import random
    import signal
    import time

    rng = random.Random(0)
    for run in range(int(os.environ.get("SIGINT_STORM_RUNS", "12"))):
        path = tmp_path / f"m{run}.npz"
        proc = _start_training(path)
        seen = _read_until(proc, "training" if run % 2 else "epoch  1")  # the loop has started / one epoch done
        time.sleep(rng.uniform(0.0, 0.1))
        end = time.monotonic() + rng.uniform(0.05, 0.5)
        sent = 0
        while (time.monotonic() < end or not sent) and proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            sent += 1
            time.sleep(rng.uniform(0.0005, 0.02))
        out, err = proc.communicate(timeout=120)
        _assert_stopped_by_ctrl_c(proc, path, seen, out, err)


def test_one_sigint_after_the_first_epoch_stops_with_the_weights_it_had(tmp_path):
    """One Ctrl-C once epoch 1 is logged: exit status 130, "interrupted", and a
    checkpoint holding exactly the weights after some step at or after the end
    of epoch 1 and before the epoch it names (the same run in another process,
    step by step, gives them to the bit)."""
    import hashlib
    import signal

    path = tmp_path / "m.npz"
    proc = _start_training(path)
    seen = _read_until(proc, "epoch  1")
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    out = _assert_stopped_by_ctrl_c(proc, path, seen, out, err)
    epoch = int(re.search(r"interrupted in epoch (\d+)", out).group(1))
    assert epoch >= 2, out

    def digest(arrays):
        h = hashlib.sha256()
        for a in arrays:
            h.update(np.ascontiguousarray(a).tobytes())
        return h.hexdigest()

    run = subprocess.run([sys.executable, "-c", _STATES_SCRIPT, str(epoch)], capture_output=True, text=True,
                         env=ONE_BLAS_THREAD, timeout=300, check=True)
    states = json.loads(run.stdout)
    saved = digest(t.numpy() for t in tg.load(path).values())
    assert saved in states, "the checkpoint is no state this run passed through"
    assert STEPS_PER_EPOCH * (epoch - 1) - 1 <= states.index(saved) < STEPS_PER_EPOCH * epoch - 1


def test_the_optimizer_is_chosen_by_its_names_value():
    """Names built at run time (argv, a config file) are equal to "sgd" but not the same
    object: the choice compares values."""
    from tinygrad_bn import optim
    from tinygrad_bn.train import make_optimizer

    params = [tg.zeros(2, requires_grad=True)]
    sgd, adam = "".join(["s", "g", "d"]), "".join(["a", "d", "a", "m"])
    assert type(make_optimizer(sgd, params, 0.1)) is optim.SGD
    assert type(make_optimizer(adam, params, 0.1)) is optim.Adam
    with pytest.raises(ValueError, match="unknown optimizer 'rmsprop'; choose sgd or adam"):
        make_optimizer("rmsprop", params, 0.1)


def test_a_distributed_epochs_loss_sums_the_loss_and_the_count_over_ranks(monkeypatch):
    """The epoch's mean loss in a data-parallel run: each rank's (loss sum, sample count),
    summed over ranks by one all-reduce, then divided; here a stand-in all-reduce adds a
    second rank's (3.5, 7)."""
    from tinygrad_bn import distributed
    from tinygrad_bn.train import _summed_over_ranks

    def all_reduce(buf):
        buf += np.array([3.5, 7.0])
    monkeypatch.setattr(distributed, "all_reduce", all_reduce)
    total, count = _summed_over_ranks(10.25, 41)
    assert (total, count) == (13.75, 48) and isinstance(count, int)
