"""Model prices and the cost of LLM calls: the bundled price table, a project's own
entries, and the arithmetic the storage worker uses to price spans that arrive with
token counts but no cost."""
