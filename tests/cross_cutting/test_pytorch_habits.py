"""A typical PyTorch MLP training script (a Dataset, DataLoader and random_split,
a custom Module with BatchNorm1d and Dropout, optim.SGD, gradient clipping,
no_grad evaluation, initialisation and hand-written SGD updates through
``.data`` and in place, state_dict save and load) runs
with only its import lines changed."""
import pytest

PYTORCH_SCRIPT = '''
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, Dataset, random_split

torch.manual_seed(0)


class Blobs(Dataset):
    def __init__(self, n=512):
        self.x = torch.randn(n, 20)
        self.y = (self.x[:, 0] + 0.5 * self.x[:, 1] > 0).long()

    def __len__(self):
        return len(self.y)

    def __getitem__(self, i):
        return self.x[i], self.y[i]


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(20, 64)
        self.bn1 = nn.BatchNorm1d(64)
        self.fc2 = nn.Linear(64, 2)
        self.dropout = nn.Dropout(0.1)

    def forward(self, x):
        x = F.relu(self.bn1(self.fc1(x)))
        return self.fc2(self.dropout(x))


def init_weights(m):
    # the DCGAN-era idiom: initialise through .data
    if isinstance(m, nn.Linear):
        nn.init.normal_(m.weight.data, 0.0, 0.1)
        m.bias.data.fill_(0.01)


train_set, val_set = random_split(Blobs(), [400, 112])
train_loader = DataLoader(train_set, batch_size=32, shuffle=True)
val_loader = DataLoader(val_set, batch_size=64)
model = MLP()
model.apply(init_weights)
assert torch.all(model.fc2.bias == 0.01) and 0.05 < model.fc1.weight.std().item() < 0.15
optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
criterion = nn.CrossEntropyLoss()

for epoch in range(5):
    model.train()
    for xb, yb in train_loader:
        optimizer.zero_grad()
        loss = criterion(model(xb), yb)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        optimizer.step()
    model.eval()
    correct = total = 0
    with torch.no_grad():
        for xb, yb in val_loader:
            pred = model(xb).argmax(dim=1)
            correct += (pred == yb).sum().item()
            total += yb.size(0)
    print(f"epoch {epoch}: loss {loss.item():.3f} val acc {correct / total:.3f}")

# a hand-written SGD step, as tutorials write it
xb, yb = next(iter(train_loader))
model.train()
loss = criterion(model(xb), yb)
model.zero_grad()
loss.backward()
before = model.fc1.weight.detach().clone()
with torch.no_grad():
    for p in model.parameters():
        p -= 0.01 * p.grad
assert not torch.equal(before, model.fc1.weight.detach())

# the older form of the same step, through .data, outside no_grad
loss = criterion(model(xb), yb)
model.zero_grad()
loss.backward()
before = model.fc2.weight.detach().clone()
for p in model.parameters():
    p.data -= 0.01 * p.grad.data
assert torch.allclose(model.fc2.weight.detach(), before - 0.01 * model.fc2.weight.grad)

torch.save(model.state_dict(), PATH)
restored = MLP()
restored.load_state_dict(torch.load(PATH))
restored.eval()
model.eval()
with torch.no_grad():
    x = torch.randn(8, 20)
    assert torch.allclose(restored(x), model(x))
RESULT["accuracy"] = correct / total
'''

PORTED_IMPORTS = {
    "import torch": "import tinygrad_bn as torch",
    "import torch.nn as nn": "import tinygrad_bn.nn as nn",
    "import torch.nn.functional as F": "import tinygrad_bn.nn.functional as F",
    "from torch.utils.data import DataLoader, Dataset, random_split":
        "from tinygrad_bn.utils.data import DataLoader, Dataset, random_split",
}


def ported():
    lines = [PORTED_IMPORTS.get(line, line) for line in PYTORCH_SCRIPT.splitlines()]
    changed = [a for a, b in zip(PYTORCH_SCRIPT.splitlines(), lines) if a != b]
    assert changed and all(line.startswith(("import ", "from ")) for line in changed)  # imports only
    return "\n".join(lines)


def test_a_pytorch_training_script_runs_with_its_imports_changed(tmp_path, capsys):
    result = {}
    exec(compile(ported(), "pytorch_script.py", "exec"),
         {"__name__": "__main__", "PATH": str(tmp_path / "model.pt"), "RESULT": result})
    assert result["accuracy"] > 0.8  # the blobs are linearly separable
    assert "epoch 4" in capsys.readouterr().out


def test_the_script_is_real_pytorch(tmp_path):
    pytest.importorskip("torch")
    result = {}
    exec(compile(PYTORCH_SCRIPT, "pytorch_script.py", "exec"),
         {"__name__": "__main__", "PATH": str(tmp_path / "model.pt"), "RESULT": result})
    assert result["accuracy"] > 0.8
