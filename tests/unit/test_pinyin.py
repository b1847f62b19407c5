"""ewallet.kit.pinyin: pypinyin without its phrase dictionary, our phrases on top, and the
guarantee that nothing imports pypinyin another way."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest
from pypinyin.constants import PHRASES_DICT

from ewallet.help import text  # noqa: F401 - registers the help phrases, as a server does
from ewallet.help.lexicon import PINYIN_PHRASES
from ewallet.kit import pinyin

SRC = Path(__file__).resolve().parents[2] / "src" / "ewallet"


def _run(script: str) -> subprocess.CompletedProcess[str]:
    """``script`` in a new interpreter whose environment does not set pypinyin's switch
    (this process's does: importing ewallet.kit.pinyin set it)."""
    env = {key: value for key, value in os.environ.items() if key != "PYPINYIN_NO_PHRASES"}
    return subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def _imports_pypinyin(path: Path) -> bool:
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import) and any(
            alias.name.split(".")[0] == "pypinyin" for alias in node.names
        ):
            return True
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "pypinyin":
            return True
    return False


def test_only_the_kit_module_imports_pypinyin() -> None:
    importers = sorted(
        str(path.relative_to(SRC)) for path in SRC.rglob("*.py") if _imports_pypinyin(path)
    )
    assert importers == ["kit/pinyin.py"]


def test_the_phrase_dictionary_holds_only_our_phrases() -> None:
    assert set(PHRASES_DICT) == set(PINYIN_PHRASES)
    assert len(PINYIN_PHRASES) < 100


def test_phrases_read_as_words_and_characters_alone() -> None:
    assert pinyin.syllables("解绑银行卡") == ["jie", "bang", "yin", "hang", "ka"]
    assert pinyin.syllables("重置支付密码") == ["chong", "zhi", "zhi", "fu", "mi", "ma"]
    assert pinyin.character_syllables("银行") == ["yin", "xing"]
    assert pinyin.character_syllables("吕A") == ["lv", "A"]


def test_registering_a_known_reading_again_changes_nothing() -> None:
    before = dict(PHRASES_DICT)
    pinyin.add_phrases({"银行": "yin hang"})
    assert before == PHRASES_DICT


@pytest.mark.parametrize(
    ("readings", "message"),
    [
        ({"银行": "yin xing"}, "already read"),
        ({"行": "hang"}, "two characters"),
        ({"上调": "shang"}, "one Latin syllable per character"),
        ({"上调": "shàng tiáo"}, "one Latin syllable per character"),
        ({"调换": "tiao huan", "银行": "yin xing"}, "already read"),
    ],
)
def test_refused_readings_register_nothing(readings: dict[str, str], message: str) -> None:
    before = dict(PHRASES_DICT)
    with pytest.raises(ValueError, match=message):
        pinyin.add_phrases(readings)
    assert before == PHRASES_DICT
    assert pinyin.syllables("上调") == ["shang", "tiao"]  # from the lexicon, unchanged


def test_pypinyin_imported_first_with_its_dictionary_is_refused() -> None:
    done = _run("import pypinyin\nimport ewallet.kit.pinyin\n")
    assert done.returncode != 0
    assert "import pypinyin only through ewallet.kit.pinyin" in done.stderr


def test_a_process_that_imports_the_kit_module_loads_no_dictionary() -> None:
    script = (
        "import ewallet.kit.pinyin, pypinyin.constants, sys\n"
        "print(len(pypinyin.constants.PHRASES_DICT), 'pypinyin.phrases_dict' in sys.modules)\n"
    )
    done = _run(script)
    assert (done.returncode, done.stdout.split()) == (0, ["0", "False"])
