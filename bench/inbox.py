"""(e) inbox listing latency with many open HumanTask rows (PostgreSQL)."""
import random
import time
import uuid
from datetime import timedelta

from .common import latency_summary_ms

INBOX_USERS = ("reg_wuhan", "reg_province", "owner_wuhan")
REGULATOR_SHARE = 0.9          # the rest are enterprise-lane (correct_filing) tasks
EXTRA_ENTERPRISES = 6          # bench owners besides the four demo enterprises
BATCH = 10_000


def _leaf_regions():
    """Regions a case can sit in: counties, and prefecture-level units without counties."""
    from engine.domain.regions import all_regions

    regions = all_regions()
    parents = {r.parent for r in regions if r.parent}
    return [r for r in regions if r.level == "county" or (r.level == "city" and r.code not in parents)]


def _extra_enterprises(session, regions, rng) -> list[int]:
    from engine.db import Enterprise, EnterpriseRole
    from engine.domain.uscc import uscc_check_char

    ids = []
    for i in range(EXTRA_ENTERPRISES):
        region = rng.choice(regions).code
        first17 = f"91{region}BENCH{i:04d}"
        ent = Enterprise(name=f"基准测试起重机械租赁有限公司{i}", uscc=first17 + uscc_check_char(first17),
                         region_code=region, status="approved", integrated=False,
                         role_rows=[EnterpriseRole(role="owner")])
        session.add(ent)
        session.flush()
        ids.append(ent.id)
    return ids


def bulk_insert_open_tasks(engine, rows: int, seed: int = 20260101) -> dict:
    """Insert `rows` running cases with one open human_task each, via Core executemany."""
    from sqlalchemy import func, select, text
    from sqlalchemy.orm import Session

    from engine.bpmn.store import SERIALIZER_VERSION
    from engine.db import Enterprise, HumanTask, ProcessDefinition, ProcessInstance, User, utcnow
    from engine.db.uow import unit_of_work
    from engine.domain.regions import PROVINCE_CODE, prefecture_of

    rng = random.Random(seed)
    regions = _leaf_regions()
    city_of = {r.code: prefecture_of(r.code).code for r in regions}
    started = time.perf_counter()
    with unit_of_work(engine) as s:
        definition_id = s.scalar(select(ProcessDefinition.id).where(ProcessDefinition.process_key == "crane_registration")
                                 .order_by(ProcessDefinition.version.desc()).limit(1))
        owner_ent = s.scalar(select(User.enterprise_id).where(User.username == "owner_wuhan"))
        enterprises = list(s.scalars(select(Enterprise.id))) + _extra_enterprises(s, regions, rng)
    # owner_wuhan's enterprise gets a fixed share of the enterprise-lane tasks so its inbox is not tiny.
    enterprise_weights = [3 if e == owner_ent else 1 for e in enterprises]

    now = utcnow()
    with Session(engine) as s:
        first_id = (s.scalar(select(func.max(ProcessInstance.id))) or 0) + 1
    instances, tasks = [], []
    counts = {"regulator": 0, "enterprise": 0, "wuhan": 0, "owner_wuhan": 0}

    def flush(conn):
        conn.execute(ProcessInstance.__table__.insert(), instances)
        conn.execute(HumanTask.__table__.insert(), tasks)
        instances.clear()
        tasks.clear()

    with engine.begin() as conn:
        for n in range(rows):
            iid = first_id + n
            region = rng.choice(regions).code
            enterprise = rng.choices(enterprises, enterprise_weights)[0]
            created = now - timedelta(minutes=rng.randint(0, 60 * 24 * 30))
            title = f"塔式起重机 QTZ80（出厂编号 BULK-{iid}）"
            instances.append({
                "id": iid, "definition_id": definition_id, "process_key": "crane_registration",
                "status": "running", "business_key": f"B{iid:010d}", "title": title,
                "applicant_enterprise_id": enterprise, "region_code": region,
                "serializer_version": SERIALIZER_VERSION, "version": 1, "started_at": created,
            })  # other columns: their defaults / NULL (no serialized state: the inbox never reads it)
            due = now + timedelta(minutes=rng.randint(-60 * 24 * 10, 60 * 24 * 30))
            common = {"instance_id": iid, "task_guid": str(uuid.UUID(int=rng.getrandbits(128))),
                      "process_key": "crane_registration", "case_title": title, "status": "open",
                      "created_at": created, "due_at": due}
            if rng.random() < REGULATOR_SHARE:
                counts["regulator"] += 1
                counts["wuhan"] += city_of[region] == "420100"
                tasks.append({**common, "task_name": "review_filing", "title": "备案审核", "form_key": "filing_review",
                              "lane": "备案机关", "role": "regulator", "levels": "province,city,county",
                              "enterprise_id": None, "region_code": region, "city_code": city_of[region],
                              "province_code": PROVINCE_CODE})
            else:
                counts["enterprise"] += 1
                counts["owner_wuhan"] += enterprise == owner_ent
                tasks.append({**common, "task_name": "correct_filing", "title": "补正备案申请",
                              "form_key": "crane_filing", "lane": "产权单位", "role": "enterprise:owner",
                              "levels": "", "enterprise_id": enterprise, "region_code": None,
                              "city_code": None, "province_code": None})
            if len(tasks) >= BATCH:
                flush(conn)
        if tasks:
            flush(conn)
        conn.execute(text("SELECT setval(pg_get_serial_sequence('process_instance', 'id'), "
                          "(SELECT max(id) FROM process_instance))"))
    insert_seconds = time.perf_counter() - started
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("ANALYZE process_instance"))
        conn.execute(text("ANALYZE human_task"))
    return {"rows": rows, "insert_seconds": insert_seconds, "enterprises": len(enterprises), **counts}


