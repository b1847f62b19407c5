"""docs/risk-rules.md ("The rule language") shows conditions and refusals as they really are."""

from __future__ import annotations

import re
from pathlib import Path

from ewallet.risk.rules.language import RuleSyntaxError, ValueType, compile_condition

DOC = Path(__file__).resolve().parents[3] / "docs" / "risk-rules.md"

SCHEMA = {
    "amount": ValueType.NUMBER,
    "channel": ValueType.TEXT,
    "is_new_payee": ValueType.BOOL,
    "hours_since_password_reset": ValueType.NUMBER,
    "usual_amount_p90_30d": ValueType.NUMBER,
    "days_since_last_spend": ValueType.NUMBER,
    "account_age_days": ValueType.NUMBER,
}


def _code_blocks() -> list[list[str]]:
    text = DOC.read_text(encoding="utf-8")
    section = text.split("## The rule language", 1)[1].split("\n## ", 1)[0]
    return [block.strip("\n").splitlines() for block in re.findall(r"```\n(.*?)```", section, re.S)]


def test_the_example_conditions_compile() -> None:
    examples = _code_blocks()[0]
    assert examples
    for source in examples:
        compile_condition(source, SCHEMA)


def test_the_example_refusals_read_as_documented() -> None:
    refusals = _code_blocks()[1]
    assert refusals
    for line in refusals:
        source, shown = re.split(r"\s{2,}", line, maxsplit=1)
        try:
            compile_condition(source, SCHEMA)
        except RuleSyntaxError as error:
            message = str(error)
        else:
            message = "compiled"
        assert message == shown, source
