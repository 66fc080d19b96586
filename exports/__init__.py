"""Export of a project's traces, spans and annotations to files (JSONL or Parquet, on a
local disk or any fsspec URL), and import of the same files back, exactly.

columns.py   which columns a file holds (from storage/tables.py) and how each is written
formats.py   the JSONL and Parquet files: writers that take pages, readers that yield batches
manifest.py  manifest.json: what an export holds, with counts and each file's SHA-256
location.py  where files go: fsspec URLs, a hashing writer, the GraphQL export root
export.py    reads a project in keyset pages and writes the files
import_.py   reads the files in batches and stores them through the storage worker's path
commands.py  the `agenttrace export` and `agenttrace import` subcommands
progress.py  what both report as they go (a tqdm bar on the command line)
errors.py    what can go wrong, as the user errors the CLI and GraphQL show
"""