def time_service_inbox(engine, usernames=INBOX_USERS, reps: int = 200, warmup: int = 10,
                       cpu_groups: dict | None = None) -> dict:
    """engine.services.inbox.list_inbox, first page of 20, each call in a fresh session."""
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from engine.db import User
    from engine.services.inbox import list_inbox

    from .common import CpuSampler

    out = {}
    sampler = CpuSampler(cpu_groups or {}).start()
    for username in usernames:
        samples, total = [], None
        for i in range(warmup + reps):
            with Session(engine) as s:
                user = s.scalar(select(User).where(User.username == username))  # untimed, as the request's auth
                _ = user.enterprise and user.enterprise.roles
                t0 = time.perf_counter()
                page = list_inbox(s, user=user, per_page=20)
                elapsed = time.perf_counter() - t0
            if len(page.tasks) != min(20, page.total):
                raise AssertionError(f"{username}: page has {len(page.tasks)} rows of {page.total}")
            total = f"{page.total:,}+" if page.total_capped else f"{page.total:,}"
            if i >= warmup:
                samples.append(elapsed)
        out[username] = {"total_open": total, **latency_summary_ms(samples)}
    out["_cpu_seconds"] = sampler.stop()
    return out


def time_http_inbox(base_url: str, usernames=INBOX_USERS, reps: int = 200, warmup: int = 10,
                    cpu_groups: dict | None = None) -> dict:
    """GET /api/v1/tasks (first page) with a bearer token; client-side wall time per request."""
    import requests

    from .common import DEMO_PASSWORD, CpuSampler

    out = {}
    sampler = CpuSampler(cpu_groups or {}).start()
    for username in usernames:
        s = requests.Session()
        r = s.post(base_url + "/api/v1/session", json={"username": username, "password": DEMO_PASSWORD}, timeout=30)
        r.raise_for_status()
        s.headers["Authorization"] = f"Bearer {r.json()['token']}"
        samples, total = [], None
        for i in range(warmup + reps):
            t0 = time.perf_counter()
            r = s.get(base_url + "/api/v1/tasks", params={"per_page": 20}, timeout=60)
            elapsed = time.perf_counter() - t0
            if r.status_code != 200:
                raise AssertionError(f"GET /api/v1/tasks as {username}: {r.status_code} {r.text[:200]}")
            body = r.json()
            total = f"{body['total']:,}+" if body.get("total_capped") else f"{body['total']:,}"
            if i >= warmup:
                samples.append(elapsed)
        out[username] = {"total_open": total, **latency_summary_ms(samples)}
    out["_cpu_seconds"] = sampler.stop()
    return out
