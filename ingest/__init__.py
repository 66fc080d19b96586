"""HTTP in: decode OTLP and native JSON, normalise, publish to the bus."""
