"""Every committed translation catalog is complete and well-formed (issue 15, item 4).

Chinese is the source language (the msgids); each app's ``locale/en/LC_MESSAGES/django.po`` holds
the English. GNU gettext checks what a person reading English would notice: ``msgfmt --check``
refuses placeholders that differ between msgid and msgstr (a missing %(name)s shows raw or
crashes), ``msgattrib`` lists untranslated (empty) and fuzzy entries (shown in Chinese)."""

import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CATALOGS = sorted((ROOT / "shequn").glob("**/locale/*/LC_MESSAGES/django.po"))


def test_there_are_catalogs() -> None:
    assert ROOT / "shequn/locale/en/LC_MESSAGES/django.po" in CATALOGS


def _gettext(*command: str) -> str:
    done = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603  (gettext's own tools)
    assert done.returncode == 0, f"{' '.join(command)}:\n{done.stderr}"
    return done.stdout


@pytest.mark.parametrize("catalog", CATALOGS, ids=lambda path: str(path.relative_to(ROOT / "shequn")))
def test_catalog_is_complete(catalog: Path) -> None:
    _gettext("msgfmt", "--check", "--output-file=/dev/null", str(catalog))
    untranslated = _gettext("msgattrib", "--untranslated", "--no-obsolete", str(catalog))
    assert "msgid" not in untranslated, f"entries without English in {catalog}:\n{untranslated}"
    fuzzy = _gettext("msgattrib", "--only-fuzzy", "--no-obsolete", str(catalog))
    assert "msgid" not in fuzzy, f"fuzzy entries in {catalog}:\n{fuzzy}"
