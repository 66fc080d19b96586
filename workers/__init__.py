"""Bus consumers: the storage worker (and, later, analytics rollups)."""
