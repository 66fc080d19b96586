"""The read cache in front of PostgreSQL: Redis across processes, memory in ``serve``."""
