"""`bench/run.py --profile`: where the time goes, with cProfile and SQL statement timing.

1. the service-layer flow (c) on PostgreSQL;
2. the same flow through the Flask app in-process (test client: the server side of (d) minus gunicorn);
3. the inbox API call (e) for a regulator and for an enterprise user.

For each: wall time per flow, process CPU, SQL statements and their time (measured around the
cursor, so it includes the round trip and PostgreSQL's own work), COMMIT time, an exclusive split
of the profile by package, the inclusive time of the product functions that matter, and the top
functions by own time. cProfile slows Python down (~1.5-2x), so read shares, not absolute numbers.
"""
import cProfile
import io
import pstats
import time
import uuid
from collections import defaultdict
from pathlib import Path

from sqlalchemy import event

from .common import APPROVE, DEMO_PASSWORD, DOC_TYPES, PDF, PROCESS_KEY, filing_data, recreate_pg_database

PACKAGES = (  # first match wins: path fragment -> label
    ("/psycopg/", "psycopg (incl. waiting for PostgreSQL)"), ("/sqlalchemy/", "SQLAlchemy"),
    ("/SpiffWorkflow/", "SpiffWorkflow"), ("/marshmallow/", "marshmallow"), ("/simpleeval", "simpleeval"),
    ("/flask", "Flask/Werkzeug/Babel"), ("/werkzeug/", "Flask/Werkzeug/Babel"), ("/babel/", "Flask/Werkzeug/Babel"),
    ("/jinja2/", "Flask/Werkzeug/Babel"), ("/itsdangerous/", "itsdangerous (tokens)"),
    ("/json/", "json (stdlib)"), ("/work/main/engine/", "CraneFlow engine/"), ("/work/main/web/", "CraneFlow web/"),
    ("/work/main/forms/", "CraneFlow forms/"), ("/work/main/bench/", "bench driver"),
    ("/uuid.py", "uuid"), ("/copy.py", "copy (deepcopy)"), ("/logging/", "logging"),
)

KEY_FUNCTIONS = (  # (file fragment, function name, label)
    ("engine/services/cases.py", "start_case", "cases.start_case (1st transaction)"),
    ("engine/services/cases.py", "complete_task", "cases.complete_task (2nd transaction)"),
    ("engine/services/cases.py", "validate_form", "cases.validate_form (marshmallow)"),
    ("engine/bpmn/runtime.py", "new_workflow", "runtime.new_workflow (Spiff)"),
    ("engine/bpmn/runtime.py", "complete_human_task", "runtime.complete_human_task (Spiff + operators)"),
    ("engine/services/crane_filing.py", "submit", "  operator crane_filing.submit (SQL)"),
    ("engine/services/crane_filing.py", "approve", "  operator crane_filing.approve (SQL)"),
    ("engine/bpmn/store.py", "dump_state", "store.dump_state (serialize, 3 per flow)"),
    ("engine/bpmn/store.py", "restore", "store.restore (deserialize, 1 per flow)"),
    ("engine/bpmn/store.py", "lock_instance", "store.lock_instance (SELECT … FOR UPDATE)"),
    ("engine/bpmn/assignment.py", "project_tasks", "assignment.project_tasks (3 per flow)"),
    ("engine/bpmn/runtime.py", "next_due", "runtime.next_due"),
    ("engine/services/audit.py", "record", "audit.record"),
    ("sqlalchemy/orm/session.py", "commit", "Session.commit (flush + COMMIT)"),
    ("sqlalchemy/orm/session.py", "flush", "Session.flush (all, incl. autoflush)"),
    ("sqlalchemy/orm/session.py", "get", "Session.get"),
    ("psycopg/connection.py", "wait", "psycopg wait (network + PostgreSQL)"),
    ("sqlalchemy/pool/base.py", "_checkout", "pool checkout (pool_pre_ping)"),
    ("engine/services/accounts.py", "user_for_token", "accounts.user_for_token"),
    ("web/security.py", "_load_user", "security._load_user"),
    ("engine/services/inbox.py", "list_inbox", "inbox.list_inbox"),
    ("web/api/payloads.py", "case_json", "payloads.case_json"),
    ("web/api/payloads.py", "task_json", "payloads.task_json"),
    ("engine/services/cases.py", "case_tasks", "cases.case_tasks"),
    ("flask/app.py", "full_dispatch_request", "Flask full_dispatch_request"),
    ("flask/app.py", "wsgi_app", "Flask wsgi_app (whole request)"),
)


