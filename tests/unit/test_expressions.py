"""The expression sandbox: legitimate BPMN expressions work, code execution and resource abuse do not."""
import ast
import re
import time
from xml.sax.saxutils import escape

import pytest
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.util.task import TaskState

from engine.bpmn import expressions
from engine.bpmn.expressions import (ALLOWED_FUNCTIONS, ExpressionError, SafeEnvironment, UnsafeExpression,
                                     check_expression, evaluate)

DATA = {
    "decision": "approve", "amount": 250, "status": "b", "items": [1, 2, 3], "note": None,
    "crane": {"type": "tower_crane", "load_t": 12}, "lines": [{"qty": 2}, {"qty": 3}],
    "x": 1, "data": {"a": 1}, "func": "f",
}

LEGIT = [
    ('decision == "approve"', True),
    ('decision != "approve"', False),
    ('amount > 100 and status in ["a", "b"]', True),
    ("len(items) >= 2", True),
    ('crane["type"] == "tower_crane"', True),
    ('crane["load_t"] * 2 if crane["type"] == "tower_crane" else 0', 24),
    ('iso_duration(days=7) == "P7D"', True),
    ("note is None", True),
    ("note == None or amount < 0", True),
    ('sum([x["qty"] for x in lines]) > 3', True),
    ('sum(line["qty"] for line in lines)', 5),
    ('{"a": 1, "b": [1, 2]}["b"][1:]', [2]),
    ("max(items) - min(items) + abs(-1) + round(2.6)", 6),
    ('all(i > 0 for i in items) and not any(i > 5 for i in items)', True),
    ("sorted(items, reverse=True)[0] ** 2", 9),
    ('str(amount) + " CNY"', "250 CNY"),
    ('"%" in "50%"', True),
    ("amount % 7", 5),
    ('days_between("2024-01-30", "2024-03-01")', 31),
    ('add_days("2024-02-28", 2)', "2024-03-01"),
    ("  decision == 'approve'\n", True),  # BPMN text keeps surrounding whitespace
]


@pytest.mark.parametrize("expression, expected", LEGIT)
def test_legitimate_expressions_pass_the_deploy_check_and_evaluate(expression, expected):
    check_expression(expression)
    assert evaluate(expression, dict(DATA)) == expected


ATTACKS = [
    "__import__('os').system('id')",
    "__import__('os')",
    "open('/etc/passwd').read()",
    "open('/etc/passwd')",
    "eval('1+1')",
    "exec('x=1')",
    "compile('1','','eval')",
    "globals()",
    "locals()",
    "vars()",
    "getattr(1,'__class__')",
    "().__class__.__bases__[0].__subclasses__()",
    "''.__class__.__mro__[1].__subclasses__()",
    "[c for c in ().__class__.__base__.__subclasses__()]",
    "(lambda: 1)()",
    "type(1)",
    "__builtins__",
    "__builtins__['eval']('1')",
    "decision.__class__",
    "x.__dict__",
    "func.__globals__",
    "dict.__subclasses__",
    'data["__class__"]',
    'f"{x.__class__}"',
    "f'{x}'",
    "9**9**9",
    "10**100000",
    "2**10**6 > 0",
    "'a'*10**9",
    "'x' * 200000",
    "'x' * 200000 == decision",
    "[1]*10**9",
    "(1,) * 10**7",
    "1" + "0" * 150,
    "'" + "a" * 10_001 + "'",
    "(x:=1)",
    "breakpoint()",
    "input()",
    "exit()",
    "help()",
    "[len][0](items)",
    "decision.upper()",
    "'%0999999999d' % 1",
    "'%s' % decision",
    "[1 for a in items for b in items for c in items]",
    "[[1 for a in items] for b in [c for c in items for d in items]]",
    "print(*items)",
    "{x for x in items}",
]


@pytest.mark.parametrize("payload", ATTACKS)
def test_attack_is_refused_at_deploy_time(payload):
    with pytest.raises(UnsafeExpression) as caught:
        check_expression(payload)
    assert caught.value.expression == payload
    assert str(caught.value) == f"{caught.value.reason}: {payload}"


@pytest.mark.parametrize("payload", ATTACKS)
def test_attack_is_refused_at_run_time(payload):
    with pytest.raises(UnsafeExpression):
        evaluate(payload, dict(DATA))


