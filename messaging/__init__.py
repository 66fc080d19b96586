"""The bus (queue) and the live fan-out: one interface each, with a real-service and an
embedded implementation. Nothing outside this package knows which one is running."""
