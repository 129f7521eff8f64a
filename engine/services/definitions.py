"""Process definitions: validate, deploy as immutable versions, and hand out parsed specs.

The admin studio's use cases (uploads, version listing, diffs) check the admin role here too.
"""
import hashlib
from pathlib import PurePath

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.bpmn.diff import diff_models
from engine.bpmn.parser import ParsedDefinition, parse_definition, problem, read_xml, spec_cache
from engine.bpmn.validation import NS, validate_definition
from engine.db import ProcessDefinition, ProcessInstance
from engine.errors import DefinitionInvalid, InvalidInput, NotFound, NotPermitted
from forms import form_keys, t
from workflows.catalog import get_entry, load_catalog

from . import audit
from .operators import operator_names


def _entry(process_key: str):
    entry = get_entry(process_key)
    if entry is None:
        raise NotFound(f"unknown process '{process_key}'")
    return entry


def validate(xml: bytes, *, process_key: str, file_name: str) -> list[dict]:
    """All problems that would stop a deploy (empty when the model is deployable)."""
    _, problems = validate_definition(xml, file_name=file_name, entry=_entry(process_key),
                                      form_keys=form_keys(), operators=operator_names())
    return problems


def deploy(session: Session, *, process_key: str, xml: bytes, file_name: str, actor=None):
    """Store a new version unless this exact content is already deployed. Returns (definition, created)."""
    entry = _entry(process_key)
    digest = hashlib.sha256(xml).hexdigest()
    existing = session.scalar(select(ProcessDefinition).where(
        ProcessDefinition.process_key == process_key, ProcessDefinition.sha256 == digest))
    if existing is not None:
        return existing, False
    parsed, problems = validate_definition(xml, file_name=file_name, entry=entry,
                                           form_keys=form_keys(), operators=operator_names())
    if problems:
        raise DefinitionInvalid(problems)
    current = session.scalar(select(func.max(ProcessDefinition.version))
                             .where(ProcessDefinition.process_key == process_key)) or 0
    definition = ProcessDefinition(
        process_key=process_key, version=current + 1, file_name=file_name,
        bpmn_xml=xml.decode("utf-8"), sha256=digest, deployed_by_id=actor.id if actor else None,
    )
    session.add(definition)
    session.flush()
    spec_cache.get((process_key, digest), lambda: parsed)
    audit.record(session, action="deploy", actor=actor, to_state=f"{process_key} v{definition.version}",
                 process_key=process_key, version=definition.version, sha256=digest)
    return definition, True


def deploy_catalog(session: Session, actor=None) -> list[tuple[ProcessDefinition, bool]]:
    """Deploy every catalog process from workflows/bpmn (a no-op for unchanged files)."""
    return [deploy(session, process_key=e.key, xml=e.path.read_bytes(), file_name=e.file, actor=actor)
            for e in load_catalog().values()]


def latest_definition(session: Session, process_key: str) -> ProcessDefinition:
    definition = session.scalar(select(ProcessDefinition)
                                .where(ProcessDefinition.process_key == process_key)
                                .order_by(ProcessDefinition.version.desc()).limit(1))
    if definition is None:
        raise NotFound(f"process '{process_key}' has not been deployed")
    return definition


def parsed_definition(definition: ProcessDefinition) -> ParsedDefinition:
    return spec_cache.get((definition.process_key, definition.sha256), lambda: parse_definition(
        definition.bpmn_xml.encode("utf-8"), definition.file_name, definition.process_key))


# --- the admin studio ------------------------------------------------------------------------

MAX_MODEL_MB = 2
MODEL_SUFFIXES = (".bpmn", ".xml")


def require_admin(actor) -> None:
    if actor is None or actor.kind != "admin":
        raise NotPermitted(t("studio_admin_only"))


