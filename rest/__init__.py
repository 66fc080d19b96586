"""The REST query API (``/api/v1``), documented by FastAPI's OpenAPI."""
