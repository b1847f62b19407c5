"""Reading the CSV file: the header, each value, line numbers of refusals."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from ewallet.kit.errors import ValidationFailedError
from ewallet.risk.watchlist.errors import WatchlistFileError
from ewallet.risk.watchlist.loader import canonical_id_number, check_list_name, read_csv

SAMPLE = Path(__file__).with_name("sample.csv")
HEADER = "name,date_of_birth,id_number,country,reason\n"


def test_the_sample_file_reads() -> None:
    rows = read_csv(SAMPLE.read_bytes())
    assert [row.name for row in rows] == [
        "测试甲",
        "張測試",
        "Example Testperson",
        "阿卜杜拉·测试提",
    ]
    assert rows[0].date_of_birth == date(1970, 1, 1)
    assert rows[2].id_number == "X0000001"
    assert rows[2].country == "ZZ"
    assert [row.line for row in rows] == [2, 3, 4, 5]


def test_bom_column_order_blank_lines_and_missing_optional_columns() -> None:
    content = "\ufeffreason,NAME\nlisted,测试乙\n\n , \nother,Test Person\n".encode()
    rows = read_csv(content)
    assert [(row.name, row.reason, row.line) for row in rows] == [
        ("测试乙", "listed", 2),
        ("Test Person", "other", 5),
    ]
    assert rows[0].date_of_birth is None
    assert rows[0].id_number is None


def test_a_header_alone_is_an_empty_list() -> None:
    assert read_csv(HEADER.encode()) == []


@pytest.mark.parametrize(
    ("content", "line", "reason"),
    [
        (b"", 1, "header row is required"),
        (b"nom,date_of_birth\n", 1, "unknown column 'nom'"),
        (b"date_of_birth,country\n", 1, "no 'name' column"),
        (b"name,name\n", 1, "named twice"),
        (HEADER + "测试甲,,,,\n ,1970-01-01,,,\n", 3, "name is empty"),
        (HEADER + "测试甲,1970-13-01,,,\n", 2, "not a real date"),
        (HEADER + "测试甲,01/02/1970,,,\n", 2, "not YYYY-MM-DD"),
        (HEADER + "测试甲,1700-01-01,,,\n", 2, "before 1850"),
        (HEADER + "测试甲,,,China,\n", 2, "two-letter ISO code"),
        (HEADER + "测试甲,,12,,\n", 2, "id_number"),
        (HEADER + "测试甲,,,\n", 2, "4 fields where the header has 5"),
        (HEADER + "·—·,,,,\n", 2, "no letter or digit"),
        (HEADER + "测" * 201 + ",,,,\n", 2, "longer than 200"),
        (HEADER + '测试甲,,,,"' + "x" * 501 + '"\n', 2, "reason is longer"),
        (HEADER.encode() + "测试甲,,,,\n".encode() + b"\xff\xfe,,,,\n", 3, "not UTF-8"),
        (HEADER + '"测试甲,,,,\n', 2, "not valid CSV"),
    ],
)
def test_a_bad_file_is_refused_with_its_line(content: str | bytes, line: int, reason: str) -> None:
    raw = content.encode() if isinstance(content, str) else content
    with pytest.raises(WatchlistFileError) as refused:
        read_csv(raw)
    assert refused.value.line == line
    assert reason in refused.value.reason
    assert f"line {line}:" in str(refused.value.detail)


def test_id_numbers_are_canonical_before_digesting() -> None:
    assert canonical_id_number(" 11010519491231002x ") == "11010519491231002X"
    assert canonical_id_number("ｘ０００１") == "X0001"


@pytest.mark.parametrize("name", ["sanctions", "pep", "internal", "eu-2026", "a"])
def test_list_names(name: str) -> None:
    assert check_list_name(name) == name


@pytest.mark.parametrize("name", ["", "Sanctions", "1list", "x" * 33, "a list", "名单"])
def test_bad_list_names(name: str) -> None:
    with pytest.raises(ValidationFailedError):
        check_list_name(name)
