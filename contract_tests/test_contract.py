"""The contract: every operation of openapi.yaml, by every check, then stateful chains."""

from __future__ import annotations

from typing import Any

import hypothesis
import schemathesis

from contract_tests._hooks import remove_created_jobs, state

schema = schemathesis.openapi.from_dict(state.schema_document, config=state.settings)


@schema.parametrize()
def test_operation_honours_the_spec(case: schemathesis.Case[Any]) -> None:
    """Each generated request (examples, coverage, fuzzing) gets an answer the spec allows."""
    case.call_and_validate()


class StatefulChains(schema.as_state_machine()):  # type: ignore[misc]
    """Chains along the spec's links; each scenario starts and ends with this run's jobs removed,
    so that it meets the same service state when hypothesis replays it (and lanes stay free)."""

    def setup(self) -> None:
        remove_created_jobs()
        super().setup()

    def teardown(self) -> None:
        try:
            super().teardown()
        finally:
            remove_created_jobs()


TestStatefulChains = StatefulChains.TestCase
# schemathesis' pytest integration runs the state machine with its own defaults; these make the
# stateful phase follow schemathesis.toml and the suite's options like the other phases: a
# derandomized run (same seed, same chains), a quarter of the cases per operation as scenarios,
# and `phases.stateful.max-steps` steps each.
_project = state.settings.projects.default
TestStatefulChains.settings = hypothesis.settings(
    _project.get_hypothesis_settings(phase="stateful"),
    max_examples=max(10, (_project.generation.max_examples or 100) // 4),
    stateful_step_count=_project.phases.stateful.max_steps or 6,
    derandomize=True,
    database=None,
)
