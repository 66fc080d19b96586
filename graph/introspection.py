"""Introspection, switchable off per deployment (``AGENTTRACE_GRAPHQL_INTROSPECTION``).

Off, a query asking for ``__schema`` or ``__type`` fails validation, before anything
runs, with graphql-core's message ("GraphQL introspection has been disabled, but the
requested query contained the field '__schema'"). ``__typename`` is not introspection
of the schema and keeps working: clients such as Apollo add it to every selection.

The schema is built once for all apps, so the switch is read from each operation's
context (the settings of the app serving it) instead of choosing extensions at import.
"""

from __future__ import annotations

from collections.abc import Iterator

from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.extensions import SchemaExtension

from graph.context import Context


class IntrospectionSwitch(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        context = self.execution_context.context
        if isinstance(context, Context) and not context.settings.graphql_introspection:
            self.execution_context.validation_rules = (
                *self.execution_context.validation_rules,
                NoSchemaIntrospectionCustomRule,
            )
        yield
