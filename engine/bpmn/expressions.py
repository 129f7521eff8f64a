"""Expression-only replacement for SpiffWorkflow's eval/exec script engine (docs §3); scripts are disabled."""
import ast
import contextlib
import functools
from datetime import date, datetime, timedelta, timezone
from types import MappingProxyType

import simpleeval as se
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment

MAX_LITERAL_LENGTH = 10_000       # str/bytes constants in the source; items of a container passed to str()
MAX_INT_LITERAL = 10 ** 100       # integer constants: at most 100 digits
MAX_DEPTH = 100                   # AST nesting (simpleeval recurses)
MAX_COMPREHENSION_DEPTH = 2       # nested `for` clauses
MAX_STRING_LENGTH = 100_000       # one str/list built with + or *
MAX_TOTAL_ITEMS = 1_000_000       # items built by + or * in one evaluation
MAX_WALKED = 2_000_000            # nested items of all results (simpleeval walks each result) per evaluation
MAX_POWER = 1_000                 # largest exponent of **
MAX_POWER_BITS = 4_000            # largest int produced by ** (~1200 digits)
MAX_COMPREHENSION_LENGTH = 2_000  # comprehension iterations per evaluation
MAX_INT_BITS = 4_000              # largest int produced by * (chained products grow without end)
# The size limits bound memory, not time: a comprehension or a wide expression may repeat a costly
# operation within them. So an evaluation has a budget of steps, counted rather than timed (the same
# in a Celery worker as in a gunicorn thread, and the same on every machine): one per AST node
# evaluated, plus the size of each node's result, since every operation (max, sorted, ==, in,
# slicing, int(str), ...) works through operands that are such results. C code scans about a hundred
# times faster than a node evaluates, hence the ratios below.
MAX_STEPS = 200_000               # steps per evaluation (~0.2 s at worst)
CHARS_PER_STEP = 64               # characters of a str/bytes value
ITEMS_PER_STEP = 8                # items of a container, nested ones included (new ones: 1 each)
BITS_PER_STEP = 64                # bits of an int
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


class _TooCostly(se.InvalidExpression):
    pass


def iso_duration(days=0, hours=0, minutes=0, seconds=0):
    """ISO 8601 duration, normalised: (days=7) -> "P7D", (minutes=90) -> "PT1H30M"."""
    if not all(isinstance(v, (int, float)) and 0 <= v < 10 ** 9 for v in (days, hours, minutes, seconds)):
        raise ValueError("iso_duration() takes non-negative numbers")
    total = round(days * 86400 + hours * 3600 + minutes * 60 + seconds, 3)
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


def _weight(obj, limit):  # nested item count of obj (shared references count each time); stops past limit
    count, stack = 0, [obj] if isinstance(obj, _CONTAINERS) else []
    while stack and count <= limit:
        item = stack.pop()
        count += len(item)
        stack.extend(v for v in (item.values() if isinstance(item, dict) else item) if isinstance(v, _CONTAINERS))
    return count


def _str(value=""):  # str() that refuses to render huge containers
    if _weight(value, MAX_LITERAL_LENGTH) > MAX_LITERAL_LENGTH:
        raise se.IterableTooLong("value too large for str()")
    return str(value)


def _sum(iterable, start=0):  # numbers only: summing lists is quadratic
    if not isinstance(start, (int, float)):
        raise se.FeatureNotAvailable("sum() only adds numbers")
    return sum(iterable, start)


def _round(number, ndigits=None):  # round(5, -10**9) would compute 10**(10**9)
    if ndigits is not None and not -100 <= ndigits <= 100:
        raise se.NumberTooHigh("number too large")
    return round(number, ndigits)


ALLOWED_FUNCTIONS = MappingProxyType({
    "len": len, "min": min, "max": max, "abs": abs, "round": _round, "int": int, "float": float, "str": _str,
    "bool": bool, "sum": _sum, "any": any, "all": all, "sorted": sorted, "iso_duration": iso_duration,
    "days_between": days_between, "add_days": add_days, "today": lambda: datetime.now(SHANGHAI).date().isoformat(),
    "now_iso": lambda: datetime.now(SHANGHAI).isoformat(timespec="seconds"),  # "...T09:30:00+08:00"
})


