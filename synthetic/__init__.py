"""Synthetic data and truth scoring, kept out of the product.

``borough`` generates a borough's extracts with their truth, ``claims`` a claims period
for a screened borough, and ``quality`` scores a run against a generator's truth. The
tests, ``make sample`` and ``make bench`` use them; a screening or claims run never
imports them and never reads a truth folder.
"""
