"""Console pages: the risk rules (``/console/risk/rules``) -- every rule-set version, one set
with its rules, and for a draft the rule editor, validation and activation.

Risk officers and admins only (``risk.rules.permissions.RISK_RULES``, the permission the
staff API's ``/v1/staff/risk`` routes check), over the same use cases of
:mod:`ewallet.risk.rules.service`: a page never compiles a condition or writes a rule
itself, so the editor and the API refuse exactly the same things and audit them the same
way. A condition that does not compile comes back with the compiler's message and its
0-based position; the form is shown again with what was typed, the offending character
marked, and (with JavaScript) the cursor put there.

Routes (``{version}`` a rule-set version, ``{name}`` a rule's name):

- ``GET /console/risk/rules``: versions newest first, "create a draft" from the active set;
- ``POST /console/risk/rules``: a new draft (``create_draft``), then its page;
- ``GET /console/risk/rules/{version}``: the set and its rules (``?done=`` says what the
  last post did); for a draft, add / edit / delete, validate, activate;
- ``GET .../new-rule`` and ``GET .../rules/{name}``: the rule form (a rule may be named "new");
- ``POST .../rules``: save a rule (add or replace by name);
- ``POST .../rules/{name}/delete``, ``POST .../validate``, ``POST .../activate``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Final

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response

from ewallet.http.deps import ServicesDep
from ewallet.kit.errors import DomainError
from ewallet.models.risk import RuleAction, RuleMode, RuleSetState
from ewallet.risk.rules import service
from ewallet.risk.rules.errors import RuleNotFoundError
from ewallet.risk.rules.permissions import RISK_RULES
from ewallet.risk.rules.views import RuleSetView, RuleView
from ewallet.staff.principal import StaffPrincipal
from ewallet.web.console.auth import allowed
from ewallet.web.console.forms import ConsoleForm
from ewallet.web.console.pages import console_page
from ewallet.web.console.routing import ConsoleRoute
from ewallet.web.kit.forms import Form
from ewallet.web.kit.i18n import N_
from ewallet.web.kit.i18n import translate as _t
from ewallet.web.kit.pages import locale_of, refusal, see_other

router = APIRouter(prefix="/console", route_class=ConsoleRoute, include_in_schema=False)

# The risk officer at the console: the permission the staff API's risk routes check.
RiskOfficer = Annotated[StaffPrincipal, Depends(allowed(RISK_RULES))]
Version = Annotated[int, Path(ge=1, le=2**31 - 1)]
RuleName = Annotated[str, Path(min_length=1, max_length=64)]

SETS: Final = "console/risk/rule_sets.html"
SET: Final = "console/risk/rule_set.html"
RULE: Final = "console/risk/rule_form.html"
VALIDATED: Final = "console/risk/validated.html"
OUTCOMES: Final = frozenset({"created", "saved", "deleted", "activated"})
RULE_FIELDS: Final = ("name", "description", "condition", "action", "mode", "position")
STATE_LABELS: Final = {
    RuleSetState.DRAFT.value: N_("Draft"),
    RuleSetState.ACTIVE.value: N_("Active"),
    RuleSetState.RETIRED.value: N_("Retired"),
}
ACTION_LABELS: Final = {
    RuleAction.CHALLENGE.value: N_("Challenge"),
    RuleAction.REVIEW.value: N_("Review"),
    RuleAction.BLOCK.value: N_("Block"),
    RuleAction.REPORT.value: N_("Report"),
}
MODE_LABELS: Final = {RuleMode.LIVE.value: N_("Live"), RuleMode.SHADOW.value: N_("Shadow")}
TYPE_LABELS: Final = {"number": N_("number"), "text": N_("text"), "bool": N_("yes/no")}

# What a refused rule says, by the start of the service's English detail (the refusals of
# ``risk.rules.service.check_rule`` other than a condition that does not compile).
RULE_REFUSALS: Final = (
    ("a rule's name", "name", N_("A name is 1-64 lower-case letters, digits and hyphens.")),
    ("name the events", "events", N_("Tick at least one event the rule applies to.")),
    ("unknown events", "events", N_("Tick only the events listed.")),
    ("only a block", "freeze_account", N_("Only a blocking rule may freeze the account.")),
    ("a rule needs", "description", N_("Describe the rule in up to 2,000 characters.")),
    ("a condition has", "condition", N_("A condition has at most 2,000 characters.")),
)
SET_REFUSALS: Final = {
    "conflict": N_(
        "This version is no longer a draft (it was activated or retired meanwhile), so it "
        "cannot change. Create a new draft from the active set."
    ),
}


@dataclass(frozen=True, slots=True)
class ConditionProblem:
    """Where a condition failed to compile, cut for the page: the text before the marked
    character, the character itself (a space past the end) and the rest."""

    message: str
    position: int
    line: int
    column: int
    before: str
    at: str
    after: str

    @classmethod
    def at_position(cls, source: str, message: str, position: int) -> ConditionProblem:
        position = max(0, min(position, len(source)))
        head = source[:position]
        line = head.count("\n") + 1
        column = position - (head.rfind("\n") + 1) + 1
        at = source[position : position + 1]
        if at in ("", "\n"):
            at = " "
            rest = source[position:]
        else:
            rest = source[position + 1 :]
        return cls(message, position, line, column, head, at, rest)


# ------------------------------------------------------------------------------ versions


@router.get("/risk/rules")
async def rule_sets_page(request: Request, staff: RiskOfficer, services: ServicesDep) -> Response:
    versions = await service.list_rule_sets(services)
    return await console_page(
        request,
        services,
        SETS,
        versions=versions,
        active=next((v for v in versions if v.state is RuleSetState.ACTIVE), None),
        has_draft=any(v.state is RuleSetState.DRAFT for v in versions),
        state_labels=STATE_LABELS,
    )


@router.post("/risk/rules")
async def create_draft(
    request: Request, form: ConsoleForm, staff: RiskOfficer, services: ServicesDep
) -> Response:
    """A new draft: a copy of the version named in the form, else of the active set."""
    source = form.text("from_version")
    try:
        created = await service.create_draft(
            services,
            staff.actor(),
            from_version=int(source) if source.isdigit() else None,
            note=form.text("note"),
        )
    except DomainError as error:
        versions = await service.list_rule_sets(services)
        return await console_page(
            request,
            services,
            SETS,
            status_code=error.status,
            error=refusal(request, error),
            versions=versions,
            active=next((v for v in versions if v.state is RuleSetState.ACTIVE), None),
            has_draft=any(v.state is RuleSetState.DRAFT for v in versions),
            state_labels=STATE_LABELS,
        )
    return see_other(f"/console/risk/rules/{created.version}?done=created")


# ------------------------------------------------------------------------------ one set


async def _set_page(
    request: Request,
    services: ServicesDep,
    rule_set: RuleSetView,
    *,
    done: str = "",
    error: str | None = None,
    problem_rule: str = "",
    status_code: int = 200,
) -> Response:
    return await console_page(
        request,
        services,
        SET,
        status_code=status_code,
        rule_set=rule_set,
        draft=rule_set.state is RuleSetState.DRAFT,
        done=done,
        error=error,
        problem_rule=problem_rule,
        state_labels=STATE_LABELS,
        action_labels=ACTION_LABELS,
        mode_labels=MODE_LABELS,
    )


@router.get("/risk/rules/{version}")
async def rule_set_page(
    request: Request,
    version: Version,
    staff: RiskOfficer,
    services: ServicesDep,
    done: Annotated[str, Query(max_length=16)] = "",
) -> Response:
    rule_set = await service.get_rule_set(services, version=version)
    return await _set_page(request, services, rule_set, done=done if done in OUTCOMES else "")


@router.post("/risk/rules/{version}/validate")
async def validate(
    request: Request, version: Version, form: ConsoleForm, staff: RiskOfficer, services: ServicesDep
) -> Response:
    """Compile every condition; the problems (each with its place) or "ready to activate"."""
    problems = await service.validate_rule_set(services, version=version)
    return await console_page(request, services, VALIDATED, version=version, problems=problems)


@router.get("/risk/rules/{version}/validate")
async def validated_reloaded(version: Version, staff: RiskOfficer) -> Response:
    """The validation answers a post; opened by its address it shows the set."""
    return see_other(f"/console/risk/rules/{version}")


@router.post("/risk/rules/{version}/activate")
async def activate(
    request: Request, version: Version, form: ConsoleForm, staff: RiskOfficer, services: ServicesDep
) -> Response:
    try:
        await service.activate_rule_set(services, staff.actor(), version=version)
    except DomainError as error:
        if error.code == "not_found":
            raise  # the refusal page: no such version
        rule_set = await service.get_rule_set(services, version=version)
        return await _set_page(
            request,
            services,
            rule_set,
            error=_set_refusal(request, error),
            problem_rule=str(error.extra.get("rule", "")),
            status_code=error.status,
        )
    return see_other(f"/console/risk/rules/{version}?done=activated")


def _set_refusal(request: Request, error: DomainError) -> str:
    locale = locale_of(request)
    if error.code == "validation_error" and "rule" in error.extra:
        text = _t("Rule %(rule)s does not compile: %(message)s (at position %(position)s).", locale)
        return text % {
            "rule": error.extra["rule"],
            "message": error.detail or "",
            "position": error.extra.get("position", 0),
        }
    known = SET_REFUSALS.get(error.code)
    return refusal(request, error) if known is None else _t(known, locale)


# ------------------------------------------------------------------------------ one rule


def _typed(rule: RuleView | None, *, next_position: int = 0) -> dict[str, str]:
    """The form's fields for ``rule`` (a blank rule at ``next_position`` when None)."""
    if rule is None:
        return {
            "name": "",
            "description": "",
            "condition": "",
            "action": RuleAction.REVIEW.value,
            "mode": RuleMode.SHADOW.value,
            "position": str(next_position),
        }
    return {
        "name": rule.name,
        "description": rule.description,
        "condition": rule.condition,
        "action": rule.action.value,
        "mode": rule.mode.value,
        "position": str(rule.position),
    }


