"""The English catalog covers every msgid and keeps its %(name)s placeholders.

The msgids are the Chinese UI text (zh_CN needs no catalog). When these tests fail after adding
or changing a _('…') string, refresh the catalog and translate the new entries:

    .venv/bin/pybabel extract -F babel.cfg -k lazy_gettext -c TRANSLATORS: --sort-by-file \
        --project=CraneFlow --version=0.1.0 -o web/translations/messages.pot .
    .venv/bin/pybabel update -i web/translations/messages.pot -d web/translations -l en --no-fuzzy-matching

Nothing is compiled here; the .mo files are build output (`pybabel compile -d web/translations`).
"""
import re
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "web" / "translations"
POT = TRANSLATIONS / "messages.pot"
PO_EN = TRANSLATIONS / "en" / "LC_MESSAGES" / "messages.po"

# %(name)s, %(n)d, %(x).2f … (named printf-style placeholders, as used with gettext(..., name=value))
PLACEHOLDER = re.compile(r"%\((\w+)\)[-#0 +]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa]")


def _read(path: Path, locale=None):
    with path.open("rb") as fh:
        return read_po(fh, locale=locale)


@pytest.fixture(scope="module")
def pot():
    return _read(POT)


@pytest.fixture(scope="module")
def po_en():
    return _read(PO_EN, locale="en")


def _forms(value) -> tuple:
    """msgid/msgstr are a string, or a tuple of strings for plural entries."""
    return value if isinstance(value, (tuple, list)) else (value,)


def _names(text: str) -> list[str]:
    return sorted(PLACEHOLDER.findall(text or ""))


def _formats(text: str) -> bool:
    """Jinja's newstyle gettext always applies `% variables`, so a stray % must not break it."""
    class Any(dict):
        def __missing__(self, key):
            return 0

    try:
        text % Any()
    except (ValueError, TypeError, KeyError):
        return False
    return True


def test_template_has_messages(pot):
    assert len([m for m in pot if m.id]) > 0


def test_every_msgid_has_english_translation(pot, po_en):
    missing, empty, fuzzy = [], [], []
    for message in pot:
        if not message.id:
            continue
        translated = po_en.get(message.id, message.context)
        if translated is None:
            missing.append(_forms(message.id)[0])
        elif any(not (s or "").strip() for s in _forms(translated.string)):
            empty.append(_forms(message.id)[0])
        elif translated.fuzzy:
            fuzzy.append(_forms(message.id)[0])
    assert not missing, f"msgids missing from {PO_EN.relative_to(ROOT)} (run pybabel update): {missing}"
    assert not empty, f"msgids without an English msgstr: {empty}"
    assert not fuzzy, f"fuzzy entries (review them and drop the flag): {fuzzy}"


def test_placeholders_match(po_en):
    problems = []
    for message in po_en:
        if not message.id or not message.string:
            continue
        expected = _names(_forms(message.id)[-1])
        for text in _forms(message.string):
            if _names(text) != expected:
                problems.append(f"{_forms(message.id)[0]!r}: {_names(text)} != {expected}")
            elif _formats(_forms(message.id)[0]) and not _formats(text):
                problems.append(f"{_forms(message.id)[0]!r}: stray % in {text!r} (write %%)")
    assert not problems, "placeholder mismatch:\n" + "\n".join(problems)


def test_template_is_up_to_date_with_sources(pot):
    """Every _()/gettext() string in web/ is in messages.pot (i.e. someone ran pybabel extract)."""
    with (ROOT / "babel.cfg").open(encoding="utf-8") as fh:
        method_map, options_map = parse_mapping_cfg(fh, "babel.cfg")
    keywords = {**DEFAULT_KEYWORDS, "lazy_gettext": None}
    known = {_forms(m.id)[0] for m in pot if m.id}
    stale = sorted(
        f"{filename}:{lineno} {_forms(msgid)[0]}"
        for filename, lineno, msgid, _comments, _context in extract_from_dir(
            str(ROOT), method_map, options_map, keywords=keywords)
        if _forms(msgid)[0] not in known
    )
    assert not stale, "strings not yet in messages.pot (run pybabel extract + update):\n" + "\n".join(stale)
