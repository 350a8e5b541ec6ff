"""Lloyd design of one-shot entropy-constrained Wyner-Ziv scalar quantizers.

Rebollo-Monedero, Zhang, Girod, "Design of optimal quantizers for distributed
source coding", DCC 2003 (after Chou, Lookabaugh, Gray, "Entropy-constrained
vector quantization", IEEE Trans. ASSP 37(1), 1989): on a discretized source
(fine x cells × y quadrature nodes, exact masses and first moments from
`nested_sq`), alternate
  encoder  e(x) = argmin_k E_{y|x}[−log2 q(k | ·) + λ·(x − g(k, y))²],
  decoder  g(k, y) = E[X | u = k, y],   rate model q(k) = P(u = k) (marginal,
  H(U)) or q(k | y) = P(u = k | y) (conditional, H(U|Y)).
Each step minimizes the Lagrangian L = R + λ·D (bits + λ·MSE) over one of
(e, g, q), so L never increases. The lowest L over many initializations
(uniform cells, coset assignments, random many-to-one maps) is the numeric
one-shot optimum at that λ. Vectorized: the encoder step is one banded
matrix product over the grid, so a design with ~20 starts takes about 1 s.
"""

import functools
from typing import NamedTuple, Optional

import numpy as np
from scipy import sparse

from . import nested_sq as nsq

_CAP_BITS = 1200.0  # −log2 q for q = 0: above −log2 of any positive double.


class Grid(NamedTuple):
  """Discretized (X, Y): cells i (n_x), nodes j (n_y), p and m1 (n_x, n_y)."""
  x_edges: np.ndarray  # (n_x + 1,), ±inf at the ends
  x_mean: np.ndarray  # (n_x,) E[X | cell i]
  p: np.ndarray  # P(X ∈ cell i, y_j), sums to 1
  m1: np.ndarray  # E[X·1{X ∈ cell i}; y_j]
  y: np.ndarray  # (n_y,)
  ex2: float  # E[X²] under the y quadrature
  source: nsq.Source
  blocks: tuple  # (row0, row1, cols, E[(1, x)·1{y_j ∈ cols} | cell]) bands


def make_grid(src: nsq.Source, dx: Optional[float] = None,
              dy: Optional[float] = None,
              half_width: Optional[float] = None) -> Grid:
  """Cells of width dx over ±half_width (end cells open), exact masses.

  Defaults: dx = σ_{X|Y}/16 (Gaussian) or b/64 (Laplace), dy = σ_{X|Y}/2,
  half_width = 7σ_X (Gaussian) or 30b (Laplace). dx must be ≤ σ_{X|Y}/10.
  """
  s = nsq.conditional_std(src)
  lap = src.name == "signed_laplace"
  dx = (s / 64 if lap else s / 16) if dx is None else nsq._check_positive(
      "dx", dx)
  if dx > s / 10:
    raise ValueError(f"dx={dx!r} is too coarse: the x grid needs at least 10 "
                     f"points per σ_X|Y={s:.4g} (dx <= {s / 10:.4g})")
  y, w = nsq.side_info_nodes(src, s / 2 if dy is None else dy)
  half = (30 * s if lap else 7 * src.var_x ** 0.5) if half_width is None \
      else nsq._check_positive("half_width", half_width)
  n = np.ceil(half / dx)
  edges = np.concatenate([[-np.inf], dx * np.arange(-n, n + 1), [np.inf]])
  p, m1 = nsq.interval_mass_moment(src, edges[:-1, None], edges[1:, None], y)
  # Drops pairs below 1e-20 of the largest mass: p(y|x) becomes banded.
  keep = p * w > 1e-20 * np.max(p * w)
  p, m1 = np.where(keep, p * w, 0.0), np.where(keep, m1 * w, 0.0)
  px = p.sum(1)
  x_mean = np.where(px > 0, m1.sum(1) / np.maximum(px, 1e-300),
                    np.clip(edges[:-1] + dx / 2, -half, half))
  cond = np.hstack([p, m1]) / np.maximum(px, 1e-300)[:, None]
  blocks = []
  for rows in np.array_split(np.arange(px.size), min(24, px.size)):
    cols = np.flatnonzero(keep[rows].any(0))
    cols = np.r_[cols, cols + y.size]
    blocks.append((rows[0], rows[-1] + 1, cols, cond[rows][:, cols]))
  return Grid(edges, x_mean, p, m1, y,
              float(w @ nsq.conditional_second_moment(src, y)), src,
              tuple(blocks))


