"""Where the walk delivers gradients: ``IntoLeafGrads`` into every leaf's ``.grad``
(``backward``), ``IntoGivenGrads`` into the ``.grad`` of the given inputs
(``backward(inputs=...)``), ``IntoResults`` into a list (``grad``);
``add_into_grad`` is ``t.grad += g``, recorded in a ``create_graph`` pass."""
from .engine_recorded import recording
from .engine_hooks import run_hooks
from .engine_refcounts import references
from .tensor_base import TensorBase, make_tensor


def add_into_grad(t, g, be):
    """t.grad += g: in place on arrays; on the recording backend a new recorded
    sum, as PyTorch accumulates when create_graph is set."""
    if be.records:
        t.grad = g if t.grad is None else be.add(t.grad, g)
    elif t.grad is None:
        t.grad = make_tensor(be.copy(g), be, False)
    else:
        be.iadd(t.grad._data, g)


class IntoLeafGrads:
    """Where ``backward`` sends a leaf's gradient: through its hooks into ``.grad``."""

    def __call__(self, leaf, g, be, owned):
        if be.records:
            if leaf._hooks:
                g = run_hooks(leaf._hooks, g, be)
            add_into_grad(leaf, g, be)
            return
        if leaf._hooks:
            before = references(g)
            replaced = run_hooks(leaf._hooks, g, be)
            if replaced is g:
                del replaced
                # a hook that kept the gradient (a tensor of it, a view, its array)
                # holds one more reference to it now: then .grad must be a copy
                owned = owned and references(g) <= before
            else:
                owned, g = False, replaced
        if leaf.grad is None:
            owned = owned and type(g) is be.ndarray  # a hook may return a NumPy scalar
            leaf.grad = make_tensor(g if owned else be.copy(g), be, False)
        else:
            be.iadd(leaf.grad._data, g)


class IntoGivenGrads(IntoLeafGrads):
    """Where ``backward(inputs=...)`` sends gradients: into the ``.grad`` of the
    given tensors only, leaves and non-leaves alike (as PyTorch)."""

    def __init__(self, inputs):
        self.leaves = {id(t) for t in inputs if t._entry is None}
        self.outputs = {(id(t._entry), t._out_index): t for t in inputs if t._entry is not None}

    def __call__(self, leaf, g, be, owned):
        if id(leaf) in self.leaves:
            super().__call__(leaf, g, be, owned)

    def capture(self, entry, grads):
        for i, g in enumerate(grads):
            t = self.outputs.get((id(entry), i))
            if t is not None and g is not None:
                be = recording(t._backend) if isinstance(g, TensorBase) else t._backend
                add_into_grad(t, g, be)


class IntoResults:
    """Where ``grad`` sends gradients: into a list, by the inputs' positions."""

    def __init__(self, inputs):
        self.results = [None] * len(inputs)
        self.leaves = {id(t): k for k, t in enumerate(inputs) if t._entry is None}
        self.outputs = {(id(t._entry), t._out_index): k for k, t in enumerate(inputs) if t._entry is not None}

    def __call__(self, leaf, g, be, owned):
        k = self.leaves.get(id(leaf))
        if k is not None:
            if leaf._hooks:  # an input's hooks run in grad() too, as in PyTorch
                g = run_hooks(leaf._hooks, g, be)
            self.results[k] = g

    def capture(self, entry, grads):
        if self.outputs:
            for i, g in enumerate(grads):
                k = self.outputs.get((id(entry), i))
                if k is not None:
                    self.results[k] = g
