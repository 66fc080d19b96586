"""Writes the schema's SDL to ``schema.graphql``, the file third parties and the
dashboard's type generator read: ``python -m graph.sdl``. A test keeps it current."""

from __future__ import annotations

from pathlib import Path

from graph.schema import schema

SDL_PATH = Path(__file__).resolve().parent.parent / "schema.graphql"


def sdl() -> str:
    return schema.as_str() + "\n"


def main() -> None:
    SDL_PATH.write_text(sdl())
    print(f"wrote {SDL_PATH}")


if __name__ == "__main__":
    main()
