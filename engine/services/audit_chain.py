"""Tamper-evident audit trail: every audit event is a link in a hash chain.

Each event belongs to one chain (a case's events to `case:<id>`, the few without a case to a chain
of their subject or `system`), has the next `seq` in it and stores `hash` = HMAC-SHA256 over its
content, its place and the previous link's hash. The chain's head (`audit_chain`) holds the last
link, so removing the last rows is noticed as well. The key lives in the configuration, not in the
database: someone who can only write the database cannot compute a valid link.

Writing a link costs one read of the chain head per chain and transaction (locked FOR UPDATE on
PostgreSQL; a case's transitions already hold the case's row lock, so chains of different cases
never wait for each other), the INSERT of the event and one UPDATE of the head.
"""
import hashlib
import hmac
import json
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone

from sqlalchemy import bindparam, event, exists, func, select, update
from sqlalchemy.orm import Session

from engine.db import AuditChain, AuditEvent, AuditVerification, utcnow
from engine.db.base import insert_ignore

GENESIS = "0" * 64
BATCH = 2000

# Why a chain is broken, at its first broken link (zh, en).
REASONS = {
    "content_altered": ("内容被篡改", "Content altered"),
    "link_broken": ("链接断开（记录被删除、插入或调换顺序）", "Link broken (a row deleted, inserted or reordered)"),
    "tail_missing": ("链尾记录缺失（与链头不符）", "Tail missing compared with the head"),
    "head_altered": ("链头被篡改", "Head altered"),
    "head_missing": ("链头缺失", "Head missing"),
}

_HEADS = "audit_chain_heads"
_EVENTS = AuditEvent.__table__
_CHAINS = AuditChain.__table__
_LOCK_HEAD = select(_CHAINS.c.seq, _CHAINS.c.hash).where(_CHAINS.c.chain == bindparam("key")).with_for_update()
_UPDATE_HEAD = update(_CHAINS).where(_CHAINS.c.chain == bindparam("key")).values(
    seq=bindparam("new_seq"), hash=bindparam("new_hash"), updated_at=bindparam("new_at"))

_key: bytes | None = None


# --- the key ---------------------------------------------------------------------------------

def key_from_config(config) -> bytes:
    """AUDIT_CHAIN_KEY, else a key derived from SECRET_KEY (changing SECRET_KEY then breaks every chain)."""
    if config.get("AUDIT_CHAIN_KEY"):
        return config["AUDIT_CHAIN_KEY"].encode()
    if not config.get("SECRET_KEY"):
        raise RuntimeError("neither AUDIT_CHAIN_KEY nor SECRET_KEY is set: audit events cannot be chained")
    return hmac.new(str(config["SECRET_KEY"]).encode(), b"craneflow audit chain", hashlib.sha256).digest()


def configure(key: bytes) -> None:
    """Set by the application factory (web and workers alike)."""
    global _key
    _key = key


def chain_key() -> bytes:
    if _key is None:
        raise RuntimeError("engine.services.audit_chain.configure() has not been called")
    return _key


# --- links -----------------------------------------------------------------------------------

def chain_for(instance_id: int | None, detail: dict) -> str:
    """The chain of an event: its case's, else its subject's (project, crane), else a shared one."""
    if instance_id is not None:
        return f"case:{instance_id}"
    if detail.get("project_id") is not None:
        return f"project:{detail['project_id']}"
    if detail.get("crane_id") is not None:
        return f"crane:{detail['crane_id']}"
    if detail.get("account_id") is not None:
        return "accounts"
    return "system"


# One encoder for every link (json.dumps with options would build a new one per call).
_ENCODE = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode


def _iso(at: datetime) -> str:
    return at.astimezone(timezone.utc).isoformat(timespec="microseconds")


def canonical(row) -> bytes:
    """The bytes a link's hash covers: its content, chain, seq and the previous hash, as sorted-key JSON."""
    return _ENCODE({
        "instance_id": row["instance_id"], "actor_id": row["actor_id"], "action": row["action"],
        "task_name": row["task_name"], "from_state": row["from_state"], "to_state": row["to_state"],
        "detail": row["detail"], "at": _iso(row["at"]), "chain": row["chain"], "seq": row["seq"],
        "prev_hash": row["prev_hash"],
    }).encode()


def event_hash(key: bytes, row) -> str:
    return hmac.digest(key, canonical(row), "sha256").hex()


