"""Every service's HTTP layer is a thin translator: smorest serialises, commands query, nothing else."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from shared.config import SERVICES

ROOT = Path(__file__).resolve().parents[2]


def api_module(name: str) -> ast.Module:
    return ast.parse((ROOT / "services" / name / "api.py").read_text())


def imported_modules(tree: ast.Module) -> set[str]:
    names = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    names |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
    return names


def http_methods(tree: ast.Module):
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef):
            for method in node.body:
                if isinstance(method, ast.FunctionDef) and method.name in ("get", "post", "put", "patch", "delete"):
                    yield f"{node.name}.{method.name}", method


def decorator_names(method: ast.FunctionDef) -> set[str]:
    names = set()
    for decorator in method.decorator_list:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        if isinstance(target, ast.Attribute):
            names.add(target.attr)
        elif isinstance(target, ast.Name):
            names.add(target.id)
    return names


@pytest.mark.parametrize("name", SERVICES)
def test_views_leave_queries_to_commands(name):
    sql = {module for module in imported_modules(api_module(name)) if module.split(".")[0] == "sqlalchemy"}
    assert not sql, f"services/{name}/api.py queries the database itself; move it into commands.py"


@pytest.mark.parametrize("name", SERVICES)
def test_every_endpoint_answers_through_a_response_schema(name):
    tree = api_module(name)
    assert "json_response" not in ast.unparse(tree), "let @blp.response serialise the answer"
    for label, method in http_methods(tree):
        assert "response" in decorator_names(method), f"{name} {label} has no @blp.response"


def test_the_booking_post_takes_an_idempotency_key():
    methods = dict(http_methods(api_module("booking")))
    assert "idempotent" in decorator_names(methods["Bookings.post"])
