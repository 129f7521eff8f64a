"""Turn an HTML form post into the JSON data a form schema expects (driven by its JSON Schema)."""
import re

from engine.services.attachments import store_upload

INT = re.compile(r"^-?\d{1,15}$")
MAX_ROWS = 20  # repeated rows (e.g. safety staff) a page offers


def _scalar(prop: dict, raw: str):
    kind = prop.get("type")
    kind = kind[0] if isinstance(kind, list) else kind
    raw = raw.strip()
    if kind == "integer":
        return int(raw) if INT.match(raw) else raw
    if kind == "number":
        try:
            return float(raw)
        except ValueError:
            return raw
    return raw


def _filled(value) -> bool:
    """Whether a posted row holds anything: empty upload lists and unticked boxes do not count."""
    if isinstance(value, dict):
        return any(_filled(v) for v in value.values())
    return value is not None and value is not False and value != "" and value != []


def from_html(schema: dict, form, files, *, session_factory, actor, prefix="") -> dict:
    """Build form data; uploaded files are stored first (own transaction) so a failed
    submission re-renders with them already attached."""
    data = {}
    for name, prop in schema["properties"].items():
        key = f"{prefix}{name}"
        kind = prop.get("type")
        if kind == "object":
            data[name] = from_html(prop, form, files, session_factory=session_factory, actor=actor,
                                   prefix=f"{key}.")
        elif kind == "array" and prop.get("x-attachments"):
            ids = [int(v) for v in form.getlist(f"{key}.keep") if INT.match(v)]
            uploads = [f for f in files.getlist(key) if f and f.filename]
            if uploads:
                with session_factory() as s:
                    ids += [store_upload(s, actor=actor, filename=f.filename, stream=f.stream).id
                            for f in uploads]
            data[name] = ids
        elif kind == "array" and prop["items"].get("type") == "object":
            rows = []
            for index in range(MAX_ROWS):
                row = from_html(prop["items"], form, files, session_factory=session_factory,
                                actor=actor, prefix=f"{key}.{index}.")
                if _filled(row):
                    rows.append(row)
            data[name] = rows
        elif kind == "array":
            data[name] = [v for v in form.getlist(key) if v]
        elif kind == "boolean":
            data[name] = form.get(key) in ("1", "true", "on")
        else:
            raw = form.get(key)
            if raw is not None and raw.strip() != "":
                data[name] = _scalar(prop, raw)
    return data


def form_steps(schema: dict) -> list[dict]:
    """The form's fields split into steps by their groups: the plain fields first ("title" None),
    then each fieldset (a nested object or a list of rows) on its own. One step when there is
    nothing to split."""
    plain, groups = [], []
    for name, prop in schema["properties"].items():
        grouped = prop.get("type") == "object" or (
            prop.get("type") == "array" and (prop.get("items") or {}).get("type") == "object")
        if grouped:
            groups.append({"title": prop.get("title") or name, "fields": [name]})
        else:
            plain.append(name)
    steps = ([{"title": None, "fields": plain}] if plain else []) + groups
    return steps if len(steps) > 1 else [{"title": None, "fields": list(schema["properties"])}]
