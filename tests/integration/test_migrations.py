"""The Alembic revisions produce exactly the schema the models declare."""
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_migrate import upgrade
from sqlalchemy import create_engine, inspect

from engine.db import Base
from web import create_app
from web.config import ROOT


def _diff(engine):
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True, "compare_server_default": False})
        return compare_metadata(ctx, Base.metadata)


def test_migrated_database_matches_models(db_engine):
    assert _diff(db_engine) == []


def test_fresh_sqlite_database_migrates_to_the_models(tmp_path, monkeypatch):
    from engine.services import settings

    monkeypatch.setattr(settings, "_settings", settings.get_settings())  # restored afterwards
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "x", "BACKGROUND": "off",
                      "UPLOAD_DIR": str(tmp_path / "u")})
    with app.app_context():
        upgrade()
    engine = create_engine(url)
    try:
        assert set(inspect(engine).get_table_names()) == set(Base.metadata.tables) | {"alembic_version"}
        assert _diff(engine) == []
    finally:
        engine.dispose()


def test_revisions_have_readable_names_and_one_head():
    script = ScriptDirectory.from_config(_config())
    heads = script.get_heads()
    assert len(heads) == 1
    for rev in script.walk_revisions():
        assert rev.doc and rev.doc.strip(), f"revision {rev.revision} needs a message"
        assert rev.module.__file__.split("/")[-1].startswith(f"{rev.revision}_")


def _config():
    cfg = Config()
    cfg.set_main_option("script_location", str(ROOT / "migrations"))
    return cfg
