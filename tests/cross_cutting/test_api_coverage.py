"""The PyTorch API list (docs/api_coverage.toml) against tinygrad_bn: every listed name
resolves or is marked not supported with a reason, no mark is stale, a test mentions every
supported name, and README.md's coverage summary is the one tools/api_coverage.py prints."""
import sys
from pathlib import Path

import pytest

pytest.importorskip("tomllib", reason="the list is TOML, read with tomllib (Python 3.11+)")
ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))

import api_coverage


@pytest.fixture(scope="module")
def sections():
    return api_coverage.check()


def _lines(sections, kind):
    return [line for line in api_coverage.problems(sections) if f": {kind}" in line]


def test_the_list_is_well_formed():
    data = api_coverage.load()
    seen = {}
    for key, spec in data.items():
        assert {"title", "reference", "root", "default_test", "supported"} <= spec.keys(), key
        marked = [name for group in spec.get("not_supported", []) for name in group["names"]]
        assert all(group["reason"].strip() for group in spec.get("not_supported", [])), key
        assert set(spec.get("test", {})) <= set(spec["supported"]), key
        for name in spec["supported"] + marked:
            path = f"{spec['root']}.{name}"  # a name counted in two sections would be counted twice
            assert path not in seen, f"{path} is listed in {seen[path]} and {key}"
            seen[path] = key
        for pattern in spec["default_test"] + list(spec.get("test", {}).values()):
            assert pattern.startswith("tests/"), (key, pattern)


def test_every_listed_name_resolves_or_is_marked_not_supported(sections):
    missing = _lines(sections, "missing")
    assert not missing, f"{len(missing)} names neither resolve nor are marked not supported:\n" + "\n".join(missing)


def test_no_not_supported_mark_is_stale(sections):
    stale = _lines(sections, "stale")
    assert not stale, "names marked not supported resolve now: move them to supported\n" + "\n".join(stale)


def test_every_supported_name_has_a_test_that_mentions_it(sections):
    untested = _lines(sections, "untested")
    assert not untested, f"{len(untested)} supported names have no test that mentions them:\n" + "\n".join(untested)


def test_the_readme_summary_is_the_tools(sections):
    block = api_coverage.readme_block((ROOT / "README.md").read_text(encoding="utf-8"))
    if block is None:
        pytest.skip("README.md has no api-coverage block yet: paste the output of "
                    "`python tools/api_coverage.py --markdown` between <!-- api-coverage --> and <!-- /api-coverage -->")
    assert block == api_coverage.markdown(sections), (
        "README.md's coverage summary is stale: replace the block between its api-coverage markers "
        "with the output of `python tools/api_coverage.py --markdown`")


def test_the_tool_tells_supported_missing_stale_and_untested_apart(tmp_path):
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_a.py").write_text("x = tg.zeros(3)\nnp.ones_like(x)\ny = torch.eye(2)\n")
    data = {"s": {"title": "S", "reference": "r", "root": "tinygrad_bn", "default_test": ["tests/test_*.py"],
                  "supported": ["zeros", "ones_like", "no_such_name", "nn"],
                  "not_supported": [{"reason": "why", "names": ["ones", "no_such_either"]}]}}
    [s] = api_coverage.check(data, repo=tmp_path)
    assert s.supported == {"zeros": "tests/test_a.py"}
    assert s.untested == ["ones_like"]  # np.ones_like is NumPy's, not a test of ours
    assert s.missing == ["no_such_name", "nn"]  # a submodule is not an API name
    assert s.stale == ["ones"] and s.not_supported == {"why": ["ones", "no_such_either"]}
    assert (s.n_supported, s.n_not_supported, s.total) == (2, 2, 6)
    markdown = api_coverage.markdown([s])
    assert "| S | 2 | 2 | 2 | 6 |" in markdown
    assert api_coverage.readme_block(f"a\n{api_coverage.README_BEGIN}\n{markdown}\n{api_coverage.README_END}\nb") == markdown
    assert api_coverage.readme_block("no block") is None


def test_instance_attributes_and_submodules_on_the_way_resolve():
    assert api_coverage.resolves("tinygrad_bn.nn", "Module.training")  # set in __init__, not on the class
    assert api_coverage.resolves("tinygrad_bn.optim", "Optimizer.param_groups")
    assert not api_coverage.resolves("tinygrad_bn.nn", "Module.no_such_attribute")
    assert api_coverage.resolves("tinygrad_bn", "autograd.functional.jacobian")
    assert api_coverage.resolves("tinygrad_bn", "Tensor.T") and not api_coverage.resolves("tinygrad_bn", "nn")
    assert not api_coverage.resolves("tinygrad_bn.no_such_module", "anything")


class _Pair:
    def __init__(self, scale):
        self.loc, self.scale = 0.0, scale
        self.flag: bool = self.scale == 1.0


def test_assignments_in_init_count_as_attributes():
    assert all(api_coverage._sets_instance_attribute(_Pair, name) for name in ("loc", "scale", "flag"))
    assert not api_coverage._sets_instance_attribute(_Pair, "shape")