def read_model(data: bytes, file_name: str) -> tuple[str, object]:
    """The text and tree of an uploaded model, or a refusal naming the file's problem in the
    user's language (wrong type, too large, not UTF-8, malformed XML with its line, a DOCTYPE)."""
    if PurePath(file_name or "").suffix.lower() not in MODEL_SUFFIXES:
        raise InvalidInput({"file": [t("studio_file_type")]})
    if len(data) > MAX_MODEL_MB * 1024 * 1024:
        raise InvalidInput({"file": [t("studio_file_too_large", mb=MAX_MODEL_MB)]})
    if not data.strip():
        raise InvalidInput({"file": [t("studio_file_empty")]})
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInput({"file": [t("studio_not_utf8")]}) from None
    try:
        tree = read_xml(data, file_name)
    except DefinitionInvalid as exc:
        found = exc.problems[0]
        detail = found.get("params", {}).get("detail", found["message"])
        raise DefinitionInvalid([problem(file_name, found["line"], None,
                                         t("studio_xml_syntax", line=found["line"] or "?", detail=detail))]) from None
    if tree.docinfo.doctype:
        raise DefinitionInvalid([problem(file_name, 1, None, t("studio_doctype"))])
    return text, tree


def _missing_process(tree, file_name: str, process_key: str) -> list[dict]:
    """A file from another tool opens in the modeler, but names its own process: say what to change."""
    root = tree.getroot()
    if root.find(f"bpmn:process[@id='{process_key}']", NS) is not None:
        return []
    processes = root.findall("bpmn:process", NS)
    ids = [p.get("id") for p in processes if p.get("id")]
    first = processes[0] if processes else root
    return [problem(file_name, first.sourceline, first.get("id") if processes else None, t(
        "studio_no_process", process=process_key, found=", ".join(ids) or t("studio_none")))]


def studio_validate(actor, *, process_key: str, data: bytes, file_name: str) -> dict:
    """The model's text and its problems (empty when deployable); DefinitionInvalid or InvalidInput
    when the file cannot be opened at all."""
    require_admin(actor)
    _entry(process_key)
    text, tree = read_model(data, file_name)
    problems = _missing_process(tree, file_name, process_key) or validate(
        data, process_key=process_key, file_name=file_name)
    return {"file_name": file_name, "xml": text, "problems": problems}


def studio_deploy(session: Session, actor, *, process_key: str, data: bytes, file_name: str):
    require_admin(actor)
    _entry(process_key)
    _, tree = read_model(data, file_name)
    missing = _missing_process(tree, file_name, process_key)
    if missing:
        raise DefinitionInvalid(missing)
    return deploy(session, process_key=process_key, xml=data, file_name=file_name, actor=actor)


def process_overview(session: Session, actor) -> list[dict]:
    """Every catalog process with its deployed versions, newest first, and their case counts."""
    require_admin(actor)
    counts: dict[int, dict] = {}
    for definition_id, status, n in session.execute(
            select(ProcessInstance.definition_id, ProcessInstance.status, func.count())
            .group_by(ProcessInstance.definition_id, ProcessInstance.status)):
        counts.setdefault(definition_id, {})[status] = n
    rows = session.scalars(select(ProcessDefinition)
                           .order_by(ProcessDefinition.process_key, ProcessDefinition.version.desc())).all()
    by_key: dict[str, list] = {}
    for d in rows:
        by_key.setdefault(d.process_key, []).append({
            "definition": d, "running": counts.get(d.id, {}).get("running", 0),
            "completed": counts.get(d.id, {}).get("completed", 0)})
    return [{"key": e.key, "entry": e, "versions": by_key.get(e.key, [])} for e in load_catalog().values()]


def get_version(session: Session, actor, process_key: str, version: int) -> ProcessDefinition:
    require_admin(actor)
    _entry(process_key)
    found = session.scalar(select(ProcessDefinition).where(
        ProcessDefinition.process_key == process_key, ProcessDefinition.version == version))
    if found is None:
        raise NotFound(t("studio_version_unknown", process=process_key, version=version))
    return found


def diff_versions(session: Session, actor, process_key: str, old: int, new: int) -> list[dict]:
    if old == new:
        raise InvalidInput({"to": [t("studio_versions_differ")]})
    before, after = (get_version(session, actor, process_key, v) for v in (old, new))
    return diff_models(before.bpmn_xml.encode("utf-8"), after.bpmn_xml.encode("utf-8"), process_key)
