"""Whether the walk may keep a gradient array without a copy: CPython's
reference counts tell whether anything else holds it (``sole_reference``) or
whether a gradient hook kept it (``references``, counted before and after)."""
import sys


def sole_reference(items, index):
    """Whether ``items[index]`` is an array that nothing references but its one
    slot in ``items`` (not a view, not in another slot, not held anywhere else),
    so whoever takes it out may keep it without a copy: the walk gives such a
    gradient to a leaf as its ``.grad``, as PyTorch does when its engine holds
    the only use of a tensor. CPython reference counts tell; pass the container
    and hold no other reference to the item while asking."""
    slots = 0
    for x in items:
        slots += x is items[index]
    del x
    if slots != 1 or getattr(items[index], "base", None) is not None:
        return False
    return sys.getrefcount(items[index]) <= 1 + _TEMPORARY_REFERENCES


def references(x):
    """How many references hold ``x`` (names, container slots, attributes),
    not counting this call's own. Two counts taken around code that may keep
    ``x`` (a gradient hook) tell whether it did: the second is higher. CPython
    reference counts; pass a name, not an expression (whose value the caller's
    stack holds too), and hold the same references at both counts."""
    return sys.getrefcount(x) - _CALL_REFERENCES


# what sys.getrefcount counts beyond the slots for an item passed as items[index]
# (its argument on the stack: 1 on CPython 3.10-3.13), measured the same way;
# and what it counts for references' own argument, measured on an object one name holds
_probe = [object()]
_TEMPORARY_REFERENCES = sys.getrefcount(_probe[0]) - 1
_CALL_REFERENCES = 0
_probe = object()
_CALL_REFERENCES = references(_probe) - 1
del _probe
