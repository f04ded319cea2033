"""The shape check of primitive inputs: what a sampler and an estimator accept."""

from __future__ import annotations

from typing import Any

import pytest

from direct_access_emulator.shape import InputShapeError, check_input

QASM = 'OPENQASM 3.0;\ninclude "stdgates.inc";\nqubit[1] q;\nh q[0];\n'


def test_a_sampler_input_is_summarised() -> None:
    """A sampler input with pubs of every allowed length passes and is counted."""
    summary = check_input(
        "sampler",
        {
            "pubs": [[QASM], [QASM, [0.1]], [QASM, None, 10], [{"__type__": "QuantumCircuit"}]],
            "shots": 100,
            "version": 2,
            "options": {},
            "support_qiskit": True,
        },
    )
    assert (summary.pubs, summary.shots) == (4, 100)


def test_an_estimator_input_is_summarised() -> None:
    """Estimator pubs are [circuit, observables, parameter values?, precision?]."""
    document = {"pubs": [[QASM, "Z"], [QASM, ["X", "Y"], None, 0.01]], "version": 2}
    assert check_input("estimator", document).pubs == 2


@pytest.mark.parametrize(
    ("program_id", "document", "where"),
    [
        ("sampler", [], "JSON object"),
        ("sampler", {"pubs": [[QASM]]}, "version"),
        ("sampler", {"pubs": [[QASM]], "version": 1}, "version"),
        ("sampler", {"pubs": [], "version": 2}, "pubs"),
        ("sampler", {"pubs": [[QASM]], "version": 2, "shots": 0}, "shots"),
        ("sampler", {"pubs": [[QASM]], "version": 2, "shots": True}, "shots"),
        ("sampler", {"pubs": [QASM], "version": 2}, "pubs[0]"),
        ("sampler", {"pubs": [[QASM, None, 1, 2]], "version": 2}, "pubs[0]"),
        ("sampler", {"pubs": [["OPENQASM 2.0;"]], "version": 2}, "pubs[0][0]"),
        ("sampler", {"pubs": [[QASM, "x"]], "version": 2}, "pubs[0][1]"),
        ("sampler", {"pubs": [[QASM], [QASM, None, -1]], "version": 2}, "pubs[1][2]"),
        ("sampler", {"pubs": [[QASM]], "version": 2, "options": []}, "options"),
        ("estimator", {"pubs": [[QASM]], "version": 2}, "pubs[0]"),
        ("estimator", {"pubs": [[QASM, ""]], "version": 2}, "pubs[0][1]"),
        ("estimator", {"pubs": [[QASM, "Z", None, 0]], "version": 2}, "pubs[0][3]"),
    ],
)
def test_a_wrong_shape_is_named(program_id: str, document: Any, where: str) -> None:
    """Each wrong shape raises InputShapeError naming where it is."""
    with pytest.raises(InputShapeError, match=where.replace("[", r"\[").replace("]", r"\]")):
        check_input(program_id, document)
