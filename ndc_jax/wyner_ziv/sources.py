"""Correlated sources (X, Y) for Wyner-Ziv coding: Y is the decoder's side info.

* ``gaussian``: X ~ N(0, var_x) and either Y = X + N (``y_is_x_plus_noise``,
  the default of Ozyilkan et al. 2023 with var_x = 1, var_noise = 0.01) or
  X = Y + N (``x_is_y_plus_noise``, then Var[Y] = var_x − var_noise).
* ``signed_laplace``: X ~ Laplace(0, b), Y = sign(X) (Ozyilkan et al. 2023,
  Sec. V): the decoder knows the sign, so an index can serve x and −x.

Every source yields blocks of `dim` i.i.d. pairs: x, y of shape [batch, dim].
A `Source` also carries its bounds (bits per scalar sample against MSE).
"""

from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np

from ndc_jax.core import registry
from ndc_jax.theory import bounds



class Source(NamedTuple):
  """A seeded (X, Y) sampler with its rate-distortion bounds.

  Attributes:
    name: source name (a key of SOURCES).
    dim: block length n (scalars per sample).
    sample: (key, batch) -> (x [batch, n], y [batch, n]).
    sample_side_info: (key, x [B, n], num) -> y [num, B, n] drawn from p(y|x).
    sample_side_info_stratified: the same shapes, `num` draws of y|x per x
      that form a Latin hypercube: in each component the num draws lie one
      in each of num equal-probability strata of p(y_i|x_i), the strata
      matched across components by independent random permutations (McKay,
      Beckman, Conover 1979). Each draw has the law p(y|x), so their mean
      is an unbiased estimate of E_{y|x}, with a far smaller variance than
      i.i.d. draws for the smooth decoder costs of the argmin encoder.
    side_info_marginal: (rs, num) -> y [num, n] float64, draws of Y alone
      from a NumPy legacy `RandomState` rs, a stream NumPy keeps fixed, so the
      draws do not change with the JAX or NumPy version (the codec derives
      its Slepian-Wolf labels from them at both ends).
    bound_bits: D (MSE) -> R_WZ(D) or its Shannon lower bound, bits/sample.
    bound_mse: R (bits/sample) -> the inverse of `bound_bits`, MSE.
    no_side_info_bits: D (MSE) -> R(D) without side information (or its SLB).
    bound_name: what `bound_bits` is, for the results tables.
    x_std: standard deviation of X (for plot ranges).
    y_std: standard deviation of Y (the range of the codec's prior table).
    side_info_points: (num, spread, key) -> y [G], the points of the exact
      E_{y|x} (`model.side_info_grid`) for a scalar source: `num` points
      spaced h over ±spread·std(Y), shifted together by a fraction of h drawn
      with key (the Gaussian), or the support of a discrete Y (the signed
      Laplacian: {−1, 1}, whatever num). None for blocks (dim > 1).
    side_info_log_density: (x [B, 1], y [G]) -> [B, G] log p(y|x) at those
      points, up to a term free of y (the caller normalizes over them).
    sample_stratified: (key, batch) -> (x [batch, 1], y [batch, 1]), a
      stratified draw of a scalar source: x_i = F_X^{-1}((i + U_i) / batch)
      with U_i ~ U(0, 1) independent, one draw in each of `batch`
      equal-probability strata of X, and y ~ p(y|x). Each x_i has the law
      of X in its stratum, so a batch mean is an unbiased estimate of an
      expectation over (X, Y) with a far smaller variance than i.i.d.
      draws. None for blocks (dim > 1).
    side_info_local_grid: (key, x [B, n], num, spread) -> (y [num^n, B, n],
      w [num^n]), a randomly shifted product grid of num points per axis on
      ±spread standard deviations of y|x around E[y|x], with weights
      ∝ p(y|x) summing to 1: a quadrature of E_{y|x} for any block length
      (the Gaussian's y|x is a location-scale family). None for the signed
      Laplacian.
  """
  name: str
  dim: int
  sample: Callable
  sample_side_info: Callable
  sample_side_info_stratified: Callable
  side_info_marginal: Callable
  bound_bits: Callable
  bound_mse: Callable
  no_side_info_bits: Callable
  bound_name: str
  x_std: float
  y_std: float
  side_info_points: Callable | None = None
  side_info_log_density: Callable | None = None
  sample_stratified: Callable | None = None
  side_info_local_grid: Callable | None = None