async def _rule_form(
    request: Request,
    services: ServicesDep,
    *,
    version: int,
    typed: dict[str, str],
    events: frozenset[str],
    freeze: bool,
    editing: bool,
    editable: bool = True,
    error: DomainError | None = None,
) -> Response:
    problem: ConditionProblem | None = None
    field, message = "", None
    if error is not None:
        field, message = _rule_refusal(request, error)
        if field == "condition" and "position" in error.extra:
            problem = ConditionProblem.at_position(
                typed["condition"], error.detail or "", int(error.extra["position"])
            )
            message = None
    return await console_page(
        request,
        services,
        RULE,
        status_code=200 if error is None else error.status,
        version=version,
        typed=typed,
        checked_events=events,
        freeze=freeze,
        editing=editing,
        editable=editable,
        error=message,
        field_error=field,
        problem=problem,
        events=service.events(),
        features=service.features(),
        action_labels=ACTION_LABELS,
        mode_labels=MODE_LABELS,
        type_labels=TYPE_LABELS,
    )


def _rule_refusal(request: Request, error: DomainError) -> tuple[str, str]:
    """(the field a refused rule concerns, the sentence that says it)."""
    locale = locale_of(request)
    if error.code == "validation_error" and "position" in error.extra:
        return "condition", ""
    if error.code == "validation_error":
        detail = (error.detail or "").lower()
        for start, field, text in RULE_REFUSALS:
            if detail.startswith(start):
                return field, _t(text, locale)
    known = SET_REFUSALS.get(error.code)
    return "", refusal(request, error) if known is None else _t(known, locale)


