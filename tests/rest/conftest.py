from tests.graph.conftest import graph_api  # noqa: F401  (the in-process API fixture)
