"""The AML report use cases (docs/aml-reports.md).

- :func:`record_suspicious_candidate` -- called by a risk rule inside the unit of work of
  the movement it judged: the candidate commits or rolls back with it; the same rule firing
  again for the same subject and day adds its references to the first row.
- :func:`collect_large_value` -- finds one Beijing day's large-value transactions (cash,
  a person's transfers out and in, a merchant's payouts) and writes one candidate per
  category, subject and day; running it again updates those rows, never adds more.
- :func:`list_candidates` -- the day's candidates, without personal data.
- :func:`export_day` -- collects the day, then builds its report (CSV or XML) with the
  identities the rules require, records the export (``aml_exports``: counts and SHA-256)
  and audits it (``aml.exported``) in one unit.
- :func:`decide_candidate` -- a risk officer marks an open candidate reported or
  dismissed, once (audited).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Final

import structlog

from ewallet.audit.service import Actor, record_event
from ewallet.kit.clock import Clock
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.kit.errors import ValidationFailedError
from ewallet.kit.ids import new_id
from ewallet.kit.money import Money
from ewallet.models.aml import (
    AmlKind,
    CandidateState,
    ExportFormat,
    LargeValueCategory,
    SubjectType,
)
from ewallet.risk.aml import formats, repository
from ewallet.risk.aml.errors import CandidateAlreadyDecidedError, CandidateNotFoundError
from ewallet.risk.aml.views import (
    RESIDENT_ID,
    CandidateView,
    CollectResult,
    DailyReport,
    ExportedFile,
    Identity,
    LargeValueEntry,
    LargeValueGroup,
    SuspiciousEntry,
)
from ewallet.risk.limits import CHINA_TIME
from ewallet.security.crypto import FieldCipher
from ewallet.services import Services
from ewallet.staff.principal import StaffPrincipal

log = structlog.get_logger(__name__)

NOTE_MAX: Final = 500
REASON_MAX: Final = 200
RULE_NAME_MAX: Final = 64
CATEGORY_MAX: Final = 40
CATEGORY_LABELS: Final = {
    LargeValueCategory.CASH: "cash deposits",
    LargeValueCategory.TRANSFER_OUT: "transfers out",
    LargeValueCategory.TRANSFER_IN: "transfers in",
    LargeValueCategory.ENTITY_TRANSFER: "settlement payouts",
}


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """The business day's bounds, Asia/Shanghai midnight to midnight, in UTC."""
    start = datetime.combine(day, time(0), tzinfo=CHINA_TIME)
    return start.astimezone(UTC), (start + timedelta(days=1)).astimezone(UTC)


def thresholds(services: Services) -> dict[LargeValueCategory, Money]:
    settings = services.settings
    person = settings.aml_person_transfer_threshold_minor
    return {
        LargeValueCategory.CASH: Money(settings.aml_cash_threshold_minor, repository.CURRENCY),
        LargeValueCategory.TRANSFER_OUT: Money(person, repository.CURRENCY),
        LargeValueCategory.TRANSFER_IN: Money(person, repository.CURRENCY),
        LargeValueCategory.ENTITY_TRANSFER: Money(
            settings.aml_entity_transfer_threshold_minor, repository.CURRENCY
        ),
    }


def _check_day(clock: Clock, day: date) -> None:
    """A day that has not begun in Beijing has nothing to report: ``validation_error``."""
    if day > clock.now().astimezone(CHINA_TIME).date():
        raise ValidationFailedError("the day has not begun yet (Beijing time)", field="date")


# ------------------------------------------------------------------------------ suspicious


