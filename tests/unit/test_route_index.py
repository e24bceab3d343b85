"""The body gate's route lookup (web/limits_body.py RouteIndex) answers what a scan of the
whole route table in order answers, for every template and for paths with parameters."""

from __future__ import annotations

import pytest
from fastapi import FastAPI

from mynapoint.web.limits_body import RouteIndex, route_table


def _app() -> FastAPI:
    app = FastAPI()

    @app.get("/items/{item_id}")
    def item(item_id: str) -> str:
        return item_id

    @app.post("/items/latest")
    def latest() -> str:
        return "latest"

    @app.get("/items")
    def items() -> list[str]:
        return []

    @app.put("/items/{item_id}/tags/{tag}")
    def tag(item_id: str, tag: str) -> str:
        return item_id + tag

    @app.get("/files/{name:path}")
    def file(name: str) -> str:
        return name

    return app


def _scan(table: list, path: str) -> tuple:
    return tuple(route for route in table if route.matches(path))


PATHS = (
    "/items",
    "/items/latest",
    "/items/42",
    "/items/42/tags/red",
    "/items/42/tags",
    "/files/a/b/c.txt",
    "/nowhere",
    "/items/",
)


@pytest.mark.parametrize("path", PATHS)
def test_the_index_finds_the_candidates_a_full_scan_finds_in_the_same_order(path):
    table = route_table(_app())
    assert RouteIndex.of(table).candidates(path) == _scan(table, path)


def test_an_exact_path_also_finds_the_routes_with_parameters_that_match_it():
    table = route_table(_app())
    found = RouteIndex.of(table).candidates("/items/latest")
    assert [route.template for route in found] == ["/items/{item_id}", "/items/latest"]
