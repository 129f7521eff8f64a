"""Expression-only evaluator replacing SpiffWorkflow's eval/exec script engine (docs §3).

Expressions are checked statically (also at deploy time), then run by simpleeval; no scripts.
"""
import ast
import functools
from datetime import date, datetime, timedelta, timezone
from types import MappingProxyType

import simpleeval as se
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment

MAX_EXPRESSION_LENGTH = 20_000    # characters of source text
MAX_LITERAL_LENGTH = 10_000       # str/bytes constants in the source
MAX_INT_LITERAL = 10 ** 100       # integer constants: at most 100 digits
MAX_DEPTH = 100                   # AST nesting (simpleeval recurses)
MAX_COMPREHENSION_DEPTH = 2       # nested `for` clauses
MAX_STRING_LENGTH = 100_000       # one str/list built with + or *
MAX_TOTAL_LENGTH = 1_000_000      # everything built by + or * in one evaluation
MAX_RESULT_ITEMS = 1_000_000      # nested items of any intermediate result
MAX_STR_ITEMS = 10_000            # nested items of a container passed to str()
MAX_POWER = 1_000                 # largest exponent of **
MAX_POWER_BITS = 4_000            # largest int produced by ** (~1200 digits)
MAX_COMPREHENSION_LENGTH = 2_000  # comprehension iterations per evaluation
SHANGHAI = timezone(timedelta(hours=8), "Asia/Shanghai")  # no DST since 1991
_CONTAINERS = (list, tuple, set, frozenset, dict)


class _Failure(Exception):
    def __init__(self, expression, reason):
        self.expression, self.reason = expression, reason
        super().__init__(f"{reason}: {expression}")


class UnsafeExpression(_Failure):
    """The sandbox refuses the expression; nothing of it runs (further)."""


class ExpressionError(_Failure):
    """A safe expression that failed (unknown variable, TypeError, ...)."""


