"""Demo data at volume: cranes across every Hubei city and county with the cases, review tasks,
projects, spot checks and hazards of their last ~24 months, for the statistics dashboard and its
benchmark. Deterministic for a seed; bulk inserts (SQLAlchemy Core executemany) only.

Cases are generated as history: every case is completed (its tasks too), except the spot checks
whose notice is still open, which are running without a task anyone could act on. No workflow state
is stored (a case's page and diagram read none once the case is over), so nothing generated reaches
an inbox. Record, registration and notice numbers come after the last ones issued, and their
counters are moved past them, so later real numbers never collide.
"""
import random
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import bindparam, func, insert, select, text, update
from sqlalchemy.orm import Session

from engine.bpmn.assignment import due_at_from_workdays
from engine.bpmn.store import SERIALIZER_VERSION
from engine.db import (AuditEvent, CaseParty, Crane, Enterprise, EnterpriseRole, Hazard, HumanTask, Inspection,
                       OperationRecord, ProcessDefinition, ProcessInstance, Project, RecordNumberSequence)
from engine.domain.cranes import CRANE_TYPES, assessment_required
from engine.domain.regions import PROVINCE_CODE, all_regions, children, plate_letter, prefecture_of
from engine.domain.uscc import uscc_check_char
from engine.domain.workdays import default_calendar

from . import audit_chain
from .settings import CHINA_TZ
from .statistics import rollup as review_rollup

BATCH = 5000
MONTHS = 24
PROCEDURES = ("crane_registration", "installation_notice", "use_registration", "dismantling_notice",
              "record_cancellation", "inspection_rectification")
# Cranes per county: Wuhan's districts carry the most construction.
WUHAN_WEIGHT, CITY_SEAT_WEIGHT, COUNTY_WEIGHT = 6.0, 2.0, 1.0
MANUFACTURERS = ("中联重科股份有限公司", "徐州建机工程机械有限公司", "广西建工集团建筑机械制造有限责任公司",
                 "四川建设机械（集团）股份有限公司", "湖北江汉建筑工程机械有限公司", "山东大汉建设机械股份有限公司")
TOWER_MODELS = ((400, "QTZ40"), (630, "QTZ63(TC5013)"), (800, "QTZ80(TC5610-6)"), (1000, "QTZ100(TC6013)"),
                (1250, "QTZ125(TC6015)"), (1600, "QTZ160(TC7020)"), (2500, "QTZ250(TC7525)"))
HAZARD_CATEGORIES = (("安全装置", "起重力矩限制器失效"), ("附着装置", "附着杆连接螺栓松动"),
                     ("基础", "基础积水，排水不畅"), ("钢丝绳", "钢丝绳断丝超标"), ("电气", "电缆拖地，无保护"),
                     ("人员", "司机未持证上岗"), ("标准节", "标准节螺栓缺失"))

