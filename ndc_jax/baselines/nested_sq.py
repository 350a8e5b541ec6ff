"""Exact one-shot Wyner-Ziv scalar baselines: nested (coset) quantizers.

Ozyilkan, Ballé, Erkip, "Neural Distributed Compressor Discovers Binning",
ISIT 2023: a scalar X is coded for a decoder holding side information Y. The
classical one-shot scheme is the nested (coset) uniform scalar quantizer
(Zamir, Shamai, Erez, IEEE Trans. IT 48(6), 2002, in one dimension): step Δ,
M cosets, offset o, u = floor((x − o)/Δ) mod M, decoded by g(u, y) = E[X|u, y].

Exact up to a quadrature over y: p(x|y) is Gaussian or one-sided exponential,
so the mass and mean of X on any interval are closed forms, and (orthogonality
of the MMSE estimate) D = E[X²] − Σ_{u,y} P(u, y)·g(u, y)². Y is integrated by
the trapezoid rule on a uniform grid (spectrally accurate: the integrands are
Gaussian-smoothed in y) or exactly (Y = sign X). Sources as in ndc_jax:
gaussian y_is_x_plus_noise (X ~ N(0, var_x), Y = X + N, N ~ N(0, var_noise))
or x_is_y_plus_noise (Y ~ N(0, var_x − var_noise), X = Y + N); signed_laplace
(X ~ Laplace(0, b), Y = sign X). Rates: bits per sample; distortions: MSE.
"""

from typing import NamedTuple, Optional

import numpy as np
from scipy import optimize, special

from ndc_jax.theory.bounds import DIRECTIONS, gaussian_conditional_variance

SOURCES = ("gaussian", "signed_laplace")


class Source(NamedTuple):
  """A scalar (X, Y) law; for signed_laplace var_x = 2b² and direction 'sign'."""
  name: str
  var_x: float
  var_noise: float
  direction: str
  laplace_scale: float


class RD(NamedTuple):
  """One operating point: H(U), H(U|Y) (bits/sample) and D (MSE)."""
  rate_bits: float
  conditional_rate_bits: float
  mse: float


def _check_positive(name, value):
  v = float(value) if isinstance(value, (int, float, np.number)) else np.nan
  if not (np.isfinite(v) and v > 0):
    raise ValueError(f"{name}={value!r} is invalid; it must be finite and > 0")
  return v


def make_source(name="gaussian", var_x=1.0, var_noise=0.01,
                direction="y_is_x_plus_noise", laplace_scale=1.0) -> Source:
  """A validated Source; ValueError names a bad name, direction or value."""
  if name not in SOURCES:
    raise ValueError(f"source name={name!r} is unknown; allowed: {SOURCES}")
  if name == "signed_laplace":
    b = _check_positive("laplace_scale", laplace_scale)
    return Source(name, 2.0 * b * b, 0.0, "sign", b)
  if direction not in DIRECTIONS:
    raise ValueError(f"direction={direction!r} is unknown; allowed: "
                     f"{DIRECTIONS}")
  vx, vn = _check_positive("var_x", var_x), _check_positive("var_noise",
                                                             var_noise)
  if direction == "x_is_y_plus_noise" and vn >= vx:
    raise ValueError(f"var_noise={vn} must be < var_x={vx} when X = Y + N")
  return Source(name, vx, vn, direction, 0.0)


def conditional_std(src: Source) -> float:
  """σ_{X|Y}: sqrt(var_x·var_n/(var_x + var_n)), sqrt(var_n), or b."""
  if src.name == "signed_laplace":
    return src.laplace_scale
  return gaussian_conditional_variance(src.var_x, src.var_noise,
                                       src.direction) ** 0.5


def _gaussian_posterior(src, y):
  """E[X|y] and σ_{X|Y} of the Gaussian source (X|Y is Gaussian)."""
  gain = 1.0 if src.direction == DIRECTIONS[1] else src.var_x / (
      src.var_x + src.var_noise)
  return gain * y, conditional_std(src)


def side_info_nodes(src: Source, dy: Optional[float] = None,
                    num_std: float = 8.0):
  """Quadrature nodes y (n_y,) and weights w (n_y,), Σw = 1, for E_Y[·].

  Gaussian: a uniform grid over ±num_std·σ_Y, step dy (default σ_{X|Y}/4;
  at most σ_{X|Y}/2, i.e. ≥ 2 nodes per σ_{X|Y}), w ∝ p(y). Laplace: ±1, ½.
  """
  if src.name == "signed_laplace":
    return np.array([-1.0, 1.0]), np.array([0.5, 0.5])
  s = conditional_std(src)
  dy = s / 4 if dy is None else _check_positive("dy", dy)
  if dy > s / 2:
    raise ValueError(f"dy={dy!r} is too coarse: the y grid needs at least 2 "
                     f"points per σ_X|Y={s:.4g} (dy <= {s / 2:.4g})")
  var_y = src.var_x + src.var_noise * (1 if src.direction == DIRECTIONS[0]
                                       else -1)
  half = np.ceil(num_std * var_y ** 0.5 / dy)
  y = dy * np.arange(-half, half + 1)
  w = np.exp(-0.5 * y * y / var_y)
  return y, w / w.sum()


