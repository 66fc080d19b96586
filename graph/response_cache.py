"""A response cache for reading one trace over GraphQL.

Executing a trace view costs far more than its answer's bytes: a dozen fields of each of
hundreds of spans go through strawberry and graphql-core one by one. A query that reads
only one trace (``project { trace(traceId: ...) { ...its fields, spans, tree } }``) has
an answer that depends on nothing but that trace, so it is cached in the read cache
(cache/store.py) under the trace's key and a digest of the document, operation and
variables, and served again without executing.

- Never stale: the entry lives under the trace key's *generation*, read before the
  database. The worker (and the trace mutations) invalidate the trace key after they
  commit, which ends that generation: an entry cached by a read that raced the write is
  under the ended one and is never found. While a trace is being written nothing is
  cached (as for REST's ``GET /api/v1/traces/{id}``).
- The same checks as executing it: the document was validated (depth, aliases, cost)
  and the caller charged for its cost (graph/rate_limits.py) before this runs; a hit is
  served only to a caller who may read the project, exactly the project the query would
  read. Anything else (no credentials, another project, a malformed id) executes as
  usual and gets its usual error.
- Only documents whose every field is one trace's own data are cached: no annotations,
  no project fields besides the trace, nothing about the caller (``cacheable_trace_read``).
  Which documents qualify is decided once per document.
- Without a shared cache (an API without Redis: NullCache) nothing is cached.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import orjson
from graphql import (
    DocumentNode,
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    StringValueNode,
    ValueNode,
    VariableNode,
    get_named_type,
    get_operation_ast,
)
from strawberry import relay
from strawberry.extensions import SchemaExtension

from access.permissions import Permission
from agenttrace.errors import UserError
from cache.keys import graphql_response_key, trace_key
from graph.context import Context
from graph.ids import parse_trace_id, parse_uuid

RESPONSE_TTL_S = 30.0
"""As long as REST keeps a trace (rest/traces.py)."""
GENERATION_TTL_S = 300.0
"""A trace's generation outlives its entries; when it ends, a new one begins."""

TRACE_TYPES = frozenset({"Trace", "Span", "SpanTreeNode"})
"""Object types whose fields are all the trace's own data, except ``NOT_TRACE_DATA``."""
NOT_TRACE_DATA = frozenset({("Trace", "annotations"), ("Span", "annotations")})
"""Annotations are written without invalidating the trace's key."""
META_FIELDS = frozenset({"__typename"})


@dataclass(frozen=True, slots=True)
class TraceRead:
    """Where a cacheable document names its project and its trace."""

    project_id: ValueNode | None
    """``project(id: ...)``; None when it reads the caller's only project."""
    trace_id: ValueNode


def _value(node: ValueNode | None, variables: Mapping[str, Any]) -> str | None:
    if isinstance(node, StringValueNode):
        return node.value
    if isinstance(node, VariableNode):
        value = variables.get(node.name.value)
        return value if isinstance(value, str) else None
    return None


def _argument(field: FieldNode, name: str) -> ValueNode | None:
    return next((a.value for a in field.arguments or () if a.name.value == name), None)


class _Walk:
    """Collects one operation's fields type by type, following fragments."""

    def __init__(self, schema: GraphQLSchema, document: DocumentNode) -> None:
        self.schema = schema
        self.fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }

    def fields(
        self, selections: SelectionSetNode | None, parent: GraphQLNamedType
    ) -> list[tuple[FieldNode, GraphQLNamedType]] | None:
        """Every field selected on ``parent`` (with its parent type); None when a fragment
        is on another type or unknown."""
        found: list[tuple[FieldNode, GraphQLNamedType]] = []
        for selection in selections.selections if selections else ():
            if isinstance(selection, FieldNode):
                found.append((selection, parent))
                continue
            if isinstance(selection, InlineFragmentNode):
                condition, inner = selection.type_condition, selection.selection_set
            elif isinstance(selection, FragmentSpreadNode):
                fragment = self.fragments.get(selection.name.value)
                if fragment is None:
                    return None
                condition, inner = fragment.type_condition, fragment.selection_set
            else:
                return None
            if condition is not None and condition.name.value != parent.name:
                return None
            more = self.fields(inner, parent)
            if more is None:
                return None
            found += more
        return found

    def child_type(self, field: FieldNode, parent: GraphQLNamedType) -> GraphQLNamedType | None:
        if not isinstance(parent, GraphQLObjectType):
            return None
        definition = parent.fields.get(field.name.value)
        return None if definition is None else get_named_type(definition.type)

    def only_trace_data(
        self, selections: SelectionSetNode | None, parent: GraphQLNamedType
    ) -> bool:
        fields = self.fields(selections, parent)
        if fields is None:
            return False
        for field, owner in fields:
            name = field.name.value
            if name in META_FIELDS:
                continue
            if (owner.name, name) in NOT_TRACE_DATA:
                return False
            child = self.child_type(field, owner)
            if child is None:
                return False
            inside = child.name in TRACE_TYPES and self.only_trace_data(field.selection_set, child)
            if isinstance(child, GraphQLObjectType) and not inside:
                return False
        return True

    def single(
        self, selections: SelectionSetNode | None, parent: GraphQLNamedType, name: str
    ) -> FieldNode | None:
        """The one field ``name`` when it is all ``selections`` hold besides meta fields."""
        fields = self.fields(selections, parent)
        if fields is None:
            return None
        named = [f for f, _ in fields if f.name.value not in META_FIELDS]
        return named[0] if len(named) == 1 and named[0].name.value == name else None


