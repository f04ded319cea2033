"""The contract: every operation of openapi.yaml, by every check, then stateful chains."""

from __future__ import annotations

from typing import Any

import schemathesis

from contract_tests._hooks import state

schema = schemathesis.openapi.from_dict(state.schema_document, config=state.settings)


@schema.parametrize()
def test_operation_honours_the_spec(case: schemathesis.Case[Any]) -> None:
    """Each generated request (examples, coverage, fuzzing) gets an answer the spec allows."""
    case.call_and_validate()


TestStatefulChains = schema.as_state_machine().TestCase
