import pytest

from engine.domain.lifecycle import (
    LEGAL_FROM,
    OUTCOMES,
    PENDING_STATE,
    PROCEDURE_LABELS,
    REFUSAL_MESSAGES,
    RESULT_STATE,
    STATE_LABELS,
    CraneFacts,
    next_state,
    refusal,
)

ALL_PROCEDURES = sorted(LEGAL_FROM)
NOTICES_AND_REGISTRATION = ["installation_notice", "jacking_notice", "use_registration"]


def _run(state, procedure, *outcomes):
    assert refusal(procedure, CraneFacts(state)) is None, (procedure, state)
    for outcome in outcomes:
        state = next_state(procedure, outcome, state)
    return state


def test_happy_path_from_draft_to_cancelled_through_every_procedure():
    visited, used = [], set()
    state = "draft"
    for step in [
        ("crane_registration", "submitted", "returned"),
        ("crane_registration", "submitted", "approved"),
        ("installation_notice", "approved"),
        ("self_inspection", "approved"),
        ("inspection_report", "approved"),
        ("acceptance", "approved"),
        ("use_registration", "submitted", "approved"),
        ("jacking_notice", "approved"),
        ("dismantling_notice", "submitted", "approved"),
        ("record_cancellation", "approved"),
    ]:
        state = _run(state, *step)
        visited.append(state)
        used.add(step[0])
    assert visited == [
        "returned", "filed", "install_notified", "self_inspected", "inspected",
        "accepted", "in_use", "in_use", "filed", "cancelled",
    ]
    assert used == set(ALL_PROCEDURES) == set(PROCEDURE_LABELS)


def test_filed_crane_can_go_through_a_second_install_cycle():
    state = "filed"
    for procedure in ["installation_notice", "self_inspection", "inspection_report", "acceptance"]:
        state = _run(state, procedure, "approved")
    state = _run(state, "use_registration", "submitted", "approved")
    assert _run(state, "dismantling_notice", "submitted", "approved") == "filed"


def test_every_state_in_the_tables_is_known_and_every_state_is_reachable():
    referenced = set().union(*LEGAL_FROM.values()) | set(RESULT_STATE.values())
    assert referenced <= set(STATE_LABELS)
    assert set(RESULT_STATE.values()) | {"draft"} == set(STATE_LABELS)
    assert {proc for proc, _ in RESULT_STATE} == set(LEGAL_FROM)
    assert {outcome for _, outcome in RESULT_STATE} <= set(OUTCOMES)
    assert set(PENDING_STATE.values()) <= set(STATE_LABELS)


def test_existing_database_status_values_are_kept():
    legacy = {"draft", "pending_review", "returned", "filed", "rejected", "in_use", "cancelled"}
    assert legacy <= set(STATE_LABELS)


def test_every_label_and_refusal_code_has_chinese_and_english_text():
    expected_codes = {
        "illegal_state", "cancelled", "stop_use_order", "open_major_hazard",
        "installed_elsewhere", "over_age_without_assessment", "past_design_life",
    }
    assert set(REFUSAL_MESSAGES) == expected_codes
    for table in (REFUSAL_MESSAGES, STATE_LABELS, PROCEDURE_LABELS):
        for zh, en in table.values():
            assert zh and en and zh != en
            assert any("\u4e00" <= ch <= "\u9fff" for ch in zh)
    assert REFUSAL_MESSAGES["cancelled"][0] == "该设备已注销，不能办理此业务。"


def test_crane_registration_allowed_from_draft_returned_and_rejected_only():
    for state in ["draft", "returned", "rejected"]:
        assert refusal("crane_registration", CraneFacts(state)) is None
    for state in ["pending_review", "filed", "in_use"]:
        assert refusal("crane_registration", CraneFacts(state)) == "illegal_state"


def test_refiled_rejected_crane_returns_to_review():
    assert next_state("crane_registration", "submitted", "rejected") == "pending_review"
    assert next_state("crane_registration", "rejected", "pending_review") == "rejected"


def test_installation_allowed_from_filed():
    assert refusal("installation_notice", CraneFacts("filed")) is None


@pytest.mark.parametrize(
    "state", ["install_notified", "self_inspected", "accepted", "in_use", "dismantle_notified"]
)
def test_installation_refused_while_still_installed(state):
    assert refusal("installation_notice", CraneFacts(state)) == "installed_elsewhere"


def test_installation_refused_when_another_project_still_has_it():
    facts = CraneFacts("filed", installed_elsewhere=True)
    assert refusal("installation_notice", facts) == "installed_elsewhere"


@pytest.mark.parametrize(
    "state", ["filed", "install_notified", "self_inspected", "inspected", "in_use"]
)
def test_use_registration_refused_before_acceptance(state):
    assert refusal("use_registration", CraneFacts(state)) == "illegal_state"


