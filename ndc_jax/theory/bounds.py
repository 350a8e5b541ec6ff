"""Information-theoretic rate-distortion bounds, in bits per scalar sample.

Quadratic-Gaussian Wyner-Ziv (Wyner & Ziv 1976; Wyner 1978): for jointly
Gaussian (X, Y) and squared error, R_WZ(D) = max(0, ½·log2(σ²_{X|Y} / D)),
which equals the conditional rate R_{X|Y}(D) (no rate loss), and its inverse
D_WZ(R) = σ²_{X|Y}·2^(−2R). Without side information R(D) = ½·log2(σ²_X / D)
(Shannon 1959). Both orders of the additive model are covered:
``y_is_x_plus_noise`` (Y = X + N) and ``x_is_y_plus_noise`` (X = Y + N), with
Var[X] = var_x in both.

Where no closed form exists (the signed Laplacian source) the Shannon lower
bound R(D) ≥ h − ½·log2(2πe·D) is given, with h a differential entropy in bits
(Berger 1971, Sec. 4.3); it lower-bounds R_{X|Y}(D) ≤ R_WZ(D) when h = h(X|Y).

Distortions D are MSE (units of x²); rates R are bits per scalar sample.

Finite block lengths: `slepian_wolf_normal_approximation_bits` is the
second-order (dispersion) approximation of the fewest bits with which any
fixed-length code of N samples conveys U to a decoder holding Y.
"""

import jax
import jax.numpy as jnp
import numpy as np

DIRECTIONS = ("y_is_x_plus_noise", "x_is_y_plus_noise")


def gaussian_conditional_variance(var_x: float, var_noise: float,
                                  direction: str) -> float:
  """σ²_{X|Y} of the additive Gaussian model, with Var[X] = var_x."""
  if direction == "y_is_x_plus_noise":
    return var_x * var_noise / (var_x + var_noise)
  if direction == "x_is_y_plus_noise":
    return var_noise
  raise ValueError(f"direction {direction!r} is unknown; allowed: {DIRECTIONS}")


def gaussian_rd_bits(variance: jax.typing.ArrayLike,
                     d: jax.typing.ArrayLike) -> jax.Array:
  """R(D) = max(0, ½·log2(variance / D)) of a Gaussian, bits per sample."""
  return jnp.maximum(0.0, 0.5 * jnp.log2(variance / jnp.asarray(d)))


def gaussian_dr_mse(variance: jax.typing.ArrayLike,
                    r: jax.typing.ArrayLike) -> jax.Array:
  """D(R) = variance·2^(−2R) of a Gaussian, MSE; r in bits per sample."""
  return variance * 2.0 ** (-2.0 * jnp.asarray(r))


def wyner_ziv_rate_bits(d, var_x, var_noise, direction="y_is_x_plus_noise"):
  """R_WZ(D) of the quadratic-Gaussian source, bits per sample (= R_{X|Y})."""
  return gaussian_rd_bits(
      gaussian_conditional_variance(var_x, var_noise, direction), d)


def wyner_ziv_distortion_mse(r, var_x, var_noise,
                             direction="y_is_x_plus_noise"):
  """D_WZ(R) of the quadratic-Gaussian source, MSE."""
  return gaussian_dr_mse(
      gaussian_conditional_variance(var_x, var_noise, direction), r)


def shannon_lower_bound_bits(h_bits: float, d: jax.typing.ArrayLike
                             ) -> jax.Array:
  """max(0, h − ½·log2(2πe·D)) in bits; h is a differential entropy in bits."""
  return jnp.maximum(0.0, h_bits - 0.5 * jnp.log2(2 * jnp.pi * jnp.e *
                                                  jnp.asarray(d)))


def shannon_lower_bound_mse(h_bits: float, r: jax.typing.ArrayLike
                            ) -> jax.Array:
  """Inverse of the Shannon lower bound: 2^(2(h − R)) / (2πe), MSE."""
  return 2.0 ** (2.0 * (h_bits - jnp.asarray(r))) / (2 * jnp.pi * jnp.e)


def gap_db(d: jax.typing.ArrayLike, d_bound: jax.typing.ArrayLike
           ) -> jax.Array:
  """10·log10(D / D_bound): how many dB a distortion lies above its bound."""
  return 10.0 * jnp.log10(jnp.asarray(d) / jnp.asarray(d_bound))