@pytest.mark.parametrize("payload, reason", [
    ("().__class__", "attribute access is not allowed"),
    ("__import__('os')", "name '__import__' is not allowed"),
    ("open('/etc/passwd')", "function 'open' is not allowed"),
    ("'x' * 200000", "string too long"),
    ("9**9**9", "number too large"),
    ("1" + "0" * 150, "number too large"),
    ("(x:=1)", "assignment is not allowed"),
    ("(lambda: 1)()", "lambda is not allowed"),
    ("decision ==", "syntax error: invalid syntax"),
    ('data["__class__"]', "key '__class__' is not allowed"),
])
def test_refusal_reason_is_short_and_specific(payload, reason):
    with pytest.raises(UnsafeExpression) as caught:
        check_expression(payload)
    assert caught.value.reason == reason


OS_PAYLOADS = [
    "__import__('os').system('touch {marker}')",
    "().__class__.__base__.__subclasses__()[-1].__init__.__globals__['system']('touch {marker}')",
    "[c for c in ().__class__.__base__.__subclasses__() if c.__name__ == '_wrap_close'][0]"
    ".__init__.__globals__['system']('touch {marker}')",
    "f\"{{__import__('os').system('touch {marker}')}}\"",
]


@pytest.mark.parametrize("template", OS_PAYLOADS)
def test_os_system_payload_never_runs(template, tmp_path):
    marker = tmp_path / "pwned"
    payload = template.format(marker=marker)
    with pytest.raises(UnsafeExpression):
        check_expression(payload)
    with pytest.raises(UnsafeExpression):
        evaluate(payload, dict(DATA))
    assert not marker.exists()


@pytest.mark.parametrize("template", OS_PAYLOADS)
def test_simpleeval_layer_alone_also_refuses_os_payloads(template, tmp_path):
    """Defence in depth: even without the static check the evaluator does not run them."""
    marker = tmp_path / "pwned"
    payload = template.format(marker=marker)
    node = ast.parse(payload, mode="eval").body
    with pytest.raises(UnsafeExpression):
        expressions._run(payload, node, dict(DATA), ALLOWED_FUNCTIONS)
    assert not marker.exists()


@pytest.mark.parametrize("payload", [
    "[y for y in [[1] * 100000] for i in items * 700]",   # 2000 refs to a 100k list
    "[[1] * 100000 for i in items * 20]",                 # many big lists
    "str(items * 30000 + [2] * 9000)",
    "sum([[1] * 1000 for i in items], [])",
    "[i for i in items * 30000]",
    "items * 100000",
    "[i for a in items * 700 for i in items]",
    "round(amount, -10**9)",
    "[sorted(y) == y for y in [[1] * 100000] for i in items * 600]",  # a fresh 100k list per iteration
    "str(items * 5000)",
])
def test_resource_exhaustion_is_refused_at_run_time(payload):
    check_expression(payload)  # not constant, so only the runtime limits can see it
    with pytest.raises(UnsafeExpression):
        evaluate(payload, dict(DATA))


COSTLY = [  # each within the size limits, but seconds (or minutes) of CPU without a step budget
    "[max(y) for y in ['a' * 99999] for c in 'a' * 1998]",           # a 100k scan per iteration
    "[sum(y) for y in [[1] * 99999] for c in 'a' * 1998]",
    "[99 in y for y in [[1] * 99999] for c in 'a' * 1998]",
    "[y[1:] for y in ['a' * 99999] for c in 'a' * 1998]",            # a 100k copy per iteration
    "[int(s) for s in ['9' * 4299] for c in 'a' * 1998]",
    "[[" + ", ".join(["c == 'a'"] * 500) + "] for c in 'a' * 1998]",  # a million nodes
    "[[" + ", ".join(["max(y)"] * 1000) + "] for y in ['a' * 99999]]",  # a wide expression
    "[len(sorted(L)) for L in [[status * 99999, status * 99998 + 'c'] * 500]]",  # 100M characters
]


