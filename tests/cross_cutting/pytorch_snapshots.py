"""PyTorch's answers kept in a JSON file beside the test that compares with
them, so the comparison runs without PyTorch installed; running that test file
as a script (with PyTorch) rewrites the file."""
import json
import sys


def load(path):
    """The recorded answers, by case name ({} before the first recording)."""
    return json.loads(path.read_text()) if path.exists() else {}


def rewrite(path, answers):
    path.write_text(json.dumps(answers, indent=0, sort_keys=True) + "\n")
    print(f"wrote {path}", file=sys.stderr)