def test_use_registration_allowed_after_acceptance_and_return_keeps_it_accepted():
    assert refusal("use_registration", CraneFacts("accepted")) is None
    assert next_state("use_registration", "returned", "registration_pending") == "accepted"


@pytest.mark.parametrize(
    "state", ["install_notified", "accepted", "registration_pending", "in_use", "draft"]
)
def test_cancellation_refused_unless_idle(state):
    assert refusal("record_cancellation", CraneFacts(state)) == "illegal_state"


def test_cancellation_allowed_when_idle_even_past_design_life():
    assert refusal("record_cancellation", CraneFacts("filed", past_design_life=True)) is None


@pytest.mark.parametrize("procedure", ALL_PROCEDURES)
def test_cancelled_crane_refused_for_every_procedure(procedure):
    facts = CraneFacts("cancelled", stop_use_order=True, past_design_life=True)
    assert refusal(procedure, facts) == "cancelled"


@pytest.mark.parametrize(
    "procedure,state",
    [("installation_notice", "filed"), ("jacking_notice", "in_use"),
     ("use_registration", "accepted")],
)
def test_stop_use_order_and_major_hazard_block_notices_and_registration(procedure, state):
    assert refusal(procedure, CraneFacts(state, stop_use_order=True)) == "stop_use_order"
    assert refusal(procedure, CraneFacts(state, open_major_hazard=True)) == "open_major_hazard"
    both = CraneFacts(state, stop_use_order=True, open_major_hazard=True)
    assert refusal(procedure, both) == "stop_use_order"


def test_stop_use_order_does_not_block_dismantling():
    facts = CraneFacts("in_use", stop_use_order=True, open_major_hazard=True)
    assert refusal("dismantling_notice", facts) is None


@pytest.mark.parametrize(
    "state", ["install_notified", "self_inspected", "inspected", "accepted", "in_use"]
)
def test_dismantling_allowed_from_every_installed_state(state):
    assert refusal("dismantling_notice", CraneFacts(state)) is None
    pending = next_state("dismantling_notice", "submitted", state)
    assert pending == "dismantle_notified"
    assert next_state("dismantling_notice", "approved", pending) == "filed"


def test_dismantling_refused_while_registration_under_review_or_idle():
    assert refusal("dismantling_notice", CraneFacts("registration_pending")) == "illegal_state"
    assert refusal("dismantling_notice", CraneFacts("filed")) == "illegal_state"


@pytest.mark.parametrize(
    "procedure,state",
    [("installation_notice", "filed"), ("jacking_notice", "in_use"),
     ("use_registration", "accepted")],
)
def test_over_age_needs_a_valid_assessment(procedure, state):
    over_age = CraneFacts(state, over_age=True)
    assert refusal(procedure, over_age) == "over_age_without_assessment"
    assessed = CraneFacts(state, over_age=True, valid_assessment=True)
    assert refusal(procedure, assessed) is None


def test_past_design_life_blocks_even_with_assessment():
    facts = CraneFacts("filed", over_age=True, valid_assessment=True, past_design_life=True)
    assert refusal("installation_notice", facts) == "past_design_life"
    assert refusal("crane_registration", CraneFacts("draft", past_design_life=True)) == (
        "past_design_life"
    )


def test_blocking_facts_checked_before_state_legality():
    # use registration from in_use is illegal, but the stop order is reported first
    assert refusal("use_registration", CraneFacts("in_use", stop_use_order=True)) == (
        "stop_use_order"
    )
    assert refusal("installation_notice", CraneFacts("in_use", over_age=True)) == (
        "over_age_without_assessment"
    )


def test_failed_technical_steps_leave_the_step_to_repeat():
    assert next_state("self_inspection", "rejected", "install_notified") == "install_notified"
    assert next_state("inspection_report", "rejected", "self_inspected") == "self_inspected"
    assert next_state("acceptance", "rejected", "inspected") == "inspected"


@pytest.mark.parametrize(
    "procedure,outcome,current",
    [
        ("installation_notice", "rejected", "filed"),  # notices have no rejection
        ("crane_registration", "approved", "draft"),  # decision needs the pending state
        ("use_registration", "approved", "accepted"),
        ("installation_notice", "approved", "in_use"),
        ("record_cancellation", "approved", "in_use"),
        ("acceptance", "submitted", "inspected"),
        ("crane_registration", "approved", "no_such_state"),
        ("no_such_procedure", "approved", "filed"),
    ],
)
def test_next_state_rejects_unknown_combinations(procedure, outcome, current):
    with pytest.raises(ValueError):
        next_state(procedure, outcome, current)


def test_refusal_rejects_unknown_procedure_or_state():
    with pytest.raises(ValueError):
        refusal("demolition", CraneFacts("filed"))
    with pytest.raises(ValueError):
        refusal("installation_notice", CraneFacts("scrapped"))


def test_crane_facts_is_immutable():
    facts = CraneFacts("filed")
    with pytest.raises(AttributeError):
        facts.state = "in_use"
