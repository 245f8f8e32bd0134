"""Extract every message of the pages into ``messages.pot`` and refresh the English catalog.

Run it from the repository root after changing a message (``.venv/bin/python
tools/web_messages.py``); ``tests/web/test_catalog.py`` fails while the shipped template is
out of date. Babel's extractor reads the Jinja2 templates (with the ``jinja2.ext.i18n``
extension: ``_()``, ``gettext()``, ``ngettext()`` and ``{% trans %}``) and the Python
sources of ``openbackpack.web`` (``gettext(...)``, as in ``web.gettext(...)``). The English
catalog translates each message to itself, so that translators have a complete one to copy;
it is compiled to the ``.mo`` file the pages load by default.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Final

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import write_po

WEB: Final = Path(__file__).resolve().parents[1] / "src" / "openbackpack" / "web"
LOCALE: Final = WEB / "locale"
DOMAIN: Final = "openbackpack"
TEMPLATE: Final = LOCALE / "messages.pot"
_METHODS: Final = [("templates/**.html", "jinja2.ext:babel_extract"), ("**.py", "python")]
_OPTIONS: Final = {"templates/**.html": {"extensions": "jinja2.ext.i18n", "trimmed": "false"}}
_KEYWORDS: Final = {"_": None, "gettext": None, "ngettext": (1, 2)}
_WIDTH: Final = 100


def extract(root: Path = WEB) -> Catalog:
    """Every message of the templates and Python sources under ``root``, in one catalog."""
    catalog = Catalog(project="openbackpack", domain=DOMAIN, charset="utf-8")
    found = extract_from_dir(
        str(root),
        _METHODS,
        _OPTIONS,
        keywords=_KEYWORDS,
        comment_tags=("Translators:",),
        strip_comment_tags=True,
    )
    for filename, _lineno, message, comments, context in found:
        catalog.add(message, None, [(filename, 0)], auto_comments=comments, context=context)
    return catalog


def english(template: Catalog) -> Catalog:
    """The English catalog: each message translated to itself (plurals: singular, plural)."""
    catalog = Catalog(locale="en", project="openbackpack", domain=DOMAIN, charset="utf-8")
    for message in template:
        if message.id:
            catalog.add(message.id, message.id, message.locations, context=message.context)
    return catalog


def _po(catalog: Catalog) -> bytes:
    out = io.BytesIO()
    write_po(out, catalog, width=_WIDTH, sort_output=True, include_lineno=False)
    return out.getvalue()


def main() -> None:
    """Write ``messages.pot`` and ``en/LC_MESSAGES/openbackpack.po`` and ``.mo``."""
    template = extract()
    TEMPLATE.write_bytes(_po(template))
    english_dir = LOCALE / "en" / "LC_MESSAGES"
    english_dir.mkdir(parents=True, exist_ok=True)
    catalog = english(template)
    (english_dir / f"{DOMAIN}.po").write_bytes(_po(catalog))
    with open(english_dir / f"{DOMAIN}.mo", "wb") as compiled:
        write_mo(compiled, catalog)
    print(f"wrote {TEMPLATE} ({sum(1 for m in template if m.id)} messages) and {english_dir}")


if __name__ == "__main__":
    main()
