"""A scalar decoder g(u, y) as the piecewise-linear function it is.

For a scalar source (n = 1) the decoder g(u, y) = a·y + MLP(W[u] + y·w + b)
(`models.Decoder`, leaky-ReLU layers) is, for each index u, a continuous
piecewise-linear function of y: its slope changes only where a hidden unit's
input crosses zero. `build` follows those crossings through the layers in
float64, from the float32 parameters: on each interval of y every unit's
input is an affine function of y, its zeros inside the interval split it,
and on each piece the leaky ReLU is a fixed scaling, so the next layer's
inputs are affine again. What is left is, per index, the breakpoints in
[lo, hi] and each piece's slope and intercept: the network's own function,
computed with 53-bit instead of 24-bit arithmetic (on the default run's
decoders within 4.8e-7 of the float32 network, which differs from itself,
eager against jitted, by as much; see the README).

`evaluate` finds a sample's piece with a uniform grid of `cells` cells per
index over [lo, hi] (each cell knows its first piece, and a sample steps
over the few breakpoints inside its cell) and returns slope·y + intercept:
a few gathers and a multiply-add per sample instead of the network's
~2·10^4 flops. Outside [lo, hi] it answers NaN: the caller evaluates the
network there.

Shapes: u [N] int; y [N] float32; the pieces of index k follow those of
index k − 1 in the flat [P] arrays, the last of each ending at inf;
first and inner [K · cells].
"""

from typing import NamedTuple, Sequence

import numpy as np

from ndc_jax.core import nets


class Table(NamedTuple):
  lo: float                # the range the table answers for
  hi: float
  ends: np.ndarray         # [P] float64: each piece's right end (inf: last)
  slopes: np.ndarray       # [P] float64
  intercepts: np.ndarray   # [P] float64
  first: np.ndarray        # [K · cells] int32: first piece of each cell
  inner: np.ndarray        # [K · cells] bool: a breakpoint lies inside
  steps: int               # most breakpoints inside one cell
  scale: float             # cells / (hi − lo)
  cells: int


def _pieces(a: np.ndarray, b: np.ndarray, layers: Sequence[tuple],
            lo: float, hi: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
  """One index's pieces on [lo, hi] of the MLP whose first layer's output is
  a + b·y (a, b [h1] float64) and whose later layers are `layers`, pairs
  (kernel [h, h'], bias [h']) float64, the last with h' = 1.

  Returns (breakpoints [P − 1] increasing, slopes [P], intercepts [P]) of the
  output on its P pieces.
  """
  edges = np.array([lo, hi])
  a, b = a[None], b[None]  # [I, h]: a layer's inputs on each interval
  for kernel, bias in layers:
    with np.errstate(divide="ignore", invalid="ignore"):
      zero = -a / b        # where each unit's input crosses zero
    cut = (zero > edges[:-1, None]) & (zero < edges[1:, None])
    finer = np.unique(np.concatenate([edges, zero[cut]]))
    mid = (finer[:-1] + finer[1:]) / 2
    parent = np.searchsorted(edges, mid) - 1
    a, b, edges = a[parent], b[parent], finer
    act = np.where(a + b * mid[:, None] > 0, 1.0, nets.LEAKY_SLOPE)
    a, b = (act * a) @ kernel + bias, (act * b) @ kernel
  return edges[1:-1], b[:, 0], a[:, 0]


def _cell(table_range: tuple[float, float, int], y: np.ndarray
          ) -> np.ndarray:
  """The grid cell [N] int64 of y [N] float64 for (lo, scale, cells).

  Rounded arithmetic, but monotone in y: a breakpoint in an earlier cell
  than a sample's lies below the sample, one in a later cell above it, so
  a sample steps only over its own cell's breakpoints and lands on its piece
  exactly.
  """
  lo, scale, cells = table_range
  return np.clip((y - lo) * scale, 0, cells - 1).astype(np.int64)


def build(kernels: Sequence[np.ndarray], biases: Sequence[np.ndarray],
          skip: float, lo: float, hi: float, cells: int = 2**12) -> Table:
  """The table of a scalar `models.Decoder` on y in [lo, hi].

  Args:
    kernels, biases: its MLP's layers, [K + 1, h1], [h1], ..., [h, 1], [1]
      (the first kernel's rows: one per index, then y's).
    skip: the direct path's factor a.
    lo, hi: the range of y to tabulate.
    cells: grid cells per index that locate a sample's piece.

  Raises ValueError unless lo < hi are finite, cells >= 1 and the layers
  chain from K + 1 inputs to one output.
  """
  if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi and cells >= 1):
    raise ValueError(f"decoder table range [{lo}, {hi}] with cells={cells} "
                     "is invalid; allowed: finite lo < hi and cells >= 1")
  kernels = [np.asarray(w, np.float64) for w in kernels]
  biases = [np.asarray(c, np.float64) for c in biases]
  shapes = [(w.shape, c.shape) for w, c in zip(kernels, biases)]
  if (len(kernels) != len(biases) or kernels[-1].shape[1] != 1
      or any(w.ndim != 2 or c.shape != w.shape[1:] for w, c in
             zip(kernels, biases))
      or any(w.shape[1] != v.shape[0] for w, v in
             zip(kernels[:-1], kernels[1:]))):
    raise ValueError(f"decoder layers (kernel, bias) {shapes} are not a "
                     "scalar decoder's MLP; allowed: [K + 1, h1], [h1, h2], "
                     "..., [h, 1] with biases [h1], [h2], ..., [1]")
  k = kernels[0].shape[0] - 1
  layers = list(zip(kernels[1:], biases[1:]))
  scale = cells / (hi - lo)
  table_range = (float(lo), scale, cells)
  ends, slopes, intercepts, first, inner, steps = [], [], [], [], [], 0
  offset = 0
  for u in range(k):
    points, s, c = _pieces(kernels[0][u] + biases[0], kernels[0][k], layers,
                           lo, hi)
    ends.append(np.append(points, np.inf))
    slopes.append(s + skip)
    intercepts.append(c)
    count = np.bincount(_cell(table_range, points), minlength=cells)
    first.append(offset + np.cumsum(count) - count)  # after earlier cells'
    inner.append(count > 0)
    steps = max(steps, int(count.max()))
    offset += points.size + 1
  return Table(float(lo), float(hi), np.concatenate(ends),
               np.concatenate(slopes), np.concatenate(intercepts),
               np.concatenate(first).astype(np.int32), np.concatenate(inner),
               steps, scale, cells)


def evaluate(table: Table, u: np.ndarray, y: np.ndarray) -> np.ndarray:
  """g(u, y) [N] float32 for u [N] int in [0, K) and y [N] float32; NaN
  where y lies outside [lo, hi]."""
  y = np.asarray(y, np.float64)
  inside = (y >= table.lo) & (y <= table.hi)
  cell = _cell((table.lo, table.scale, table.cells), y)
  cell += np.asarray(u, np.int64) * table.cells
  p = table.first[cell]
  busy = np.flatnonzero(table.inner[cell])  # step over the cell's breakpoints
  p_busy, y_busy = p[busy], y[busy]
  for _ in range(table.steps):
    p_busy += y_busy >= table.ends[p_busy]
  p[busy] = p_busy
  out = table.slopes[p] * y + table.intercepts[p]
  return np.where(inside, out, np.nan).astype(np.float32)