async def record_suspicious_candidate(
    uow: UnitOfWork,
    *,
    clock: Clock,
    subject_type: str,
    subject_id: str,
    day: date,
    amount: Money,
    references: Sequence[str],
    rule_name: str,
    reason: str,
    category: str | None = None,
) -> str:
    """Record that ``rule_name`` found ``subject``'s movements of ``day`` suspicious; the
    candidate's id. Runs in the caller's unit (rolled back with it). The same rule, subject
    and day again: the references are added to the first row (in order, no repeats) and
    its amount becomes the larger of the two. ``category`` defaults to the rule's name."""
    if subject_type not in (SubjectType.USER, SubjectType.MERCHANT):
        raise ValueError(f"unknown subject type {subject_type!r}")
    if not rule_name or len(rule_name) > RULE_NAME_MAX:
        raise ValueError("a rule name has 1 to 64 characters")
    if amount.minor < 0:
        raise ValueError("a candidate's amount is not negative")
    conn = await uow.connection()
    now = clock.now()
    refs = list(dict.fromkeys(references))
    await repository.insert_suspicious(
        conn,
        {
            "id": new_id("aml"),
            "category": (category or rule_name)[:CATEGORY_MAX],
            "subject_type": subject_type,
            "subject_id": subject_id,
            "business_day": day.isoformat(),
            "amount": amount.minor,
            "currency": amount.currency,
            "transaction_count": len(refs),
            "transaction_refs": refs,
            "reason": reason[:REASON_MAX],
            "rule_name": rule_name,
            "state": CandidateState.OPEN.value,
            "created_at": now,
            "updated_at": now,
        },
    )
    row = await repository.suspicious_for_update(
        conn, rule_name=rule_name, subject_type=subject_type, subject_id=subject_id, day=day
    )
    merged = list(dict.fromkeys([*row.transaction_refs, *refs]))
    if merged != list(row.transaction_refs) or amount.minor > row.amount.minor:
        await repository.update_facts(
            conn,
            row.id,
            amount=max(amount.minor, row.amount.minor),
            transaction_count=len(merged),
            transaction_refs=merged,
            now=now,
        )
    uow.after_commit(
        lambda: log.info("aml.suspicious_candidate", candidate_id=row.id, rule_name=rule_name)
    )
    return row.id


# ------------------------------------------------------------------------------ large-value


def _reason(category: LargeValueCategory, total: Money, threshold: Money) -> str:
    return (
        f"{CATEGORY_LABELS[category]} of the day total {total.to_decimal_string()} "
        f"{total.currency}, at or above {threshold.to_decimal_string()}"
    )


async def _find_groups(
    uow: UnitOfWork, services: Services, day: date
) -> list[tuple[LargeValueCategory, LargeValueGroup]]:
    conn = await uow.connection()
    start, end = day_bounds(day)
    found: list[tuple[LargeValueCategory, LargeValueGroup]] = []
    for category, threshold in thresholds(services).items():
        totals = await repository.totals_at_least(
            conn, category, start=start, end=end, threshold=threshold.minor
        )
        if not totals:
            continue
        movements = await repository.movements_of(
            conn, category, subject_ids=[t.subject_id for t in totals], start=start, end=end
        )
        for total in totals:
            found.append(
                (
                    category,
                    LargeValueGroup(
                        category=category.value,
                        subject_type=repository.SUBJECT_TYPES[category].value,
                        subject_id=total.subject_id,
                        total=Money(total.total, repository.CURRENCY),
                        movements=tuple(m for m in movements if m.subject_id == total.subject_id),
                    ),
                )
            )
    return found


async def collect_large_value(services: Services, day: date) -> CollectResult:
    """Find ``day``'s large-value transactions and write their candidates (idempotent: a
    second run updates the same rows -- a later movement of the day raises the total --
    and adds none). Refused: ``validation_error`` for a day that has not begun."""
    _check_day(services.clock, day)
    limits = thresholds(services)

    async def work(uow: UnitOfWork) -> CollectResult:
        conn = await uow.connection()
        now = services.clock.now()
        groups = await _find_groups(uow, services, day)
        existing = {
            (view.category, view.subject_type, view.subject_id): view
            for view in await repository.candidates_of_day(conn, day, kind=AmlKind.LARGE_VALUE)
        }
        created = updated = unchanged = 0
        for category, group in groups:
            refs = [movement.reference for movement in group.movements]
            reason = _reason(category, group.total, limits[category])
            earlier = existing.get((group.category, group.subject_type, group.subject_id))
            if earlier is None:
                inserted = await repository.insert_large_value(
                    conn,
                    {
                        "id": new_id("aml"),
                        "category": group.category,
                        "subject_type": group.subject_type,
                        "subject_id": group.subject_id,
                        "business_day": day.isoformat(),
                        "amount": group.total.minor,
                        "currency": group.total.currency,
                        "transaction_count": len(refs),
                        "transaction_refs": refs,
                        "reason": reason,
                        "state": CandidateState.OPEN.value,
                        "created_at": now,
                        "updated_at": now,
                    },
                )
                created += int(inserted)
                unchanged += int(not inserted)
            elif list(earlier.transaction_refs) != refs or earlier.amount != group.total:
                await repository.update_facts(
                    conn,
                    earlier.id,
                    amount=group.total.minor,
                    transaction_count=len(refs),
                    transaction_refs=refs,
                    reason=reason,
                    now=now,
                )
                updated += 1
            else:
                unchanged += 1
        return CollectResult(
            day=day,
            created=created,
            updated=updated,
            unchanged=unchanged,
            groups=tuple(group for _, group in groups),
        )

    result = await run_unit(services.engine, work)
    log.info(
        "aml.collected",
        day=day.isoformat(),
        created=result.created,
        updated=result.updated,
        unchanged=result.unchanged,
    )
    return result


