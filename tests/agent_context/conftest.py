from tests.chat.conftest import world

__all__ = ["world"]
