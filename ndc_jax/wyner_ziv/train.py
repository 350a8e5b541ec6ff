"""Training: `make_train(config)` returns pure functions, vmapped over λ × seed.

The pattern of purejaxrl: shapes and step counts are static in the closure;
λ, the PRNG key and the (annealed) temperature are traced, so
`jax.jit(jax.vmap(train))` trains a whole sweep as one compiled program and
nothing recompiles across λ. The loss is the Lagrangian of Ozyilkan et al.
(ISIT 2023, Eq. 5), per scalar sample:
    L = E[ rate_bits / n + λ · d(x, g(u, y)) ].
"""

from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp
import ml_collections
import optax

from ndc_jax.core import loops
from ndc_jax.wyner_ziv import compressor as compressor_lib
from ndc_jax.wyner_ziv import rate
from ndc_jax.wyner_ziv import relaxation
from ndc_jax.wyner_ziv import sources


class TrainState(NamedTuple):
  params: dict
  opt_state: optax.OptState
  step: jax.Array  # int32 scalar
  key: jax.Array   # PRNG key


class Trainer(NamedTuple):
  compressor: compressor_lib.Compressor
  source: sources.Source
  init: Callable         # key -> TrainState
  train_chunk: Callable  # (state, lmbda) -> (state, chunk metrics)
  train: Callable        # (lmbda, key) -> (state, metrics [num_chunks])


def validate(config: ml_collections.ConfigDict) -> None:
  """Raises ValueError naming a bad `train` or `sweep` config field."""
  t = config.train
  for field in ("num_steps", "batch_size", "chunk_steps"):
    if not (isinstance(t[field], int) and t[field] >= 1):
      raise ValueError(f"train.{field}={t[field]!r} is invalid; it must be an "
                       "integer >= 1")
  if t.num_steps % t.chunk_steps:
    raise ValueError(f"train.num_steps={t.num_steps} must be a multiple of "
                     f"train.chunk_steps={t.chunk_steps}")
  for field in ("learning_rate", "prior_learning_rate", "temperature_start",
                "temperature_end", "temperature_decay_steps"):
    if not t[field] > 0:
      raise ValueError(f"train.{field}={t[field]!r} is invalid; it must be "
                       "> 0")
  if not 0 <= t.warmup_steps <= t.num_steps:
    raise ValueError(f"train.warmup_steps={t.warmup_steps!r} must lie in "
                     f"[0, train.num_steps={t.num_steps}]")
  if t.lr_schedule not in LR_SCHEDULES:
    raise ValueError(f"train.lr_schedule={t.lr_schedule!r} is unknown; "
                     f"allowed: {LR_SCHEDULES}")
  if t.rate_form not in rate.RATE_FORMS:
    raise ValueError(f"train.rate_form={t.rate_form!r} is unknown; allowed: "
                     f"{rate.RATE_FORMS}")
  lmbdas = tuple(config.sweep.lmbdas)
  if not lmbdas or any(not l > 0 for l in lmbdas):
    raise ValueError(f"sweep.lmbdas={lmbdas!r} is invalid; it must be a "
                     "non-empty list of values > 0")
  if not tuple(config.sweep.seeds):
    raise ValueError("sweep.seeds is empty; give at least one integer seed")
  n = config.eval.num_samples
  if not (isinstance(n, int) and n >= 2):
    raise ValueError(f"eval.num_samples={n!r} is invalid; it must be an "
                     "integer >= 2 (standard errors need two samples)")


LR_SCHEDULES = ("constant", "cosine")


def _optimizer(t: ml_collections.ConfigDict) -> optax.GradientTransformation:
  """Adam, with a larger step for the entropy model: with one step size its
  logits move too slowly and every index costs ~log2 K bits early on.
  `lr_schedule='cosine'` decays both steps to 1% over `num_steps`."""
  def labels(params):
    return {name: jax.tree.map(lambda _: "prior" if name == "prior" else "net",
                               sub) for name, sub in params.items()}
  def lr(value):
    if t.lr_schedule == "cosine":
      return optax.cosine_decay_schedule(value, t.num_steps, alpha=0.01)
    return value
  return optax.multi_transform(
      {"net": optax.adam(lr(t.learning_rate)),
       "prior": optax.adam(lr(t.prior_learning_rate))}, labels)


