"""PyTorch's answers kept in a JSON file beside the test that compares with
them, so the comparison runs without PyTorch installed; running that test file
as a script (with PyTorch) rewrites the file."""
import json
import math
import sys
import warnings

import numpy as np


def load(path):
    """The recorded answers, by case name ({} before the first recording)."""
    return json.loads(path.read_text()) if path.exists() else {}


def rewrite(path, answers):
    path.write_text(json.dumps(answers, indent=0, sort_keys=True) + "\n")
    print(f"wrote {path}", file=sys.stderr)


def dtype_and_values(f):
    """What ``f()`` gives, as a snapshot keeps it: the result's dtype and its values (to 5
    decimals, NaN as None), or the class of the error it raises (a refusal)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            r = f()
    except (RuntimeError, TypeError, ValueError, NotImplementedError) as exc:
        return {"error": type(exc).__name__}
    a = np.asarray(r.detach().numpy() if hasattr(r, "detach") else r)
    return {"dtype": str(a.dtype), "values": [None if math.isnan(v) else round(v, 5)
                                              for v in a.reshape(-1).astype(float).tolist()]}