class SqlMeter:
    """Counts and times every statement (cursor execute) and COMMIT on an engine."""

    def __init__(self, engine):
        self.engine = engine
        self.by_statement = defaultdict(lambda: [0, 0.0])
        self.commit = [0, 0.0]
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)
        self._do_commit = engine.dialect.do_commit
        engine.dialect.do_commit = self._timed_commit  # instance attribute: this engine only

    def _before(self, conn, cursor, statement, parameters, context, executemany):
        conn.info["bench_t0"] = time.perf_counter()

    def _after(self, conn, cursor, statement, parameters, context, executemany):
        elapsed = time.perf_counter() - conn.info.pop("bench_t0", time.perf_counter())
        words = statement.split()
        key = " ".join(words[:3])
        if words[0] == "SELECT":
            frm = words.index("FROM") if "FROM" in words else None
            key = "SELECT … FROM " + (words[frm + 1] if frm is not None else words[1])
            if "FOR" in words and "UPDATE" in words:
                key += " FOR UPDATE"
        entry = self.by_statement[key]
        entry[0] += 1
        entry[1] += elapsed

    def _timed_commit(self, dbapi_connection):
        t0 = time.perf_counter()
        try:
            return self._do_commit(dbapi_connection)
        finally:
            self.commit[0] += 1
            self.commit[1] += time.perf_counter() - t0

    def reset(self):
        self.by_statement.clear()
        self.commit = [0, 0.0]

    def close(self):
        event.remove(self.engine, "before_cursor_execute", self._before)
        event.remove(self.engine, "after_cursor_execute", self._after)
        del self.engine.dialect.do_commit

    def report(self, per: int, unit: str) -> list[str]:
        total_n = sum(n for n, _ in self.by_statement.values())
        total_t = sum(t for _, t in self.by_statement.values())
        lines = [f"  SQL: {total_n / per:.1f} statements/{unit}, {total_t / per * 1000:.2f} ms/{unit} inside execute; "
                 f"COMMIT {self.commit[0] / per:.1f}/{unit}, {self.commit[1] / per * 1000:.2f} ms/{unit}"]
        for key, (n, t) in sorted(self.by_statement.items(), key=lambda kv: -kv[1][1])[:14]:
            lines.append(f"    {n / per:5.1f}x {t / per * 1000:7.2f} ms  {key}")
        return lines


def _split(prof: cProfile.Profile):
    raw = pstats.Stats(prof, stream=io.StringIO()).stats  # (file, line, func) -> (cc, nc, tt, ct, callers)
    by_pkg = defaultdict(float)
    for (file, _, _), v in raw.items():
        by_pkg[next((lbl for frag, lbl in PACKAGES if frag in file), "other (stdlib, builtins, C calls)")] += v[2]
    return raw, by_pkg, sum(v[2] for v in raw.values())


def _key_functions(raw):
    out = {}
    for frag, func, label in KEY_FUNCTIONS:
        hits = [(v[1], v[3]) for (file, _, name), v in raw.items() if name == func and file.endswith(frag)]
        if hits:
            out[label] = (sum(h[0] for h in hits), sum(h[1] for h in hits))
    return out


def _profile_report(wall_prof, cpu_prof, per: int, unit: str, top: int = 20) -> list[str]:
    """Two profiles of the same work: wall clock (where latency goes) and CPU time (where the
    cores go; waiting for PostgreSQL costs nothing here)."""
    raw_w, pkg_w, tot_w = _split(wall_prof)
    raw_c, pkg_c, tot_c = _split(cpu_prof)
    lines = [f"  own time by package (exclusive): wall profile {tot_w / per * 1000:.1f} ms/{unit}, "
             f"CPU profile {tot_c / per * 1000:.1f} ms/{unit}",
             f"    {'wall':>14}  {'CPU':>14}"]
    for label in sorted(set(pkg_w) | set(pkg_c), key=lambda k: -pkg_c.get(k, 0)):
        w, c = pkg_w.get(label, 0.0), pkg_c.get(label, 0.0)
        if max(w / tot_w, c / tot_c) >= 0.01:
            lines.append(f"    {w / tot_w * 100:5.1f}% {w / per * 1000:6.2f}  {c / tot_c * 100:5.1f}% {c / per * 1000:6.2f}  {label}")
    kw, kc = _key_functions(raw_w), _key_functions(raw_c)
    lines.append(f"  inclusive time of key functions per {unit} (nested, do not add up):")
    lines.append(f"    {'wall ms':>8} {'CPU ms':>7} {'calls':>6}")
    for _, _, label in KEY_FUNCTIONS:
        if label in kw and kw[label][1] / per >= 0.0001:
            calls, w = kw[label]
            c = kc.get(label, (0, 0.0))[1]
            lines.append(f"    {w / per * 1000:8.2f} {c / per * 1000:7.2f} {calls / per:6.1f}  {label}")
    lines.append(f"  top {top} functions by own CPU time:")
    for (file, line, func), v in sorted(raw_c.items(), key=lambda kv: -kv[1][2])[:top]:
        short = file.split("site-packages/")[-1].replace("/work/main/", "")
        lines.append(f"    {v[2] / tot_c * 100:5.1f}% {v[2] / per * 1000:6.2f} ms {v[1] / per:7.1f} calls  {func} ({short}:{line})")
    return lines


