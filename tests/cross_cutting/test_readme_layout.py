"""README's "Layout" section against the tree: every module and folder of the
package and of kernels/, every test folder, tool, benchmark, example and docs
entry is named in the entry of its top-level folder."""
import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parents[2]


def _layout_entries():
    """{top-level folder: the text of its entry} from the section's code block."""
    text = (ROOT / "README.md").read_text()
    section = text[text.index("## Layout"):]
    block = section[section.index("```\n") + 4:]
    block = block[:block.index("```")]
    entries, name = {}, None
    for line in block.splitlines():
        if line and not line[0].isspace():
            name = line.split()[0]
            entries[name] = line[len(name):]
        elif name is not None:
            entries[name] += "\n" + line
    return entries


def _children(folder, suffix=".py"):
    """The files (with ``suffix``) and folders of ``folder`` a reader would look for:
    not __init__.py, caches or hidden entries; folders as "name/"."""
    out = []
    for p in sorted((ROOT / folder).iterdir()):
        if p.name.startswith((".", "_")):
            continue
        if p.is_dir():
            out.append(p.name + "/")
        elif suffix is None or p.suffix == suffix:
            out.append(p.name)
    return out


def _named(entry, name):
    """Whether ``entry`` names ``name`` (a folder may be written without its slash)."""
    word = re.escape(name.rstrip("/"))
    return re.search(rf"(?<![\w./]){word}(?![\w])", entry) is not None


def test_the_layout_names_every_module_and_folder():
    entries = _layout_entries()
    wanted = {
        "tinygrad_bn/": _children("tinygrad_bn"),
        "kernels/": _children("kernels"),
        "tests/": [p for p in _children("tests") if p.endswith("/")],
        "tools/": _children("tools"),
        "benchmarks/": _children("benchmarks"),
        "examples/": _children("examples"),
        "docs/": _children("docs", suffix=None),
    }
    missing = [f"{top}{name}" for top, names in wanted.items() for name in names
               if not _named(entries.get(top, ""), name)]
    assert missing == [], f"README's Layout section does not name: {missing}"