@pytest.mark.parametrize("payload", COSTLY)
def test_costly_evaluation_is_stopped_by_the_step_budget(payload):
    check_expression(payload)  # nothing to see statically: only counting while it runs can stop it
    started = time.perf_counter()
    with pytest.raises(UnsafeExpression) as caught:
        evaluate(payload, dict(DATA))
    assert time.perf_counter() - started < 5  # ~0.2 s; generous for a loaded CI machine
    assert caught.value.reason == f"expression too costly to evaluate (more than {expressions.MAX_STEPS:,} steps)"


def test_costly_constant_is_refused_at_deploy_time():
    with pytest.raises(UnsafeExpression, match="too costly"):
        check_expression("str([1] * 90000 + [2] * 9000)")


def test_step_budget_is_per_evaluation_and_leaves_room_for_real_data():
    rows = [{"result": "pass", "note": "检查合格" * 50, "photos": [1, 2, 3]} for _ in range(1000)]
    expression = "all(r['result'] == 'pass' and len(r['note']) < 500 for r in rows) and len(rows) == 1000"
    for _ in range(3):  # each evaluation starts with a full budget
        assert evaluate(expression, {"rows": rows}) is True


def test_chained_big_int_products_are_refused():
    payload = "n ** 1000 * n ** 1000"  # each factor is allowed (~3,200 bits); products would grow on
    with pytest.raises(UnsafeExpression) as caught:
        evaluate(payload, {"n": 9})
    assert caught.value.reason == "number too large"
    assert evaluate("n ** 500 * n ** 500 == n ** 1000", {"n": 9}) is True


def test_power_and_repetition_bombs_are_refused():
    for payload in ("9**9**9", "'a'*10**9"):
        with pytest.raises(UnsafeExpression):
            evaluate(payload, {})
        with pytest.raises(UnsafeExpression):
            evaluate(payload.replace("9", "n").replace("10", "m"), {"n": 9, "m": 10})


def test_task_data_cannot_shadow_functions():
    assert evaluate("len(items)", {"len": "evil", "items": [1, 2]}) == 2
    assert evaluate("len == 'evil'", {"len": "evil"}) is False
    assert evaluate("str(1)", {"str": lambda v: "evil"}) == "1"


def test_unknown_variable_is_an_expression_error_naming_it():
    with pytest.raises(ExpressionError) as caught:
        evaluate("decison == 'approve'", {"decision": "approve"})
    assert "decison" in caught.value.reason and "decision" in caught.value.reason
    assert not isinstance(caught.value, UnsafeExpression)


@pytest.mark.parametrize("expression", ["amount + 'x'", "1 / 0", "crane['missing']", "int('abc')"])
def test_failing_safe_expression_is_an_expression_error(expression):
    with pytest.raises(ExpressionError):
        evaluate(expression, dict(DATA))


def test_extra_functions_are_callable_only_when_injected():
    with pytest.raises(UnsafeExpression):
        check_expression("double(amount) > 400")
    check_expression("double(amount) > 400", extra_function_names=("double",))
    assert evaluate("double(amount) > 400", dict(DATA), {"double": lambda v: v * 2}) is True


def test_allowed_functions_cannot_be_mutated():
    with pytest.raises(TypeError):
        ALLOWED_FUNCTIONS["open"] = open


def test_static_check_is_cached():
    text = "amount > 12345 and decision == 'cache-test'"
    check_expression(text)
    hits = expressions._checked_tree.cache_info().hits
    evaluate(text, dict(DATA))
    check_expression(text)
    assert expressions._checked_tree.cache_info().hits == hits + 2


@pytest.mark.parametrize("kwargs, expected", [
    ({"days": 7}, "P7D"), ({"hours": 1, "minutes": 30}, "PT1H30M"), ({"minutes": 90}, "PT1H30M"),
    ({"days": 1, "seconds": 5}, "P1DT5S"), ({}, "PT0S"), ({"seconds": 1.5}, "PT1.5S"),
])
def test_iso_duration(kwargs, expected):
    assert ALLOWED_FUNCTIONS["iso_duration"](**kwargs) == expected


def test_date_helpers_use_shanghai_time():
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", evaluate("today()", {}))
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+08:00", evaluate("now_iso()", {}))
    assert evaluate("days_between(today(), add_days(today(), 3))", {}) == 3
    assert evaluate("add_days('2024-01-01T08:00:00+08:00', -1)", {}) == "2023-12-31T08:00:00+08:00"


# ------------------------------------------------------------------ through SpiffWorkflow