@lru_cache(maxsize=256)
def cacheable_trace_read(
    schema: GraphQLSchema, document: DocumentNode, operation_name: str | None
) -> TraceRead | None:
    """Where the operation names its project and trace, if it is a query that reads one
    trace's own data and nothing else; None otherwise. Remembered per document."""
    operation = get_operation_ast(document, operation_name)
    if not isinstance(operation, OperationDefinitionNode):
        return None
    if operation.operation != OperationType.QUERY:
        return None
    walk = _Walk(schema, document)
    query = schema.query_type
    project = walk.single(operation.selection_set, query, "project") if query else None
    project_type = walk.child_type(project, query) if project and query else None
    if project is None or project_type is None:
        return None
    trace = walk.single(project.selection_set, project_type, "trace")
    trace_type = walk.child_type(trace, project_type) if trace else None
    if trace is None or trace_type is None or trace_type.name != "Trace":
        return None
    if not walk.only_trace_data(trace.selection_set, trace_type):
        return None
    trace_id = _argument(trace, "traceId")
    if trace_id is None:
        return None
    return TraceRead(_argument(project, "id"), trace_id)


def _digest(query: str | None, operation_name: str | None, variables: Any) -> str:
    named = orjson.dumps([query, operation_name, variables], option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(named).hexdigest()[:32]


MAX_CACHED_BYTES = 1_000_000
"""Answers larger than this (a trace of thousands of spans with payloads) are not cached."""


class ResponseCache(SchemaExtension):
    async def on_execute(self) -> AsyncIterator[None]:
        key = await self._key()
        if key is None:
            yield
            return
        execution = self.execution_context
        cached = await execution.context.cache.get("graphql", key)
        if cached is not None:
            # Executing is skipped when a result is set. The view encodes the Fragment's
            # bytes as they are (graph/router.py encodes with orjson).
            execution.result = ExecutionResult(data=orjson.Fragment(cached))  # type: ignore[arg-type]
            yield
            return
        yield
        result = execution.result
        if isinstance(result, ExecutionResult) and not result.errors and result.data is not None:
            try:
                encoded = orjson.dumps(result.data)
            except TypeError:
                return  # an integer past 64 bits (JSON payloads may hold one): not cached
            # Large answers are not kept: one caller varying its variables must not be
            # able to fill the Redis the rate limits share with copies of a large trace.
            if len(encoded) <= MAX_CACHED_BYTES:
                await execution.context.cache.add(key, encoded, RESPONSE_TTL_S)

    async def _key(self) -> str | None:
        """The cache key of this operation's answer, read from the trace's current
        generation; None when it is not to be cached (or the caller may not read)."""
        execution = self.execution_context
        context = execution.context
        document = execution.graphql_document
        if not isinstance(context, Context) or document is None:
            return None
        if execution.query is None:
            return None
        read = cacheable_trace_read(execution.schema._schema, document, execution.operation_name)
        if read is None:
            return None
        variables = execution.variables or {}
        try:
            project = await self._project(context, _value(read.project_id, variables), read)
            trace_id = _value(read.trace_id, variables)
            if project is None or trace_id is None:
                return None
            trace = trace_key(project, parse_trace_id(trace_id))
        except (UserError, ValueError):
            return None  # executing says what is wrong (ValueError: a malformed global id)
        generation = await context.cache.generation(trace, GENERATION_TTL_S)
        if generation is None:
            return None
        digest = _digest(execution.query, execution.operation_name, variables)
        return graphql_response_key(trace, generation, digest)

    @staticmethod
    async def _project(context: Context, given: str | None, read: TraceRead) -> uuid.UUID | None:
        """The project ``Query.project`` would read, checked as it checks it (UserError
        when the caller may not read it)."""
        if read.project_id is None:
            return await context.only_project(Permission.READ_TRACES)
        if given is None:
            return None
        node = relay.GlobalID.from_id(given)
        if node.type_name != "Project":
            return None
        return await context.project_for(
            parse_uuid(node.node_id, "project"), Permission.READ_TRACES
        )


response_cache: Callable[[], ResponseCache] = ResponseCache