# (title, form key, lane, role, levels, working days to the due time)
REGULATOR = ("regulator", "province,city,county")
STEPS = {
    "crane_registration": [("review_filing", "备案审核", "filing_review", "备案机关", REGULATOR, 7)],
    "installation_notice": [
        ("contractor_review", "施工总承包单位审核", "party_review", "使用单位", ("enterprise:user", ""), 2),
        ("supervisor_review", "监理单位审核", "party_review", "监理单位", ("enterprise:supervisor", ""), 2),
        ("review_notice", "告知审核", "notice_acknowledgement", "工程所在地主管部门", REGULATOR, 2),
        ("self_inspection", "安装自检", "self_inspection", "安装单位", ("enterprise:installer", ""), None),
        ("inspection_report", "检验检测", "inspection_report", "检验检测机构", ("enterprise:inspector", ""), None),
        ("signoff_installer", "安装单位验收签字", "acceptance_signoff", "安装单位", ("enterprise:installer", ""), None),
        ("signoff_user", "使用单位验收签字", "acceptance_signoff", "使用单位", ("enterprise:user", ""), None),
        ("signoff_supervisor", "监理单位验收签字", "acceptance_signoff", "监理单位", ("enterprise:supervisor", ""), None),
        ("signoff_owner", "产权单位验收签字", "acceptance_signoff", "产权单位", ("enterprise:owner", ""), None)],
    "use_registration": [("review_registration", "使用登记审核", "decision_review", "工程所在地主管部门", REGULATOR, 7)],
    "dismantling_notice": [
        ("contractor_review", "施工总承包单位审核", "party_review", "使用单位", ("enterprise:user", ""), 2),
        ("supervisor_review", "监理单位审核", "party_review", "监理单位", ("enterprise:supervisor", ""), 2),
        ("review_notice", "告知审核", "notice_acknowledgement", "工程所在地主管部门", REGULATOR, 2)],
    "record_cancellation": [("review_cancellation", "注销审核", "decision_review", "备案机关", REGULATOR, 7)],
    "inspection_rectification": [
        ("reply_rectification", "整改回复", "rectification_reply", "施工单位", ("enterprise:user", ""), None),
        ("countersign_reply", "监理审核整改回复", "reply_countersign", "监理单位", ("enterprise:supervisor", ""), 2),
        ("reinspect", "复查", "reinspection", "监督机构", REGULATOR, 5)],
}
# Which party an enterprise task of a case belongs to.
ROLE_PARTY = {"enterprise:user": "contractor", "enterprise:supervisor": "supervisor",
              "enterprise:installer": "installer", "enterprise:inspector": "inspector", "enterprise:owner": "owner"}
NOTICE_KINDS = {"rectification": ("整改", "1"), "stop_work": ("停工", "2"), "stop_use": ("停用", "3")}


class AlreadyGenerated(Exception):
    """Data of this seed exists already: generate with another seed."""


@dataclass
class Summary:
    cranes: int = 0
    cases: int = 0
    tasks: int = 0
    projects: int = 0
    inspections: int = 0
    hazards: int = 0
    enterprises: int = 0
    cities: set = field(default_factory=set)

    def as_dict(self) -> dict:
        return {k: (len(v) if isinstance(v, set) else v) for k, v in self.__dict__.items()}


def _aware(day: date, rng: random.Random) -> datetime:
    """A working-hours moment of a China-time day, as aware UTC."""
    moment = datetime.combine(day, time(8, 30), tzinfo=CHINA_TZ) + timedelta(minutes=rng.randrange(0, 540))
    return moment.astimezone(timezone.utc)


