"""The template kit's cheaper spellings say exactly what the ones they replace said: the
``when`` filter, the templates' ``_()``, and the labels drawn once per language."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from markupsafe import Markup

from ewallet.kit.i18n import EN, ZH_CN
from ewallet.models.support import TICKET_STATUSES
from ewallet.risk.limits import CHINA_TIME
from ewallet.web.console.tickets import queue_labels
from ewallet.web.kit import i18n
from ewallet.web.kit.pages import macro_table
from ewallet.web.kit.templates import TEMPLATES, template_gettext, when


def test_when_says_what_strftime_said_in_china_time() -> None:
    moments = [
        datetime(2026, 12, 31, 16, 0, 59, 999999, tzinfo=UTC),  # already 1 January there
        datetime(2026, 1, 1, 0, 5, tzinfo=timezone(timedelta(hours=-5))),
        datetime(1988, 7, 1, 12, 30, tzinfo=UTC),  # China kept summer time then
        datetime(2026, 3, 2, 1, 0, tzinfo=CHINA_TIME),
    ]
    for moment in moments:
        assert when(moment) == moment.astimezone(CHINA_TIME).strftime("%Y-%m-%d %H:%M")
    assert when(datetime(2026, 12, 31, 16, 0, tzinfo=UTC)) == "2027-01-01 00:00"
    assert when(None) == ""


def test_template_gettext_is_jinjas_newstyle_gettext() -> None:
    """Translated in the language being rendered, ``%%`` a percent sign, variables escaped
    (the text stays markup), the same texts through ``_()`` in a template."""
    template = TEMPLATES.from_string(
        "{{ _('Mine') }}|{{ _('100%% sure') }}|{{ _('Hello %(name)s', name=who) }}"
    )
    with i18n.rendering_in(EN):
        assert template.render(who="<b>") == "Mine|100% sure|Hello &lt;b&gt;"
        said = template_gettext("Hello %(name)s", name="<i>")
        assert isinstance(said, Markup)
        assert str(said) == "Hello &lt;i&gt;"
        assert template_gettext("100%% sure") == "100% sure"
    with i18n.rendering_in(ZH_CN):
        mine = i18n.translate("Mine")
        assert mine != "Mine"  # the catalogue has it
        assert template.render(who="x").startswith(mine + "|")


def test_labels_drawn_once_are_the_macros_words() -> None:
    """The queue's tables hold what the macros of console/tickets/_labels.html draw, in
    each language, and are kept (the same object on the next page)."""
    module = TEMPLATES.get_template("console/tickets/_labels.html").module
    for locale in (EN, ZH_CN):
        labels = queue_labels(locale)
        assert queue_labels(locale) is labels
        with i18n.rendering_in(locale):
            for status in TICKET_STATUSES:
                assert labels.status_badge[status] == Markup(module.status(status))  # type: ignore[attr-defined]
                assert labels.status_name[status] == Markup(module.status_name(status))  # type: ignore[attr-defined]
    assert queue_labels(EN).status_name["pending_customer"] == "Waiting for the customer"
    assert 'class="badge badge-warn"' in queue_labels(EN).status_badge["pending_customer"]
    table = macro_table("console/tickets/_labels.html", "channel", ("web", "phone"), EN)
    assert dict(table) == {"web": "Web wallet", "phone": "Phone call"}