def slepian_wolf_normal_approximation_bits(mean_bits: float, var_bits: float,
                                           block: int, eps: float) -> float:
  """H + √(V / N)·Q⁻¹(ε): bits per sample that any fixed-length code of N =
  `block` samples needs to convey U to a decoder holding Y with failure
  probability ε, to second order (the normal approximation; Tan & Kosut,
  "On the dispersions of three network information theory problems", IEEE
  Trans. IT 2014, the Slepian-Wolf case with one source).

  mean_bits H and var_bits V are the mean and variance of the information
  density −log2 P(U|Y) per sample (bits, bits²); Q⁻¹ is the inverse Gaussian
  tail. The O(log N) third-order term (about −½·log2(N) bits per block) is
  left out, so this is an approximation, not a strict bound. Raises
  ValueError naming a bad block, ε or variance.
  """
  if not (isinstance(block, (int, np.integer)) and block >= 1):
    raise ValueError(f"block={block!r} is invalid; it must be an integer >= 1")
  if not 0.0 < eps < 1.0:
    raise ValueError(f"eps={eps!r} is invalid; it must lie in (0, 1)")
  if not var_bits >= 0.0:
    raise ValueError(f"var_bits={var_bits!r} is invalid; it must be >= 0")
  return float(mean_bits + np.sqrt(var_bits / block) *
               -jax.scipy.special.ndtri(eps))


# --- Two jointly Gaussian sources, separate encoders -------------------------
#
# Sources (X1, X2) with Var[Xi] = var_i and correlation rho, squared error,
# per-source distortion targets (D1, D2) in MSE. All rates are bits per
# *sample pair* (one scalar of each source); for vector sources of i.i.d.
# component pairs they are bits per component pair. Units are normalized by
# d_i / var_i, which leaves every rate unchanged.


def _normalized_pair(d1, d2, rho, var1, var2):
  """(d1/var1, d2/var2, rho) as arrays; raises ValueError on bad values."""
  rho_f = float(rho)
  if not -1.0 < rho_f < 1.0:
    raise ValueError(f"rho={rho!r} is invalid; the correlation must lie in "
                     "(-1, 1)")
  for name, v in (("var1", var1), ("var2", var2)):
    if not float(v) > 0:
      raise ValueError(f"{name}={v!r} is invalid; a variance must be > 0")
  d1, d2 = jnp.asarray(d1, jnp.float32), jnp.asarray(d2, jnp.float32)
  if not isinstance(d1, jax.core.Tracer) and not isinstance(
      d2, jax.core.Tracer) and not (bool(jnp.all(d1 > 0)) and
                                    bool(jnp.all(d2 > 0))):
    raise ValueError(f"distortions d1={d1}, d2={d2} are invalid; they must be "
                     "> 0 (MSE)")
  return d1 / var1, d2 / var2, rho_f


def two_terminal_sum_constraint_bits(d1, d2, rho, var1=1.0, var2=1.0):
  """The sum-rate constraint of the quadratic-Gaussian two-encoder region.

  Wagner, Tavildar, Viswanath, "Rate Region of the Quadratic Gaussian
  Two-Encoder Source-Coding Problem", IEEE Trans. IT 54(5), 2008, Thm. 1
  (unit variances):  R1 + R2 >= ½·log2⁺[(1−ρ²)·β(D1, D2) / (2·D1·D2)],
  β(D1, D2) = 1 + sqrt(1 + 4ρ²·D1·D2 / (1−ρ²)²).
  With general variances D_i is replaced by D_i / var_i; the brief's symmetric
  form ½·log2((1−ρ²)β/(2D²)) with σ⁴ only inside β holds for σ² = 1.

  Args: d1, d2: MSE targets (broadcastable arrays); rho in (−1, 1).
  Returns: bits per sample pair, the broadcast shape of d1, d2.
  """
  d1, d2, rho = _normalized_pair(d1, d2, rho, var1, var2)
  a = 1.0 - rho ** 2
  beta = 1.0 + jnp.sqrt(1.0 + 4.0 * rho ** 2 * d1 * d2 / a ** 2)
  return jnp.maximum(0.0, 0.5 * jnp.log2(a * beta / (2.0 * d1 * d2)))


