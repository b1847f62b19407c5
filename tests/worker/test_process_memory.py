"""What a serving process carries before anyone searches help: not jieba.

An API worker that only takes charges, or ``ewallet worker``, never cuts Chinese text; jieba
(whose import pulls in ``pkg_resources``) and its dictionary are loaded on the first search,
once per process (docs/performance.md, "Outbox wake-up, webhook latency, worker memory").
A fresh interpreter, since this test process may have searched already.
"""

from __future__ import annotations

import subprocess
import sys

PROBE = """
import sys
import ewallet.app, ewallet.cli.worker
assert "jieba" not in sys.modules, "jieba imported at start-up"
from ewallet.help import text
first = text.tokenizer()
assert "jieba" in sys.modules
assert text.tokenizer() is first, "the dictionary is built once per process"
assert text.pinyin_keys("支付密码")
"""


def test_jieba_waits_for_the_first_search() -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