class _Evaluator(se.EvalWithCompoundTypes):
    """EvalWithCompoundTypes with per-instance limits (simpleeval's are module globals)."""

    def __init__(self, names, functions):
        self._produced, self._walked, self._iterations, self._checked = 0, 0, 0, {}
        self._steps, self._costs = 0, {}
        super().__init__({**se.DEFAULT_OPERATORS, ast.Add: self._add, ast.Mult: self._mult, ast.Pow: self._power,
                          ast.Mod: self._mod}, dict(functions), names)

    def _eval(self, node):
        self._spend(1)
        result = super()._eval(node)
        self._spend(self._cost(result))
        return result

    def _spend(self, steps):
        self._steps += steps
        if self._steps > MAX_STEPS:
            raise _TooCostly(f"expression too costly to evaluate (more than {MAX_STEPS:,} steps)")

    def _cost(self, value):  # steps of working through value (a result may be an operand many times)
        if isinstance(value, (str, bytes)):
            return len(value) // CHARS_PER_STEP
        if isinstance(value, int):
            return value.bit_length() // BITS_PER_STEP
        if not isinstance(value, _CONTAINERS):
            return 0
        known = self._costs.get(id(value))
        if known is not None:
            return known[0]
        items, chars, stack, limit = 0, 0, [value], MAX_STEPS - self._steps
        while stack and items + chars // CHARS_PER_STEP <= limit:
            item = stack.pop()
            items += len(item)
            for v in item.values() if isinstance(item, dict) else item:
                if isinstance(v, _CONTAINERS):
                    stack.append(v)
                elif isinstance(v, (str, bytes)):
                    chars += len(v)
        cost = items // ITEMS_PER_STEP + chars // CHARS_PER_STEP
        self._costs[id(value)] = (cost, value)  # keeps it alive, so the id stays unique
        return items + cost  # a new container is walked item by item in Python (here and by simpleeval)

    def _count(self, value):
        if value > MAX_COMPREHENSION_LENGTH:
            raise se.IterableTooLong("comprehension too long")
        self._iterations = value

    _max_count = property(lambda self: self._iterations, _count)  # simpleeval's per-eval comprehension counter

    def _check_disallowed_items(self, item):  # simpleeval walks every result: bound that, walk each container once
        if isinstance(item, _CONTAINERS):
            if id(item) in self._checked:
                return
            self._walked += _weight(item, MAX_WALKED - self._walked)
            if self._walked > MAX_WALKED:
                raise se.IterableTooLong("result too large")
            self._checked[id(item)] = item  # keeps it alive, so the id stays unique
        super()._check_disallowed_items(item)

    def _grow(self, times, *seqs):
        size = sum(len(s) if isinstance(s, (str, bytes)) else _weight(s, MAX_STRING_LENGTH) for s in seqs) * times
        self._produced += size
        if size > MAX_STRING_LENGTH or self._produced > MAX_TOTAL_ITEMS:
            raise se.IterableTooLong("string too long" if isinstance(seqs[0], (str, bytes)) else "result too large")

    def _add(self, a, b):
        if hasattr(a, "__len__") and hasattr(b, "__len__"):
            self._grow(1, a, b)
        return a + b

    def _mult(self, a, b):
        for seq, n in ((a, b), (b, a)):
            if hasattr(seq, "__len__") and isinstance(n, int):
                self._grow(max(n, 0), seq)
        if isinstance(a, int) and isinstance(b, int) and a.bit_length() + b.bit_length() > MAX_INT_BITS:
            raise se.NumberTooHigh("number too large")
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


def _run(text, node, names, functions):
    """Evaluate a checked AST node, mapping simpleeval errors to our exceptions."""
    try:
        return _Evaluator(names, functions).eval(text, previously_parsed=node)
    except se.NameNotDefined as e:
        known = ", ".join(sorted(map(str, names))[:20]) or "none"
        raise ExpressionError(text, f"unknown variable '{e.name}' (task data has: {known})") from None
    except (se.InvalidExpression, RecursionError, MemoryError) as e:
        reason = {se.NumberTooHigh: "number too large", se.AttributeDoesNotExist: "attribute access is not allowed",
                  se.FunctionNotDefined: f"function '{getattr(e, 'func_name', '')}' is not allowed",
                  RecursionError: "expression too complex", MemoryError: "out of memory"}.get(type(e), str(e))
        raise UnsafeExpression(text, reason) from None
    except _Failure:
        raise
    except Exception as e:  # the expression itself failed (TypeError, KeyError, ...)
        raise ExpressionError(text, f"{type(e).__name__}: {e}") from e


