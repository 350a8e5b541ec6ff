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
"""

import jax
import jax.numpy as jnp

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
