"""The message catalog: every message of the pages in the shipped template, and in use."""

from __future__ import annotations

import gettext
import io

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from tools.web_messages import LOCALE, TEMPLATE, extract

from openbackpack.client import BackpackClient
from openbackpack.web import english
from tests.services.conftest import Site

from .conftest import serve_pages


def _ids(catalog: Catalog) -> set[object]:
    return {message.id for message in catalog if message.id}


def test_the_shipped_template_holds_exactly_the_messages_of_the_sources() -> None:
    """messages.pot, extracted again from the templates and Python sources, is unchanged."""
    with open(TEMPLATE, "rb") as shipped:
        assert _ids(read_po(shipped)) == _ids(extract())


def test_the_english_catalog_is_complete_and_is_the_default() -> None:
    """Every message of the template is in the English catalog, which the pages load."""
    with open(LOCALE / "en" / "LC_MESSAGES" / "openbackpack.po", "rb") as po:
        catalog = read_po(po)
    assert _ids(catalog) == _ids(extract())
    assert all(message.string for message in catalog if message.id)
    assert isinstance(english(), gettext.GNUTranslations)
    assert english().ngettext("%(num)d badge", "%(num)d badges", 2) == "%(num)d badges"


def _german() -> gettext.GNUTranslations:
    catalog = Catalog(locale="de", domain="openbackpack")
    catalog.add("en", "de")
    catalog.add("My backpacks", "Meine Rucksäcke")
    catalog.add("Please log in first.", "Bitte zuerst anmelden.")
    catalog.add(
        ("%(num)d collection", "%(num)d collections"), ("%(num)d Sammlung", "%(num)d Sammlungen")
    )
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


def test_a_translation_supplied_by_the_platform_is_used_on_the_pages(
    site: Site, client: BackpackClient
) -> None:
    """With a German catalog, templates and Python messages (plurals too) come out German."""
    with serve_pages(site, client, translations=_german()) as web:
        home = web.visitor("learner-a").get("/")
        assert '<html lang="de">' in home.text
        assert "<h1>Meine Rucksäcke</h1>" in home.text
        assert "Backpacks on offer" in home.text  # untranslated messages stay English
        assert "0 Sammlungen" in web.visitor("learner-a").get("/badges").text
        nobody = web.visitor(None).get("/")
        assert nobody.status_code == 401
        assert "Bitte zuerst anmelden." in nobody.text
