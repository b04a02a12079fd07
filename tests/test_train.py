"""End to end: training SimpleNet on the bundled digits, the CLI, reproducibility."""
import subprocess
import sys

import tinygrad_bn as tg
from tinygrad_bn.cli import main
from tinygrad_bn.train import train, weights_digest


def test_two_epochs_learn_and_reproduce_to_the_bit(tmp_path):
    logs = []
    model, hist = train(epochs=2, seed=3, checkpoint=str(tmp_path / "m.npz"), log=logs.append, progress=False)
    assert hist[-1]["test_acc"] > 0.85
    assert hist[1]["loss"] < hist[0]["loss"]
    model2, _ = train(epochs=2, seed=3, log=lambda s: None, progress=False)
    assert weights_digest(model) == weights_digest(model2)
    assert set(tg.load(tmp_path / "m.npz")) == set(model.state_dict())
    assert any("held-out accuracy" in line for line in logs)


def test_cli_train_runs(tmp_path, capsys):
    assert main(["train", "--epochs", "1", "--checkpoint", str(tmp_path / "c.npz"), "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "final held-out accuracy" in out and "weights digest" in out


def test_console_script_help():
    res = subprocess.run([sys.executable, "-m", "tinygrad_bn.cli", "train", "--help"], capture_output=True, text=True)
    assert res.returncode == 0 and "--batch-size" in res.stdout
    res = subprocess.run([sys.executable, "-m", "tinygrad_bn.cli", "train", "--epochs", "0"], capture_output=True, text=True)
    assert res.returncode != 0 and "--epochs must be at least 1" in res.stderr
