"""Training loops shared by every job (the pattern of purejaxrl).

`scan_loops` wraps a job's pure `step(state, *swept)` in chunked `lax.scan`
loops, so `jit(vmap(train_chunk))` trains a whole hyperparameter grid as one
compiled program; `sweep_grid` flattens the grid's axes, first axis major;
`lagrangian_steps` is the `init` and `step` of a trainer whose loss carries
MINE moving averages (the codecs with an MI critic).
"""

from typing import Callable, NamedTuple, Sequence

import jax
import jax.numpy as jnp
import optax


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


class CriticTrainState(NamedTuple):
  """The state of a trainer with MI critics (see `lagrangian_steps`)."""
  params: dict
  opt_state: dict
  mine_ma: jax.Array  # [num_terms] MINE moving averages of E_Q[e^T]
  step: jax.Array     # int32 scalar
  key: jax.Array


def lagrangian_steps(init_params: Callable, tx: optax.GradientTransformation,
                     num_terms: int, sample: Callable, loss_fn: Callable
                     ) -> tuple[Callable, Callable]:
  """`init` and `step` of one optimizer over the whole loss.

  Args:
    init_params: key -> params.
    tx: the optimizer of every parameter group.
    num_terms: MI terms, one MINE moving average each (started at 1).
    sample: key -> a tuple of batch arrays, loss_fn's leading arguments.
    loss_fn: (params, *batch, lmbda, beta, ma, key) ->
      (loss, (metrics dict, new ma)).
  Returns:
    init(key) -> CriticTrainState, step(state, lmbda, beta) -> (state,
    metrics with "loss").
  """
  def init(key):
    k_p, k_t = jax.random.split(key)
    params = init_params(k_p)
    return CriticTrainState(params, tx.init(params), jnp.ones((num_terms,)),
                            jnp.zeros((), jnp.int32), k_t)

  def step(state, lmbda, beta):
    key, k_x, k_l = jax.random.split(state.key, 3)
    (loss, (metrics, ma)), grads = jax.value_and_grad(loss_fn, has_aux=True)(
        state.params, *sample(k_x), lmbda, beta, state.mine_ma, k_l)
    upd, opt = tx.update(grads, state.opt_state, state.params)
    metrics["loss"] = loss
    return CriticTrainState(optax.apply_updates(state.params, upd), opt, ma,
                            state.step + 1, key), metrics

  return init, step
