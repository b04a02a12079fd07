"""The example scripts run as a user would run them."""
import math
import re
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


def _numbers(line):
    return [float(v) for v in re.findall(r"-?\d+\.\d+|nan|inf", line)]


def test_gradient_penalty_example(tmp_path):
    out = run("gradient_penalty.py", tmp_path, "--steps", "40", "--seed", "0")
    lines = out.splitlines()
    table = [_numbers(line) for line in lines if re.match(r"\s+\d+\s", line)]
    assert len(table) == 10 and all(len(row) == 4 for row in table)  # step 4, 8, ..., 40: W, penalty, norm, G loss
    norm_line = next(line for line in lines if line.startswith("mean critic gradient norm"))
    end_norm, start_norm = _numbers(norm_line)
    w_end, w_start = _numbers(next(line for line in lines if line.startswith("Wasserstein estimate")))
    values = [v for row in table for v in row] + [end_norm, start_norm, w_end, w_start]
    assert all(math.isfinite(v) for v in values)
    # the penalty pulls the critic's gradient norm on interpolates toward 1
    assert abs(end_norm - 1) < 0.5 * abs(start_norm - 1)
    # a trained critic scores real points above generated ones
    assert w_end > 0 and w_end > w_start


def test_gradient_penalty_example_is_reproducible(tmp_path):
    def numbers_printed():
        out = run("gradient_penalty.py", tmp_path, "--steps", "5", "--seed", "7")
        return [line for line in out.splitlines() if not line.startswith("trained")]  # drop the timing line

    assert numbers_printed() == numbers_printed()
