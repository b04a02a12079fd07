"""The example scripts run as a user would run them."""
import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def run(script, tmp_path, *args):
    res = subprocess.run([sys.executable, str(EXAMPLES / script), *args], cwd=tmp_path,
                         capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr
    return res.stdout


def test_train_mlp_example(tmp_path):
    out = run("train_mlp.py", tmp_path, "--epochs", "1", "--checkpoint", "ck/simplenet.npz")
    assert "held-out accuracy" in out and (tmp_path / "ck" / "simplenet.npz").exists()


def test_inspect_tape_example(tmp_path):
    out = run("inspect_tape.py", tmp_path)
    assert "layers.1 BatchNorm1d" in out and "gradient flow" in out
    assert "detect_anomaly: the forward output of Log" in out
    assert (tmp_path / "tape.dot").exists() and (tmp_path / "tape.json").exists()
