"""Training loops shared by every job (the pattern of purejaxrl).

`scan_loops` wraps a job's pure `step(state, *swept)` in chunked `lax.scan`
loops, so `jit(vmap(train_chunk))` trains a whole hyperparameter grid as one
compiled program; `sweep_grid` flattens the grid's axes, first axis major.
"""

from typing import Callable, Sequence

import jax
import jax.numpy as jnp


def scan_loops(step: Callable, init: Callable, chunk_steps: int,
               num_chunks: int) -> tuple[Callable, Callable]:
  """The chunked `lax.scan` training loops around `step(state, *swept)`.

  Returns:
    train_chunk(state, *swept) -> (state, metrics): `chunk_steps` steps in
      one lax.scan; chunk-mean metrics plus `first_nonfinite` (index of the
      first non-finite loss in the chunk, or −1).
    train(*swept, key) -> (state, metrics [num_chunks]): `init(key)`, then
      every chunk, all in one lax.scan.
  """
  def train_chunk(state, *swept):
    state, m = jax.lax.scan(lambda s, _: step(s, *swept), state, None,
                            length=chunk_steps)
    bad = ~jnp.isfinite(m["loss"])
    out = {name: jnp.mean(v) for name, v in m.items()}
    out["first_nonfinite"] = jnp.where(bad.any(), jnp.argmax(bad), -1)
    return state, out

  def train(*args):
    *swept, key = args
    return jax.lax.scan(lambda s, _: train_chunk(s, *swept), init(key), None,
                        length=num_chunks)

  return train_chunk, train


def sweep_grid(lmbdas: Sequence[float], *rest: Sequence) -> tuple:
  """The flattened grid λ × rest[0] × ... (λ-major), one [M] array per axis.

  λ and every axis but the last are float32 (traced swept values); the last
  axis holds the integer seeds (int32). M = the product of the axis lengths.
  """
  axes = [jnp.asarray(lmbdas, jnp.float32)]
  axes += [jnp.asarray(a, jnp.float32) for a in rest[:-1]]
  axes += [jnp.asarray(rest[-1], jnp.int32)]
  return tuple(g.reshape(-1) for g in jnp.meshgrid(*axes, indexing="ij"))
