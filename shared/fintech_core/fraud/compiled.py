"""A rule's condition, translated once into plain Python closures: rule-engine's answer, faster.

Why: rule-engine evaluates by walking its AST and converting every number to a Decimal on each
call, most of the fraud check's CPU. It stays the parser and type checker: this module walks the
AST it checked (`rule.statement.expression`); no rule text ever reaches Python's eval/exec.

What is guaranteed (tests/unit/test_fraud_compiled.py, a property test, checks it):
- Same answer as `rule.matches`: an int stands for its exact Decimal, a float is read as
  `Decimal(repr(value))` as the library does, arithmetic goes through the rule's own
  `decimal.Context` (precision, rounding, traps); `and`/`or` give booleans; `==` between
  different types is false.
- An untranslated node type makes the rule keep `rule.matches`; at run time a value of an
  unexpected type, a non-finite float or any error sends that evaluation to `rule.matches`.
"""

from __future__ import annotations

import decimal
import math
import operator
from collections.abc import Callable
from typing import Any

import rule_engine
from rule_engine import ast
from rule_engine.types import DataType

Fn = Callable[[Any], Any]
_D = decimal.Decimal


class Untranslatable(Exception):
    """A node this module does not translate: the rule keeps rule-engine's own evaluation."""


class _Deopt(Exception):
    """A run-time value the closures do not model: this evaluation goes to rule-engine."""


def compile_condition(checked: rule_engine.Rule, reference: rule_engine.Rule
                      ) -> Callable[[Any], bool]:
    """`checked`: the rule parsed with the typed context (its AST carries the symbol types);
    `reference`: the rule that evaluates it, whose `matches` is the answer to reproduce."""
    try:
        fn = translate(checked.statement.expression, reference.context.decimal_context)
    except Untranslatable:
        return reference.matches

    def matches(thing: Any) -> bool:
        try:
            return bool(fn(thing))
        except Exception:  # the library's own answer or its own error, never a guess
            return reference.matches(thing)
    return matches


_ORDER = {"lt": operator.lt, "le": operator.le, "gt": operator.gt, "ge": operator.ge}
_ARITH = {"add": "add", "sub": "subtract", "mul": "multiply", "tdiv": "divide"}


def translate(node: ast.ExpressionBase, ctx: decimal.Context) -> Fn:
    kind = type(node)
    if kind is ast.SymbolExpression:
        return _symbol(node)
    if kind in (ast.FloatExpression, ast.StringExpression, ast.BooleanExpression):
        value = node.value
        if kind is ast.FloatExpression:
            if not value.is_finite():
                raise Untranslatable("non-finite literal")
            if value == value.to_integral_value():
                value = int(value)  # numerically the same Decimal; ints compare faster
        return lambda _: value
    if kind is ast.UnaryExpression and node.type == "not":
        right = translate(node.right, ctx)
        return lambda t: not right(t)
    if kind is ast.UnaryExpression and node.type == "uminus" and _is(node.right, DataType.FLOAT):
        right, minus = translate(node.right, ctx), ctx.minus
        return lambda t: minus(right(t))
    if not isinstance(node, ast.BinaryExpressionBase):
        raise Untranslatable(kind.__name__)
    left, right = translate(node.left, ctx), translate(node.right, ctx)
    if kind is ast.LogicExpression and node.type == "and":
        return lambda t: bool(left(t) and right(t))
    if kind is ast.LogicExpression and node.type == "or":
        return lambda t: bool(left(t) or right(t))
    same = _static(node.left) == _static(node.right)
    if kind is ast.ComparisonExpression and node.type in ("eq", "ne"):
        if not same:  # rule-engine: values of different types are never equal
            return _constant(left, right, node.type == "ne")
        if node.type == "eq":
            return lambda t: left(t) == right(t)
        return lambda t: left(t) != right(t)
    if kind is ast.ArithmeticComparisonExpression and node.type in _ORDER and same:
        op = _ORDER[node.type]
        return lambda t: op(left(t), right(t))
    numeric = _is(node.left, DataType.FLOAT) and _is(node.right, DataType.FLOAT)
    if kind in (ast.AddExpression, ast.SubtractExpression, ast.ArithmeticExpression) \
            and node.type in _ARITH and numeric:
        fn = getattr(ctx, _ARITH[node.type])  # the rule's context: its precision and traps
        return lambda t: fn(left(t), right(t))
    if kind is ast.AddExpression and _is(node.left, DataType.STRING) and same:
        return lambda t: left(t) + right(t)
    raise Untranslatable(f"{kind.__name__} {node.type}")


def _constant(left: Fn, right: Fn, value: bool) -> Fn:
    def fn(t: Any) -> bool:
        left(t), right(t)  # both sides still run: an error there is the library's error too
        return value
    return fn


def _static(node: ast.ExpressionBase) -> str:
    """The node's checked type, for the scalar types the closures model (else untranslatable)."""
    for name in ("FLOAT", "STRING", "BOOLEAN"):
        if node.result_type == getattr(DataType, name):
            return name
    raise Untranslatable(f"type {node.result_type!r}")


def _is(node: ast.ExpressionBase, dt: Any) -> bool:
    return _static(node) == dt.name


def _symbol(node: ast.SymbolExpression) -> Fn:
    """Reads the attribute; checks its run-time type against the checked type (else: _Deopt)."""
    if node.scope is not None:
        raise Untranslatable("scoped symbol")
    name, static = node.name, _static(node)
    if static == "FLOAT":
        def number(t: Any) -> Any:
            v = getattr(t, name)
            if type(v) is int:
                return v  # an int is its own exact Decimal for ==, <, and the context's ops
            if type(v) is float and math.isfinite(v):
                return _D(repr(v))  # rule-engine's own conversion
            raise _Deopt(name)
        return number
    want = str if static == "STRING" else bool

    def scalar(t: Any) -> Any:
        v = getattr(t, name)
        if type(v) is not want:
            raise _Deopt(name)
        return v
    return scalar