def interval_mass_moment(src: Source, lo, hi, y):
  """P(lo ≤ X < hi | y) and E[X·1{lo ≤ X < hi} | y], exact and accurate in
  both tails (each tail from its own side); lo, hi, y broadcast; ±inf ok."""
  lo, hi, y = np.broadcast_arrays(*(np.asarray(v, float) for v in (lo, hi, y)))
  if src.name == "gaussian":
    mu, s = _gaussian_posterior(src, y)
    za, zb = (lo - mu) / s, (hi - mu) / s
    right = za > 0  # P from the upper tail there: no 1 − 1 cancellation
    mass = np.where(right, special.ndtr(-za) - special.ndtr(-zb),
                    special.ndtr(zb) - special.ndtr(za))
    phi = lambda z: np.exp(-0.5 * z * z) / np.sqrt(2 * np.pi)
    return mass, mu * mass + s * (phi(za) - phi(zb))
  # X | y = +1 ~ Exp(mean b) on x > 0; X | y = −1 is its mirror image.
  b, neg = src.laplace_scale, y < 0
  a, c = np.where(neg, -hi, lo).clip(0), np.where(neg, -lo, hi).clip(0)
  with np.errstate(invalid="ignore"):
    w = np.where(c > a, (c - a) / b, 0.0)
    ea, ew = np.exp(-a / b), np.exp(-w)
    mass = ea * -np.expm1(-w)
    tail = np.where(np.isinf(c), 0.0, (c - a) * ew)
    m1 = ea * ((a + b) * -np.expm1(-w) - tail)
  return mass, np.where(neg, -m1, m1)


def conditional_second_moment(src: Source, y):
  """E[X² | y] (units of x²), same shape as y."""
  if src.name == "signed_laplace":
    return np.full(np.shape(y), 2.0 * src.laplace_scale ** 2)
  mu, s = _gaussian_posterior(src, np.asarray(y, float))
  return mu * mu + s * s


def rd_from_joint(pk, sk, ex2) -> RD:
  """R-D of an index U from P(u, y_j) = pk and E[X·1{u}; y_j] = sk, (n_y, K).

  D = E[X²] − Σ sk²/pk (the MMSE decoder g = sk/pk); H(U|Y) = Σ_j w_j·H(U|y_j)
  = H(U, J) − H(J) for quadrature node J.
  """
  pos = pk > 0
  mse = ex2 - np.sum(np.where(pos, sk * sk / np.where(pos, pk, 1.0), 0.0))
  h = lambda p: -np.sum(np.where(p > 0, p * np.log2(np.where(p > 0, p, 1)), 0))
  return RD(*(float(v) if v > 0 else 0.0 for v in (h(pk.sum(0)), h(pk) - h(
      pk.sum(1)), mse)))  # ≥ 0: round-off can give −1e-16 bits at rate 0


def _coset_table(src, y, w, step, offset):
  """Cells n (n_y, W) near each y, with masses and first moments (n_y, W)."""
  s, lap = conditional_std(src), src.name == "signed_laplace"
  # Windows that miss e^−40 (Laplace) or 2·Φ(−9) ≈ 2e-19 (Gaussian) of p(x|y).
  lo = np.where(y > 0, 0.0, -40 * s) if lap else _gaussian_posterior(
      src, y)[0] - 9 * s
  width = 40 * s if lap else 18 * s
  n = np.floor((lo - offset) / step)[:, None] + np.arange(
      int(np.ceil(width / step)) + 2)
  p, m1 = interval_mass_moment(src, offset + step * n, offset + step * (n + 1),
                               y[:, None])
  return n.astype(np.int64), p * w[:, None], m1 * w[:, None]


def _check_quantizer(step, cosets):
  _check_positive("step Δ", step)
  if cosets is not None and not (isinstance(cosets, (int, np.integer))
                                 and cosets >= 1):
    raise ValueError(f"cosets M={cosets!r} is invalid; it must be an integer "
                     ">= 1, or None for no binning (M = ∞)")


