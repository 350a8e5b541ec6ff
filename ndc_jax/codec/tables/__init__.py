"""Exact tables of a scalar model: encoder thresholds, prior pmfs on a y
grid, and the decoder's piecewise-linear pieces."""