def iso_duration(days=0, hours=0, minutes=0, seconds=0):
    """ISO 8601 duration, normalised: (days=7) -> "P7D", (minutes=90) -> "PT1H30M"."""
    if not all(isinstance(v, (int, float)) for v in (days, hours, minutes, seconds)):
        raise TypeError("iso_duration() takes numbers")
    total = round(days * 86400 + hours * 3600 + minutes * 60 + seconds, 3)
    if not 0 <= total < 10 ** 12:
        raise ValueError("duration must be non-negative and finite")
    m, s = divmod(int(total) if total == int(total) else total, 60)
    d, h, m = int(m // 1440), int(m % 1440 // 60), int(m % 60)
    time = "".join(f"{v}{u}" for v, u in ((h, "H"), (m, "M"), (f"{s:.3f}".rstrip("0") if s % 1 else s, "S")) if v)
    return ("P" + (f"{d}D" if d else "") + (f"T{time}" if time else "")) if total else "PT0S"


def days_between(a, b):
    """Whole days from ISO date/datetime ``a`` to ``b`` (negative if b is earlier)."""
    return (datetime.fromisoformat(b).date() - datetime.fromisoformat(a).date()).days


def add_days(value, n):
    """Add ``n`` days to an ISO date or datetime string; returns the same form."""
    parse = date.fromisoformat if len(value) == 10 else datetime.fromisoformat
    return (parse(value) + timedelta(days=n)).isoformat()


def _weight(obj, limit):
    """Nested item count of ``obj`` (shared references count each time); stops past ``limit``."""
    count, stack = 0, [obj]
    while stack and count <= limit:
        item = stack.pop()
        if isinstance(item, _CONTAINERS):
            count += len(item)
            stack.extend(item.values() if isinstance(item, dict) else item)
    return count


def _str(value=""):
    """str() that refuses to render huge containers."""
    if isinstance(value, _CONTAINERS) and _weight(value, MAX_STR_ITEMS) > MAX_STR_ITEMS:
        raise se.IterableTooLong("value too large for str()")
    return str(value)


def _sum(iterable, start=0):
    """sum() of numbers only (summing lists is quadratic)."""
    if not isinstance(start, (int, float)):
        raise se.FeatureNotAvailable("sum() only adds numbers")
    return sum(iterable, start)


ALLOWED_FUNCTIONS = MappingProxyType({
    "len": len, "min": min, "max": max, "abs": abs, "round": round, "int": int,
    "float": float, "str": _str, "bool": bool, "sum": _sum, "any": any, "all": all,
    "sorted": sorted, "iso_duration": iso_duration, "days_between": days_between,
    "add_days": add_days,
    "today": lambda: datetime.now(SHANGHAI).date().isoformat(),  # "2024-05-01"
    "now_iso": lambda: datetime.now(SHANGHAI).isoformat(timespec="seconds"),  # "...T09:30:00+08:00"
})


class _Evaluator(se.EvalWithCompoundTypes):
    """EvalWithCompoundTypes with per-instance limits (simpleeval's are module globals)."""

    def __init__(self, names, functions):
        self._produced = self._iterations = 0
        ops = {**se.DEFAULT_OPERATORS, ast.Add: self._add, ast.Mult: self._mult,
               ast.Pow: self._power, ast.Mod: self._mod}
        super().__init__(operators=ops, functions=dict(functions), names=names)
        self.functions = dict(functions)  # drop the list/tuple/dict/set simpleeval adds

    @property
    def _max_count(self):  # simpleeval's comprehension counter, set on every iteration
        return self._iterations

    @_max_count.setter
    def _max_count(self, value):
        if value > MAX_COMPREHENSION_LENGTH:
            raise se.IterableTooLong("comprehension too long")
        self._iterations = value

    def _check_disallowed_items(self, item):  # simpleeval calls this on every result
        if isinstance(item, _CONTAINERS) and _weight(item, MAX_RESULT_ITEMS) > MAX_RESULT_ITEMS:
            raise se.IterableTooLong("result too large")
        super()._check_disallowed_items(item)

    def _grow(self, times, *seqs):
        size = sum(len(s) if isinstance(s, (str, bytes)) else _weight(s, MAX_STRING_LENGTH) for s in seqs) * times
        if size > MAX_STRING_LENGTH:
            raise se.IterableTooLong("string too long" if isinstance(seqs[0], (str, bytes)) else "list too long")
        self._produced += size
        if self._produced > MAX_TOTAL_LENGTH:
            raise se.IterableTooLong("result too large")

    def _add(self, a, b):
        if hasattr(a, "__len__") and hasattr(b, "__len__"):
            self._grow(1, a, b)
        return a + b

    def _mult(self, a, b):
        for seq, n in ((a, b), (b, a)):
            if hasattr(seq, "__len__") and isinstance(n, int):
                self._grow(max(n, 0), seq)
        return a * b

    @staticmethod
    def _power(a, b):
        if isinstance(b, (int, float)) and abs(b) > MAX_POWER or isinstance(a, int) and \
                isinstance(b, int) and b > 0 and abs(a).bit_length() * b > MAX_POWER_BITS:
            raise se.NumberTooHigh("number too large")
        return a ** b

    @staticmethod
    def _mod(a, b):
        if isinstance(a, (str, bytes)):  # '%0999999999d' % 1 allocates a huge string
            raise se.FeatureNotAvailable("string formatting is not allowed")
        return a % b


_UNSAFE = {se.NumberTooHigh: "number too large", se.AttributeDoesNotExist: "attribute access is not allowed",
           RecursionError: "expression too complex", MemoryError: "expression too complex"}


def _run(text, node, names, functions):
    """Evaluate a checked AST node, mapping simpleeval errors to our exceptions."""
    try:
        return _Evaluator(names, functions).eval(text, previously_parsed=node)
    except se.NameNotDefined as e:
        known = ", ".join(sorted(map(str, names))[:20]) or "none"
        raise ExpressionError(text, f"unknown variable '{e.name}' (task data has: {known})") from None
    except (se.InvalidExpression, RecursionError, MemoryError) as e:
        reason = f"function '{e.func_name}' is not allowed" if isinstance(e, se.FunctionNotDefined) else str(e)
        raise UnsafeExpression(text, _UNSAFE.get(type(e), reason)) from None
    except _Failure:
        raise
    except Exception as e:  # the expression itself failed (TypeError, KeyError, ...)
        raise ExpressionError(text, f"{type(e).__name__}: {e}") from e


_OK_NODES = (ast.Expression, ast.BoolOp, ast.BinOp, ast.UnaryOp, ast.IfExp, ast.Dict, ast.Set,
             ast.ListComp, ast.GeneratorExp, ast.DictComp, ast.comprehension, ast.Compare,
             ast.Call, ast.keyword, ast.Constant, ast.Subscript, ast.Slice, ast.Name, ast.List,
             ast.Tuple, ast.Load, ast.Store, ast.And, ast.Or, *se.DEFAULT_OPERATORS)
_CONST = (ast.Constant, ast.BinOp, ast.UnaryOp, ast.List, ast.Tuple, ast.Load, ast.operator, ast.unaryop)
_REASONS = {ast.Attribute: "attribute access is not allowed", ast.Lambda: "lambda is not allowed",
            ast.NamedExpr: "assignment is not allowed", ast.JoinedStr: "f-strings are not allowed",
            ast.Starred: "unpacking is not allowed"}


def _problem(node, function_names):
    """Why a single AST node is refused, or None."""
    if isinstance(node, ast.Name) and node.id.startswith("_"):
        return f"name '{node.id}' is not allowed"
    if isinstance(node, ast.Call):
        func = node.func
        if isinstance(func, ast.Name) and not func.id.startswith("_") and func.id not in function_names:
            return f"function '{func.id}' is not allowed"
        if not isinstance(func, (ast.Name, ast.Attribute, ast.Lambda)):  # those get their own reason
            return "only allowed functions can be called"
    value = node.value if isinstance(node, ast.Constant) else None
    if isinstance(value, (str, bytes)) and len(value) > MAX_LITERAL_LENGTH:
        return "string too long"
    if isinstance(value, int) and abs(value) >= MAX_INT_LITERAL:
        return "number too large"
    key = node.slice.value if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant) else None
    if isinstance(key, str) and key.startswith("_"):
        return f"key '{key}' is not allowed"
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod) and \
            isinstance(node.left, ast.Constant) and isinstance(node.left.value, (str, bytes)):
        return "string formatting is not allowed"
    if not isinstance(node, _OK_NODES):
        return _REASONS.get(type(node), f"{type(node).__name__.lower()} is not allowed")
    return None


