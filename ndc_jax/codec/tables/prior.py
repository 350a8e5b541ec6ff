"""A scalar conditional prior q(u|y) as integer pmfs on a grid of y.

The codec's conditional mode codes each index with its own q(u|y). Evaluated
exactly by the fixed-point MLP (`integer_prior.FixedPointMLP`) that costs
~6 µs a sample on one core, far from a million samples a second. For a scalar
side information (n = 1) `build` evaluates it once on `grid` points y_g
spaced uniformly over [lo, hi], and `lookup` gives every sample the row of its
nearest grid point with one `np.searchsorted` over the float32 midpoints.
Comparisons of float32 values are exact, so the encoder and the decoder pick
the same row on any machine. The coder then uses q(u | y_g) with
|y − y_g| ≤ step / 2 instead of q(u|y); the codec benchmark measures what that
costs in bits. Outside [lo, hi] `lookup` answers −1 and the caller evaluates
the MLP.

Shapes: y [N] float32; grid [G]; midpoints [G − 1]; rows [G, K] (the codec
tabulates the coder's probabilities, the integer pmf · 2^-PRECISION, float64,
so that coding a sample is one gather).
"""

from typing import Callable, NamedTuple

import numpy as np

from ndc_jax.codec.tables import encoder as encoder_table


class Table(NamedTuple):
  lo: np.float32          # the range the table answers for
  hi: np.float32
  midpoints: np.ndarray   # [G − 1] float32: the cells' boundaries
  rows: np.ndarray        # [G, K]: q(u | y_g) for each grid point
  step: float             # grid step


def build(prior: Callable[[np.ndarray], np.ndarray], lo: float, hi: float,
          grid: int) -> Table:
  """The table of `prior` (y [B, 1] float32 -> [B, K]) on [lo, hi].

  Raises ValueError unless lo < hi are finite and grid >= 2.
  """
  ys = encoder_table.grid_points(lo, hi, grid, "prior table")
  midpoints = (ys[:-1] + (ys[1:] - ys[:-1]) / 2).astype(np.float32)
  return Table(ys[0], ys[-1], midpoints, np.asarray(prior(ys[:, None])),
               float(ys[-1] - ys[0]) / (grid - 1))


def lookup(table: Table, y: np.ndarray) -> np.ndarray:
  """The index [N] int64 of each y's grid point (its row of `table.rows`)
  for y [N] float32; −1 outside [lo, hi]."""
  y = np.asarray(y, np.float32)
  rows = np.searchsorted(table.midpoints, y, side="left")
  return np.where((y >= table.lo) & (y <= table.hi), rows, -1)
