"""Distortion measures, per scalar sample (mean over the block dimension).

Shapes: x, x_hat [..., n] -> [...]. Units: squared error in MSE (units of x²),
absolute error in units of x; `to_db` gives 10·log10 of a distortion.
"""

import jax
import jax.numpy as jnp

from ndc_jax.core import registry


def squared_error(x: jax.Array, x_hat: jax.Array) -> jax.Array:
  """Mean squared error over the last axis (MSE per scalar sample)."""
  return jnp.mean(jnp.square(x - x_hat), axis=-1)


def absolute_error(x: jax.Array, x_hat: jax.Array) -> jax.Array:
  """Mean absolute error over the last axis."""
  return jnp.mean(jnp.abs(x - x_hat), axis=-1)


DISTORTIONS = {"squared_error": squared_error, "absolute_error": absolute_error}


def get(name: str):
  """The distortion function called `name` (a key of DISTORTIONS)."""
  return registry.lookup(DISTORTIONS, name, "model.distortion")


def to_db(d: jax.typing.ArrayLike) -> jax.Array:
  """10·log10(d): a distortion in dB (lower is better)."""
  return 10.0 * jnp.log10(jnp.asarray(d))
