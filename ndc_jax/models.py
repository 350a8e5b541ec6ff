"""Flax NNX networks of the one-shot Wyner-Ziv compressor (Ozyilkan et al. 2023).

Shapes: x, y [B, n]; logits [B, K]; u as (soft or one-hot) vectors [B, K];
x̂ [B, n]. Training code splits these modules into (graphdef, state) pytrees
and jits pure functions over the state (see `train.py`).
"""

from typing import Sequence

import jax
import jax.numpy as jnp
from flax import nnx


class MLP(nnx.Module):
  """Dense layers with a leaky-ReLU between them; last layer scaled by
  `out_scale` at initialization (a small value keeps the encoder's logits
  near uniform so the Concrete gradients are alive at the start)."""

  def __init__(self, sizes: Sequence[int], *, rngs: nnx.Rngs,
               out_scale: float = 1.0):
    self.layers = nnx.List([nnx.Linear(a, b, rngs=rngs)
                            for a, b in zip(sizes[:-1], sizes[1:])])
    last = self.layers[-1]
    last.kernel[...] = last.kernel[...] * out_scale

  def __call__(self, h: jax.Array) -> jax.Array:
    for layer in self.layers[:-1]:
      h = jax.nn.leaky_relu(layer(h))
    return self.layers[-1](h)


class Encoder(nnx.Module):
  """p_θ(u|x): x [B, n] -> logits [B, K] (nats)."""

  def __init__(self, dim: int, num_indices: int, hidden: Sequence[int], *,
               rngs: nnx.Rngs, out_scale: float):
    self.net = MLP([dim, *hidden, num_indices], rngs=rngs, out_scale=out_scale)

  def __call__(self, x):
    return self.net(x)


class MarginalPrior(nnx.Module):
  """q_ξ(u): a learned categorical; returns logits [B, K] for any y [B, n]."""

  def __init__(self, dim: int, num_indices: int, hidden: Sequence[int], *,
               rngs: nnx.Rngs):
    del dim, hidden, rngs
    self.logits = nnx.Param(jnp.zeros((num_indices,)))

  def __call__(self, y):
    return jnp.broadcast_to(self.logits.value, y.shape[:-1] +
                            self.logits.value.shape)


class ConditionalPrior(nnx.Module):
  """q_ζ(u|y): y [B, n] -> logits [B, K] (nats)."""

  def __init__(self, dim: int, num_indices: int, hidden: Sequence[int], *,
               rngs: nnx.Rngs):
    self.net = MLP([dim, *hidden, num_indices], rngs=rngs)

  def __call__(self, y):
    return self.net(y)


class Decoder(nnx.Module):
  """g_φ(u, y) = a ⊙ y + MLP([u, y]): u [B, K], y [B, n] -> x̂ [B, n].

  The direct path a ⊙ y (a initialized to 1) lets the decoder start from the
  side information and learn only the correction carried by the index.
  """

  def __init__(self, dim: int, num_indices: int, hidden: Sequence[int], *,
               rngs: nnx.Rngs):
    self.skip = nnx.Param(jnp.ones((dim,)))
    self.net = MLP([num_indices + dim, *hidden, dim], rngs=rngs)

  def __call__(self, u, y):
    return self.skip.value * y + self.net(jnp.concatenate([u, y], axis=-1))


PRIORS = {"marginal": MarginalPrior, "conditional": ConditionalPrior}