@functools.lru_cache(maxsize=4096)
def _checked_tree(text, function_names):
    """Parse and check ``text``; return the expression's AST body (cached)."""
    if len(text) > MAX_EXPRESSION_LENGTH:
        raise UnsafeExpression(text, "expression too long")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as e:
        raise UnsafeExpression(text, f"syntax error: {e.msg}") from None
    except (ValueError, RecursionError, MemoryError) as e:
        raise UnsafeExpression(text, f"syntax error: {e}") from None
    stack, constants = [(tree, 0, 0, False)], []
    while stack:
        node, depth, comps, in_constant = stack.pop()
        comps += len(node.generators) if isinstance(node, (ast.ListComp, ast.GeneratorExp, ast.DictComp)) else 0
        reason = ("expression too deeply nested" if depth > MAX_DEPTH else
                  "comprehensions nested too deeply" if comps > MAX_COMPREHENSION_DEPTH else
                  _problem(node, function_names))
        if reason:
            raise UnsafeExpression(text, reason)
        if not in_constant and isinstance(node, ast.BinOp) and all(isinstance(n, _CONST) for n in ast.walk(node)):
            constants.append(node)
            in_constant = True
        stack.extend((child, depth + 1, comps, in_constant) for child in ast.iter_child_nodes(node))
    for node in constants:  # run 9**9**9, 'a'*10**9, ... now, under the runtime limits
        try:
            _run(text, node, {}, {})
        except ExpressionError:
            pass  # e.g. 1/0: safe, and fails again at run time
    return tree.body


def check_expression(text: str, extra_function_names=()) -> None:
    """Raise UnsafeExpression unless ``text`` is an allowed expression (deploy-time check)."""
    _checked_tree(text, frozenset([*ALLOWED_FUNCTIONS, *extra_function_names]))


def evaluate(text: str, names: dict, functions: dict | None = None):
    """Check and evaluate ``text``; functions win over data keys of the same name."""
    funcs = {**ALLOWED_FUNCTIONS, **(functions or {})}
    node = _checked_tree(text, frozenset(funcs))
    return _run(text, node, {k: v for k, v in names.items() if k not in funcs}, funcs)


class SafeEnvironment(BasePythonScriptEngineEnvironment):
    """SpiffWorkflow script-engine environment: expressions only, scripts disabled."""

    def __init__(self, functions: dict | None = None):
        super().__init__({})
        self.functions = {**ALLOWED_FUNCTIONS, **(functions or {})}

    def evaluate(self, expression, context, external_context=None):
        return evaluate(expression, {**(external_context or {}), **context}, self.functions)

    def execute(self, script, context, external_context=None):
        raise UnsafeExpression(script, "scripts are disabled")

    def call_service(self, context, **kwargs):
        raise NotImplementedError("service tasks are dispatched by the script engine")
