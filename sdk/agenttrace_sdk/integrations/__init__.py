"""Integrations with LLM frameworks and client libraries; each module imports its own
third-party package and none imports another, so each works without the others."""