def _open_unit(u: jax.Array) -> jax.Array:
  """Stratified uniforms kept in (0, 1): in float32 the top stratum can round
  to u = 1 (an infinite quantile), so u is clipped to [ε, 1 − ε], which
  truncates a distribution beyond its 1 − 6·10⁻⁸ quantile."""
  eps = jnp.finfo(u.dtype).epsneg
  return jnp.clip(u, eps, 1 - eps)


def _stratified(quantile: Callable, side_info: Callable) -> Callable:
  """`Source.sample_stratified` of a scalar X with inverse CDF `quantile`
  and a y|x sampler `side_info` (`Source.sample_side_info`)."""
  def sample(key, batch):
    k_u, k_y = jax.random.split(key)
    u = _open_unit(
        (jnp.arange(batch) + jax.random.uniform(k_u, (batch,))) / batch)
    x = quantile(u)[:, None]
    return x, side_info(k_y, x, 1)[0]
  return sample


def _latin_hypercube(key: jax.Array, num: int, shape: tuple) -> jax.Array:
  """Uniforms u [num, *shape] in (0, 1): along axis 0, one in each of the
  num strata [j/num, (j+1)/num), in an independent random order for every
  entry of `shape` (a Latin hypercube over the trailing axis)."""
  k_perm, k_u = jax.random.split(key)
  strata = jnp.argsort(jax.random.uniform(k_perm, (num,) + shape), axis=0)
  return _open_unit((strata + jax.random.uniform(k_u, (num,) + shape)) / num)


def _positive(cfg, field):
  value = cfg[field]
  if not value > 0:
    raise ValueError(f"source.{field}={value!r} is invalid; it must be > 0")
  return float(value)


def _gaussian(cfg: ml_collections.ConfigDict) -> Source:
  if cfg.direction not in bounds.DIRECTIONS:
    raise ValueError(f"source.direction={cfg.direction!r} is unknown; "
                     f"allowed: {bounds.DIRECTIONS}")
  var_x, var_n = _positive(cfg, "var_x"), _positive(cfg, "var_noise")
  direction, n = cfg.direction, cfg.dim
  var_x_y = bounds.gaussian_conditional_variance(var_x, var_n, direction)
  if direction == "x_is_y_plus_noise" and var_n >= var_x:
    raise ValueError(f"source.var_noise={var_n} must be < source.var_x="
                     f"{var_x} when X = Y + N (Var[Y] = var_x − var_noise)")
  var_y = var_x - var_n if direction == "x_is_y_plus_noise" else var_x + var_n

  def sample(key, batch):
    k1, k2 = jax.random.split(key)
    noise = jnp.sqrt(var_n) * jax.random.normal(k2, (batch, n))
    if direction == "y_is_x_plus_noise":
      x = jnp.sqrt(var_x) * jax.random.normal(k1, (batch, n))
      return x, x + noise
    y = jnp.sqrt(var_y) * jax.random.normal(k1, (batch, n))
    return y + noise, y

  # p(y|x) is Gaussian with mean c·x and variance v in both orders.
  c = var_y / var_x if direction == "x_is_y_plus_noise" else 1.0
  v = var_y * var_n / var_x if direction == "x_is_y_plus_noise" else var_n

  def sample_side_info(key, x, num):
    return c * x + jnp.sqrt(v) * jax.random.normal(key, (num,) + x.shape)

  def sample_side_info_stratified(key, x, num):
    u = _latin_hypercube(key, num, x.shape)
    return c * x + jnp.sqrt(v) * jax.scipy.special.ndtri(u)

  def side_info_marginal(rs, num):
    return np.sqrt(var_y) * rs.standard_normal((num, n))

  def side_info_local_grid(key, x, num, spread):
    """A product grid of num points per axis around E[y|x]: offsets
    t_j = −spread + (j + U)·h, h = 2·spread/num, in units of the std of
    y|x, each axis shifted by its own U ~ U(0, 1); y [num^n, B, n] and
    weights w [num^n] ∝ Π_i φ(t_i), summing to 1 (the trapezoid rule of
    E_{y|x}, randomized)."""
    axes = _shifted_grid(num, spread,
                         jax.random.uniform(key, (n,)))            # [G, n]
    t = jnp.stack(jnp.meshgrid(*[axes[:, i] for i in range(n)],
                               indexing="ij"), -1).reshape(-1, n)  # [G^n, n]
    w = jax.nn.softmax(-0.5 * jnp.sum(t * t, -1))
    return c * x[None] + jnp.sqrt(v) * t[:, None, :], w

  return Source(
      "gaussian", n, sample, sample_side_info, sample_side_info_stratified,
      side_info_marginal,
      bound_bits=lambda d: bounds.gaussian_rd_bits(var_x_y, d),
      bound_mse=lambda r: bounds.gaussian_dr_mse(var_x_y, r),
      no_side_info_bits=lambda d: bounds.gaussian_rd_bits(var_x, d),
      bound_name="R_WZ", x_std=var_x ** 0.5,
      y_std=var_y ** 0.5,
      side_info_points=_uniform_points(var_y ** 0.5) if n == 1 else None,
      side_info_log_density=lambda x, y: -(y - c * x) ** 2 / (2 * v),
      sample_stratified=_stratified(
          lambda u: var_x ** 0.5 * jax.scipy.special.ndtri(u),
          sample_side_info) if n == 1 else None,
      side_info_local_grid=side_info_local_grid)


