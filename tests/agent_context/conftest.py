from tests.fixtures.chat import world

__all__ = ["world"]
