"""Constants the experiments rest on: the Student t quantiles of their verdicts,
computed here independently, and the designs the recorded results in
docs/experiments (which the README quotes) were run with, which must be the
designs the code runs now."""
import json
import math
from pathlib import Path

import numpy as np
import pytest

from tinygrad_bn.experiments import common, small_batch, sync_bn

DOCS = Path(__file__).resolve().parents[2] / "docs" / "experiments"


def _t_cdf(t, df, steps=4000):
    """P(T <= t) for Student's t with df degrees of freedom, t >= 0, by Simpson's
    rule on the density in the variable u = atan(x) (finite range, smooth)."""
    assert steps % 2 == 0, "Simpson's rule takes an even number of steps"
    log_c = math.lgamma((df + 1) / 2) - math.lgamma(df / 2) - 0.5 * math.log(df * math.pi)
    u = np.linspace(0.0, math.atan(t), steps + 1)
    x = np.tan(u)
    g = np.exp(log_c - (df + 1) / 2 * np.log1p(x * x / df)) / np.cos(u) ** 2  # density in x = tan(u) times dx/du
    weights = np.full(steps + 1, 2.0)
    weights[1::2] = 4.0
    weights[0] = weights[-1] = 1.0
    return 0.5 + float(g @ weights) * (u[1] - u[0]) / 3


def _t_quantile(p, df):
    lo, hi = 0.0, 20.0
    for _ in range(60):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if _t_cdf(mid, df) < p else (lo, mid)
    return (lo + hi) / 2


@pytest.mark.parametrize("df", [1, 2, 3, 5, 8, 13, 21, 27, 28, 29, 30, 31, 45, 100, 1000])
def test_the_t_quantiles_of_the_verdicts_are_students(df):
    """The table (1..30 degrees of freedom) rounded to its three decimals, the expansion past it to 1e-6."""
    exact = _t_quantile(0.975, df)
    assert common.t_quantile_975(df) == pytest.approx(exact, abs=5.01e-4 if df <= 30 else 1e-6), df


def test_the_t_table_has_every_entry_and_falls_with_the_degrees_of_freedom():
    table = [common.t_quantile_975(df) for df in range(1, 31)]
    assert all(a > b for a, b in zip(table, table[1:]))
    for df in range(1, 31):
        assert common.t_quantile_975(df) == pytest.approx(_t_quantile(0.975, df), abs=5.01e-4), df


# Student's 0.975 quantiles by SciPy 1.x (stats.t.ppf), to double precision
_T975_FAR = {100: 1.9839715185235518, 200: 1.9718962236339088, 400: 1.9659123432294627}


@pytest.mark.parametrize("df", sorted(_T975_FAR))
def test_the_expansion_past_the_table_leaves_only_its_1_over_df5_term(df):
    """Every term to 1/df^4 right leaves an error of about -0.73 / df^5 (a wrong
    coefficient of the 1/df^4 term would add c / df^4 and grow this with df)."""
    assert -0.745 < (common.t_quantile_975(df) - _T975_FAR[df]) * df ** 5 < -0.725


def _recorded(name):
    path = DOCS / f"{name}.json"
    if not path.exists():
        pytest.skip(f"{path} is not in this checkout")
    return json.loads(path.read_text())


def test_the_recorded_sync_bn_results_ran_the_design_the_code_runs():
    design = _recorded("sync-bn")["design"]
    assert design["per_process_batches"] == sync_bn.PER_PROCESS
    assert design["global_batches"] == [design["world_size"] * b for b in sync_bn.PER_PROCESS]


def test_the_recorded_small_batch_results_ran_the_design_the_code_runs():
    recorded = _recorded("small-batch")
    assert recorded["design"]["noise"]["batch_sizes"] == small_batch.NOISE_BATCHES
    assert recorded["design"]["noise"]["draws"] == small_batch.NOISE_DRAWS
    for per_batch in recorded["noise"].values():
        assert per_batch["batch_sizes"] == small_batch.NOISE_BATCHES


def test_the_other_recorded_results_ran_the_designs_the_code_runs():
    """The JSON beside the README is what the code's constants run: a changed grid,
    scale list or width would make the published figures a different experiment."""
    from tinygrad_bn.experiments import gradients, learning_rates, sigmoid, weight_init
    design = _recorded("sigmoid")["design"]
    assert [(g["depth"], g["lr"]) for g in design["grid"]] == sigmoid.GRID
    assert all(g["widths"] == sigmoid.DEPTHS[g["depth"]] for g in design["grid"])
    design = _recorded("weight-init")["design"]
    assert design["scales"] == weight_init.SCALES and design["widths"] == weight_init.WIDTHS
    design = _recorded("learning-rates")["design"]
    assert design["rates"] == learning_rates.RATES and design["momenta"] == learning_rates.MOMENTA
    design = _recorded("gradients")["design"]
    assert design["widths"] == gradients.WIDTHS and design["every"] == gradients.EVERY
    assert [(c["activation"], c["bn"]) for c in design["configs"]] == gradients.CONFIGS


def test_the_recorded_results_ran_the_default_epochs_and_are_full_runs():
    """Each JSON beside the README is a full run (not --quick) of its experiment's
    DEFAULT_EPOCHS: a changed default would make the published numbers another design."""
    from tinygrad_bn import experiments
    recorded = sorted(DOCS.glob("*.json")) + sorted(DOCS.glob("seeds*/*.json"))
    if not recorded:
        pytest.skip(f"no recorded results in {DOCS}")
    names = set()
    for path in recorded:
        doc = json.loads(path.read_text())
        names.add(doc["experiment"])
        assert doc["quick"] is False, path
        assert doc["epochs"] == experiments.module(doc["experiment"]).DEFAULT_EPOCHS, path
    assert names == set(experiments.EXPERIMENTS)



def test_the_recorded_runs_trained_at_the_batch_size_the_code_names():
    """An experiment that names its batch size (BATCH_SIZE: the steps per epoch of
    its checkpoints and probes come from it) ran every recorded run at that size."""
    from tinygrad_bn import experiments
    checked = []
    for name in experiments.EXPERIMENTS:
        size = getattr(experiments.module(name), "BATCH_SIZE", None)
        path = DOCS / f"{name}.json"
        if size is None or not path.exists():
            continue
        runs = json.loads(path.read_text())["runs"]
        assert runs and {r["setup"]["batch_size"] for r in runs} == {size}, name
        checked.append(name)
    if not checked:
        pytest.skip(f"no recorded results in {DOCS}")
    assert {"sigmoid", "sharpness", "landscape", "train-vs-eval"} <= set(checked)
