from sqlalchemy import Engine, inspect

from service.store.migrate import upgrade
from service.store.session import bump_data_version, data_version, make_sessionmaker
from service.store.tables import Base


def test_migrations_create_every_table(engine: Engine) -> None:
    tables = set(inspect(engine).get_table_names())
    assert set(Base.metadata.tables) <= tables


def test_upgrade_twice_is_a_no_op(engine: Engine) -> None:
    upgrade(engine)
    assert set(Base.metadata.tables) <= set(inspect(engine).get_table_names())


def test_data_version_counts_up(engine: Engine) -> None:
    with make_sessionmaker(engine)() as session:
        assert data_version(session) == 0
        bump_data_version(session)
        bump_data_version(session)
        session.commit()
        assert data_version(session) == 2
