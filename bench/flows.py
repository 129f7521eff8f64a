"""The crane-filing flow (start → submit_filing → review_filing(approve) → end) at three layers.

(a) bare SpiffWorkflow in memory, (b) the same with a full JSON save + load at each wait state,
(c) CraneFlow's service layer (engine.services.cases) against a real database.
"""
import io
import itertools
import time
import uuid
from datetime import datetime, timedelta, timezone

from .common import APPROVE, BPMN_FILE, DEMO_PASSWORD, DOC_TYPES, PDF, PROCESS_KEY, filing_data

# --- (a) and (b): SpiffWorkflow only -------------------------------------------------------


def _filing_fields() -> tuple:
    """The fields the real crane_filing.submit moves out of the task data into the Crane row
    (the same source it uses), so (b) serializes the same data the service stores."""
    from forms.crane import CraneFilingSchema

    return tuple(CraneFilingSchema().fields)


def _operator_names(parsed) -> set[str]:
    """Every service-task operator the parsed model calls (so a new operator needs no bench change)."""
    specs = list(parsed.spec.task_specs.values())
    for sub in (parsed.subprocess_specs or {}).values():
        specs.extend(sub.task_specs.values())
    return {s.operation_name for s in specs if getattr(s, "operation_name", None)}


def fake_operators(parsed) -> dict:
    """Trivial in-memory stand-ins for the model's operators.

    Only crane_filing.submit does something: like the real operator (engine/services/crane_filing.py)
    it moves the filing fields out of the task data and sets crane_id and review_deadline (the
    timeDate of the review SLA boundary timer). Keep this in step with that operator's data contract."""
    counter = itertools.count(1)
    filing_fields = _filing_fields()

    def submit(call):
        for name in filing_fields:
            call.data.pop(name, None)
        call.data["crane_id"] = next(counter)
        call.data["review_deadline"] = (datetime.now(timezone.utc) + timedelta(days=9)).isoformat()
        return {"crane_id": call.data["crane_id"]}

    def nothing(call):
        return {}

    ops = {name: nothing for name in _operator_names(parsed)}
    ops["crane_filing.submit"] = submit
    return ops


def parse_spec():
    from engine.bpmn.parser import parse_definition

    return parse_definition(BPMN_FILE.read_bytes(), BPMN_FILE.name, PROCESS_KEY)


def _documents():
    return {d: [i + 1] for i, d in enumerate(DOC_TYPES)}


def run_memory(n: int, parsed=None) -> dict:
    """(a) n instances, each driven to the end in memory."""
    from engine.bpmn.runtime import SafeScriptEngine, complete_human_task, new_workflow, ready_human_tasks

    parsed = parsed or parse_spec()
    operators = fake_operators(parsed)
    docs = _documents()

    def one(i):
        engine = SafeScriptEngine(operators=operators)
        wf = new_workflow(parsed, engine, {})
        (submit,) = ready_human_tasks(wf)
        complete_human_task(wf, str(submit.id), filing_data(f"MEM-{i}", docs))
        (review,) = ready_human_tasks(wf)
        assert review.task_spec.bpmn_id == "review_filing"
        complete_human_task(wf, str(review.id), dict(APPROVE))
        assert wf.is_completed(), "workflow did not complete"

    for i in range(min(20, n)):  # warm-up (expression cache, imports)
        one(-i - 1)
    start, cpu = time.perf_counter(), time.process_time()
    for i in range(n):
        one(i)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    return {"n": n, "seconds": seconds, "rate": n / seconds, "process_cpu_seconds": cpu,
            "operators": sorted(operators)}


def spiff_serializer():
    from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
    from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG

    return BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))


def run_memory_persisted(n: int, parsed=None) -> dict:
    """(b) as (a), plus serialize_json + deserialize_json of the whole workflow (spec included)
    at each of the two wait states: 2 saves + 2 loads per instance."""
    from engine.bpmn.runtime import SafeScriptEngine, complete_human_task, new_workflow, ready_human_tasks

    parsed = parsed or parse_spec()
    ser = spiff_serializer()
    operators = fake_operators(parsed)
    docs = _documents()
    sizes = []

    def save_load(wf):
        text = ser.serialize_json(wf)
        sizes.append(len(text))
        wf = ser.deserialize_json(text)
        wf.script_engine = SafeScriptEngine(operators=operators)  # never keep the default engine
        return wf

    def one(i):
        wf = new_workflow(parsed, SafeScriptEngine(operators=operators), {})
        wf = save_load(wf)
        (submit,) = ready_human_tasks(wf)
        complete_human_task(wf, str(submit.id), filing_data(f"SER-{i}", docs))
        wf = save_load(wf)
        (review,) = ready_human_tasks(wf)
        complete_human_task(wf, str(review.id), dict(APPROVE))
        assert wf.is_completed(), "workflow did not complete"

    for i in range(min(20, n)):
        one(-i - 1)
    sizes.clear()
    start, cpu = time.perf_counter(), time.process_time()
    for i in range(n):
        one(i)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    return {"n": n, "seconds": seconds, "rate": n / seconds, "process_cpu_seconds": cpu,
            "json_bytes_mean": sum(sizes) / len(sizes) if sizes else 0}