def _encoder_cost(grid, b):
  """E_{y|cell}[b₀(k, y)] + E_{y|cell}[x·b₁(k, y)] (n_x, K); b (K, 2·n_y)."""
  bt = np.ascontiguousarray(b.T)
  out = np.empty((grid.p.shape[0], b.shape[0]))
  for row0, row1, cols, a in grid.blocks:
    # Products under 2.6e5 multiply-adds keep OpenBLAS on one thread: its
    # threads cost ~100x on a busy 2-core machine at these sizes.
    step = max(1, 200_000 // a.size)
    for k in range(0, b.shape[0], step):
      out[row0:row1, k:k + step] = a @ bt[cols, k:k + step]
  return out


class Design(NamedTuple):
  """A designed quantizer: index per cell, decoder g (K, n_y), R, D, L."""
  assignment: np.ndarray  # (n_x,) ints in [0, K)
  decoder: np.ndarray  # (K, n_y) g(k, y_j)
  rate_bits: float  # H(U) or H(U|Y), per rate_model
  mse: float
  lagrangian: float  # rate_bits + λ·mse
  history: tuple  # L after every decoder/q update (non-increasing)
  init: str


def _check_lambda(lmbda, rate_model):
  if not (np.isfinite(lmbda) and lmbda > 0):
    raise ValueError(f"lmbda={lmbda!r} is invalid; it must be finite and > 0")
  if rate_model not in ("marginal", "conditional"):
    raise ValueError(f"rate_model={rate_model!r} is unknown; allowed: "
                     "('marginal', 'conditional')")


def lloyd(grid: Grid, lmbda: float, init, rate_model: str = "marginal",
          max_iter: int = 100, tol: float = 1e-10, name: str = "") -> Design:
  """Alternating (encoder, decoder, q) minimization of R + λD from init.

  init: (n_x,) integer labels; λ (lmbda) in bits per MSE, finite and > 0.
  Stops when the assignment is stable or L falls by under tol·L. Ties keep
  the old label. Returns the Design of the last assignment.
  """
  _check_lambda(lmbda, rate_model)
  mean_y = grid.m1.sum(0) / np.maximum(grid.p.sum(0), 1e-300)
  cells = np.arange(grid.p.shape[0])
  u, history = np.asarray(init), []
  if u.shape != cells.shape or not np.issubdtype(u.dtype, np.integer):
    raise ValueError(f"init has shape {u.shape} and dtype {u.dtype}; it must "
                     f"be integer labels of shape {cells.shape}, one per cell")
  for it in range(max_iter + 1):
    u = np.unique(u, return_inverse=True)[1].ravel()
    onehot = sparse.csr_matrix((np.ones(u.size), (u, cells)))
    pk, sk = onehot @ grid.p, onehot @ grid.m1  # (K, n_y)
    rd = nsq.rd_from_joint(pk.T, sk.T, grid.ex2)
    rate = rd.rate_bits if rate_model == "marginal" else \
        rd.conditional_rate_bits
    # The rate-distortion Lagrangian.
    history.append(rate + lmbda * rd.mse)
    g = np.where(pk > 0, sk / np.where(pk > 0, pk, 1.0), mean_y)
    if it == max_iter or (it and history[-2] - history[-1] <= tol * abs(
        history[-1])):
      break
    q = pk.sum(1, keepdims=True) if rate_model == "marginal" else pk / pk.sum(0)
    bits = np.where(q > 0, -np.log2(np.where(q > 0, q, 1.0)), _CAP_BITS)
    cost = _encoder_cost(grid, np.hstack([lmbda * g * g + bits,
                                          -2 * lmbda * g]))
    new = np.argmin(cost, 1)
    keep = cost[cells, u] <= cost[cells, new] + 1e-13 * np.abs(cost[cells, new])
    new = np.where(keep, u, new)
    if np.array_equal(new, u):
      break
    u = new
  return Design(u, g, rate, rd.mse, history[-1], tuple(history), name)


@functools.lru_cache(maxsize=16)
def _nested_table(src: nsq.Source):
  """Exact nested-SQ R-D over steps σ_{X|Y}·[0.05, 4] × M = 1..64 (cached)."""
  s = nsq.conditional_std(src)
  steps = s * np.geomspace(0.05, 4.0, 40)
  dy = None if src.name == "signed_laplace" else s / 2
  return steps, nsq.nested_sq_sweep(src, steps, range(1, 65), -0.5, dy)


def initial_assignments(grid: Grid, lmbda: float, rate_model="marginal",
                        max_indices: int = 64, num_nested: int = 6,
                        num_random: int = 8, seed: int = 0) -> list:
  """[(name, assignment (n_x,))]: uniform, |x|-uniform, coset, random maps.

  Cosets: the num_nested values of M <= max_indices whose best step has the
  lowest exact Lagrangian; random maps send cells of about that step to
  labels drawn near that M. Uniform steps around Δ₀ = sqrt(12·D₀),
  D₀ = 1/(2·ln2·λ) (the high-rate ECSQ slope dR/dD = −λ); the |x| steps are
  the best of `abs_uniform_rd` for the signed Laplace.
  """
  _check_lambda(lmbda, rate_model)
  x, k = grid.x_mean, int(max_indices)
  step0 = np.sqrt(6 / (np.log(2) * lmbda))
  steps, table = _nested_table(grid.source)
  lag = table[:, :k, 0 if rate_model == "marginal" else 1] + lmbda * table[
      :, :k, 2]  # (steps, M)
  best = np.argmin(lag, 0)
  order = np.argsort(lag[best, np.arange(lag.shape[1])])[:num_nested]
  abs_step = step0
  if grid.source.name == "signed_laplace":
    rd = nsq.abs_uniform_rd(steps, grid.source.laplace_scale)
    abs_step = steps[np.argmin(rd.rate_bits + lmbda * rd.mse)]
  clip = lambda n: np.clip(n, -(k // 2), k - k // 2 - 1)
  out = []
  for f in (0.8, 1.0, 1.25):
    out.append((f"uniform(step={f * step0:.4g})",
                clip(np.floor(x / (f * step0) + 0.5))))
    out.append((f"abs_uniform(step={f * abs_step:.4g})",
                np.minimum(np.floor(np.abs(x) / (f * abs_step)), k - 1)))
  for m in order:
    out.append((f"nested(M={m + 1},step={steps[best[m]]:.4g})",
                np.mod(np.floor(x / steps[best[m]] + 0.5), m + 1)))
  rng = np.random.default_rng(seed)
  for _ in range(num_random):
    m0 = order[rng.integers(len(order))]
    step = steps[best[m0]] * rng.uniform(0.8, 1.25)
    m = int(np.clip(m0 + 1 + rng.integers(-1, 3), 2, k))
    n = np.floor(x / step).astype(np.int64)
    out.append((f"random(M={m},step={step:.4g})",
                rng.integers(m, size=n.max() - n.min() + 1)[n - n.min()]))
  return [(name, u.astype(np.int64)) for name, u in out]


def design(grid: Grid, lmbda: float, rate_model: str = "marginal",
           max_indices: int = 64, num_random: int = 8, seed: int = 0,
           max_iter: int = 100, warm_iter: int = 8, keep: int = 4) -> Design:
  """The lowest-Lagrangian Lloyd design over `initial_assignments`.

  Every start (20 by default) runs warm_iter iterations; the keep best then
  run to convergence (at most max_iter more); the returned history is that
  second run's. At most max_indices indices (no step adds an index).
  """
  runs = [lloyd(grid, lmbda, u, rate_model, warm_iter, name=name)
          for name, u in initial_assignments(grid, lmbda, rate_model,
                                             max_indices, 6, num_random, seed)]
  runs = sorted(runs, key=lambda d: d.lagrangian)[:keep]
  return min((lloyd(grid, lmbda, d.assignment, rate_model, max_iter,
                    name=d.init) for d in runs), key=lambda d: d.lagrangian)


def intervals_per_index(grid: Grid, assignment, min_mass: float = 1e-6):
  """(K,) count of disjoint x-intervals (runs of cells) each index serves.

  A run counts only if its probability is at least min_mass.
  """
  u = np.asarray(assignment)
  starts = np.flatnonzero(np.r_[True, u[1:] != u[:-1]])
  mass = np.add.reduceat(grid.p.sum(1), starts)
  return np.bincount(u[starts], mass >= min_mass, u.max() + 1).astype(int)
