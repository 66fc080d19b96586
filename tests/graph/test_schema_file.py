"""schema.graphql is a product: integrators and the dashboard build against it."""

from __future__ import annotations

from graph.sdl import SDL_PATH, sdl


def test_committed_schema_graphql_is_current() -> None:
    assert SDL_PATH.exists(), "schema.graphql is missing: run `python -m graph.sdl`"
    assert SDL_PATH.read_text() == sdl(), (
        "schema.graphql is out of date with the code: run `python -m graph.sdl` and commit it"
    )
