"""A tape of ops on empty tensors (a dim of size 0, as an empty batch gives) is still a
valid ``Tape.to_json`` document: the schema's shapes are lists of sizes >= 0, so the
document PyTorch-style code produces for an empty batch validates, before and after
backward, and its shapes are the tensors' own."""
import json

import numpy as np
import pytest

import tinygrad_bn as tg
from tinygrad_bn import nn
from tinygrad_bn.tape import TAPE_JSON_SCHEMA, Tape

jsonschema = pytest.importorskip("jsonschema")


def _empty_batch_step(backward):
    tg.manual_seed(0)
    lin = nn.Linear(3, 2)
    x = tg.tensor(np.zeros((0, 3), np.float32))
    with Tape() as tape:
        out = lin(x)
        loss = (out * 2.0).sum()
    if backward:
        loss.backward()
    return tape, out


@pytest.mark.parametrize("backward", [False, True])
def test_a_tape_with_a_zero_size_dim_validates(backward):
    tape, out = _empty_batch_step(backward)
    doc = json.loads(tape.to_json())
    jsonschema.validate(doc, TAPE_JSON_SCHEMA)
    shapes = [e["output"]["shape"] for e in doc["entries"]]
    assert list(out.shape) in shapes and any(0 in s for s in shapes)


def test_the_schema_takes_a_size_0_dim_and_refuses_a_negative_one():
    tape, _ = _empty_batch_step(True)
    doc = json.loads(tape.to_json())
    entry = next(e for e in doc["entries"] if 0 in e["output"]["shape"])
    entry["output"]["shape"] = [0, 0]
    jsonschema.validate(doc, TAPE_JSON_SCHEMA)
    entry["output"]["shape"] = [-1, 2]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(doc, TAPE_JSON_SCHEMA)