@router.get("/risk/rules/{version}/new-rule")
async def new_rule(
    request: Request, version: Version, staff: RiskOfficer, services: ServicesDep
) -> Response:
    rule_set = await service.get_rule_set(services, version=version)
    following = max((rule.position for rule in rule_set.rules), default=-1) + 1
    return await _rule_form(
        request,
        services,
        version=version,
        typed=_typed(None, next_position=following),
        events=frozenset(),
        freeze=False,
        editing=False,
        editable=rule_set.state is RuleSetState.DRAFT,
    )


@router.get("/risk/rules/{version}/rules/{name}")
async def edit_rule(
    request: Request, version: Version, name: RuleName, staff: RiskOfficer, services: ServicesDep
) -> Response:
    rule_set = await service.get_rule_set(services, version=version)
    rule = next((rule for rule in rule_set.rules if rule.name == name), None)
    if rule is None:
        raise RuleNotFoundError("the rule set has no rule of that name")
    return await _rule_form(
        request,
        services,
        version=version,
        typed=_typed(rule),
        events=frozenset(rule.events),
        freeze=rule.freeze_account,
        editing=True,
        editable=rule_set.state is RuleSetState.DRAFT,
    )


def _posted_rule(form: Form) -> tuple[dict[str, str], frozenset[str], bool]:
    """What was typed (kept as typed), the events ticked and the freeze box."""
    typed = {name: form.text(name) for name in RULE_FIELDS}
    typed["condition"] = form["condition"].strip()
    ticked = frozenset(event for event in service.events() if form[f"event_{event}"])
    return typed, ticked, bool(form["freeze_account"])


