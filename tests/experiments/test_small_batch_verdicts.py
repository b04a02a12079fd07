"""Each of the small-batch experiment's verdicts compares the runs its claim names.

The runs are stand-ins: every (norm, batch, groups) cell gets its own value, a little
higher for each seed, and each evaluation and weight change its own offset from it, so a
verdict's per-seed differences show which cells it took for each side.
"""
import numpy as np
import pytest

from tinygrad_bn.experiments import small_batch

SEEDS = 3
BATCHES = small_batch.QUICK["batches"]
SMALL, LARGE = min(BATCHES), max(BATCHES)


def _cells():
    cells = [(norm, b, small_batch.GROUPS if norm in ("group", "instance") else None)
             for norm in small_batch.NORMS for b in BATCHES]
    return cells + [("group", SMALL, g) for g in small_batch.QUICK["group_sweep"] if g not in (1, small_batch.GROUPS)]


CODE = {cell: 0.05 + 0.04 * i for i, cell in enumerate(_cells())}


def value(norm, batch, groups=None, what="final_acc", seed=0):
    """The stand-in value of one run's measure."""
    if groups is None and norm in ("group", "instance"):
        groups = small_batch.GROUPS
    base = CODE[(norm, batch, groups)] + 0.003 * seed
    if what == "final_acc":
        return base
    if what.startswith("change"):
        return base + 0.001 * (1 + int(what[6:]))
    return base + 0.0005 * (1 + small_batch.EVALUATIONS.index(what))


def _fake_run(norm, batch, groups, seed, epochs, x_train, x_test, y_test):
    record = {"norm": norm, "batch": batch, "groups": groups, "seed": seed, "lr": small_batch.lr_for(batch),
              "steps": 1, "setup": {}, "loss": [0.5], "acc": [0.5], "diverged": False,
              "final_acc": value(norm, batch, groups, seed=seed),
              "weight_change": [value(norm, batch, groups, f"change{k}", seed) for k in range(3)]}
    if norm in ("batch", "renorm"):
        record["diagnostics"] = {"accuracy": {e: value(norm, batch, groups, e, seed) for e in small_batch.EVALUATIONS},
                                 "noise": None}
    return record


@pytest.fixture(scope="module")
def verdicts():
    patch = pytest.MonkeyPatch()
    rows = np.zeros((64, 784), np.float32)
    patch.setattr(small_batch, "data", lambda: (rows, np.zeros(64, np.int64), rows[:8], np.zeros(8, np.int64)))
    patch.setattr(small_batch, "_one_run", _fake_run)
    patch.setattr(small_batch, "_plot", lambda *a, **k: {})
    try:
        results = small_batch.run("unused", seeds=SEEDS, epochs=1, progress=False, quick=True)
    finally:
        patch.undo()
    return {v["id"]: v for v in results["verdicts"]}


def _per_seed(*args, **kw):
    return np.array([value(*args, seed=s, **kw) for s in range(SEEDS)])


def _expected():
    bn_s, bn_l = _per_seed("batch", SMALL), _per_seed("batch", LARGE)
    renorm_s = _per_seed("renorm", SMALL)
    want = {
        "bn/small-vs-large": (bn_l, bn_s),
        "diag/population": (_per_seed("batch", SMALL, what="population"), bn_s),
        "diag/batch1000": (_per_seed("batch", SMALL, what="batch stats 1000"), bn_s),
        "diag/population-still-trails": (bn_l, _per_seed("batch", SMALL, what="population")),
        "diag/first-layer-moves": (_per_seed("batch", SMALL, what="change0"), _per_seed("layer", SMALL, what="change0")),
        "renorm/beats-bn": (renorm_s, bn_s),
        "renorm/half-gap": (renorm_s, (bn_s + bn_l) / 2),
        "renorm/population": (_per_seed("renorm", SMALL, what="population"), renorm_s),
        "bn/beats-none": (bn_l, _per_seed("none", LARGE)),
        "groups/4-vs-32": (_per_seed("group", SMALL, small_batch.GROUPS), _per_seed("group", SMALL, 32)),
    }
    for norm in ("layer", "group", "instance"):
        want[f"{norm}/beats-bn"] = (_per_seed(norm, SMALL), bn_s)
    return want


def test_every_verdict_is_one_the_claims_name(verdicts):
    assert set(verdicts) == set(_expected())


@pytest.mark.parametrize("vid", sorted(_expected()))
def test_each_verdict_compares_the_cells_its_claim_names(verdicts, vid):
    better, worse = _expected()[vid]
    v = verdicts[vid]
    np.testing.assert_allclose(v["diffs"], better - worse, rtol=0, atol=1e-12)
    assert v["better_mean"] == pytest.approx(better.mean(), abs=1e-12)
    assert v["worse_mean"] == pytest.approx(worse.mean(), abs=1e-12)
    assert v["pairs"] == SEEDS and v["dropped_pairs"] == 0
