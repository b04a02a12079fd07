"""Measure the PyTorch API tinygrad_bn covers: read docs/api_coverage.toml, resolve every
name against tinygrad_bn, check that a test mentions each supported one, print the table.

    python tools/api_coverage.py              # table by section and a summary
    python tools/api_coverage.py --verbose    # also the test file that mentions each name
    python tools/api_coverage.py --markdown   # the summary for README.md's api-coverage block

Exits 1 when a listed name is missing (neither resolvable nor marked not supported), when a
name marked not supported resolves (the mark is stale), or when no test file mentions a
supported name. Needs only the standard library and tinygrad_bn.
"""
import argparse
import builtins
import functools
import importlib
import inspect
import pkgutil
import re
import sys
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import tomllib

REPO = Path(__file__).resolve().parent.parent
LIST = REPO / "docs" / "api_coverage.toml"
# the coverage test and this tool name no API: they must not count as a name's test
NOT_TESTS = {"tests/cross_cutting/test_api_coverage.py", "tools/api_coverage.py"}
README_BEGIN, README_END = "<!-- api-coverage -->", "<!-- /api-coverage -->"

_ABSENT = object()


@dataclass
class Section:
    """What one section of the list resolves to."""
    key: str
    title: str
    reference: str
    supported: dict = field(default_factory=dict)      # name -> test file that mentions it
    untested: list = field(default_factory=list)       # resolves, but no test file mentions it
    missing: list = field(default_factory=list)        # should be supported, does not resolve
    not_supported: dict = field(default_factory=dict)  # reason -> names
    stale: list = field(default_factory=list)          # marked not supported, yet resolves

    @property
    def n_supported(self):
        return len(self.supported) + len(self.untested)

    @property
    def n_not_supported(self):
        return sum(len(names) for names in self.not_supported.values())

    @property
    def total(self):
        return self.n_supported + len(self.missing) + self.n_not_supported


# ---------------------------------------------------------------- resolving names

@functools.cache
def _import(path):
    """The object at a dotted path such as "tinygrad_bn.nn.Module", or _ABSENT."""
    parts = path.split(".")
    for cut in range(len(parts), 0, -1):
        module_name = ".".join(parts[:cut])
        try:
            obj = importlib.import_module(module_name)
        except ModuleNotFoundError as e:
            # only the module itself being absent means "not there"; a broken import inside it is a bug to show
            if e.name is None or not module_name.startswith(e.name):
                raise
            continue
        for part in parts[cut:]:
            obj = getattr(obj, part, _ABSENT)
            if obj is _ABSENT:
                return _ABSENT
        return obj
    return _ABSENT


@functools.cache
def _submodule_names(package):
    # listed, not imported: trying to import every absent name would search the disk each time
    return {info.name for info in pkgutil.iter_modules(getattr(package, "__path__", []))}


def _submodule(module, name):
    if name not in _submodule_names(module):
        return _ABSENT
    return importlib.import_module(f"{module.__name__}.{name}")


@functools.cache
def _source(cls):
    try:
        return inspect.getsource(cls)
    except (OSError, TypeError):
        return ""


def _sets_instance_attribute(cls, name):
    """Whether a class in cls's MRO assigns self.<name> (attributes such as Module.training,
    Optimizer.param_groups or Normal.loc exist only on instances)."""
    target = r"self\.\w+\s*,\s*"  # tuple targets: self.loc, self.scale = ...
    pattern = re.compile(rf"^\s*({target})*self\.{re.escape(name)}\s*(,\s*self\.\w+\s*)*(:[^=\n]+)?=(?!=)"
                         rf"|__setattr__\(\s*self\s*,\s*[\"']{re.escape(name)}[\"']", re.MULTILINE)
    return any(name in getattr(klass, "__slots__", ()) or pattern.search(_source(klass))
               for klass in cls.__mro__[:-1])


def resolves(root, name):
    """Whether tinygrad_bn has <root>.<name>. A module found at the end does not count (a
    submodule named like an API name is an implementation file); on the way, a submodule
    shadowed by a function of its name (as torch.autograd.gradcheck) is imported to walk on."""
    obj = _import(root)
    parts = name.split(".")
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        nxt = getattr(obj, part, _ABSENT)
        if not last and inspect.ismodule(obj) and not (inspect.ismodule(nxt) or inspect.isclass(nxt)):
            sub = _submodule(obj, part)
            nxt = sub if sub is not _ABSENT else nxt
        if nxt is _ABSENT:
            return last and inspect.isclass(obj) and _sets_instance_attribute(obj, part)
        obj = nxt
    return obj is not _ABSENT and not inspect.ismodule(obj)


# ---------------------------------------------------------------- finding tests

class MentionIndex:
    """The test files, read once each, with the identifiers they mention."""

    # `.name` (not numpy's, math's or torch's: those are the references tests compare against)
    _ATTRIBUTE = re.compile(r"(?<!\bnp)(?<!\bnumpy)(?<!\bmath)(?<!\btorch)(?<!\bspecial)\.([A-Za-z_]\w*)")
    _STRING = re.compile(r"[\"']([A-Za-z_]\w*)[\"']")
    _CALL = re.compile(r"(?<![\w.])([A-Za-z_]\w*)\(")

    def __init__(self, repo):
        self.repo = repo
        self._mentions = {}
        self._files = {}

    def expand(self, patterns):
        """The files the globs name, in order, without the files that test the list itself."""
        patterns = tuple(patterns)
        if patterns not in self._files:
            files = []
            for pattern in patterns:
                for path in sorted(self.repo.glob(pattern)):
                    rel = path.relative_to(self.repo).as_posix()
                    if path.is_file() and rel not in NOT_TESTS and rel not in files:
                        files.append(rel)
            self._files[patterns] = files
        return self._files[patterns]

    def mentions(self, rel):
        if rel not in self._mentions:
            text = (self.repo / rel).read_text(encoding="utf-8")
            calls = {n for n in self._CALL.findall(text) if not hasattr(builtins, n)}  # abs(...) is Python's
            self._mentions[rel] = set(self._ATTRIBUTE.findall(text)) | set(self._STRING.findall(text)) | calls
        return self._mentions[rel]

    def first_mentioning(self, name, patterns):
        """The first file that mentions the last part of a dotted name, or None."""
        word = name.rsplit(".", 1)[-1]
        return next((f for f in self.expand(patterns) if word in self.mentions(f)), None)


