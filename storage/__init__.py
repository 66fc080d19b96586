"""PostgreSQL: tables, migrations, the engine, and the embedded server."""
