"""The mutation tool's list stays usable: every planted bug still applies to
the code as it is (an edit that moves the text away is noticed here, not at the
next mutation run), and the list covers every layer of the project."""
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))

from mutants import MUTANTS  # noqa: E402
from mutate import apply  # noqa: E402


def test_every_mutant_applies_and_changes_its_file():
    for m in MUTANTS:
        assert apply(m) != (ROOT / m.path).read_text(), m.id


def test_the_mutants_cover_every_layer_and_name_existing_tests():
    assert len(MUTANTS) >= 60 and len({m.id for m in MUTANTS}) == len(MUTANTS)
    for area in ("kernels/", "tinygrad_bn/ops/", "tinygrad_bn/engine.py", "tinygrad_bn/nn/", "tinygrad_bn/optim/",
                 "tinygrad_bn/serialization.py", "tinygrad_bn/testing/"):
        assert any(m.path.startswith(area) for m in MUTANTS), area
    for m in MUTANTS:
        assert all((ROOT / t).exists() for t in m.tests), (m.id, [t for t in m.tests if not (ROOT / t).exists()])