def _individual_corner_bits(d1, d2, rho):
  """min R1 + R2 over the WTV individual constraints (unit variances).

  R_i >= ½·log2⁺[(1 − ρ² + ρ²·2^(−2R_j)) / D_i]. Along either curve the sum
  grows away from the vertices (|slope| < ρ² < 1), so the minimum is the
  curve-curve vertex (t_i = 2^(2R_i) solving D1·a·t1² + (D1ρ² − a² − ρ²D2)·t1
  − aρ² = 0, a = 1 − ρ²) when both t_i >= 1, else a vertex on an axis.
  """
  a, r2 = 1.0 - rho ** 2, rho ** 2
  qa, qb, qc = d1 * a, d1 * r2 - a * a - r2 * d2, -a * r2
  t1 = (-qb + jnp.sqrt(qb * qb - 4.0 * qa * qc)) / (2.0 * qa)
  t2 = (a + r2 / t1) / d2
  inner = jnp.where((t1 >= 1.0) & (t2 >= 1.0),
                    0.5 * jnp.log2(jnp.maximum(t1 * t2, 1.0)), jnp.inf)
  log_pos = lambda v: jnp.maximum(0.0, 0.5 * jnp.log2(v))

  def axis(di, dj):  # R_i = 0: needs di >= a + ρ²·2^(−2R_j)
    ok = di > a
    need = log_pos(jnp.where(ok, r2 / jnp.where(ok, di - a, 1.0), 1.0))
    return jnp.where(ok, jnp.maximum(log_pos(1.0 / dj), need), jnp.inf)

  return jnp.minimum(inner, jnp.minimum(axis(d1, d2), axis(d2, d1)))


def two_terminal_sum_rate_bits(d1, d2, rho, var1=1.0, var2=1.0):
  """Minimum sum rate R1 + R2 of the quadratic-Gaussian two-terminal problem.

  The WTV (2008) region is the intersection of the two individual constraints
  and the sum-rate constraint (`two_terminal_sum_constraint_bits`); since the
  individual region is convex, its minimum sum rate is the larger of the
  sum-rate constraint and the individual-constraint minimum. At small
  distortions the sum-rate constraint is active. Valid for any (D1, D2) > 0.

  Returns: bits per sample pair (broadcast shape of d1, d2).
  """
  n1, n2, r = _normalized_pair(d1, d2, rho, var1, var2)
  return jnp.maximum(two_terminal_sum_constraint_bits(d1, d2, rho, var1, var2),
                     _individual_corner_bits(n1, n2, r))


def joint_gaussian_pair_rate_bits(d1, d2, rho, var1=1.0, var2=1.0):
  """Centralized R(D1, D2) of a Gaussian pair under individual MSE targets.

  One encoder sees both sources (Xiao & Luo, "Compression of correlated
  Gaussian sources under individual distortion criteria", Allerton 2005),
  unit variances, D_lo = min, D_hi = max:
    ½·log2⁺(1/D_lo)                                   if D_hi >= 1 − ρ²(1 − D_lo),
    ½·log2[(1−ρ²) / (D1·D2)]                           if (1−D1)(1−D2) >= ρ²,
    ½·log2[(1−ρ²) / (D1·D2 − (|ρ| − sqrt((1−D1)(1−D2)))²)]  otherwise.
  For D1 = D2 = D this is reverse water-filling over the eigenvalues
  σ²(1 ± ρ) of the covariance with total distortion 2D.

  Returns: bits per sample pair; a lower bound on the two-terminal sum rate.
  """
  d1, d2, rho = _normalized_pair(d1, d2, rho, var1, var2)
  r2 = rho ** 2
  lo, hi = jnp.minimum(d1, d2), jnp.maximum(d1, d2)
  one_sided = jnp.maximum(0.0, 0.5 * jnp.log2(1.0 / lo))
  prod = jnp.clip((1.0 - d1) * (1.0 - d2), 0.0, None)
  both = 0.5 * jnp.log2((1.0 - r2) / (d1 * d2))
  det = d1 * d2 - (abs(rho) - jnp.sqrt(prod)) ** 2
  mixed = 0.5 * jnp.log2((1.0 - r2) / jnp.where(det > 0, det, 1.0))
  out = jnp.where(prod >= r2, both, mixed)
  out = jnp.where(hi >= 1.0 - r2 * (1.0 - lo), one_sided, out)
  return jnp.maximum(0.0, jnp.where((d1 >= 1.0) & (d2 >= 1.0), 0.0, out))