# ------------------------------------------------------------------------------ reading


async def list_candidates(services: Services, *, day: date) -> list[CandidateView]:
    """The day's candidates (large-value first), as stored: no names or ID numbers."""

    async def work(uow: UnitOfWork) -> list[CandidateView]:
        return await repository.candidates_of_day(await uow.connection(), day)

    return await run_unit(services.engine, work, read_only=True)


# ------------------------------------------------------------------------------ export


@dataclass(frozen=True, slots=True)
class _Identities:
    cipher: FieldCipher
    sealed: dict[str, repository.SealedIdentity]
    merchants: dict[str, str]

    def of(self, subject_type: str, subject_id: str) -> Identity:
        if subject_type == SubjectType.MERCHANT:
            return Identity(name=self.merchants.get(subject_id))
        sealed = self.sealed.get(subject_id)
        if sealed is None:
            return Identity()
        name = number = None
        if sealed.real_name_encrypted is not None:
            name = self.cipher.decrypt(
                sealed.real_name_encrypted, context=f"real_name:{subject_id}"
            )
        if sealed.id_number_encrypted is not None:
            number = self.cipher.decrypt(
                sealed.id_number_encrypted, context=f"id_number:{subject_id}"
            )
        return Identity(name=name, id_type=RESIDENT_ID if number else None, id_number=number)


def _reported_subjects(
    large_value: Sequence[CandidateView], suspicious: Sequence[CandidateView]
) -> list[CandidateView]:
    """The candidates whose report carries an identity: every large-value one, and the
    suspicious ones a risk officer marked reported."""
    return [*large_value, *(c for c in suspicious if c.state == CandidateState.REPORTED)]


async def _report(
    uow: UnitOfWork, services: Services, day: date, collected: CollectResult
) -> DailyReport:
    conn = await uow.connection()
    stored = await repository.candidates_of_day(conn, day)
    large_value = [
        c for c in stored if c.kind == AmlKind.LARGE_VALUE and c.state != CandidateState.DISMISSED
    ]
    suspicious = [
        c for c in stored if c.kind == AmlKind.SUSPICIOUS and c.state != CandidateState.DISMISSED
    ]
    identified = _reported_subjects(large_value, suspicious)
    identities = _Identities(
        services.security.cipher,
        await repository.sealed_identities(
            conn, (c.subject_id for c in identified if c.subject_type == SubjectType.USER)
        ),
        await repository.merchant_names(
            conn, (c.subject_id for c in identified if c.subject_type == SubjectType.MERCHANT)
        ),
    )
    movements = {
        (group.category, group.subject_type, group.subject_id): group.movements
        for group in collected.groups
    }
    return DailyReport(
        day=day,
        generated_at=services.clock.now(),
        large_value=tuple(
            LargeValueEntry(
                candidate=c,
                identity=identities.of(c.subject_type, c.subject_id),
                movements=movements.get((c.category, c.subject_type, c.subject_id), ()),
            )
            for c in large_value
        ),
        suspicious=tuple(
            SuspiciousEntry(
                candidate=c,
                identity=identities.of(c.subject_type, c.subject_id)
                if c.state == CandidateState.REPORTED
                else None,
            )
            for c in suspicious
        ),
    )


