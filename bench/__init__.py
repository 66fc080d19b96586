"""The benchmark suite: a deterministic workload, a fast seeder and the report writer.

See bench/README.md for one command per figure in docs/benchmarks.md.
"""
