"""A project's own model prices, which the storage worker uses before the bundled table."""

from __future__ import annotations

from datetime import date

import strawberry
from strawberry import relay

from access.permissions import Permission
from graph.context import Info
from graph.ids import node_id_of, parse_uuid
from graph.permissions import CanManageProject
from graph.types.ModelPrice import ModelPrice
from graph.types.ModelPriceInput import ModelPriceInput
from storage import audit
from storage.model_prices import delete_project_price, set_project_price


@strawberry.type
class ModelPriceMutationMixin:
    @strawberry.mutation(
        permission_classes=[CanManageProject],
        description="Sets the project's price of a model from a date (replacing its entry"
        " for the same model and date). The storage workers use it within about 10"
        " seconds, for spans that arrive with tokens but no cost; stored costs are not"
        " changed.",
    )
    async def set_model_price(
        self, info: Info, project_id: relay.GlobalID, price: ModelPriceInput
    ) -> ModelPrice:
        project = parse_uuid(node_id_of(project_id, "Project", "projectId"), "project")
        project = await info.context.project_for(project, Permission.MANAGE_PROJECT)
        entry = price.entry()
        await set_project_price(info.context.write_engine, project, entry)
        await audit.record(
            info.context.write_engine,
            (await info.context.viewer()).principal,
            "project.model_price_set",
            project_id=project,
            target=f"project:{project}",
            details={"model": entry.model, "effective_from": entry.effective_from.isoformat()},
        )
        return ModelPrice.of(entry)

    @strawberry.mutation(
        permission_classes=[CanManageProject],
        description="Removes the project's price of a model from a date; the bundled"
        " table's applies again if it has one. False when there was no such entry.",
    )
    async def delete_model_price(
        self, info: Info, project_id: relay.GlobalID, model: str, effective_from: date
    ) -> bool:
        project = parse_uuid(node_id_of(project_id, "Project", "projectId"), "project")
        project = await info.context.project_for(project, Permission.MANAGE_PROJECT)
        deleted = await delete_project_price(
            info.context.write_engine, project, model, effective_from
        )
        if deleted:
            await audit.record(
                info.context.write_engine,
                (await info.context.viewer()).principal,
                "project.model_price_deleted",
                project_id=project,
                target=f"project:{project}",
                details={"model": model, "effective_from": effective_from.isoformat()},
            )
        return deleted
