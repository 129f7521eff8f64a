"""Deploying process definitions: versions, idempotence, and refusals with file, line and element."""
from pathlib import Path

import pytest
from lxml import etree
from sqlalchemy.orm import Session

from engine.bpmn.parser import parse_definition
from engine.db import ProcessDefinition, ProcessInstance
from engine.db.uow import unit_of_work
from engine.errors import DefinitionInvalid
from engine.services import definitions
from tests.helpers import open_task_id, start_filing
from workflows.catalog import get_entry

ENTRY = get_entry("crane_registration")
SOURCE = ENTRY.path.read_text(encoding="utf-8")
# BPMN MIWG reference diagrams (CC BY 3.0, see the README in that folder).
MIWG = Path(__file__).resolve().parents[1] / "fixtures" / "bpmn-miwg"


def _problems(xml: str):
    return definitions.validate(xml.encode("utf-8"), process_key="crane_registration", file_name="edited.bpmn")


def _line_of(xml: str, needle: str) -> int:
    return xml[: xml.index(needle)].count("\n") + 1


def test_shipped_model_is_valid():
    assert _problems(SOURCE) == []


def test_same_content_is_not_deployed_twice_and_new_content_is_a_new_version(world):
    with unit_of_work(world.engine) as s:
        again, created = definitions.deploy(s, process_key="crane_registration", xml=SOURCE.encode(),
                                            file_name=ENTRY.file)
        assert (created, again.version) == (False, 1)
        edited = SOURCE.replace('name="备案审核"', 'name="备案审查"')
        v2, created = definitions.deploy(s, process_key="crane_registration", xml=edited.encode(),
                                         file_name=ENTRY.file)
        assert (created, v2.version) == (True, 2)
        assert v2.sha256 != again.sha256


def test_running_case_stays_on_its_version_while_new_cases_use_the_new_one(world, api):
    owner, reg = api("owner_wuhan"), api("reg_wuhan")
    old_case = start_filing(owner, serial="V1-1")
    assert old_case["definition_version"] == 1
    with unit_of_work(world.engine) as s:
        definitions.deploy(s, process_key="crane_registration", file_name=ENTRY.file,
                           xml=SOURCE.replace('name="备案审核"', 'name="备案审查（新版）"').encode())
    new_case = start_filing(owner, serial="V2-1")
    assert new_case["definition_version"] == 2
    assert new_case["open_tasks"][0]["title"] == "备案审查（新版）"
    assert old_case["open_tasks"][0]["title"] == "备案审核"
    r = reg.post(f"/api/v1/tasks/{open_task_id(old_case)}/complete", json={"data": {"decision": "approve"}})
    assert r.status_code == 200 and r.get_json()["definition_version"] == 1
    with Session(world.engine) as s:
        versions = {i.id: s.get(ProcessDefinition, i.definition_id).version for i in s.query(ProcessInstance)}
    assert versions == {old_case["id"]: 1, new_case["id"]: 2}


REFUSALS = [
    ("xsd", lambda x: x.replace('<spiffworkflow:parameters />', '', 1), None, "parameters"),
    ("not_xml", lambda x: x.replace("</bpmn:process>", "</bpmn:proces>"), None, "XML syntax error"),
    ("unmapped_lane", lambda x: x.replace('name="备案机关"', 'name="质监站"'), "review_filing",
     "lane '质监站' is not mapped"),
    ("no_form_key", lambda x: x.replace('<spiffworkflow:property name="formKey" value="filing_review" />', ''),
     "review_filing", "no formKey"),
    ("unknown_form", lambda x: x.replace('value="filing_review"', 'value="no_such_form"'), "review_filing",
     "unknown form key 'no_such_form'"),
    ("unsafe_condition", lambda x: x.replace('decision == "approve"', "__import__('os').system('id')"),
     "flow_approve", "expression refused"),
    ("attribute_walk", lambda x: x.replace('decision == "reject"', "().__class__.__bases__[0].__subclasses__()"),
     "flow_reject", "expression refused"),
    ("unknown_operator", lambda x: x.replace('id="crane_filing.reject"', 'id="os.system"'), "mark_rejected",
     "unknown service operator 'os.system'"),
    ("script_task", lambda x: x.replace(
        '<bpmn:endEvent id="end_filed" name="已备案">',
        '<bpmn:scriptTask id="evil"><bpmn:script>import os</bpmn:script></bpmn:scriptTask>'
        '<bpmn:endEvent id="end_filed" name="已备案">'), "evil", "scripts are disabled"),
    ("wrong_process", lambda x: x.replace('id="crane_registration" name', 'id="other_process" name'), None,
     "no process with id 'crane_registration'"),
]


@pytest.mark.parametrize("name,edit,element,message", REFUSALS, ids=[r[0] for r in REFUSALS])
def test_invalid_models_are_refused_with_line_and_element(name, edit, element, message, world):
    xml = edit(SOURCE)
    assert xml != SOURCE
    problems = _problems(xml)
    assert problems, name
    hit = next((p for p in problems if message in p["message"]), None)
    assert hit is not None, problems
    assert hit["file"] == "edited.bpmn"
    assert isinstance(hit["line"], int) and hit["line"] > 0
    if element:
        assert hit["element"] == element
        assert hit["line"] >= _line_of(xml, f'id="{element}"') or name == "unknown_operator"
    with unit_of_work(world.engine) as s, pytest.raises(DefinitionInvalid):
        definitions.deploy(s, process_key="crane_registration", xml=xml.encode(), file_name="edited.bpmn")


def test_reference_diagrams_are_present():
    assert len(sorted(MIWG.glob("*.[bB][pP][mM][nN]"))) == 18


@pytest.mark.parametrize("path", sorted(MIWG.glob("*.[bB][pP][mM][nN]")), ids=lambda p: p.name)
def test_files_from_other_modelling_tools_parse_or_are_refused_cleanly(path):
    xml = path.read_bytes()
    root = etree.fromstring(xml)
    ids = [p.get("id") for p in root.iter("{http://www.omg.org/spec/BPMN/20100524/MODEL}process")]
    assert ids, "every reference file has a process"
    for process_id in ids:
        try:
            parsed = parse_definition(xml, path.name, process_id)
        except DefinitionInvalid as exc:
            problem = exc.problems[0]
            assert problem["file"] == path.name and problem["message"]
        else:
            assert parsed.spec is not None
