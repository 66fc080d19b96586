"""Dataloaders, one per file, each with explicit Key and Result types (issue 3)."""