def _exporter(actor: Actor) -> str:
    return f"{actor.type}:{actor.id or '-'}"[:40]


async def export_day(
    services: Services, actor: Actor, *, day: date, export_format: ExportFormat
) -> ExportedFile:
    """The day's report as a file: large-value reports (not dismissed) with the customer's
    name, ID type and number and each transaction, and suspicious candidates (open or
    reported; identity only once reported). Collects the day first. Recorded in
    ``aml_exports`` and audited as ``aml.exported`` (day, format, counts, SHA-256 -- never
    the content) in one unit. Refused: ``validation_error`` for a day that has not begun."""
    _check_day(services.clock, day)
    collected = await collect_large_value(services, day)
    clock = services.clock

    async def work(uow: UnitOfWork) -> ExportedFile:
        report = await _report(uow, services, day, collected)
        if export_format == ExportFormat.XML:
            content, media_type = formats.report_xml(report), formats.XML_MEDIA_TYPE
        else:
            content, media_type = formats.report_csv(report), formats.CSV_MEDIA_TYPE
        digest = hashlib.sha256(content).hexdigest()
        export_id = new_id("amx")
        counts = {
            "large_value_count": len(report.large_value),
            "suspicious_count": len(report.suspicious),
            "transaction_count": report.transaction_count,
        }
        conn = await uow.connection()
        await repository.insert_export(
            conn,
            {
                "id": export_id,
                "business_day": day.isoformat(),
                "format": export_format.value,
                **counts,
                "sha256": digest,
                "exported_by": _exporter(actor),
                "exported_at": clock.now(),
            },
        )
        await record_event(
            conn,
            clock=clock,
            actor=actor,
            action="aml.exported",
            subject_type="aml_export",
            subject_id=export_id,
            details={
                "date": day.isoformat(),
                "format": export_format.value,
                **counts,
                "sha256": digest,
            },
        )
        return ExportedFile(
            export_id=export_id,
            day=day,
            format=export_format.value,
            filename=f"aml-report-{day.isoformat()}.{export_format.value}",
            media_type=media_type,
            content=content,
            sha256=digest,
            **counts,
        )

    exported = await run_unit(services.engine, work)
    log.info(
        "aml.exported",
        export_id=exported.export_id,
        day=day.isoformat(),
        format=exported.format,
        sha256=exported.sha256,
    )
    return exported


# ------------------------------------------------------------------------------ decisions


async def decide_candidate(
    services: Services,
    staff: StaffPrincipal,
    *,
    candidate_id: str,
    decision: CandidateState,
    note: str | None,
) -> CandidateView:
    """Mark an open candidate ``reported`` or ``dismissed`` with an optional note (audited:
    ``aml.candidate_reported`` / ``aml.candidate_dismissed``). Refused: ``not_found``;
    ``aml_candidate_already_decided`` (409) when it was decided before -- two officers
    deciding at once: one wins."""
    if decision == CandidateState.OPEN:
        raise ValueError("a decision is reported or dismissed")
    text = " ".join(note.split()) if note else None
    if text is not None and len(text) > NOTE_MAX:
        raise ValidationFailedError("a note has at most 500 characters", field="note")
    clock = services.clock

    async def work(uow: UnitOfWork) -> CandidateView:
        conn = await uow.connection()
        now = clock.now()
        moved = await repository.decide(
            conn, candidate_id, state=decision, staff_id=staff.staff_id, note=text, now=now
        )
        view = await repository.candidate_by_id(conn, candidate_id)
        if view is None:
            raise CandidateNotFoundError("no such report candidate")
        if not moved:
            raise CandidateAlreadyDecidedError(f"the candidate is already {view.state}")
        await record_event(
            conn,
            clock=clock,
            actor=staff.actor(),
            action=f"aml.candidate_{decision.value}",
            subject_type="aml_candidate",
            subject_id=candidate_id,
            details={
                "kind": view.kind,
                "category": view.category,
                "business_day": view.business_day.isoformat(),
                "note": text,
            },
        )
        return view

    return await run_unit(services.engine, work)