def _shifted_grid(num: int, half_width: float, shift: jax.Array
                  ) -> jax.Array:
  """num points spaced h = 2·half_width/num over ±half_width, all moved by
  shift·h (shift in [0, 1); shift [n] gives one column per axis, [num, n])."""
  h = 2 * half_width / num
  index = jnp.arange(num)[:, None] if jnp.ndim(shift) else jnp.arange(num)
  return -half_width + (index + shift) * h


def _uniform_points(y_std: float) -> Callable:
  """`Source.side_info_points` of a continuous scalar Y with std `y_std`."""
  def points(num, spread, key):
    return _shifted_grid(num, spread * y_std, jax.random.uniform(key))
  return points


def _signed_laplace(cfg: ml_collections.ConfigDict) -> Source:
  b, n = _positive(cfg, "laplace_scale"), cfg.dim
  h_x_given_y = float(jnp.log2(jnp.e * b))  # |X| ~ Exp(mean b), bits
  h_x = h_x_given_y + 1.0  # Laplace(0, b): log2(2eb) bits

  def sample(key, batch):
    x = b * jax.random.laplace(key, (batch, n))
    return x, jnp.sign(x)

  def sample_side_info(key, x, num):
    del key
    return jnp.broadcast_to(jnp.sign(x), (num,) + x.shape)

  def side_info_marginal(rs, num):
    return np.where(rs.random_sample((num, n)) < 0.5, -1.0, 1.0)

  return Source(
      "signed_laplace", n, sample, sample_side_info,
      sample_side_info,  # y = sign(x): every draw is the same
      side_info_marginal,
      bound_bits=lambda d: bounds.shannon_lower_bound_bits(h_x_given_y, d),
      bound_mse=lambda r: bounds.shannon_lower_bound_mse(h_x_given_y, r),
      no_side_info_bits=lambda d: bounds.shannon_lower_bound_bits(h_x, d),
      bound_name="SLB(R_X|Y)", x_std=b * 2 ** 0.5, y_std=1.0,
      side_info_points=(lambda num, spread, key: jnp.array([-1.0, 1.0]))
      if n == 1 else None,
      # y = sign(x): all of p(y|x) on one support point (half each at x = 0)
      side_info_log_density=lambda x, y: -1e4 * (y - jnp.sign(x)) ** 2,
      # F^{-1}(u) = −b·sign(u − ½)·log(1 − 2|u − ½|)
      sample_stratified=_stratified(
          lambda u: -b * jnp.sign(u - 0.5) * jnp.log1p(-2 * jnp.abs(u - 0.5)),
          sample_side_info) if n == 1 else None)


SOURCES = {"gaussian": _gaussian, "signed_laplace": _signed_laplace}


def make_source(cfg: ml_collections.ConfigDict) -> Source:
  """Builds the Source described by a `source` config (see configs)."""
  build = registry.lookup(SOURCES, cfg.name, "source.name")
  if not (isinstance(cfg.dim, int) and cfg.dim >= 1):
    raise ValueError(f"source.dim={cfg.dim!r} is invalid; it must be an "
                     "integer >= 1")
  return build(cfg)
