"""Process definitions: validate, deploy as immutable versions, and hand out parsed specs."""
import hashlib

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.bpmn.parser import ParsedDefinition, parse_definition, spec_cache
from engine.bpmn.validation import validate_definition
from engine.db import ProcessDefinition
from engine.errors import DefinitionInvalid, NotFound
from forms import form_keys
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
