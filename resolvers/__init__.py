"""Query builders: one SQL path per question, shared by GraphQL resolvers and REST routes."""