# ---------------------------------------------------------------- the check

def load(path=LIST):
    with open(path, "rb") as f:
        return tomllib.load(f)


def check(data=None, repo=REPO):
    """Resolve every name of the list; a Section per section, in the list's order."""
    data = load() if data is None else data
    tests = MentionIndex(repo)
    sections = []
    for key, spec in data.items():
        section = Section(key, spec["title"], spec["reference"])
        root, default_test, test_of = spec["root"], spec["default_test"], spec.get("test", {})
        for name in spec["supported"]:
            if not resolves(root, name):
                section.missing.append(name)
                continue
            patterns = [test_of[name]] if name in test_of else default_test
            test = tests.first_mentioning(name, patterns)
            if test is None:
                section.untested.append(name)
            else:
                section.supported[name] = test
        for group in spec.get("not_supported", []):
            section.not_supported[group["reason"]] = list(group["names"])
            section.stale += [name for name in group["names"] if resolves(root, name)]
        sections.append(section)
    return sections


def problems(sections):
    """One line per thing that makes the check fail."""
    lines = []
    for s in sections:
        lines += [f"{s.title}: missing {name}" for name in s.missing]
        lines += [f"{s.title}: stale mark, {name} resolves but is listed as not supported" for name in s.stale]
        lines += [f"{s.title}: untested, no test file mentions {name}" for name in s.untested]
    return lines


# ---------------------------------------------------------------- printing

def _wrapped(label, names, width=100):
    text = f"{label} ({len(names)}): " + ", ".join(names)
    return textwrap.fill(text, width=width, initial_indent="  ", subsequent_indent="      ", break_on_hyphens=False)


def table(sections, verbose=False):
    """The full table by section, then the summary."""
    out = []
    for s in sections:
        out.append(f"{s.title}  [{s.reference}]")
        if verbose:
            out += [f"  supported  {name:<40} {test}" for name, test in s.supported.items()]
        else:
            out.append(_wrapped("supported", list(s.supported)))
        for label, names in (("untested", s.untested), ("MISSING", s.missing), ("STALE not-supported mark", s.stale)):
            if names:
                out.append(_wrapped(label, names))
        for reason, names in s.not_supported.items():
            out.append(_wrapped(f"not supported, {reason}", names))
        out.append(f"  = {s.n_supported} supported, {s.n_not_supported} not supported, {len(s.missing)} missing"
                   f" of {s.total}" + (f"; {len(s.untested)} untested" if s.untested else "")
                   + (f"; {len(s.stale)} stale" if s.stale else ""))
        out.append("")
    out.append(summary(sections))
    return "\n".join(out)


def _totals(sections):
    return (sum(s.n_supported for s in sections), sum(s.n_not_supported for s in sections),
            sum(len(s.missing) for s in sections), sum(s.total for s in sections))


def summary(sections):
    """A line per section and the overall line."""
    width = max(len(s.title) for s in sections)
    rows = [(s.title, s.n_supported, s.n_not_supported, len(s.missing), s.total) for s in sections]
    lines = [f"{'section':<{width}}  supported  not supported  missing  total"]
    for title, *counts in rows + [("overall", *_totals(sections))]:
        lines.append(f"{title:<{width}}  {counts[0]:>9}  {counts[1]:>13}  {counts[2]:>7}  {counts[3]:>5}")
    return "\n".join(lines)


def markdown(sections):
    """The summary table README.md carries between its api-coverage markers."""
    lines = ["| PyTorch API section | supported | not supported | missing | names |", "|---|---:|---:|---:|---:|"]
    for s in sections:
        lines.append(f"| {s.title} | {s.n_supported} | {s.n_not_supported} | {len(s.missing)} | {s.total} |")
    supported, not_supported, missing, total = _totals(sections)
    lines.append(f"| **overall** | **{supported}** | **{not_supported}** | **{missing}** | **{total}** |")
    lines.append("")
    lines.append("Counted by `python tools/api_coverage.py --markdown` from `docs/api_coverage.toml`; "
                 "run `python tools/api_coverage.py` for the names and the reasons.")
    return "\n".join(lines)


def readme_block(text):
    """The text between README.md's api-coverage markers, or None when it has none."""
    begin, end = text.find(README_BEGIN), text.find(README_END)
    if begin < 0 or end < 0:
        return None
    return text[begin + len(README_BEGIN):end].strip("\n")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--markdown", action="store_true", help="print the summary table for README.md")
    parser.add_argument("--verbose", action="store_true", help="print the test file of each supported name")
    parser.add_argument("--list", type=Path, default=LIST, help="the list to check (default: docs/api_coverage.toml)")
    args = parser.parse_args(argv)
    sections = check(load(args.list))
    print(markdown(sections) if args.markdown else table(sections, verbose=args.verbose))
    found = problems(sections)
    if found:
        print(f"\n{len(found)} problem(s):", *found, sep="\n", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
