"""A validation rule that refuses queries whose worst-case size is too large.

Depth and alias limits (strawberry's extensions) do not stop a shallow query that asks
for 200 traces x their spans x each span's children x ... This rule estimates, before
anything runs, how many field values a query could produce: each field costs 1 per
parent object, and a list field multiplies what is under it by its page size (`first`
or `limit`; the largest allowed when given by a variable or below 1) or by a guess for
unpaged lists. The same estimate (``operation_cost``) is what the operation is charged
against its caller's cost budget (graph/rate_limits.py).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationRule,
    get_named_type,
    get_operation_ast,
)

from resolvers.analytics import MAX_LIMIT as MAX_ANALYTICS_LIMIT
from resolvers.paging import MAX_PAGE_SIZE
from resolvers.projects import MAX_GROUPS

MAX_COST = 250_000
UNPAGED_LIST_GUESS = 10
"""Span lists of a trace, children, descendants: unpaged, so assume ten."""
SIZE_ARGUMENTS = {"first": MAX_PAGE_SIZE, "limit": max(MAX_GROUPS, MAX_ANALYTICS_LIMIT)}
"""The size arguments, each with the largest value any field accepts for it."""
CONNECTION_LISTS = frozenset({"edges", "nodes"})
"""A connection's lists are already counted by its `first`."""


def _is_list(field_type: Any) -> bool:
    if isinstance(field_type, GraphQLNonNull):
        field_type = field_type.of_type
    return isinstance(field_type, GraphQLList)


def _page_size(node: FieldNode) -> int | None:
    for argument in node.arguments or ():
        worst = SIZE_ARGUMENTS.get(argument.name.value)
        if worst is None:
            continue
        value = argument.value
        # A variable's value is unknown at validation: assume the worst. So is the size
        # a literal below 1 asks for: the resolver refuses it, but a multiplier of 0 or
        # less here would let any amount of nesting under it through.
        size = int(value.value) if isinstance(value, IntValueNode) else worst
        return size if size >= 1 else worst
    return None


class CostEstimator:
    """Walks one operation's selections; ``fragment`` looks a fragment up by name."""

    def __init__(
        self,
        schema: GraphQLSchema,
        fragment: Callable[[str], FragmentDefinitionNode | None],
    ) -> None:
        self.schema = schema
        self.fragment = fragment

    def operation_cost(self, node: OperationDefinitionNode) -> int:
        root = self.schema.get_root_type(node.operation)
        return 0 if root is None else self._cost(node.selection_set, root, 1)

    def _cost(self, selections: SelectionSetNode | None, parent: GraphQLNamedType, n: int) -> int:
        if selections is None:
            return 0
        total = 0
        for selection in selections.selections:
            if isinstance(selection, FieldNode):
                total += n + self._field_cost(selection, parent, n)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                target = self.schema.get_type(condition.name.value) if condition else parent
                total += self._cost(selection.selection_set, target or parent, n)
            elif isinstance(selection, FragmentSpreadNode):
                fragment = self.fragment(selection.name.value)
                if fragment is not None:
                    target = self.schema.get_type(fragment.type_condition.name.value)
                    total += self._cost(fragment.selection_set, target or parent, n)
        return total

    def _field_cost(self, node: FieldNode, parent: GraphQLNamedType, n: int) -> int:
        if not isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
            return 0
        definition = parent.fields.get(node.name.value)
        if definition is None:
            return 0  # unknown fields are reported by graphql-core's own rules
        size = _page_size(node)
        if size is not None:
            n *= size
        elif _is_list(definition.type) and node.name.value not in CONNECTION_LISTS:
            n *= UNPAGED_LIST_GUESS
        return self._cost(node.selection_set, get_named_type(definition.type), n)


@lru_cache(maxsize=256)
def operation_cost(
    schema: GraphQLSchema, document: DocumentNode, operation_name: str | None
) -> int:
    """The cost of the operation of a validated ``document`` that will run, as the rule
    below estimates it (what the per-caller cost budget is charged). Remembered per
    document: the parser cache hands the same document to every request with its text."""
    operation = get_operation_ast(document, operation_name)
    if operation is None:
        return 0
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    return CostEstimator(schema, fragments.get).operation_cost(operation)


class QueryCostRule(ValidationRule):
    def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
        cost = CostEstimator(self.context.schema, self.context.get_fragment).operation_cost(node)
        if cost > MAX_COST:
            self.report_error(
                GraphQLError(
                    f"query cost {cost:,} exceeds the limit of {MAX_COST:,}: ask for fewer"
                    " items per page (first/limit) or fewer nested lists",
                    node,
                )
            )
