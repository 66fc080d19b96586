"""AgentTrace: the product's entry points (CLI, settings, process wiring)."""

__version__ = "0.1.0"