def _measure(fn, reps: int, engine, unit: str, title: str):
    """fn() reps times unprofiled (wall, CPU), then under a wall-clock cProfile with the SQL meter,
    then under a CPU-time cProfile."""
    t0, c0 = time.perf_counter(), time.process_time()
    for i in range(reps):
        fn(i)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    meter = SqlMeter(engine)
    wall_prof = cProfile.Profile()
    wall_prof.enable()
    for i in range(reps):
        fn(reps + i)
    wall_prof.disable()
    meter_lines = meter.report(reps, unit)
    meter.close()
    cpu_prof = cProfile.Profile(time.process_time)
    cpu_prof.enable()
    for i in range(reps):
        fn(2 * reps + i)
    cpu_prof.disable()
    print(f"\n== {title}")
    print(f"  unprofiled: {wall / reps * 1000:.1f} ms/{unit} wall, {cpu / reps * 1000:.1f} ms/{unit} CPU in this "
          f"process ({reps / wall:.1f} {unit}s/s)")
    for line in meter_lines + _profile_report(wall_prof, cpu_prof, reps, unit):
        print(line)


def profile_service(world, reps: int) -> None:
    from .flows import service_flow

    run = uuid.uuid4().hex[:6]
    for i in range(5):
        service_flow(world, f"PW-{run}-{i}")
    _measure(lambda i: service_flow(world, f"PROF-{run}-{i}"), reps, world.engine, "flow",
             "(c) service layer on PostgreSQL: start_case(data) + complete_task(approve)")


class _ApiUser:
    def __init__(self, client, username):
        self.client = client
        r = client.post("/api/v1/session", json={"username": username, "password": DEMO_PASSWORD})
        assert r.status_code == 201, r.get_data(as_text=True)
        self.headers = {"Authorization": f"Bearer {r.get_json()['token']}"}

    def post(self, url, **kw):
        return self.client.post(url, headers=self.headers, **kw)

    def get(self, url, **kw):
        return self.client.get(url, headers=self.headers, **kw)


def profile_api(world, reps: int) -> None:
    client = world.app.test_client()
    owner, reg = _ApiUser(client, "owner_wuhan"), _ApiUser(client, "reg_wuhan")
    docs = {}
    for d in DOC_TYPES:
        r = owner.post("/api/v1/attachments", data={"file": (io.BytesIO(PDF), f"{d}.pdf")},
                       content_type="multipart/form-data")
        docs[d] = [r.get_json()["id"]]
    run = uuid.uuid4().hex[:6]

    def flow(i):
        r = owner.post("/api/v1/cases", json={"process_key": PROCESS_KEY, "data": filing_data(f"API-{run}-{i}", docs)})
        assert r.status_code == 201, r.get_data(as_text=True)
        task_id = r.get_json()["open_tasks"][0]["id"]
        r = reg.post(f"/api/v1/tasks/{task_id}/complete", json={"data": APPROVE})
        assert r.status_code == 200 and r.get_json()["status"] == "completed", r.get_data(as_text=True)

    for i in range(5):
        flow(-i - 1)
    _measure(flow, reps, world.engine, "flow",
             "(d) server side of the API flow, in-process (Flask test client, no gunicorn/TCP): "
             "POST /cases + POST /tasks/{id}/complete")


