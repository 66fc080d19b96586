"""The Strawberry GraphQL schema: one type per file (issue 3)."""
