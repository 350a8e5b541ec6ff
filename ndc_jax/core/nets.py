"""Networks shared by every job: the leaky-ReLU MLP.

Shapes: h [B, sizes[0]] -> [B, sizes[-1]].
"""

from typing import Sequence

import jax
from flax import nnx

LEAKY_SLOPE = 0.01  # negative slope of every hidden layer's leaky ReLU


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
    return self.after_first(self.layers[0](h))

  def after_first(self, h: jax.Array) -> jax.Array:
    """The rest of the network from the first layer's output h."""
    for layer in self.layers[1:]:
      h = layer(jax.nn.leaky_relu(h, LEAKY_SLOPE))
    return h