GATEWAY_BPMN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" id="defs" targetNamespace="http://craneflow.test">
  <bpmn:process id="gate" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f_start</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="f_start" sourceRef="start" targetRef="decide" />
    <bpmn:exclusiveGateway id="decide">
      <bpmn:incoming>f_start</bpmn:incoming>
      <bpmn:outgoing>f_yes</bpmn:outgoing>
      <bpmn:outgoing>f_no</bpmn:outgoing>
    </bpmn:exclusiveGateway>
    <bpmn:sequenceFlow id="f_yes" sourceRef="decide" targetRef="approved">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">{yes}</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f_no" sourceRef="decide" targetRef="rejected">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">{no}</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:endEvent id="approved"><bpmn:incoming>f_yes</bpmn:incoming></bpmn:endEvent>
    <bpmn:endEvent id="rejected"><bpmn:incoming>f_no</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>
"""

SCRIPT_BPMN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="defs"
    targetNamespace="http://craneflow.test">
  <bpmn:process id="gate" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="script" />
    <bpmn:scriptTask id="script" scriptFormat="python">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:script>{script}</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:sequenceFlow id="f2" sourceRef="script" targetRef="end" />
    <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>
"""


def run_process(xml, data):
    parser = SpiffBpmnParser()
    parser.add_bpmn_str(xml.encode())
    wf = BpmnWorkflow(parser.get_spec("gate"), script_engine=PythonScriptEngine(environment=SafeEnvironment()))
    wf.get_next_task(state=TaskState.READY).data.update(data)
    wf.do_engine_steps()
    return wf


def gateway_bpmn(yes, no):
    return GATEWAY_BPMN.format(yes=escape(yes), no=escape(no))


@pytest.mark.parametrize("decision, reached", [("approve", "approved"), ("reject", "rejected")])
def test_gateway_routes_with_a_legitimate_condition(decision, reached):
    xml = gateway_bpmn('decision == "approve" and len(items) > 0', 'decision != "approve"')
    wf = run_process(xml, {"decision": decision, "items": [1]})
    assert wf.is_completed()
    ends = {t.task_spec.bpmn_id for t in wf.get_tasks(state=TaskState.COMPLETED)}
    assert reached in ends and ({"approved", "rejected"} - {reached}).isdisjoint(ends)


@pytest.mark.parametrize("template", OS_PAYLOADS)
def test_gateway_with_attack_condition_fails_without_running_it(template, tmp_path):
    marker = tmp_path / "pwned"
    xml = gateway_bpmn(template.format(marker=marker), "False")
    with pytest.raises((WorkflowTaskException, UnsafeExpression)) as caught:
        run_process(xml, {"decision": "approve"})
    error = caught.value
    assert isinstance(error, UnsafeExpression) or isinstance(error.__context__, UnsafeExpression)
    assert not marker.exists()


def test_gateway_with_costly_condition_fails_with_the_budget_reason():
    xml = gateway_bpmn(COSTLY[0], "False")
    with pytest.raises((WorkflowTaskException, UnsafeExpression)) as caught:
        run_process(xml, {"decision": "approve"})
    error = caught.value if isinstance(caught.value, UnsafeExpression) else caught.value.__context__
    assert isinstance(error, UnsafeExpression) and "too costly" in error.reason


@pytest.mark.parametrize("script", ["x = 1", "import os\nos.system('id')"])
def test_script_task_is_refused(script):
    with pytest.raises(WorkflowTaskException, match="scripts are disabled") as caught:
        run_process(SCRIPT_BPMN.format(script=escape(script)), {})
    assert caught.value.error_type == "UnsafeExpression"


def test_environment_refuses_scripts_and_direct_service_calls():
    env = SafeEnvironment()
    with pytest.raises(UnsafeExpression, match="scripts are disabled"):
        env.execute("x = 1", {})
    with pytest.raises(NotImplementedError):
        env.call_service({}, operation_name="anything")
    assert env.evaluate("a + b", {"a": 1}, {"b": 2, "a": 100}) == 3  # task data wins over external


def test_environment_accepts_injected_functions():
    env = SafeEnvironment({"vip": lambda name: name == "boss"})
    assert env.evaluate("vip(requester)", {"requester": "boss"}) is True
