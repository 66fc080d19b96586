"""What goes wrong in an export or an import, as the user errors the CLI and GraphQL show."""

from __future__ import annotations

from agenttrace.errors import Conflict, InvalidArgument, NotFound


class ExportNotFound(NotFound):
    """No such project, or no export (manifest.json) at the given place."""


class InvalidExport(InvalidArgument):
    """Files that are not a complete, intact export: a checksum or count that does not
    match the manifest, an unknown format or version, a row that cannot be read."""


class InvalidDestination(InvalidArgument):
    """A destination that may not be written: one that already holds an export, or (for
    the GraphQL mutation) a name outside the server's export root."""


class TracesAlreadyExist(Conflict):
    """The target project already holds some of the exported traces (and --merge was not
    given)."""
