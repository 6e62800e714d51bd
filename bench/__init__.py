"""Benchmarks: linkage quality on FEBRL3 (``febrl3``) and scale (``scale``)."""