def profile_inbox(world, reps: int, rows: int) -> None:
    from . import inbox

    bulk = inbox.bulk_insert_open_tasks(world.engine, rows)
    print(f"\n(inserted {bulk['rows']:,} open tasks for the inbox profile)")
    client = world.app.test_client()
    for username in ("reg_wuhan", "owner_wuhan"):
        user = _ApiUser(client, username)

        def call(i):
            r = user.get("/api/v1/tasks?per_page=20")
            assert r.status_code == 200

        for _ in range(10):
            call(0)
        _measure(call, reps, world.engine, "request", f"(e) GET /api/v1/tasks as {username}, in-process")
    _explain(world.engine)


def _explain(engine) -> None:
    """EXPLAIN ANALYZE of the two inbox statements for each kind of user."""
    from sqlalchemy import func, select
    from sqlalchemy.orm import Session

    from engine.db import HumanTask, User
    from engine.services.access import inbox_filter

    with Session(engine) as s:
        for username in ("reg_wuhan", "reg_province", "owner_wuhan"):
            user = s.scalar(select(User).where(User.username == username))
            cond = (HumanTask.status == "open") & inbox_filter(user)
            page = (select(HumanTask).where(cond).order_by(HumanTask.due_at.asc().nulls_last(), HumanTask.id)
                    .limit(20))
            count = select(func.count()).select_from(HumanTask).where(cond)
            for label, stmt in (("count", count), ("first page", page)):
                compiled = str(stmt.compile(engine, compile_kwargs={"literal_binds": True})).replace("%%", "%")
                cursor = s.connection().connection.dbapi_connection.cursor()
                cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS OFF, TIMING ON) {compiled}")  # no params: % is literal
                plan = [r[0] for r in cursor.fetchall()]
                cursor.close()
                print(f"\n  EXPLAIN ANALYZE {label} for {username}:")
                for line in plan:
                    print("    " + line)


def profile_open_read_transaction(world, pg_url: str, reps: int) -> None:
    """PostgreSQL CPU per service flow: alone, with a read transaction left open around it (as the
    API's auth session db.session does during write()), and with that read transaction ended first."""
    import os

    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from engine.db import User

    from .common import CpuSampler, pg_backend_pids
    from .flows import service_flow

    def plain(tag):
        service_flow(world, tag)

    def open_reader(tag):
        with Session(world.engine) as r:
            r.scalar(select(User).where(User.username == "owner_wuhan"))
            service_flow(world, tag)

    def ended_reader(tag):
        with Session(world.engine) as r:
            r.scalar(select(User).where(User.username == "owner_wuhan"))
            r.commit()  # snapshot released; connection stays checked out
            service_flow(world, tag)

    print("\n== PostgreSQL CPU per flow vs an open read transaction (the API's auth session stays open during the write)")
    groups = {"bench": lambda: [os.getpid()], "postgres": lambda: pg_backend_pids(pg_url)}
    for label, fn in (("service flow alone", plain), ("+ read transaction open during the write", open_reader),
                      ("+ read transaction ended before the write", ended_reader)):
        for _ in range(3):
            fn(f"SNAPW-{uuid.uuid4().hex}")
        sampler = CpuSampler(groups).start()
        for _ in range(reps):
            fn(f"SNAP-{uuid.uuid4().hex}")
        cpu = sampler.stop()
        print(f"  {label:45s} wall {cpu['wall_seconds'] / reps * 1000:6.1f} ms, bench CPU {cpu['bench'] / reps * 1000:5.1f} ms, "
              f"postgres CPU {cpu['postgres'] / reps * 1000:5.1f} ms per flow "
              f"(others used {cpu.get('others', 0) / max(cpu.get('machine_capacity', 1), 1e-9) * 100:.0f}% of the machine)")


def run_all(pg_url: str, work: Path, reps: int = 40, rows: int = 100_000) -> None:
    from web.config import normalize_database_url

    from .flows import ServiceWorld

    print("\n" + "=" * 100 + "\nPROFILE (cProfile; figures per flow / per request)")
    recreate_pg_database(pg_url)
    world = ServiceWorld(normalize_database_url(pg_url), work / "uploads-profile")
    try:
        profile_service(world, reps)
        profile_api(world, reps)
        profile_open_read_transaction(world, pg_url, reps * 2)
        profile_inbox(world, reps * 5, rows)
    finally:
        world.dispose()
