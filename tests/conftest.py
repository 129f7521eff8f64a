"""Shared fixtures. The suite runs on SQLite by default and on PostgreSQL when DATABASE_URL is set.

CRANEFLOW_REQUIRE_SERVICES=1 (set by .ci/run for the PostgreSQL + Redis run) turns every skip
of a postgres/redis test into a failure, so a misconfigured run cannot pass silently.
"""
import os
import re
from dataclasses import dataclass

import pytest
from sqlalchemy import delete

from engine.db import Base, Region

DEMO_PASSWORD = "CraneFlow-demo-2026"
REQUIRE_SERVICES = os.environ.get("CRANEFLOW_REQUIRE_SERVICES") == "1"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Under CRANEFLOW_REQUIRE_SERVICES=1 a skipped postgres/redis test counts as failed."""
    outcome = yield
    report = outcome.get_result()
    needs = {m.name for m in item.iter_markers()} & {"postgres", "redis"}
    if REQUIRE_SERVICES and needs and report.skipped:
        report.outcome = "failed"
        report.longrepr = f"required service test skipped ({', '.join(sorted(needs))}): {report.longrepr}"
    if report.when == "call" and report.passed:
        for name in needs:
            _SERVICE_TESTS_PASSED[name] = _SERVICE_TESTS_PASSED.get(name, 0) + 1


_SERVICE_TESTS_PASSED: dict[str, int] = {}


def pytest_sessionfinish(session, exitstatus):
    """With required services, the run fails unless postgres and redis tests really ran and passed."""
    if not REQUIRE_SERVICES or session.config.option.collectonly or session.testsfailed:
        return
    missing = [name for name in ("postgres", "redis") if not _SERVICE_TESTS_PASSED.get(name)]
    if missing:
        session.config.get_terminal_writer().line(
            f"CRANEFLOW_REQUIRE_SERVICES=1 but no passing {'/'.join(missing)} tests ran", red=True)
        session.exitstatus = 1


@pytest.fixture(autouse=True)
def _no_outbox_dispatcher_left_behind():
    """A test that wires the outbox to Celery (make_celery) must not leave it wired for the next."""
    yield
    from engine.services import outbox

    outbox.set_dispatcher(None)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    url = os.environ.get("DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"


@pytest.fixture(scope="session")
def app(database_url, tmp_path_factory):
    from flask_migrate import downgrade, upgrade

    from engine.services.reference_data import load_regions
    from web import create_app
    from web.config import normalize_database_url
    from web.transactions import write

    uri = normalize_database_url(database_url)
    application = create_app({
        "TESTING": True, "SQLALCHEMY_DATABASE_URI": uri, "PASSWORD_HASH_FAST": True,
        "UPLOAD_DIR": str(tmp_path_factory.mktemp("uploads")), "BACKGROUND": "off",
        "SECRET_KEY": "test-secret-key-not-for-production",
        "AUDIT_VERIFY_DAILY": False,  # tests that sweep count their own messages; test_audit_schedule turns it on
    })
    with application.app_context():
        if uri.startswith("postgresql"):
            downgrade(revision="base")  # a clean schema even if a previous run was interrupted
        upgrade()
        with write() as s:
            load_regions(s)
    yield application
    from web.extensions import db

    with application.app_context():
        db.engine.dispose()


@pytest.fixture
def db_engine(app):
    from web.extensions import db

    with app.app_context():
        engine = db.engine
    return engine  # no app context stays pushed: each request gets its own session


def _wipe(engine):
    from engine.db.uow import unit_of_work

    with unit_of_work(engine) as s:
        for table in reversed(Base.metadata.sorted_tables):
            if table.name != Region.__tablename__:
                s.execute(delete(table))


@dataclass
class World:
    """The demo enterprises and accounts, freshly seeded, with the BPMN catalog deployed."""

    engine: object
    users: dict

    def user(self, username):
        from sqlalchemy.orm import Session

        from engine.db import User

        with Session(self.engine, expire_on_commit=False) as s:
            user = s.query(User).filter_by(username=username).one()
            _ = user.enterprise and user.enterprise.roles
            return user


@pytest.fixture
def world(db_engine):
    from engine.db.uow import unit_of_work
    from engine.services.definitions import deploy_catalog
    from engine.services.demo import seed_demo_data

    _wipe(db_engine)
    with unit_of_work(db_engine) as s:
        deploy_catalog(s)
        seed_demo_data(s, password=DEMO_PASSWORD)
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from engine.db import User

    with Session(db_engine) as s:
        users = {u.username: u.id for u in s.scalars(select(User))}
    return World(engine=db_engine, users=users)


@pytest.fixture
def client(app):
    return app.test_client()


class ApiClient:
    """Test client logged in through POST /api/v1/session, sending the bearer token."""

    def __init__(self, app, username, password=DEMO_PASSWORD):
        self.client = app.test_client()
        r = self.client.post("/api/v1/session", json={"username": username, "password": password})
        assert r.status_code == 201, r.get_data(as_text=True)
        self.token = r.get_json()["token"]
        self.user = r.get_json()["user"]

    def _h(self, headers=None):
        return {"Authorization": f"Bearer {self.token}", **(headers or {})}

    def get(self, url, **kw):
        return self.client.get(url, headers=self._h(kw.pop("headers", None)), **kw)

    def post(self, url, **kw):
        return self.client.post(url, headers=self._h(kw.pop("headers", None)), **kw)


@pytest.fixture
def api(app, world):
    return lambda username: ApiClient(app, username)


@pytest.fixture
def is_postgres(database_url):
    return database_url.startswith("postgres")


@pytest.fixture
def postgres_only(database_url):
    """For tests marked `postgres`: run only when DATABASE_URL points at PostgreSQL."""
    if not database_url.startswith("postgres"):
        pytest.skip("needs PostgreSQL (set DATABASE_URL)")


@pytest.fixture(scope="session")
def redis_url():
    url = os.environ.get("REDIS_URL")
    if not url:
        pytest.skip("needs Redis (set REDIS_URL)")
    return url


def csrf_from(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
