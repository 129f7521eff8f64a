"""What changed between two versions of a process model, read from the BPMN XML.

Elements are matched by id (BPMN ids are stable across edits in a modeler). For each element the
comparison covers what matters to running cases: type, name, lane, formKey, the condition of a
sequence flow, the operator of a service task, the ends of a flow and a timer's expression.
"""
from lxml import etree

from .parser import read_xml

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF = "http://spiffworkflow.org/bpmn/schema/1.0/core"
NS = {"bpmn": BPMN, "spiffworkflow": SPIFF}
FIELDS = ("type", "name", "lane", "formKey", "condition", "operator", "source", "target", "timer")
# Children of a process or sub-process that are not elements of the flow.
SKIPPED = {"laneSet", "extensionElements", "documentation", "ioSpecification", "property",
           "dataObjectReference", "textAnnotation", "association"}
TIMERS = ("bpmn:timerEventDefinition/bpmn:timeDate", "bpmn:timerEventDefinition/bpmn:timeDuration",
          "bpmn:timerEventDefinition/bpmn:timeCycle")


def _text(node) -> str | None:
    return (node.text or "").strip() if node is not None else None


def _lanes(process) -> dict[str, str]:
    lanes = {}
    for lane in process.iterfind(".//bpmn:lane", NS):
        for ref in lane.iterfind("bpmn:flowNodeRef", NS):
            lanes[(ref.text or "").strip()] = lane.get("name") or lane.get("id")
    return lanes


def _form_key(node) -> str | None:
    for prop in node.iterfind("bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property", NS):
        if prop.get("name") == "formKey":
            return prop.get("value")
    return None


def _describe(node, lanes) -> dict:
    operator = node.find("bpmn:extensionElements/spiffworkflow:serviceTaskOperator", NS)
    timer = next((_text(node.find(path, NS)) for path in TIMERS if node.find(path, NS) is not None), None)
    return {
        "type": etree.QName(node).localname, "name": node.get("name") or None,
        "lane": lanes.get(node.get("id")), "formKey": _form_key(node),
        "condition": _text(node.find("bpmn:conditionExpression", NS)),
        "operator": operator.get("id") if operator is not None else None,
        "source": node.get("sourceRef"), "target": node.get("targetRef"), "timer": timer,
    }


def _flow_elements(container, lanes, found: dict) -> None:
    for node in container:
        if not isinstance(node.tag, str) or etree.QName(node).namespace != BPMN:
            continue
        local = etree.QName(node).localname
        if local in SKIPPED or not node.get("id"):
            continue
        found[node.get("id")] = _describe(node, lanes)
        if local in ("subProcess", "transaction", "adHocSubProcess"):
            _flow_elements(node, lanes, found)


def model_elements(xml: bytes, process_id: str) -> dict[str, dict]:
    """Every flow element of the process (and its sub-processes) by id, with the compared fields."""
    root = read_xml(xml, "model.bpmn").getroot()
    process = root.find(f"bpmn:process[@id='{process_id}']", NS)
    if process is None:
        return {}
    found: dict[str, dict] = {}
    _flow_elements(process, _lanes(process), found)
    return found


def diff_models(old_xml: bytes, new_xml: bytes, process_id: str) -> list[dict]:
    """Changes from the old model to the new one: one row per added, removed or changed element."""
    old, new = model_elements(old_xml, process_id), model_elements(new_xml, process_id)
    changes = []
    for element_id in [*old, *(k for k in new if k not in old)]:
        before, after = old.get(element_id), new.get(element_id)
        shown = after or before
        row = {"id": element_id, "type": shown["type"], "name": shown["name"]}
        if before is None:
            changes.append({**row, "change": "added", "fields": []})
        elif after is None:
            changes.append({**row, "change": "removed", "fields": []})
        else:
            fields = [{"field": f, "before": before[f], "after": after[f]} for f in FIELDS if before[f] != after[f]]
            if fields:
                changes.append({**row, "change": "changed", "fields": fields})
    return changes