def _rule_of(typed: dict[str, str], events: frozenset[str], freeze: bool) -> RuleView:
    """The rule as the service takes it; an unknown action or mode becomes the refusal the
    service would give (the form offers only the known ones)."""
    try:
        action, mode = RuleAction(typed["action"]), RuleMode(typed["mode"])
    except ValueError:
        action, mode = RuleAction.REVIEW, RuleMode.SHADOW
    position = typed["position"]
    return RuleView(
        name=typed["name"],
        description=typed["description"],
        events=tuple(event for event in service.events() if event in events),
        condition=typed["condition"],
        action=action,
        mode=mode,
        freeze_account=freeze,
        position=min(int(position), 10_000) if position.isdigit() else 0,
    )


@router.get("/risk/rules/{version}/rules")
async def saved_reloaded(version: Version, staff: RiskOfficer) -> Response:
    """A refused rule's form answers a post; opened by its address it starts a new rule."""
    return see_other(f"/console/risk/rules/{version}/new-rule")


@router.post("/risk/rules/{version}/rules")
async def save_rule(
    request: Request, version: Version, form: ConsoleForm, staff: RiskOfficer, services: ServicesDep
) -> Response:
    typed, events, freeze = _posted_rule(form)
    try:
        await service.save_rule(
            services, staff.actor(), version=version, rule=_rule_of(typed, events, freeze)
        )
    except DomainError as error:
        if error.code == "not_found":
            raise
        return await _rule_form(
            request,
            services,
            version=version,
            typed=typed,
            events=events,
            freeze=freeze,
            editing=form["editing"] == "1",
            error=error,
        )
    return see_other(f"/console/risk/rules/{version}?done=saved")


@router.post("/risk/rules/{version}/rules/{name}/delete")
async def delete_rule(
    *,
    request: Request,
    version: Version,
    name: RuleName,
    form: ConsoleForm,
    staff: RiskOfficer,
    services: ServicesDep,
) -> Response:
    try:
        await service.delete_rule(services, staff.actor(), version=version, name=name)
    except DomainError as error:
        if error.code == "not_found":
            raise
        rule_set = await service.get_rule_set(services, version=version)
        return await _set_page(
            request,
            services,
            rule_set,
            error=_set_refusal(request, error),
            status_code=error.status,
        )
    return see_other(f"/console/risk/rules/{version}?done=deleted")