def make_train(config: ml_collections.ConfigDict,
               shard_batch: Callable = lambda a: a) -> Trainer:
  """Builds the pure training functions of `config` (see experiments/configs).

  `shard_batch` lays each sampled batch [batch, n] out on a device mesh
  (`sharding.batch_constraint`); the identity by default.
  """
  validate(config)
  source = sources.make_source(config.source)
  comp = compressor_lib.make_compressor(config.model, source)
  t = config.train
  dist_fn = comp.distortion
  tx = _optimizer(t)
  n = source.dim

  def init(key):
    k_params, k_train = jax.random.split(key)
    params = comp.init(k_params)
    return TrainState(params, tx.init(params), jnp.zeros((), jnp.int32),
                      k_train)

  def loss_learned(params, x, y, lmbda, rate_weight, temperature, key):
    logits = comp.encoder_logits(params, x)
    prior_logits = comp.prior_logits(params, y)
    u = relaxation.concrete_sample(key, logits, temperature,
                                   t.straight_through)
    d = dist_fn(x, comp.decode(params, u, y))
    bits = rate.training_rate_bits(t.rate_form, logits, prior_logits) / n
    return (jnp.mean(rate_weight * bits + lmbda * d),
            (jnp.mean(bits), jnp.mean(d)))

  def loss_argmin(params, x, y, lmbda, rate_weight, temperature, key):
    del temperature
    costs = comp.index_costs(jax.lax.stop_gradient(params), x, key)
    u = jnp.argmin(rate_weight * costs[0] + lmbda * costs[1], axis=-1)
    prior_logits = comp.prior_logits(params, y)
    bits = rate.index_bits(u, prior_logits) / n
    d = dist_fn(x, comp.decode_indices(params, u, y))
    return (jnp.mean(rate_weight * bits + lmbda * d),
            (jnp.mean(bits), jnp.mean(d)))

  def step(state, lmbda):
    key, k_data, k_u = jax.random.split(state.key, 3)
    x, y = map(shard_batch, source.sample(k_data, t.batch_size))
    temperature = relaxation.annealed_temperature(
        state.step, t.temperature_start, t.temperature_end,
        t.temperature_decay_steps)
    # Rate warm-up: the rate term's weight ramps from 0 to 1 over
    # `warmup_steps`, so the encoder first learns to use many indices (a
    # distortion-only quantizer with side information) before the rate term
    # prunes them; without it the rate gradient collapses the encoder onto one
    # index early (the analogue of the published notebook's decoder warm-up).
    rate_weight = jnp.clip(state.step / max(t.warmup_steps, 1), 0.0, 1.0)
    loss_fn = loss_learned if config.model.encoder == "learned" else loss_argmin
    (loss, (bits, d)), grads = jax.value_and_grad(loss_fn, has_aux=True)(
        state.params, x, y, lmbda, rate_weight, temperature, k_u)
    updates, opt_state = tx.update(grads, state.opt_state, state.params)
    params = optax.apply_updates(state.params, updates)
    metrics = {"loss": loss, "rate_bits": bits, "distortion": d,
               "temperature": temperature, "rate_weight": rate_weight}
    return TrainState(params, opt_state, state.step + 1, key), metrics

  train_chunk, train = loops.scan_loops(step, init, t.chunk_steps,
                                  t.num_steps // t.chunk_steps)
  return Trainer(comp, source, init, train_chunk, train)


def sweep_grid(config: ml_collections.ConfigDict):
  """Flattened λ × seed grid: (lmbdas [M] float32, seeds [M] int), λ-major."""
  return loops.sweep_grid(config.sweep.lmbdas, config.sweep.seeds)