def seal(session: Session, row: dict) -> None:
    """Give an audit event about to be inserted its chain, seq, prev_hash and hash; advance the head."""
    chain = chain_for(row["instance_id"], row["detail"])
    heads = session.info.get(_HEADS)
    if heads is None:
        heads = session.info[_HEADS] = {}
    head = heads.get(chain)
    if head is None:
        head = session.execute(_LOCK_HEAD, {"key": chain}).first()
        if head is None:  # a new chain: its head is created with its first link
            _link(row, chain, 0, GENESIS)
            created = insert_ignore(session, AuditChain, {"chain": chain, "seq": 1, "hash": row["hash"],
                                                          "updated_at": row["at"]}, unique="chain")
            if created is not None:
                heads[chain] = (1, row["hash"])
                return
            head = session.execute(_LOCK_HEAD, {"key": chain}).first()  # a concurrent first link won
    _link(row, chain, head[0], head[1])
    session.execute(_UPDATE_HEAD, {"key": chain, "new_seq": row["seq"], "new_hash": row["hash"],
                                   "new_at": row["at"]})
    heads[chain] = (row["seq"], row["hash"])


def _link(row: dict, chain: str, last_seq: int, last_hash: str) -> None:
    row["chain"], row["seq"], row["prev_hash"] = chain, last_seq + 1, last_hash
    row["hash"] = event_hash(chain_key(), row)


# The cached heads are valid only while this transaction holds them: a rolled-back savepoint (a
# failed due-job handler) may have undone links, and after the transaction the locks are gone.
@event.listens_for(Session, "after_soft_rollback")
def _forget_heads_after_rollback(session: Session, previous_transaction) -> None:
    session.info.pop(_HEADS, None)


@event.listens_for(Session, "after_transaction_end")
def _forget_heads_after_transaction(session: Session, transaction) -> None:
    if transaction.parent is None:
        session.info.pop(_HEADS, None)


# --- verification ----------------------------------------------------------------------------

@dataclass(frozen=True)
class BrokenLink:
    """The first link of a chain that does not hold; `seq`/`event_id` are None where no row is left."""

    chain: str
    seq: int | None
    event_id: int | None
    reason: str

    @property
    def instance_id(self) -> int | None:
        kind, _, ident = self.chain.partition(":")
        return int(ident) if kind == "case" and ident.isdigit() else None

    def as_dict(self) -> dict:
        return {"chain": self.chain, "seq": self.seq, "event_id": self.event_id, "instance_id": self.instance_id,
                "reason": self.reason}


@dataclass
class Report:
    chains: int = 0
    events: int = 0
    broken: list[BrokenLink] = field(default_factory=list)
    seconds: float = 0.0
    started_at: datetime = field(default_factory=utcnow)

    @property
    def ok(self) -> bool:
        return not self.broken


@dataclass
class _Walk:
    """Where the walk along one chain stands."""

    chain: str
    seq: int = 0
    hash: str = GENESIS
    event_id: int | None = None
    broken: bool = False
    head: tuple | None = None  # (seq, hash) of the chain's head row, None without one


def snapshot_session(engine) -> Session:
    """A read session that sees one snapshot throughout (REPEATABLE READ on PostgreSQL; an SQLite read
    transaction is one already): links committed meanwhile cannot look like a broken head."""
    if engine.dialect.name == "postgresql":
        engine = engine.execution_options(isolation_level="REPEATABLE READ")
    return Session(bind=engine)


def verify(session: Session, chain: str | None = None, *, batch: int = BATCH) -> Report:
    """Recompute every link (of one chain, or all) in seq order, streamed in batches; report the first
    broken link of each broken chain. Run it in a snapshot (`snapshot_session`)."""
    started, key, report = time.perf_counter(), chain_key(), Report()
    rows = select(_EVENTS).order_by(_EVENTS.c.chain, _EVENTS.c.seq)
    if chain is not None:
        rows = rows.where(_EVENTS.c.chain == chain)
    walk: _Walk | None = None
    for part in session.execute(rows.execution_options(yield_per=batch)).mappings().partitions():
        heads = _heads(session, {r["chain"] for r in part})
        for row in part:
            if walk is None or row["chain"] != walk.chain:
                if walk is not None:
                    _finish(walk, report)
                walk = _Walk(row["chain"], head=heads.get(row["chain"]))
                report.chains += 1
            report.events += 1
            if walk.broken:
                continue
            if row["seq"] != walk.seq + 1 or row["prev_hash"] != walk.hash:
                _broken(walk, report, BrokenLink(walk.chain, row["seq"], row["id"], "link_broken"))
            elif not hmac.compare_digest(event_hash(key, row), row["hash"]):
                _broken(walk, report, BrokenLink(walk.chain, row["seq"], row["id"], "content_altered"))
            else:
                walk.seq, walk.hash, walk.event_id = row["seq"], row["hash"], row["id"]
    if walk is not None:
        _finish(walk, report)
    _headless_chains(session, chain, report)
    report.seconds = time.perf_counter() - started
    return report


