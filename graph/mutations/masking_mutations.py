"""A project's masking rules, applied by the storage worker before spans are stored."""

from __future__ import annotations

import strawberry
from strawberry import relay

from access.permissions import Permission
from agenttrace.errors import InvalidArgument, NotFound
from graph.context import Info
from graph.ids import node_id_of, parse_uuid
from graph.permissions import CanManageProject
from graph.types.MaskingRule import MaskingRule
from graph.types.MaskingRuleInput import MaskingRuleInput
from masking.rules import InvalidRule, parse_rules
from storage import audit
from storage.masking_rules import set_project_masking_rules


@strawberry.type
class MaskingMutationMixin:
    @strawberry.mutation(
        permission_classes=[CanManageProject],
        description="Replaces the project's masking rules (an empty list removes them)."
        " Every storage worker applies them within about 10 seconds to spans it stores"
        " from then on; spans already stored are not changed.",
    )
    async def set_masking_rules(
        self, info: Info, project_id: relay.GlobalID, rules: list[MaskingRuleInput]
    ) -> list[MaskingRule]:
        project = parse_uuid(node_id_of(project_id, "Project", "projectId"), "project")
        project = await info.context.project_for(project, Permission.MANAGE_PROJECT)
        try:
            parsed = parse_rules([rule.as_json() for rule in rules])
        except InvalidRule as exc:
            raise InvalidArgument(str(exc)) from None
        if not await set_project_masking_rules(info.context.write_engine, project, parsed):
            raise NotFound("no such project")
        await audit.record(
            info.context.write_engine,
            (await info.context.viewer()).principal,
            "project.masking_rules_set",
            project_id=project,
            target=f"project:{project}",
            details={"rules": [rule.as_json() for rule in parsed]},
        )
        return [MaskingRule.of(rule) for rule in parsed]
