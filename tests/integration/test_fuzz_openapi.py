"""Schemathesis against each service's own OpenAPI document, in process: no 5xx, and every answer as documented.

Each operation gets a bounded, derandomised run of valid and of invalid requests (hypothesis drives schemathesis'
strategies directly: its pytest loader for app fixtures does not run on this pytest), sent by a member who is
also an operator, so that the operators' paths are walked too. Every failing operation is reported, not only
the first.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from academy.registry import load_service
from shared.config import SERVICES
from shared.testing import bearer, make_runtime

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          negative_data_rejection]
CALLER = bearer("member-fuzz", "member", "operator")
EXAMPLES = settings(
    max_examples=25, derandomize=True, database=None, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
)


def fuzz(operation, mode: GenerationMode) -> None:
    @EXAMPLES
    @given(case=operation.as_strategy(generation_mode=mode, headers=CALLER))
    def run(case) -> None:
        case.call_and_validate(checks=CHECKS)

    run()


@pytest.mark.parametrize("service", SERVICES)
def test_every_answer_is_documented_and_none_is_a_server_error(service, tmp_path):
    definition = load_service(service)
    runtime = make_runtime(definition, tmp_path)
    failures = []
    try:
        schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", definition.create_app(runtime))
        for result in schema.get_all_operations():
            operation = result.ok()
            for mode in GenerationMode:
                try:
                    fuzz(operation, mode)
                except Unsatisfiable:
                    assert mode == GenerationMode.NEGATIVE, f"{operation.label}: no valid request can be generated"
                except Exception as failure:  # noqa: BLE001 - collected, so that every operation is reported
                    failures.append(f"{operation.label} ({mode}): {failure}")
    finally:
        runtime.close()

    assert not failures, "\n\n".join(failures)