def _heads(session: Session, chains: set[str]) -> dict:
    heads, names = {}, sorted(chains)
    for i in range(0, len(names), 500):
        stmt = select(_CHAINS.c.chain, _CHAINS.c.seq, _CHAINS.c.hash).where(_CHAINS.c.chain.in_(names[i:i + 500]))
        heads.update({c: (seq, h) for c, seq, h in session.execute(stmt)})
    return heads


def _broken(walk: _Walk, report: Report, link: BrokenLink) -> None:
    walk.broken = True
    report.broken.append(link)


def _finish(walk: _Walk, report: Report) -> None:
    """The chain's last link against its head (read with the batch the chain starts in)."""
    head = walk.head
    if walk.broken:
        return
    if head is None:
        _broken(walk, report, BrokenLink(walk.chain, walk.seq, walk.event_id, "head_missing"))
    elif head[0] > walk.seq:
        _broken(walk, report, BrokenLink(walk.chain, walk.seq + 1, None, "tail_missing"))
    elif head != (walk.seq, walk.hash):
        _broken(walk, report, BrokenLink(walk.chain, walk.seq, walk.event_id, "head_altered"))


def _headless_chains(session: Session, chain: str | None, report: Report) -> None:
    """Heads whose chain has no row left at all."""
    stmt = select(_CHAINS.c.chain).where(_CHAINS.c.seq > 0, ~exists().where(_EVENTS.c.chain == _CHAINS.c.chain))
    if chain is not None:
        stmt = stmt.where(_CHAINS.c.chain == chain)
    for (name,) in session.execute(stmt.order_by(_CHAINS.c.chain)):
        report.chains += 1
        report.broken.append(BrokenLink(name, 1, None, "tail_missing"))


# --- runs ------------------------------------------------------------------------------------

def save(session: Session, report: Report, *, chain: str | None = None, actor=None) -> AuditVerification:
    run = AuditVerification(started_at=report.started_at, seconds=round(report.seconds, 3), scope=chain, chains=report.chains,
                            events=report.events, broken=[b.as_dict() for b in report.broken],
                            run_by_id=actor.id if actor is not None else None)
    session.add(run)
    session.flush()
    return run


def run(engine, *, chain: str | None = None, actor=None) -> tuple[Report, AuditVerification]:
    """Verify in a snapshot, then keep the result (the admin page shows the last one)."""
    from engine.db.uow import unit_of_work

    with snapshot_session(engine) as s:
        report = verify(s, chain)
    with unit_of_work(engine) as s:
        saved = save(s, report, chain=chain, actor=actor)
    return report, saved


def last_run(session: Session) -> AuditVerification | None:
    return session.scalars(select(AuditVerification).order_by(AuditVerification.id.desc()).limit(1)).first()


def totals(session: Session) -> dict:
    """Chains and events counted (the heads hold both: no scan of the events)."""
    chains, events = session.execute(select(func.count(), func.coalesce(func.sum(_CHAINS.c.seq), 0))).one()
    return {"chains": chains, "events": int(events)}


def report_lines(report: Report) -> list[str]:
    """A plain-text summary and each chain's first broken link (for the command line)."""
    rate = report.events / report.seconds if report.seconds else 0
    lines = [f"chains: {report.chains}  events: {report.events}  broken chains: {len(report.broken)}  "
             f"({report.seconds:.2f} s, {rate:,.0f} events/s)"]
    for b in report.broken:
        lines.append(f"BROKEN {b.chain} seq={b.seq if b.seq is not None else '-'} "
                     f"event={b.event_id if b.event_id is not None else '-'}: {REASONS[b.reason][1]}")
    lines.append("OK" if report.ok else "TAMPERING DETECTED")
    return lines