def _coset_joint(n, p, m1, cosets):
  """P(u, y_j), E[X·1{u}; y_j] (n_y, K) for u = n mod M (u = n if M is None)."""
  u = n - n.min() if cosets is None else np.mod(n, int(cosets))
  k = int(u.max()) + 1 if cosets is None else int(cosets)
  flat = (np.arange(n.shape[0])[:, None] * k + u).ravel()
  agg = lambda v: np.bincount(flat, v.ravel(), n.shape[0] * k).reshape(-1, k)
  return agg(p), agg(m1)


def nested_sq_rd(src: Source, step: float, cosets: Optional[int],
                 offset: float = 0.0, dy: Optional[float] = None) -> RD:
  """Exact R-D of the nested SQ u = floor((x − o)/Δ) mod M, MMSE decoded.

  Δ > 0 and o in units of x; cosets M >= 1, or None for M = ∞: the uniform
  quantizer, whose H(U|Y) and D are those of side information at both ends.
  """
  _check_quantizer(step, cosets)
  y, w = side_info_nodes(src, dy)
  pk, sk = _coset_joint(*_coset_table(src, y, w, step, offset), cosets)
  return rd_from_joint(pk, sk, float(w @ conditional_second_moment(src, y)))


def nested_sq_decoder(src: Source, step: float, cosets: int, y,
                      offset: float = 0.0) -> np.ndarray:
  """g(u, y) = E[X | u, y], shape (len(y), M); nan where P(u | y) = 0."""
  _check_quantizer(step, cosets)
  y = np.atleast_1d(np.asarray(y, float)).ravel()
  pk, sk = _coset_joint(*_coset_table(src, y, 1 + 0 * y, step, offset), cosets)
  return np.where(pk > 0, sk / np.where(pk > 0, pk, 1.0), np.nan)


def nested_sq_sweep(src: Source, steps, cosets, offset_frac: float = 0.0,
                    dy: Optional[float] = None) -> np.ndarray:
  """RD rows (len(steps), len(cosets), 3) at offsets o = offset_frac·Δ."""
  y, w = side_info_nodes(src, dy)
  ex2 = float(w @ conditional_second_moment(src, y))
  out = np.empty((len(steps), len(cosets), 3))
  for i, step in enumerate(steps):
    _ = [_check_quantizer(step, c) for c in cosets]
    table = _coset_table(src, y, w, step, offset_frac * step)
    for j, c in enumerate(cosets):
      out[i, j] = rd_from_joint(*_coset_joint(*table, c), ex2)
  return out


def nested_sq_best_step(src: Source, cosets: int, offset_frac: float = 0.0,
                        dy: Optional[float] = None):
  """(Δ*, RD), Δ* = argmin_Δ D at M = cosets: a log Δ scan, then Brent."""
  s = conditional_std(src)
  d = lambda log_step: nested_sq_rd(src, np.exp(log_step), cosets,
                                    offset_frac * np.exp(log_step), dy).mse
  grid = np.log(s / cosets) + np.linspace(np.log(0.25), np.log(40.0), 41)
  i = int(np.clip(np.argmin([d(g) for g in grid]), 1, len(grid) - 2))
  res = optimize.minimize_scalar(d, bounds=(grid[i - 1], grid[i + 1]),
                                 method="bounded", options={"xatol": 1e-5})
  return float(np.exp(res.x)), nested_sq_rd(
      src, np.exp(res.x), cosets, offset_frac * np.exp(res.x), dy)


def abs_uniform_rd(step, laplace_scale: float = 1.0) -> RD:
  """Entropy-coded uniform quantizer of |X|, sign known at the decoder.

  X ~ Laplace(0, b), Y = sign X: |X| ~ Exp(mean b) is independent of Y, cells
  [nΔ, (n+1)Δ) have geometric masses (1 − θ)θⁿ, θ = e^(−Δ/b), and every cell
  has the centroid-decoded MSE of Exp truncated to [0, Δ) (memorylessness):
  D = b² − Δ²θ/(1 − θ)²; H(U) = H(U|Y) = h₂(1 − θ)/(1 − θ) bits. Sullivan,
  "Efficient scalar quantization of exponential and Laplacian random
  variables", IEEE Trans. IT 42(5), 1996. Δ may be an array.
  """
  b = _check_positive("laplace_scale", laplace_scale)
  d = np.asarray(step, float)
  if not np.all(np.isfinite(d) & (d > 0)):
    raise ValueError(f"step={step!r} is invalid; it must be finite and > 0")
  a = d / b  # θ = e^(−a), one_m = 1 − θ
  theta, one_m = np.exp(-a), -np.expm1(-a)
  rate = (-one_m * np.log2(one_m) + theta * a / np.log(2)) / one_m
  mse = b * b - d ** 2 * theta / one_m ** 2
  return RD(rate, rate, mse)