_OK_NODES = (ast.BoolOp, ast.BinOp, ast.UnaryOp, ast.IfExp, ast.Dict, ast.Set, ast.ListComp, ast.GeneratorExp,
             ast.DictComp, ast.comprehension, ast.Compare, ast.Call, ast.keyword, ast.Constant, ast.Subscript,
             ast.Slice, ast.Name, ast.List, ast.Tuple, ast.Load, ast.Store, ast.And, ast.Or, *se.DEFAULT_OPERATORS)
_CALLABLE = (ast.Name, ast.Attribute, ast.Lambda)  # Attribute/Lambda calls get their own reason
_CONST = (ast.Constant, ast.BinOp, ast.UnaryOp, ast.List, ast.Tuple, ast.Load, ast.operator, ast.unaryop)
_REASONS = {ast.Attribute: "attribute access is not allowed", ast.Lambda: "lambda is not allowed",
            ast.NamedExpr: "assignment is not allowed", ast.JoinedStr: "f-strings are not allowed"}


def _problem(node, allowed):
    """Why a single AST node is refused, or None."""
    name = node.id if isinstance(node, ast.Name) else None
    called = node.func.id if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) else ""
    value = node.value if isinstance(node, ast.Constant) else None
    key = node.slice.value if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant) else None
    checks = (
        (name and name.startswith("_"), f"name '{name}' is not allowed"),
        (called and not called.startswith("_") and called not in allowed, f"function '{called}' is not allowed"),
        (isinstance(node, ast.Call) and not isinstance(node.func, _CALLABLE), "only named functions can be called"),
        (isinstance(value, (str, bytes)) and len(value) > MAX_LITERAL_LENGTH, "string too long"),
        (isinstance(value, int) and abs(value) >= MAX_INT_LITERAL, "number too large"),
        (isinstance(key, str) and key.startswith("_"), f"key '{key}' is not allowed"),
        (isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod) and isinstance(node.left, ast.Constant)
         and isinstance(node.left.value, (str, bytes)), "string formatting is not allowed"),
        (not isinstance(node, _OK_NODES), _REASONS.get(type(node), f"{type(node).__name__.lower()} is not allowed")),
    )
    return next((reason for refused, reason in checks if refused), None)


@functools.lru_cache(maxsize=4096)
def _checked_tree(text, allowed):
    """Parse and check ``text`` against the ``allowed`` function names; return the AST body (cached)."""
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError) as e:  # ValueError: null bytes, >4300 digits
        raise UnsafeExpression(text, f"syntax error: {getattr(e, 'msg', e)}") from None
    stack, constants = [(tree.body, 0, 0, False)], []
    while stack:
        node, depth, comps, in_constant = stack.pop()
        comps += len(node.generators) if isinstance(node, (ast.ListComp, ast.GeneratorExp, ast.DictComp)) else 0
        reason = ("expression too deeply nested" if depth > MAX_DEPTH else "comprehensions nested too deeply"
                  if comps > MAX_COMPREHENSION_DEPTH else _problem(node, allowed))
        if reason:
            raise UnsafeExpression(text, reason)
        if not in_constant and isinstance(node, ast.BinOp) and all(isinstance(n, _CONST) for n in ast.walk(node)):
            constants.append(node)
            in_constant = True
        stack.extend((child, depth + 1, comps, in_constant) for child in ast.iter_child_nodes(node))
    for node in constants:  # run 9**9**9, 'a'*10**9, ... now, under the runtime limits
        with contextlib.suppress(ExpressionError):  # e.g. 1/0: safe, and fails again at run time
            _run(text, node, {}, {})
    return tree.body


def check_expression(text: str, extra_function_names=()) -> None:
    """Raise UnsafeExpression unless ``text`` is an allowed expression (deploy-time check)."""
    _checked_tree(text, frozenset([*ALLOWED_FUNCTIONS, *extra_function_names]))


def evaluate(text: str, names: dict, functions: dict | None = None):
    """Check and evaluate ``text``; functions win over data keys of the same name."""
    funcs = {**ALLOWED_FUNCTIONS, **(functions or {})}
    return _run(text, _checked_tree(text, frozenset(funcs)), {k: names[k] for k in names.keys() - funcs}, funcs)


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