class _Generator:
    def __init__(self, session: Session, *, seed: int, today: date):
        self.s, self.seed, self.today = session, seed, today
        self.rng = random.Random(seed)
        self.calendar = default_calendar()
        self.start = today - timedelta(days=MONTHS * 30)
        self.summary = Summary()
        self.latest = datetime.combine(today, time(0), tzinfo=CHINA_TZ).astimezone(timezone.utc)  # nothing after
        self.first_case_id = None
        self.definitions = dict(session.execute(
            select(ProcessDefinition.process_key, func.max(ProcessDefinition.id))
            .where(ProcessDefinition.process_key.in_(PROCEDURES)).group_by(ProcessDefinition.process_key)).all())
        missing = set(PROCEDURES) - set(self.definitions)
        if missing:
            raise RuntimeError(f"deploy the process catalog first (missing: {', '.join(sorted(missing))})")
        self.counters: dict[tuple[str, str, int], int] = {}
        self.cases, self.tasks, self.parties, self.events = [], [], [], []

    # --- numbers ------------------------------------------------------------------------------

    def _serial(self, city: str, key: str, year: int) -> int:
        slot = (city, key, year)
        if slot not in self.counters:
            self.counters[slot] = self.s.scalar(select(RecordNumberSequence.last_serial).where(
                RecordNumberSequence.city == city, RecordNumberSequence.type_letter == key,
                RecordNumberSequence.year == year)) or 0
        self.counters[slot] += 1
        return self.counters[slot]

    def _save_counters(self) -> None:
        for (city, key, year), last in self.counters.items():
            row = self.s.get(RecordNumberSequence, (city, key, year))
            if row is None:
                self.s.add(RecordNumberSequence(city=city, type_letter=key, year=year, last_serial=last))
            else:
                row.last_serial = max(row.last_serial, last)
        self.s.flush()

    def _uscc(self, region: str, n: int) -> str:
        first17 = f"91{region}MA{self.seed % 100:02d}{n:05d}"
        return first17 + uscc_check_char(first17)

    # --- parties ------------------------------------------------------------------------------

    def enterprises(self) -> None:
        """An owner per county; an installer, a general contractor, a supervision firm and an
        inspection body per city (reused when they exist)."""
        cities = [r for r in all_regions() if r.level == "city"]
        # Where cranes are filed and sites lie: every county, and the cities directly under the
        # province that have none (仙桃, 潜江, 天门, 神农架).
        counties = [r for r in all_regions() if r.level == "county" or (r.level == "city" and not children(r.code))]
        wanted = [(c.code, "owner", f"{c.name}建机设备租赁有限公司") for c in counties]
        for city in cities:
            seat = next((c.code for c in counties if c.parent == city.code), city.code)
            short = city.name[:2]
            wanted += [(seat, "installer", f"{short}建筑机械安装工程有限公司"),
                       (seat, "user", f"{short}建工集团有限公司"),
                       (seat, "supervisor", f"{short}建设监理咨询有限公司"),
                       (seat, "inspector", f"{short}特种设备检验检测有限公司")]
        usccs = [self._uscc(region, n) for n, (region, _, _) in enumerate(wanted, start=1)]
        existing = dict(self.s.execute(select(Enterprise.uscc, Enterprise.id).where(Enterprise.uscc.in_(usccs))).all())
        rows = [{"name": name, "uscc": uscc, "region_code": region, "status": "approved",
                 "approved_at": _aware(self.start, self.rng), "created_at": _aware(self.start, self.rng),
                 "integrated": False, "contact_person": "联系人", "contact_phone": "027-87654321"}
                for uscc, (region, _, name) in zip(usccs, wanted) if uscc not in existing]
        if rows:
            ids = self._insert(Enterprise, rows)
            existing.update({row["uscc"]: i for row, i in zip(rows, ids)})
            self.s.execute(insert(EnterpriseRole), [
                {"enterprise_id": existing[uscc], "role": role} for uscc, (_, role, _) in zip(usccs, wanted)
                if uscc in {r["uscc"] for r in rows}])
            self.summary.enterprises = len(rows)
        self.owner = {region: existing[u] for u, (region, role, _) in zip(usccs, wanted) if role == "owner"}
        self.city_parties = {}
        for u, (region, role, _) in zip(usccs, wanted):
            if role != "owner":
                self.city_parties.setdefault(prefecture_of(region).code, {})[ROLE_PARTY[f"enterprise:{role}"]] = \
                    existing[u]
        self.counties = counties

    def _insert(self, model, rows: list[dict]) -> list[int]:
        ids = []
        for start in range(0, len(rows), BATCH):
            ids += self.s.execute(insert(model).returning(model.id, sort_by_parameter_order=True),
                                  rows[start:start + BATCH]).scalars().all()
        return ids

    def _bulk(self, model, rows: list[dict]) -> None:
        for start in range(0, len(rows), BATCH):
            self.s.execute(insert(model), rows[start:start + BATCH])

    # --- cranes and their cases ---------------------------------------------------------------

    def _county_weights(self) -> list[float]:
        weights = []
        for county in self.counties:
            if county.parent == "420100":
                weights.append(WUHAN_WEIGHT)
            elif county.code.endswith("02") or county.code.endswith("03"):
                weights.append(CITY_SEAT_WEIGHT)
            else:
                weights.append(COUNTY_WEIGHT)
        return weights

    def _crane_spec(self, n: int) -> dict:
        rng = self.rng
        crane_type = rng.choices(list(CRANE_TYPES), weights=(55, 30, 10, 5))[0]
        spec = {"crane_type": crane_type, "rated_moment_knm": None, "rated_load_kg": None, "hoist_drive": None,
                "model": "", "max_height_m": None}
        if crane_type == "tower_crane":
            moment, model = rng.choices(TOWER_MODELS, weights=(5, 20, 30, 20, 12, 8, 5))[0]
            spec.update(rated_moment_knm=moment, model=model, max_height_m=rng.choice((60, 80, 120, 150)))
        elif crane_type == "construction_hoist":
            drive = rng.choices(("SC", "SS"), weights=(85, 15))[0]
            spec.update(hoist_drive=drive, rated_load_kg=2000, model=f"{drive}200/200", max_height_m=150)
        elif crane_type == "material_hoist":
            spec.update(rated_load_kg=1000, model="SSD100", max_height_m=30)
        else:
            spec.update(rated_load_kg=10000, model="MH10-20", max_height_m=12)
        # Ages 0–25 years, fewer the older: some past their JGJ/T 189 assessment age.
        age_days = int(rng.triangular(60, 25 * 365, 4 * 365))
        spec["manufacture_date"] = self.today - timedelta(days=age_days)
        spec["design_life_years"] = None
        return spec

    def _case(self, key: str, subject_id: int, region: str, applicant: int | None, started: datetime,
              finished: datetime | None, title: str, parties: dict, *, late: bool = False) -> dict:
        """A case row and its tasks (spread between start and finish), kept for the bulk insert."""
        city = prefecture_of(region)
        case = {"definition_id": self.definitions[key], "process_key": key,
                "status": "completed" if finished else "running", "outcome": "approved" if finished else None,
                "title": title, "subject_type": "project" if key == "inspection_rectification" else "crane",
                "subject_id": subject_id, "applicant_enterprise_id": applicant, "region_code": region,
                "serializer_version": SERIALIZER_VERSION, "version": 1, "started_at": started, "completed_at": finished,
                "overdue_since": None}
        steps = STEPS[key] if finished else []
        tasks, moment = [], started
        span = (finished - started) if finished else timedelta(0)
        for i, (name, step_title, form_key, lane, (role, levels), workdays) in enumerate(steps):
            created = moment
            moment = max(created, started + span * (i + 1) / len(steps))
            due = due_at_from_workdays(self.calendar, workdays, created, CHINA_TZ) if workdays else None
            if late and due and role == "regulator":
                moment = max(moment, min(due + timedelta(hours=self.rng.randrange(2, 96)), self.latest))
            tasks.append({"task_guid": str(uuid.UUID(int=self.rng.getrandbits(128), version=4)), "task_name": name,
                          "title": step_title, "form_key": form_key, "lane": lane, "role": role, "levels": levels,
                          "enterprise_id": parties.get(ROLE_PARTY.get(role)) if role != "regulator" else None,
                          "region_code": region, "city_code": city.code if city else None,
                          "province_code": PROVINCE_CODE, "process_key": key, "case_title": title,
                          "status": "completed", "created_at": created, "due_at": due, "completed_at": moment,
                          "completed_by_id": None})
        if tasks:
            case["completed_at"] = max(finished, tasks[-1]["completed_at"])
        self.cases.append((case, tasks, parties if key in ("installation_notice", "dismantling_notice",
                                                          "inspection_rectification") else {}))
        return case

    def _review_span(self, start: datetime, limit_days: int) -> tuple[datetime, bool]:
        """When a review started at `start` ends: mostly within the limit, about one in eight late."""
        late = self.rng.random() < 0.12
        hours = self.rng.uniform(2, 24 * limit_days * 0.9) if not late else self.rng.uniform(24, 24 * 3 * limit_days)
        return start + timedelta(hours=hours), late

    def cranes(self, count: int) -> list[dict]:
        prefix = f"DEMO{self.seed}-"
        if self.s.scalar(select(Crane.id).where(Crane.factory_serial.like(f"{prefix}%")).limit(1)) is not None:
            raise AlreadyGenerated(f"demo data of seed {self.seed} exists already; use another --seed")
        weights = self._county_weights()
        projects_by_county: dict[str, list[int]] = {}
        project_rows = []
        for county in self.counties:  # a few sites in every county, more where more cranes stand
            for k in range(max(2, int(count * weights[self.counties.index(county)] / sum(weights) / 3))):
                city = prefecture_of(county.code).code
                project_rows.append({
                    "code": f"D{self.seed}-{county.code}-{k:04d}", "name": f"{county.name}第{k + 1}建设项目",
                    "permit_number": f"{county.code}{self.seed:04d}{k:06d}", "address": f"湖北省{county.name}建设路 {k + 1} 号",
                    "region_code": county.code, "user_enterprise_id": self.city_parties[city]["contractor"],
                    "supervisor_enterprise_id": self.city_parties[city]["supervisor"], "status": "under_construction",
                    "created_at": _aware(self.start, self.rng), "updated_at": _aware(self.start, self.rng)})
        project_ids = self._insert(Project, project_rows)
        for row, pid in zip(project_rows, project_ids):
            projects_by_county.setdefault(row["region_code"], []).append(pid)
        self.projects = list(zip(project_ids, (r["region_code"] for r in project_rows)))
        self.summary.projects = len(project_ids)

        cranes, plans = [], []
        for n in range(count):
            # One crane in every county first (when there are enough), then by weight.
            county = self.counties[n] if count >= len(self.counties) and n < len(self.counties) else \
                self.rng.choices(self.counties, weights=weights)[0]
            spec = self._crane_spec(n)
            manufacturer = self.rng.choice(MANUFACTURERS)
            serial = f"{prefix}{n + 1:06d}"
            filed_day = self.start + timedelta(days=self.rng.randrange(0, (self.today - self.start).days - 5))
            filed_at = _aware(filed_day, self.rng)
            plate, letter = plate_letter(county.code), CRANE_TYPES[spec["crane_type"]]["letter"]
            number = f"鄂{plate}-{letter}{filed_day.year}{self._serial(plate, letter, filed_day.year):05d}"
            cranes.append({
                **spec, "record_number": number, "status": "filed", "manufacturer": manufacturer,
                "manufacturing_licence_no": f"TS24{n % 100000:05d}-2028", "factory_serial": serial,
                "product_certificate_no": f"HG-{n + 1:06d}", "supervision_certificate_no": f"JJ-{n + 1:06d}",
                "purchase_date": spec["manufacture_date"] + timedelta(days=30), "owner_enterprise_id": self.owner[county.code],
                "identity_key": f"{''.join(manufacturer.split()).upper()}|{spec['model'].upper()}|{serial}",
                "filing_region_code": county.code, "filed_at": filed_at, "created_at": filed_at, "updated_at": filed_at})
            plans.append(county)
        ids = self._insert(Crane, cranes)
        for crane, crane_id, county in zip(cranes, ids, plans):
            crane["id"] = crane_id
            self._life(crane, county, projects_by_county)
        self.summary.cranes = len(ids)
        self.summary.cities |= {prefecture_of(c.code).code for c in plans}
        return cranes

    def _life(self, crane: dict, county, projects_by_county) -> None:
        """The crane's cases from its filing to now; sets its current state."""
        rng, now = self.rng, _aware(self.today, self.rng) - timedelta(hours=12)
        owner, name = crane["owner_enterprise_id"], CRANE_TYPES[crane["crane_type"]]["zh"]
        title = f"{name} {crane['model']}（出厂编号 {crane['factory_serial']}）"
        filed_at = crane["filed_at"]
        started = filed_at - timedelta(hours=rng.uniform(2, 24 * 8))
        done, late = self._review_span(started, 7)
        self._case("crane_registration", crane["id"], county.code, owner, started, filed_at, title, {}, late=late)
        crane["filed_at"] = self.cases[-1][0]["completed_at"]
        moment = crane["filed_at"]
        goal = rng.choices(("in_use", "idle", "accepted", "cancelled"), weights=(55, 22, 5, 18))[0]
        cycles = 0
        while goal != "idle" or cycles == 0:
            site_county = county.code if rng.random() < 0.7 or county.level == "city" else rng.choice(
                [c.code for c in self.counties if c.parent == county.parent])
            project = rng.choice(projects_by_county[site_county])
            parties = {**self.city_parties[prefecture_of(site_county).code], "owner": owner}
            start = moment + timedelta(days=rng.uniform(3, 60))
            install_end = start + timedelta(days=rng.uniform(10, 25))
            register_end = install_end + timedelta(days=rng.uniform(2, 12))
            stay_end = register_end + timedelta(days=rng.uniform(90, 300))
            dismantle_end = stay_end + timedelta(days=rng.uniform(1, 5))
            if register_end >= now:
                break
            self._case("installation_notice", crane["id"], site_county, parties["installer"], start, install_end,
                       title, parties, late=rng.random() < 0.1)
            crane.update(project_id=project, accepted_on=install_end.astimezone(CHINA_TZ).date(), status="accepted")
            if goal == "accepted" and dismantle_end >= now:
                break
            self._case("use_registration", crane["id"], site_county, parties["contractor"], install_end, register_end,
                       title, {}, late=rng.random() < 0.1)
            year, plate = register_end.astimezone(CHINA_TZ).year, plate_letter(site_county)
            letter = CRANE_TYPES[crane["crane_type"]]["letter"]
            crane.update(status="in_use", registered_at=register_end,
                         use_registration_no=f"鄂{plate}-{letter}DJ{year}{self._serial(plate, letter.lower(), year):05d}")
            if dismantle_end >= now or (goal == "in_use" and cycles >= 1):
                break
            self._case("dismantling_notice", crane["id"], site_county, parties["installer"], stay_end, dismantle_end,
                       title, parties, late=rng.random() < 0.1)
            crane.update(status="filed", project_id=None, accepted_on=None, use_registration_no=None,
                         registered_at=None)
            moment, cycles = dismantle_end, cycles + 1
            if goal in ("idle", "cancelled"):
                break
        if goal == "cancelled" and crane["status"] == "filed":
            start = moment + timedelta(days=rng.uniform(5, 90))
            end, late = self._review_span(start, 7)
            if end < now:
                self._case("record_cancellation", crane["id"], county.code, owner, start, end, title, {}, late=late)
                crane.update(status="cancelled", identity_key=None)

    # --- supervision --------------------------------------------------------------------------

    def inspections(self, cranes: list[dict]) -> None:
        """About one spot check per 12 cranes, on the sites of the cranes standing there."""
        rng = self.rng
        on_site: dict[int, list[int]] = {}
        for crane in cranes:
            if crane.get("project_id"):
                on_site.setdefault(crane["project_id"], []).append(crane["id"])
        project_region = dict(self.projects)
        sites = list(on_site) or [pid for pid, _ in self.projects]
        rows, plans = [], []
        for _ in range(max(1, len(cranes) // 12)):
            project = rng.choice(sites)
            region = project_region[project]
            check_day = self.start + timedelta(days=rng.randrange(0, (self.today - self.start).days))
            hazards = [rng.choices(("general", "major"), weights=(80, 20))[0] for _ in range(rng.choice((0, 1, 1, 2, 3, 4)))]
            instrument = "none" if not hazards else (
                ("stop_use" if on_site.get(project) and rng.random() < 0.3 else "stop_work") if "major" in hazards
                else "rectification")
            deadline = check_day + timedelta(days=rng.choice((1, 3, 5, 7)) if instrument == "rectification"
                                             else rng.choice((7, 15, 30))) if instrument != "none" else None
            # Most notices close after a re-inspection; recent ones and about one in ten stay open.
            open_ = instrument != "none" and (deadline >= self.today - timedelta(days=3) or rng.random() < 0.1)
            created = _aware(check_day, rng)
            plate = plate_letter(region)
            number = None
            if instrument != "none":
                kind, key = NOTICE_KINDS[instrument]
                number = f"鄂{plate}{kind}〔{check_day.year}〕{self._serial(plate, key, check_day.year):05d}号"
            rounds = [] if instrument == "none" or open_ else (["fail"] if rng.random() < 0.25 else []) + ["pass"]
            closed = created if instrument == "none" else None
            moments = []
            reinspected = datetime.combine(deadline or check_day, time(10), tzinfo=CHINA_TZ).astimezone(timezone.utc)
            for _ in rounds:
                reinspected += timedelta(days=rng.uniform(1, 6))
                moments.append(min(reinspected, _aware(self.today, rng) - timedelta(days=1)))
            if rounds:
                closed = moments[-1]
            stop_crane = rng.choice(on_site[project]) if instrument == "stop_use" else None
            overdue = open_ and deadline < self.today
            rows.append({"project_id": project, "region_code": region, "check_date": check_day,
                         "check_type": rng.choice(("routine", "special", "random")), "inspectors": ["监督员甲", "监督员乙"],
                         "jgj59_score": rng.choice((72.5, 78.0, 81.5, 85.0, 90.5)), "instrument": instrument,
                         "notice_number": number, "stop_use_crane_id": stop_crane, "deadline_on": deadline,
                         "status": "open" if open_ else "closed",
                         "overdue_since": datetime.combine(deadline + timedelta(days=1), time(0), tzinfo=CHINA_TZ)
                         if overdue else None, "closed_at": closed, "created_at": created})
            plans.append((hazards, rounds, moments, on_site.get(project, [])))
        # Each spot check is a case of its own (the inspecting office's region).
        case_rows = []
        for row, (hazards, rounds, moments, _) in zip(rows, plans):
            finished = row["closed_at"]
            parties = self.city_parties[prefecture_of(row["region_code"]).code]
            case = self._case("inspection_rectification", row["project_id"], row["region_code"], None,
                              row["created_at"], finished, f"监督检查（项目 {row['project_id']}）", parties)
            case["overdue_since"] = row["overdue_since"]
            case_rows.append(case)
        self._flush_cases()
        for row, case in zip(rows, case_rows):
            row["instance_id"] = case["id"]
        ids = self._insert(Inspection, rows)
        hazard_rows, events = [], []
        for inspection_id, row, (hazards, rounds, moments, standing) in zip(ids, rows, plans):
            for seq, grade in enumerate(hazards, start=1):
                category, description = rng.choice(HAZARD_CATEGORIES)
                hazard_rows.append({
                    "inspection_id": inspection_id, "seq": seq, "description": description, "location": "施工现场",
                    "category": category, "grade": grade, "crane_id": rng.choice(standing) if standing else None,
                    "photos": [], "evidence": [], "deadline_on": row["deadline_on"],
                    "status": "open" if row["status"] == "open" else "closed",
                    "closed_at": row["closed_at"] if row["status"] == "closed" else None})
            for result, moment in zip(rounds, moments):
                events.append({"instance_id": row["instance_id"], "actor_id": None, "action": "reinspected",
                               "task_name": "reinspect", "from_state": None,
                               "to_state": "closed" if result == "pass" else "reissued",
                               "detail": {"closed": len(hazards) if result == "pass" else 0,
                                          "reissued": 0 if result == "pass" else len(hazards)}, "at": moment})
        self._bulk(Hazard, hazard_rows)
        for event in sorted(events, key=lambda e: e["at"]):
            audit_chain.seal(self.s, event)  # each event joins its case's tamper-evident chain
        self._bulk(AuditEvent, events)
        self.summary.inspections, self.summary.hazards = len(ids), len(hazard_rows)

    def assessments(self, cranes: list[dict]) -> None:
        """A 合格 JGJ/T 189 assessment for about two in three cranes past the assessment age."""
        rows = []
        for crane in cranes:
            if crane["status"] == "cancelled" or not assessment_required(
                    crane["crane_type"], crane["manufacture_date"], self.today, crane["rated_moment_knm"],
                    crane["hoist_drive"]) or self.rng.random() > 0.65:
                continue
            performed = self.today - timedelta(days=self.rng.randrange(10, 500))
            rows.append({"crane_id": crane["id"], "kind": "assessment", "performed_on": performed,
                         "enterprise_id": crane["owner_enterprise_id"],
                         "performer_enterprise_id": crane["owner_enterprise_id"], "person_in_charge": "评估负责人",
                         "result": "qualified", "report_number": f"PG-{crane['id']:07d}",
                         "valid_until": performed + timedelta(days=365), "items": [], "summary": "安全评估合格",
                         "attachments": [], "created_at": _aware(performed, self.rng)})
        self._bulk(OperationRecord, rows)

    # --- writing ------------------------------------------------------------------------------

    def _flush_cases(self) -> None:
        if not self.cases:
            return
        ids = self._insert(ProcessInstance, [case for case, _, _ in self.cases])
        self.first_case_id = min([*ids, *([self.first_case_id] if self.first_case_id else [])])
        tasks, parties = [], []
        for (case, case_tasks, case_parties), case_id in zip(self.cases, ids):
            case["id"] = case_id
            tasks += [{**task, "instance_id": case_id} for task in case_tasks]
            parties += [{"instance_id": case_id, "party": party, "enterprise_id": enterprise}
                        for party, enterprise in case_parties.items() if party in ("contractor", "supervisor", "owner")]
        self._bulk(HumanTask, tasks)
        self._bulk(CaseParty, [{**p, "party": "user" if p["party"] == "contractor" else p["party"]} for p in parties])
        self.summary.cases += len(ids)
        self.summary.tasks += len(tasks)
        self.cases = []

    def update_cranes(self, cranes: list[dict]) -> None:
        keys = ("status", "project_id", "accepted_on", "use_registration_no", "registered_at", "identity_key", "filed_at")
        table = Crane.__table__
        stmt = update(table).where(table.c.id == bindparam("b_id")).values(**{k: bindparam(f"b_{k}") for k in keys})
        rows = [{"b_id": c["id"], **{f"b_{k}": c.get(k) for k in keys}} for c in cranes]
        connection = self.s.connection()
        for start in range(0, len(rows), BATCH):
            connection.execute(stmt, rows[start:start + BATCH])

    def business_keys(self) -> None:
        """The date the case started (China time) and its id, as start_case gives them."""
        if self.s.get_bind().dialect.name == "postgresql":
            key = ("to_char(started_at AT TIME ZONE 'Asia/Shanghai', 'YYYYMMDD') || "
                   "CASE WHEN id < 1000000 THEN lpad(id::text, 6, '0') ELSE id::text END")
        else:
            key = ("strftime('%Y%m%d', started_at, '+8 hours') || "
                   "CASE WHEN id < 1000000 THEN substr('000000' || id, -6) ELSE CAST(id AS TEXT) END")
        self.s.execute(text(f"UPDATE process_instance SET business_key = {key} WHERE business_key IS NULL "
                            "AND id >= :first"), {"first": self.first_case_id})


def generate_demo_data(session: Session, *, cranes: int, seed: int = 1, today: date | None = None) -> Summary:
    """Generate `cranes` cranes with ~24 months of history in `session`'s transaction (the caller commits)."""
    if cranes < 1:
        raise ValueError("cranes must be at least 1")
    today = today or datetime.now(CHINA_TZ).date()
    gen = _Generator(session, seed=seed, today=today)
    gen.enterprises()
    rows = gen.cranes(cranes)
    gen._flush_cases()
    gen.update_cranes(rows)
    gen.assessments(rows)
    gen.inspections(rows)
    gen.business_keys()
    gen._save_counters()
    review_rollup.rebuild(session)  # the reviews were bulk-inserted, past the completion's own upsert
    return gen.summary
