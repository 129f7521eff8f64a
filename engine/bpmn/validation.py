"""Deploy-time checks beyond the XSD: lanes mapped, form keys known, expressions safe.

Each problem names the file, the line and the BPMN element id so the studio can mark it.
"""
from lxml import etree

from engine.errors import DefinitionInvalid

from .expressions import UnsafeExpression, check_expression
from .parser import parse_definition, problem, read_xml

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF = "http://spiffworkflow.org/bpmn/schema/1.0/core"
NS = {"bpmn": BPMN, "spiffworkflow": SPIFF}

# Where a model can hold an expression that the engine evaluates.
EXPRESSION_PATHS = (
    ".//bpmn:conditionExpression",
    ".//bpmn:timeDuration",
    ".//bpmn:timeDate",
    ".//bpmn:timeCycle",
    ".//bpmn:loopCardinality",
    ".//bpmn:completionCondition",
    ".//bpmn:condition",
    ".//spiffworkflow:messagePayload",
)
SCRIPT_PATHS = (".//bpmn:scriptTask", ".//spiffworkflow:preScript", ".//spiffworkflow:postScript")
HUMAN_TASKS = ("userTask", "manualTask")


def _owner_id(node) -> str | None:
    while node is not None:
        if node.get("id"):
            return node.get("id")
        node = node.getparent()
    return None


def _lane_of(root) -> dict[str, str]:
    lanes = {}
    for lane in root.iterfind(".//bpmn:lane", NS):
        for ref in lane.iterfind("bpmn:flowNodeRef", NS):
            lanes[(ref.text or "").strip()] = lane.get("name") or lane.get("id")
    return lanes


def _check_expressions(root, file_name, problems):
    for path in EXPRESSION_PATHS:
        for node in root.iterfind(path, NS):
            text = (node.text or "").strip()
            if not text:
                continue
            try:
                check_expression(text)
            except UnsafeExpression as exc:
                problems.append(problem(file_name, node.sourceline, _owner_id(node),
                                        f"expression refused ({exc.reason}): {text[:120]}",
                                        "expression_refused", reason=exc.reason, text=text[:120]))
    for node in root.iterfind(".//spiffworkflow:parameter", NS):
        value = node.get("value")
        if value:
            try:
                check_expression(value)
            except UnsafeExpression as exc:
                problems.append(problem(file_name, node.sourceline, _owner_id(node),
                                        f"parameter expression refused ({exc.reason}): {value[:120]}",
                                        "expression_refused", reason=exc.reason, text=value[:120]))
    for path in SCRIPT_PATHS:
        for node in root.iterfind(path, NS):
            if node.tag.endswith("scriptTask") or (node.text or "").strip():
                problems.append(problem(file_name, node.sourceline, _owner_id(node),
                                        "scripts are disabled: use a service task that calls an "
                                        "approved operator, or a gateway condition", "scripts_disabled"))


def _check_four_eyes(node, human_ids, file_name, problems):
    for prop in node.iterfind(".//spiffworkflow:property", NS):
        if prop.get("name") != "fourEyes":
            continue
        named = [part.strip() for part in (prop.get("value") or "").split(",") if part.strip()]
        unknown = [step for step in named if step not in human_ids]
        if not named or unknown:
            problems.append(problem(file_name, prop.sourceline, node.get("id"),
                                    "fourEyes must list user task ids of this process"
                                    + (f" (unknown: {', '.join(unknown)})" if unknown else ""),
                                    "four_eyes_steps", steps=", ".join(unknown) or "—"))


def _check_tasks(process, file_name, entry, form_keys, operators, problems):
    lanes = _lane_of(process)
    human_ids = {node.get("id") for local in HUMAN_TASKS for node in process.iterfind(f".//bpmn:{local}", NS)}
    for node in process.iter():
        if not isinstance(node.tag, str):
            continue
        local = etree.QName(node).localname
        node_id = node.get("id")
        if local in HUMAN_TASKS:
            lane = lanes.get(node_id)
            if lane is None:
                problems.append(problem(file_name, node.sourceline, node_id,
                                        "a user task must sit in a lane so it can be assigned", "no_lane"))
            elif lane not in entry.lanes:
                problems.append(problem(file_name, node.sourceline, node_id,
                                        f"lane '{lane}' is not mapped to a role in the catalog", "lane_unmapped",
                                        lane=lane))
            form_key = None
            for prop in node.iterfind(".//spiffworkflow:property", NS):
                if prop.get("name") == "formKey":
                    form_key = prop.get("value")
            if not form_key:
                problems.append(problem(file_name, node.sourceline, node_id,
                                        "user task has no formKey property", "no_form_key"))
            elif form_key not in form_keys:
                problems.append(problem(file_name, node.sourceline, node_id,
                                        f"unknown form key '{form_key}'", "form_key_unknown", form_key=form_key))
            _check_four_eyes(node, human_ids, file_name, problems)
        elif local == "task":
            problems.append(problem(file_name, node.sourceline, node_id,
                                    "untyped tasks are not supported: use a user or service task", "untyped_task"))
        elif local == "serviceTaskOperator":
            name = node.get("id")
            if name not in operators:
                problems.append(problem(file_name, node.sourceline, _owner_id(node.getparent()),
                                        f"unknown service operator '{name}'", "operator_unknown", operator=name))


def validate_definition(xml: bytes, *, file_name: str, entry, form_keys, operators):
    """Return (parsed definition or None, problems). No problems means it may be deployed."""
    problems: list[dict] = []
    try:
        tree = read_xml(xml, file_name)
    except DefinitionInvalid as exc:
        return None, exc.problems
    root = tree.getroot()
    process = root.find(f"bpmn:process[@id='{entry.key}']", NS)
    if process is None:
        ids = [p.get("id") for p in root.iterfind("bpmn:process", NS)]
        return None, [problem(file_name, root.sourceline, None,
                              f"no process with id '{entry.key}' in this file (found: {', '.join(ids) or 'none'})",
                              "process_missing", process=entry.key, found=", ".join(ids) or "—")]
    _check_expressions(root, file_name, problems)
    _check_tasks(process, file_name, entry, form_keys, operators, problems)
    try:
        parsed = parse_definition(xml, file_name, entry.key)
    except DefinitionInvalid as exc:
        return None, exc.problems + problems
    return (None if problems else parsed), problems
