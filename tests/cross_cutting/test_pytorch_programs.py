"""A PyTorch program built from the idioms the ported programs use (a TensorDataset
sliced as the "What is torch.nn really?" tutorial does, an EMA copy made with
copy.deepcopy, f-string formatting of losses, makemore-style sampling with a
Generator and multinomial, a distribution over the logits, and newer tensor
names) runs with only its imports changed, and, with PyTorch installed, gives
PyTorch's numbers: the weights and data are fixed arrays, so both runs compute
the same thing."""
import numpy as np
import pytest

PYTORCH_PROGRAM = '''
import copy
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import TensorDataset

x_train = torch.tensor(XS, dtype=torch.float32)
y_train = torch.tensor(YS)
train_ds = TensorDataset(x_train, y_train)
xb, yb = train_ds[0:64]  # the tutorial's slicing
assert xb.shape == (64, 20) and yb.shape == (64,)

model = nn.Sequential(nn.Linear(20, 32), nn.BatchNorm1d(32), nn.Tanh(), nn.Linear(32, 4))
with torch.no_grad():
    for p, w in zip(model.parameters(), WEIGHTS):
        p.copy_(torch.tensor(w))
ema = copy.deepcopy(model)  # the usual EMA / best-model snapshot
for p in ema.parameters():
    p.requires_grad_(False)
opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
sched = torch.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
losses = []
for epoch in range(3):
    for i in range(0, len(train_ds), 64):
        xb, yb = train_ds[i:i + 64]
        loss = F.cross_entropy(model(xb), yb)
        opt.zero_grad()
        loss.backward()
        opt.step()
        with torch.no_grad():
            for pe, pm in zip(ema.parameters(), model.parameters()):
                pe.mul_(0.9).add_(pm, alpha=0.1)
    sched.step()
    losses.append(loss.item())
    print(f"epoch {epoch}: loss {loss:.4f}, lr {sched.get_last_lr()[0]:.3f}")

model.eval()
ema.eval()
with torch.no_grad():
    logits = model(x_train)
    accuracy = (logits.argmax(1) == y_train).float().mean().item()
    probs = F.softmax(ema(x_train[:5]), dim=1)
g = torch.Generator().manual_seed(2147483647)
samples = torch.multinomial(probs, num_samples=3, replacement=True, generator=g)
dist = torch.distributions.Categorical(logits=logits[:5])
RESULT.update(
    losses=losses, accuracy=accuracy, ema_probs=probs.tolist(), samples=tuple(samples.shape),
    entropy=dist.entropy().tolist(), log_prob=dist.log_prob(y_train[:5]).tolist(),
    linspace=torch.linspace(0, 1, 5).tolist(), logsumexp=torch.logsumexp(logits[:3], dim=1).tolist(),
    topk=logits[:2].topk(2, dim=1).indices.tolist(), cumsum=torch.cumsum(logits[0], dim=0).tolist(),
    quantile=torch.quantile(logits[:, 0], 0.25).item(), atan2=torch.atan2(logits[0], logits[1]).tolist(),
    ema_differs=not torch.equal(ema[0].weight, model[0].weight),
)
'''

PORTED_IMPORTS = {
    "import torch": "import tinygrad_bn as torch",
    "import torch.nn as nn": "import tinygrad_bn.nn as nn",
    "import torch.nn.functional as F": "import tinygrad_bn.nn.functional as F",
    "from torch.utils.data import TensorDataset": "from tinygrad_bn.utils.data import TensorDataset",
}


def _ported():
    lines = [PORTED_IMPORTS.get(line, line) for line in PYTORCH_PROGRAM.splitlines()]
    changed = [a for a, b in zip(PYTORCH_PROGRAM.splitlines(), lines) if a != b]
    assert len(changed) == len(PORTED_IMPORTS) and all(line.startswith(("import ", "from ")) for line in changed)
    return "\n".join(lines)


def _inputs():
    rng = np.random.default_rng(11)
    centers = rng.standard_normal((4, 20)) * 2
    ys = rng.integers(0, 4, 256)
    xs = (centers[ys] + rng.standard_normal((256, 20))).astype(np.float32)
    shapes = [(32, 20), (32,), (32,), (32,), (4, 32), (4,)]  # Linear, BatchNorm1d, Linear
    weights = [(rng.standard_normal(s) * (0.2 if len(s) == 2 else 0.1) + (1.0 if i == 2 else 0.0)).astype(np.float32)
               for i, s in enumerate(shapes)]
    return {"XS": xs, "YS": ys, "WEIGHTS": weights}


def _run(source):
    result = {}
    exec(compile(source, "pytorch_program.py", "exec"), {"__name__": "__main__", "RESULT": result, **_inputs()})
    return result


def test_the_program_runs_with_only_its_imports_changed(capsys):
    ours = _run(_ported())
    out = capsys.readouterr().out
    assert "epoch 2: loss " in out and "lr 0.050" in out
    assert ours["losses"][-1] < ours["losses"][0] and ours["accuracy"] > 0.9
    assert ours["samples"] == (5, 3) and ours["ema_differs"]
    np.testing.assert_allclose(np.sum(ours["ema_probs"], axis=1), 1.0, rtol=1e-6)
    assert ours["linspace"] == [0.0, 0.25, 0.5, 0.75, 1.0]


def test_the_program_gives_pytorchs_numbers():
    pytest.importorskip("torch")
    ours, theirs = _run(_ported()), _run(PYTORCH_PROGRAM)
    for key in ("losses", "ema_probs", "entropy", "log_prob", "logsumexp", "cumsum", "atan2"):
        np.testing.assert_allclose(ours[key], theirs[key], rtol=2e-4, atol=2e-5, err_msg=key)
    np.testing.assert_allclose(ours["quantile"], theirs["quantile"], rtol=2e-4)
    assert ours["accuracy"] == theirs["accuracy"] and ours["topk"] == theirs["topk"]
    assert ours["samples"] == theirs["samples"] and ours["linspace"] == theirs["linspace"]
