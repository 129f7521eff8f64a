"""Parsing BPMN with SpiffWorkflow's Spiff parser (XSD-validated) and caching specs per version."""
from dataclasses import dataclass
from threading import Lock

from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser

from engine.errors import DefinitionInvalid


@dataclass(frozen=True)
class ParsedDefinition:
    process_id: str
    spec: object
    subprocess_specs: dict


def problem(file_name, line, element, message, code=None, **params) -> dict:
    """One refusal: where, and why. `code` + `params` let the web layer say it in the user's language;
    `message` is the English text (the CLI and logs)."""
    found = {"file": file_name, "line": line, "element": element, "message": message}
    if code:
        found.update(code=code, params=params)
    return found


def read_xml(xml: bytes, file_name: str) -> etree._ElementTree:
    """Well-formedness check with a hardened parser (no entities, no network, no huge trees)."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False,
                             remove_blank_text=False, load_dtd=False)
    try:
        return etree.ElementTree(etree.fromstring(xml, parser))
    except etree.XMLSyntaxError as exc:
        line = exc.lineno if exc.lineno else None
        raise DefinitionInvalid([problem(file_name, line, None, f"XML syntax error: {exc.msg}",
                                         "xml_syntax", detail=exc.msg)])


def parse_definition(xml: bytes, file_name: str, process_id: str) -> ParsedDefinition:
    """Parse and XSD-validate one BPMN document; errors carry file, line and element id."""
    tree = read_xml(xml, file_name)
    parser = SpiffBpmnParser(validator=VALIDATOR)
    try:
        parser.add_bpmn_xml(tree, filename=file_name)
        spec = parser.get_spec(process_id)
        subprocess_specs = parser.get_subprocess_specs(process_id)
    except ValidationException as exc:
        raise DefinitionInvalid([problem(exc.file_name or file_name, exc.line_number or None,
                                         exc.id or None, _clean(str(exc)))])
    except Exception as exc:  # the parser itself can fail on valid but unusual models
        raise DefinitionInvalid([problem(file_name, None, None,
                                         f"the model could not be read ({type(exc).__name__}: {exc})")])
    return ParsedDefinition(process_id=process_id, spec=spec, subprocess_specs=subprocess_specs)


def _clean(message: str) -> str:
    return message.strip().rstrip(".").replace("\n", " ")


class SpecCache:
    """Parsed specs keyed by (process id, content sha256): content-addressed, so never stale."""

    def __init__(self, max_entries: int = 256):
        self._entries: dict[tuple[str, str], ParsedDefinition] = {}
        self._lock = Lock()
        self._max = max_entries

    def get(self, key: tuple[str, str], load) -> ParsedDefinition:
        found = self._entries.get(key)
        if found is not None:
            return found
        parsed = load()
        with self._lock:
            if len(self._entries) >= self._max:
                self._entries.pop(next(iter(self._entries)))
            self._entries[key] = parsed
        return parsed


spec_cache = SpecCache()
