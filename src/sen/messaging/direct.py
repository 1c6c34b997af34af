"""Simple text templates rendered as one Python f-string, with Jinja's own semantics.

Most SMS, push and ZNS templates are text with ``{{ field }}``, ``{{ field |
default('…') }}``, ``{{ field or '…' }}`` and ``{{ coupon.code }}``. Jinja
renders each through a fresh context, a generator and a join, which costs more
than the message itself at tens of thousands of messages a second. For a
template made only of such outputs, :func:`direct` writes one function whose
body is a single f-string over the values: names are looked up as Jinja looks
them up (a missing one is the sandbox's ``Undefined``), filters are Jinja's own
functions, ``or`` is Python's ``or`` as in Jinja. A test holds the output to
Jinja's on a table of templates and values; anything else (tags, method
calls, arithmetic, autoescaped HTML) renders through Jinja.

The generated code holds no text of the template: every literal, name and
filter is a constant of the function's namespace, referred to by a generated
identifier, so nothing a marketer types is ever compiled as Python.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from jinja2 import Environment, nodes

Render = Callable[[dict[str, Any]], str]
COUPON_ATTRIBUTES = frozenset({"code", "offer", "expires"})


class _Emitter:
    """Python expressions for Jinja expression nodes, their constants kept aside."""

    def __init__(self, env: Environment) -> None:
        self.env = env
        self.namespace: dict[str, Any] = {"__builtins__": {}}

    def const(self, value: Any) -> str:
        key = f"k{len(self.namespace)}"
        self.namespace[key] = value
        return key

    def expr(self, node: nodes.Node) -> str | None:
        """The expression computing ``node`` from ``values``, or None if beyond reach."""
        if isinstance(node, nodes.Const):
            return self.const(node.value)
        if isinstance(node, nodes.Name) and node.ctx == "load":
            missing = self.const(self.env.undefined(name=node.name))
            return f"values.get({self.const(node.name)}, {missing})"
        if isinstance(node, nodes.Getattr) and isinstance(node.node, nodes.Name) \
                and node.node.name == "coupon" and node.attr in COUPON_ATTRIBUTES:
            return f"values[{self.const('coupon')}].{node.attr}"
        if isinstance(node, nodes.Or):
            left, right = self.expr(node.left), self.expr(node.right)
            return f"({left} or {right})" if left and right else None
        if isinstance(node, nodes.Filter):
            return self.filter(node)
        return None

    def filter(self, node: nodes.Filter) -> str | None:
        func = self.env.filters.get(node.name)
        passes = getattr(func, "jinja_pass_arg", None)  # what Jinja hands the filter first
        if func is None or node.node is None or node.kwargs or node.dyn_args \
                or node.dyn_kwargs or (passes is not None and passes.name != "environment") \
                or not all(isinstance(a, nodes.Const) for a in node.args):
            return None
        inner = self.expr(node.node)
        if inner is None:
            return None
        args = [self.const(self.env)] if passes is not None else []
        args += [inner, *(self.const(a.value) for a in node.args)]
        return f"{self.const(func)}({', '.join(args)})"


def direct(ast: nodes.Template, env: Environment) -> Render | None:
    """A renderer for a template of text and simple outputs (not escaped), or None."""
    if env.autoescape or len(ast.body) > 1 or not all(isinstance(n, nodes.Output)
                                                      for n in ast.body):
        return None
    emit, pieces = _Emitter(env), []
    for node in ast.body[0].nodes if ast.body else ():
        if isinstance(node, nodes.TemplateData):
            pieces.append("{" + emit.const(node.data) + "}")
            continue
        expression = emit.expr(node)
        if expression is None:
            return None
        pieces.append("{" + expression + "!s}")  # Jinja prints str(value)
    source = f'def render(values):\n    return f"{"".join(pieces)}"\n'
    exec(compile(source, "<message template>", "exec"), emit.namespace)  # noqa: S102
    return emit.namespace["render"]
