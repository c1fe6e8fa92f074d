"""The zh_CN catalogue is complete: every string in the code has a real translation.

No app, no database: these tests read the .po file and run the same extraction
as `make extract-messages`, so a new English string without a translation
fails here with the list of what is missing.
"""
from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest
from babel.messages.frontend import CommandLineInterface
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
PO_FILE = ROOT / "app" / "translations" / "zh" / "LC_MESSAGES" / "messages.po"

# The same options as the Makefile's extract-messages target.
EXTRACT_ARGS = ["-F", str(ROOT / "babel.cfg"), "-k", "_l", "-k", "lazy_gettext",
                "--no-location", "--sort-output", "--project", "Property Service Desk"]

# %(name)s, %(num)d, %s, %5.2f ... ; "%%" is a literal percent sign, not a placeholder.
PLACEHOLDER = re.compile(r"%(?:\((?P<name>[^)]*)\))?[#0\- +]*(?:\*|\d+)?(?:\.(?:\*|\d+))?"
                         r"[hlL]?(?P<conv>[diouxXeEfFgGcrsa%])")


def _forms(value) -> tuple[str, ...]:
    return tuple(value) if isinstance(value, (tuple, list)) else (value,)


def _label(msgid) -> str:
    return " | ".join(_forms(msgid))


def _placeholders(text: str) -> Counter:
    """The placeholders of a %-format string, each as it would be written: %(num)d, %s."""
    found = Counter()
    for m in PLACEHOLDER.finditer(text):
        if m.group("conv") == "%":
            continue
        name = m.group("name")
        found[f"%({name}){m.group('conv')}" if name is not None else f"%{m.group('conv')}"] += 1
    return found


@pytest.fixture(scope="module")
def catalog():
    with PO_FILE.open("rb") as f:
        return read_po(f)


@pytest.fixture(scope="module")
def extracted(tmp_path_factory):
    """A fresh extraction from app/ and templates/, as `make extract-messages` does it."""
    out = tmp_path_factory.mktemp("i18n") / "messages.pot"
    CommandLineInterface().run(
        ["pybabel", "-q", "extract", *EXTRACT_ARGS, "-o", str(out), str(ROOT)])
    with out.open("rb") as f:
        return read_po(f)


def _entries(catalog):
    return [m for m in catalog if m.id]


def test_catalogue_header_is_zh_cn(catalog):
    assert str(catalog.locale_identifier) == "zh_CN"
    assert catalog.num_plurals == 1
    assert catalog.plural_expr == "0"


def test_every_entry_is_translated_and_not_fuzzy(catalog):
    entries = _entries(catalog)
    assert entries, "the zh_CN catalogue is empty"
    empty = [_label(m.id) for m in entries if not all(s.strip() for s in _forms(m.string))]
    fuzzy = [_label(m.id) for m in entries if m.fuzzy]
    assert not empty, "untranslated in zh_CN messages.po:\n  " + "\n  ".join(empty)
    assert not fuzzy, (
        "fuzzy in zh_CN messages.po (check the translation, then drop the flag):\n  "
        + "\n  ".join(fuzzy))
    assert not catalog.fuzzy, "the catalogue header is marked fuzzy"


def test_plural_entries_have_one_form(catalog):
    wrong = [_label(m.id) for m in _entries(catalog)
             if m.pluralizable and len(_forms(m.string)) != catalog.num_plurals]
    assert not wrong, ("zh_CN has one plural form (msgstr[0]); these differ:\n  "
                       + "\n  ".join(wrong))


def test_every_string_in_the_code_is_in_the_catalogue(catalog, extracted):
    missing = []
    for m in _entries(extracted):
        entry = catalog.get(m.id, context=m.context)
        if entry is None:
            missing.append(_label(m.id))
        elif entry.pluralizable != m.pluralizable or _forms(entry.id) != _forms(m.id):
            missing.append(_label(m.id) + "   (catalogue has: " + _label(entry.id) + ")")
    assert not missing, (
        f"{len(missing)} string(s) in the code are missing from the zh_CN catalogue. "
        "Run `make extract-messages`, translate them in "
        "app/translations/zh/LC_MESSAGES/messages.po, then `make translations`:\n  "
        + "\n  ".join(missing))


def test_placeholders_match(catalog):
    wrong = []
    for m in _entries(catalog):
        ids = _forms(m.id)
        # zh_CN's single form stands for every count, so it follows the English plural.
        expected = _placeholders(ids[-1])
        for form in _forms(m.string):
            if not form:
                continue  # reported by test_every_entry_is_translated_and_not_fuzzy
            got = _placeholders(form)
            if got != expected:
                wrong.append(f"{_label(m.id)!r}: expected {sorted(expected.elements())}, "
                             f"msgstr {form!r} has {sorted(got.elements())}")
    assert not wrong, "placeholders differ between msgid and msgstr:\n  " + "\n  ".join(wrong)


def test_translations_format_like_the_source(catalog):
    """Formatting a msgstr with its msgid's values works (no stray %, no bad conversion)."""
    broken = []
    for m in _entries(catalog):
        source = _forms(m.id)[-1]
        names = [p.group("name") for p in PLACEHOLDER.finditer(source)
                 if p.group("conv") != "%" and p.group("name")]
        if not names and "python-format" not in m.flags:
            continue
        values = dict.fromkeys(names, 1)
        for form in _forms(m.string):
            if not form:
                continue
            try:
                form % values
            except (KeyError, ValueError, TypeError) as exc:
                broken.append(f"{form!r}: {exc!r}")
    assert not broken, "these translations fail to format:\n  " + "\n  ".join(broken)


def test_every_source_file_is_reached_by_the_extraction(catalog):
    """Babel's directory walk silently skips folders starting with '_' or '.': read every
    template and module directly, so a string in such a folder cannot go untranslated."""
    from babel.messages.extract import extract_from_file

    known = {m.id if isinstance(m.id, str) else m.id[0] for m in catalog if m.id}
    missing = []
    for folder, method in (("templates", "jinja2"), ("app", "python")):
        for path in sorted((ROOT / folder).rglob("*.html" if method == "jinja2" else "*.py")):
            keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None,
                        "lazy_gettext": None}
            for _line, msgid, _comments, _context in extract_from_file(
                    method, str(path), keywords=keywords):
                first = msgid if isinstance(msgid, str) else msgid[0]
                if first and first not in known:
                    missing.append(f"{path.relative_to(ROOT)}: {first}")
    assert not missing, "strings the catalogue lacks:\n  " + "\n  ".join(missing)
