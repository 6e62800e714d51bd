"""Benchmarks: linkage quality on the public FEBRL sets (``febrl``) and scale (``scale``)."""
