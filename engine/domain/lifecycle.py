"""Crane lifecycle state machine (domain.md §2) and start-of-procedure refusals (§7.4).

A procedure *starts* from a state in LEGAL_FROM; ``refusal`` says whether it may.
备案, 使用登记 and 拆卸告知 have a "submitted" outcome into a pending state (PENDING_STATE),
from which their decision is taken. Notices have no "rejected" outcome (§2.2: 已告知 or
退回补正); for 自检/检测/验收 "rejected" means 不合格 and the step is repeated.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

DRAFT, PENDING_REVIEW, RETURNED, FILED, REJECTED = (
    "draft", "pending_review", "returned", "filed", "rejected")
INSTALL_NOTIFIED, SELF_INSPECTED, INSPECTED, ACCEPTED = (
    "install_notified", "self_inspected", "inspected", "accepted")
REGISTRATION_PENDING, IN_USE, DISMANTLE_NOTIFIED, CANCELLED = (
    "registration_pending", "in_use", "dismantle_notified", "cancelled")

STATE_LABELS: Mapping[str, tuple[str, str]] = MappingProxyType({
    DRAFT: ("草稿", "Draft"),
    PENDING_REVIEW: ("备案待审", "Filing under review"),
    RETURNED: ("退回补正", "Returned for correction"),
    FILED: ("已备案（闲置）", "Filed (idle)"),
    REJECTED: ("不予备案", "Filing refused"),
    INSTALL_NOTIFIED: ("已告知（安装中）", "Installation notified (installing)"),
    SELF_INSPECTED: ("自检合格", "Self-inspection passed"),
    INSPECTED: ("检测合格", "Inspection passed"),
    ACCEPTED: ("验收合格", "Acceptance passed"),
    REGISTRATION_PENDING: ("登记待审", "Use registration under review"),
    IN_USE: ("在用", "In use"),
    DISMANTLE_NOTIFIED: ("拆卸告知", "Dismantling notified"),
    CANCELLED: ("备案注销", "Record cancelled"),
})

CRANE_REGISTRATION, INSTALLATION_NOTICE, SELF_INSPECTION = (
    "crane_registration", "installation_notice", "self_inspection")
INSPECTION_REPORT, ACCEPTANCE, USE_REGISTRATION = (
    "inspection_report", "acceptance", "use_registration")
DISMANTLING_NOTICE, RECORD_CANCELLATION, JACKING_NOTICE = (
    "dismantling_notice", "record_cancellation", "jacking_notice")

PROCEDURE_LABELS: Mapping[str, tuple[str, str]] = MappingProxyType({
    CRANE_REGISTRATION: ("产权备案", "Record filing"),
    INSTALLATION_NOTICE: ("安装告知", "Installation notice"),
    SELF_INSPECTION: ("安装自检", "Installer self-inspection"),
    INSPECTION_REPORT: ("检验检测", "Inspection report"),
    ACCEPTANCE: ("安装验收", "Acceptance"),
    USE_REGISTRATION: ("使用登记", "Use registration"),
    DISMANTLING_NOTICE: ("拆卸告知", "Dismantling notice"),
    RECORD_CANCELLATION: ("备案注销", "Record cancellation"),
    JACKING_NOTICE: ("顶升/附着告知", "Jacking / anchorage notice"),
})

SUBMITTED, APPROVED, OUTCOME_RETURNED, OUTCOME_REJECTED = (
    "submitted", "approved", "returned", "rejected")
OUTCOMES = (SUBMITTED, APPROVED, OUTCOME_RETURNED, OUTCOME_REJECTED)

# States in which the crane stands on a site (installation notified up to in use).
INSTALLED_STATES = frozenset({INSTALL_NOTIFIED, SELF_INSPECTED, INSPECTED, ACCEPTED, IN_USE})

LEGAL_FROM: Mapping[str, frozenset[str]] = MappingProxyType({
    CRANE_REGISTRATION: frozenset({DRAFT, RETURNED, REJECTED}),
    INSTALLATION_NOTICE: frozenset({FILED}),
    SELF_INSPECTION: frozenset({INSTALL_NOTIFIED}),
    INSPECTION_REPORT: frozenset({SELF_INSPECTED}),
    ACCEPTANCE: frozenset({INSPECTED}),
    USE_REGISTRATION: frozenset({ACCEPTED}),
    JACKING_NOTICE: frozenset({IN_USE}),
    # Any installed state, so a crane that fails 自检/检测/验收 can still be removed;
    # dismantle_notified allows re-submission after 退回补正.
    DISMANTLING_NOTICE: INSTALLED_STATES | {DISMANTLE_NOTIFIED},
    RECORD_CANCELLATION: frozenset({FILED}),
})

RESULT_STATE: Mapping[tuple[str, str], str] = MappingProxyType({
    (CRANE_REGISTRATION, SUBMITTED): PENDING_REVIEW,
    (CRANE_REGISTRATION, APPROVED): FILED,
    (CRANE_REGISTRATION, OUTCOME_RETURNED): RETURNED,
    (CRANE_REGISTRATION, OUTCOME_REJECTED): REJECTED,
    (INSTALLATION_NOTICE, APPROVED): INSTALL_NOTIFIED,
    (INSTALLATION_NOTICE, OUTCOME_RETURNED): FILED,
    (SELF_INSPECTION, APPROVED): SELF_INSPECTED,
    (SELF_INSPECTION, OUTCOME_REJECTED): INSTALL_NOTIFIED,
    (INSPECTION_REPORT, APPROVED): INSPECTED,
    (INSPECTION_REPORT, OUTCOME_REJECTED): SELF_INSPECTED,
    (ACCEPTANCE, APPROVED): ACCEPTED,
    (ACCEPTANCE, OUTCOME_REJECTED): INSPECTED,
    (USE_REGISTRATION, SUBMITTED): REGISTRATION_PENDING,
    (USE_REGISTRATION, APPROVED): IN_USE,
    (USE_REGISTRATION, OUTCOME_RETURNED): ACCEPTED,
    (USE_REGISTRATION, OUTCOME_REJECTED): ACCEPTED,
    # The crane stays registered; the Art 20 re-acceptance is kept on the jacking record.
    (JACKING_NOTICE, APPROVED): IN_USE,
    (JACKING_NOTICE, OUTCOME_RETURNED): IN_USE,
    # Lodging the notice cancels the use registration (76号 Art 18), so no way back to in_use.
    (DISMANTLING_NOTICE, SUBMITTED): DISMANTLE_NOTIFIED,
    (DISMANTLING_NOTICE, APPROVED): FILED,
    (DISMANTLING_NOTICE, OUTCOME_RETURNED): DISMANTLE_NOTIFIED,
    (RECORD_CANCELLATION, APPROVED): CANCELLED,
    (RECORD_CANCELLATION, OUTCOME_RETURNED): FILED,
    (RECORD_CANCELLATION, OUTCOME_REJECTED): FILED,
})

# State a procedure waits in between "submitted" and its decision.
PENDING_STATE: Mapping[str, str] = MappingProxyType(
    {proc: state for (proc, outcome), state in RESULT_STATE.items() if outcome == SUBMITTED})

# §7.4 blocking states: a stop order or open major hazard blocks 告知 and 登记.
# Dismantling is exempt: removing the crane is often the remedy the order demands.
BLOCKED_BY_ORDERS = frozenset({INSTALLATION_NOTICE, JACKING_NOTICE, USE_REGISTRATION})
# Past the service life: the crane may only be dismantled and cancelled (Art 7, 76号 Art 10).
BLOCKED_PAST_LIFE = BLOCKED_BY_ORDERS | {CRANE_REGISTRATION}
AGE_CHECKED = BLOCKED_BY_ORDERS

REFUSAL_MESSAGES: Mapping[str, tuple[str, str]] = MappingProxyType({
    "illegal_state": ("该设备当前状态不能办理此业务。",
                      "This procedure cannot be started in the crane's current state."),
    "cancelled": ("该设备已注销，不能办理此业务。",
                  "This crane's record has been cancelled; no procedure can be started."),
    "stop_use_order": ("该设备已被责令停止使用，解除前不能办理告知或使用登记。",
                       "A stop-use order is in force; notices and use registration are "
                       "blocked until it is lifted."),
    "open_major_hazard": ("该设备存在未销项的重大事故隐患，整改复查合格前不能办理告知或使用登记。",
                          "The crane has an open major hazard; notices and use registration "
                          "are blocked until it is closed."),
    "installed_elsewhere": ("该设备尚未拆卸，仍在工程上安装或使用，须先办理拆卸告知。",
                            "The crane is still installed on a project; file a dismantling "
                            "notice first."),
    "over_age_without_assessment": ("该设备已超过安全评估年限，须提供有效期内结论为合格的安全评估报告。",
                                    "The crane is past its safety-assessment age; a valid "
                                    "assessment concluding 'pass' is required."),
    "past_design_life": ("该设备已超过规定的使用年限，应报废并注销备案。",
                         "The crane is past its service life; it must be scrapped and its "
                         "record cancelled."),
})


@dataclass(frozen=True)
class CraneFacts:
    """What ``refusal`` needs to know about a crane on the action date."""
    state: str
    stop_use_order: bool = False
    open_major_hazard: bool = False
    installed_elsewhere: bool = False
    over_age: bool = False
    valid_assessment: bool = False
    past_design_life: bool = False


def _check_known(procedure: str, state: str) -> None:
    if procedure not in LEGAL_FROM:
        raise ValueError(f"unknown procedure: {procedure!r}")
    if state not in STATE_LABELS:
        raise ValueError(f"unknown state: {state!r}")


def refusal(procedure: str, facts: CraneFacts) -> str | None:
    """None if ``procedure`` may start, else a REFUSAL_MESSAGES code (ValueError if unknown)."""
    _check_known(procedure, facts.state)
    if facts.state == CANCELLED:
        return "cancelled"
    if procedure in BLOCKED_BY_ORDERS:
        if facts.stop_use_order:
            return "stop_use_order"
        if facts.open_major_hazard:
            return "open_major_hazard"
    if procedure in BLOCKED_PAST_LIFE and facts.past_design_life:
        return "past_design_life"
    if procedure in AGE_CHECKED and facts.over_age and not facts.valid_assessment:
        return "over_age_without_assessment"
    if procedure == INSTALLATION_NOTICE and (
            facts.installed_elsewhere or facts.state in INSTALLED_STATES | {DISMANTLE_NOTIFIED}):
        return "installed_elsewhere"
    if facts.state not in LEGAL_FROM[procedure]:
        return "illegal_state"
    return None


def next_state(procedure: str, outcome: str, current: str) -> str:
    """State after ``outcome`` of ``procedure`` taken in state ``current``.

    "submitted" (and every outcome of a procedure without a pending state) must come from
    LEGAL_FROM; decisions of a procedure with a pending state must come from that state.
    Raises ValueError for any other combination.
    """
    _check_known(procedure, current)
    result = RESULT_STATE.get((procedure, outcome))
    if result is None:
        raise ValueError(f"{procedure} has no outcome {outcome!r}")
    pending = PENDING_STATE.get(procedure)
    allowed = LEGAL_FROM[procedure] if outcome == SUBMITTED or pending is None else {pending}
    if current not in allowed:
        raise ValueError(f"{procedure} cannot end {outcome!r} from state {current!r}")
    return result
