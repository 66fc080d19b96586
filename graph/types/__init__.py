"""The schema's types: one Strawberry type per file, named like the type."""