# --- (c): the service layer with a database ------------------------------------------------

class ServiceWorld:
    """A migrated database with regions, the catalog and the demo accounts, plus owner uploads."""

    def __init__(self, database_uri: str, upload_dir):
        from flask_migrate import upgrade
        from sqlalchemy import select
        from sqlalchemy.orm import Session

        from engine.db import User
        from engine.db.uow import unit_of_work
        from engine.services.attachments import store_upload
        from engine.services.definitions import deploy_catalog
        from engine.services.demo import seed_demo_data
        from engine.services.reference_data import load_regions
        from web import create_app
        from web.extensions import db

        from .common import quiet_stderr

        # create_app also calls engine.services.settings.configure(Settings(upload_dir=...)).
        self.app = create_app({
            "SQLALCHEMY_DATABASE_URI": database_uri, "UPLOAD_DIR": str(upload_dir),
            "PASSWORD_HASH_FAST": True, "BACKGROUND": "off", "SECRET_KEY": "bench",
        })
        with self.app.app_context():
            with quiet_stderr():
                upgrade()
            self.engine = db.engine
        with unit_of_work(self.engine) as s:
            load_regions(s)
            deploy_catalog(s)
            seed_demo_data(s, password=DEMO_PASSWORD)
        with Session(self.engine) as s:
            self.users = {u.username: u.id for u in s.scalars(select(User))}
        # The four required documents, uploaded once by the owner and reused by every filing.
        with unit_of_work(self.engine) as s:
            owner = s.get(User, self.users["owner_wuhan"])
            self.documents = {d: [store_upload(s, actor=owner, filename=f"{d}.pdf", stream=io.BytesIO(PDF)).id]
                              for d in DOC_TYPES}

    def dispose(self):
        self.engine.dispose()


def service_flow(world: ServiceWorld, serial: str) -> None:
    """One filing: start_case with the owner's data (1 transaction), approve (1 transaction).

    Each transaction loads its actor by id first, as a request does for its bearer token."""
    from engine.db import User
    from engine.db.uow import unit_of_work
    from engine.services.cases import case_tasks, complete_task, start_case

    with unit_of_work(world.engine) as s:
        owner = s.get(User, world.users["owner_wuhan"])
        instance = start_case(s, actor=owner, process_key=PROCESS_KEY,
                              data=filing_data(serial, world.documents))
        (review,) = case_tasks(s, instance, "open")
        review_id = review.id
    with unit_of_work(world.engine) as s:
        reg = s.get(User, world.users["reg_wuhan"])
        instance = complete_task(s, actor=reg, task_id=review_id, data=dict(APPROVE))
        if instance.status != "completed" or instance.outcome != "approved":
            raise AssertionError(f"case {instance.id} ended {instance.status}/{instance.outcome}")


def _completed_counts(world: ServiceWorld) -> tuple[int, int]:
    from sqlalchemy import func, select
    from sqlalchemy.orm import Session

    from engine.db import Crane, ProcessInstance

    with Session(world.engine) as s:
        done = s.scalar(select(func.count()).select_from(ProcessInstance)
                        .where(ProcessInstance.status == "completed", ProcessInstance.outcome == "approved"))
        filed = s.scalar(select(func.count()).select_from(Crane).where(Crane.status == "filed"))
    return done, filed


def run_service(world: ServiceWorld, n: int, label: str, warmup: int = 10, cpu_groups: dict | None = None) -> dict:
    from .common import CpuSampler

    run = uuid.uuid4().hex[:6]
    for i in range(min(warmup, n)):  # warm-up: spec parse into the cache, SQL compile cache, pool
        service_flow(world, f"WARM-{label}-{run}-{i}")
    before = _completed_counts(world)
    sampler = CpuSampler(cpu_groups or {}).start()
    start = time.perf_counter()
    cpu = time.process_time()
    for i in range(n):
        service_flow(world, f"SVC-{label}-{run}-{i}")
    seconds = time.perf_counter() - start
    cpu = time.process_time() - cpu
    cpu_used = sampler.stop()
    after = _completed_counts(world)
    if (after[0] - before[0], after[1] - before[1]) != (n, n):
        raise AssertionError(f"{label}: expected {n} approved cases and filed cranes, "
                             f"found {after[0] - before[0]} / {after[1] - before[1]}")
    return {"n": n, "seconds": seconds, "rate": n / seconds, "process_cpu_seconds": cpu, "cpu_seconds": cpu_used}
