from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine


async def test_engine_answers(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        value = (await connection.execute(text("SELECT 1"))).scalar_one()
    assert value == 1
