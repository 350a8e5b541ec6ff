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

from ndc_jax.core import loops, runner
from ndc_jax.wyner_ziv import compressor as compressor_lib
from ndc_jax.wyner_ziv import rate
from ndc_jax.wyner_ziv import relaxation
from ndc_jax.wyner_ziv import sources


class TrainState(NamedTuple):
  params: dict
  opt_state: optax.OptState
  step: jax.Array  # int32 scalar
  key: jax.Array   # PRNG key
  # The decoder warm-up's fixed pairs (`train.decoder_warmup_steps`):
  # x [P·I, n] (P source draws, each repeated I times) and random indices
  # u [P·I] int32.
  warmup_x: jax.Array
  warmup_u: jax.Array


class Trainer(NamedTuple):
  compressor: compressor_lib.Compressor
  source: sources.Source
  init: Callable         # key -> TrainState
  train_chunk: Callable  # (state, lmbda) -> (state, chunk metrics)
  train: Callable        # (lmbda, key) -> (state, metrics [num_chunks])


def validate(config: ml_collections.ConfigDict) -> None:
  """Raises ValueError naming a bad `train` or `sweep` config field."""
  t = config.train
  runner.check_schedule(config)
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
  if not (isinstance(t.lr_step_at, float) and 0.0 < t.lr_step_at < 1.0):
    raise ValueError(f"train.lr_step_at={t.lr_step_at!r} is invalid; allowed: "
                     "a float in (0, 1), the fraction of train.num_steps "
                     "after which lr_schedule='step' multiplies the steps "
                     "by 0.1")
  if not (isinstance(t.decoder_warmup_steps, int)
          and 0 <= t.decoder_warmup_steps < t.num_steps):
    raise ValueError(f"train.decoder_warmup_steps={t.decoder_warmup_steps!r} "
                     f"is invalid; allowed: an integer in [0, train.num_steps="
                     f"{t.num_steps})")
  # the index count is checked against K only where the warm-up runs
  k = config.model.num_indices if t.decoder_warmup_steps else None
  for field, top in (("decoder_warmup_points", None),
                     ("decoder_warmup_indices", k)):
    v = t[field]
    if not (isinstance(v, int) and v >= 1 and (top is None or v <= top)):
      raise ValueError(f"train.{field}={v!r} is invalid; allowed: an integer "
                       ">= 1" + (f" and <= model.num_indices={top}"
                                 if top else ""))
  if t.x_sampling not in X_SAMPLING:
    raise ValueError(f"train.x_sampling={t.x_sampling!r} is unknown; "
                     f"allowed: {X_SAMPLING}")
  if t.x_sampling == "stratified" and config.source.dim != 1:
    raise ValueError("train.x_sampling='stratified' needs a scalar source; "
                     f"source.dim is {config.source.dim} (allowed for "
                     "blocks: 'iid')")
  for field in ("annealed_argmin", "temperature_per_lambda"):
    if not isinstance(t[field], bool):
      raise ValueError(f"train.{field}={t[field]!r} is invalid; it must be "
                       "true or false")
  cap = t.rate_temperature_cap
  if not (isinstance(cap, float) and cap >= 0.0):
    raise ValueError(f"train.rate_temperature_cap={cap!r} is invalid; "
                     "allowed: a float >= 0 (bits; 0 = the rate tempered "
                     "as the distortion)")
  if cap and not t.annealed_argmin:
    raise ValueError(f"train.rate_temperature_cap={cap!r} tempers the "
                     "deterministic annealing's rate term; it needs "
                     "train.annealed_argmin=True")
  if t.temperature_per_lambda and not t.annealed_argmin:
    raise ValueError("train.temperature_per_lambda=True scales the "
                     "deterministic annealing's τ; it needs "
                     "train.annealed_argmin=True")
  if t.annealed_argmin and config.model.encoder != "argmin":
    raise ValueError("train.annealed_argmin=True trains the argmin encoder; "
                     f"model.encoder is {config.model.encoder!r}")
  if t.rate_form not in rate.RATE_FORMS:
    raise ValueError(f"train.rate_form={t.rate_form!r} is unknown; allowed: "
                     f"{rate.RATE_FORMS}")
  lmbdas = tuple(config.sweep.lmbdas)
  if not lmbdas or any(not l > 0 for l in lmbdas):
    raise ValueError(f"sweep.lmbdas={lmbdas!r} is invalid; it must be a "
                     "non-empty list of values > 0")
  if not tuple(config.sweep.seeds):
    raise ValueError("sweep.seeds is empty; give at least one integer seed")
  for field in ("num_samples", "validation_samples"):
    n = config.eval[field]
    if not (isinstance(n, int) and n >= 2):
      raise ValueError(f"eval.{field}={n!r} is invalid; it must be an "
                       "integer >= 2 (standard errors need two samples)")
  if not isinstance(config.eval.select_seed, bool):
    raise ValueError(f"eval.select_seed={config.eval.select_seed!r} is "
                     "invalid; it must be true or false")


LR_SCHEDULES = ("constant", "cosine", "step")
X_SAMPLING = ("iid", "stratified")


def _optimizer(t: ml_collections.ConfigDict) -> optax.GradientTransformation:
  """Adam, with a larger step for the entropy model: with one step size its
  logits move too slowly and every index costs ~log2 K bits early on.
  `lr_schedule='cosine'` decays both steps to 1% over `num_steps`; 'step'
  multiplies them by 0.1 at the fraction `lr_step_at` of `num_steps` (0.7:
  the published notebook's schedule)."""
  def labels(params):
    return {name: jax.tree.map(lambda _: "prior" if name == "prior" else "net",
                               sub) for name, sub in params.items()}
  def lr(value):
    if t.lr_schedule == "cosine":
      return optax.cosine_decay_schedule(value, t.num_steps, alpha=0.01)
    if t.lr_schedule == "step":
      return optax.piecewise_constant_schedule(
          value, {round(t.lr_step_at * t.num_steps): 0.1})
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
  sample = (source.sample_stratified if t.x_sampling == "stratified"
            else source.sample)

  def init(key):
    k_params, k_train = jax.random.split(key)
    params = comp.init(k_params)
    k_x, k_u = jax.random.split(jax.random.fold_in(key, 1))
    x_warm, _ = source.sample(k_x, t.decoder_warmup_points)
    x_warm = jnp.repeat(x_warm, t.decoder_warmup_indices, axis=0)
    u_warm = jax.random.randint(k_u, x_warm.shape[:1], 0, comp.num_indices)
    return TrainState(params, tx.init(params), jnp.zeros((), jnp.int32),
                      k_train, x_warm, u_warm)

  def loss_decoder_warmup(params, state, key):
    """The published notebook's decoder warm-up: the decoder alone learns to
    reconstruct the fixed draws x_p from y ~ p(y|x_p) and the random indices
    u_p they were given, E (x_p − g(u_p, y))², so that at the end each
    index points at a few random values of x (a random many-to-one start)."""
    k_pick, k_y = jax.random.split(key)
    pick = jax.random.randint(k_pick, (t.batch_size,), 0,
                              state.warmup_u.shape[0])
    x = state.warmup_x[pick]
    y = source.sample_side_info(k_y, x, 1)[0]
    d = dist_fn(x, comp.decode_indices(params, state.warmup_u[pick], y))
    return jnp.mean(d), (jnp.zeros(()), jnp.mean(d))

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
    if comp.expected_distortion is not None:  # exact E_{y|x} on the y-grid
      d = comp.expected_distortion(params, x, u, key)
    else:
      d = dist_fn(x, comp.decode_indices(params, u, y))
    return (jnp.mean(rate_weight * bits + lmbda * d),
            (jnp.mean(bits), jnp.mean(d)))

  def loss_annealed_argmin(params, x, y, lmbda, rate_weight, temperature,
                           key):
    """Deterministic annealing of the argmin encoder (Rose, Proc. IEEE 1998):
    x is spread over the indices by the Gibbs assignment
    p(k|x) ∝ 2^{−(bits_k + λ d_k)/τ} (τ in bits: τ = 1 is the rate of a
    stochastic code, τ → 0 the argmin; the rate tempered by min(τ, c) with
    `rate_temperature_cap` c, `relaxation.gibbs_assignment`), held fixed
    while the decoder and the entropy model descend the expected Lagrangian
    Σ_k p(k|x)(bits_k + λ d_k).
    """
    del y
    bits, dist = comp.index_costs(params, x, key)  # [B, K] each
    cost = rate_weight * bits + lmbda * dist
    p = jax.lax.stop_gradient(relaxation.gibbs_assignment(
        rate_weight * bits, dist, lmbda, temperature, t.rate_temperature_cap))
    return (jnp.mean(jnp.sum(p * cost, -1)),
            (jnp.mean(jnp.sum(p * bits, -1)), jnp.mean(jnp.sum(p * dist, -1))))

  def step(state, lmbda):
    key, k_data, k_u = jax.random.split(state.key, 3)
    x, y = map(shard_batch, sample(k_data, t.batch_size))
    temperature = relaxation.annealed_temperature(
        state.step, t.temperature_start, t.temperature_end,
        t.temperature_decay_steps)
    if t.temperature_per_lambda:
      # 2^{−(bits + λd)/τ} = 2^{−(bits/λ + d)/(τ/λ)}: the critical
      # temperatures of the annealing scale with λ (a cell of variance σ²
      # splits at τ_c = 2·ln2·λ·σ², Rose 1998), so with τ/λ on one
      # schedule every λ passes its splits at the same steps.
      temperature = temperature * lmbda
    # Rate warm-up: the rate term's weight ramps from 0 to 1 over
    # `warmup_steps`, so the encoder first learns to use many indices (a
    # distortion-only quantizer with side information) before the rate term
    # prunes them; without it the rate gradient collapses the encoder onto one
    # index early (the analogue of the published notebook's decoder warm-up).
    rate_weight = jnp.clip(state.step / max(t.warmup_steps, 1), 0.0, 1.0)
    loss_fn = (loss_learned if config.model.encoder == "learned" else
               loss_annealed_argmin if t.annealed_argmin else loss_argmin)
    grad_fn = lambda p: jax.value_and_grad(loss_fn, has_aux=True)(
        p, x, y, lmbda, rate_weight, temperature, k_u)
    if t.decoder_warmup_steps:
      warm_fn = lambda p: jax.value_and_grad(loss_decoder_warmup,
                                             has_aux=True)(p, state, k_u)
      (loss, (bits, d)), grads = jax.lax.cond(
          state.step < t.decoder_warmup_steps, warm_fn, grad_fn, state.params)
    else:
      (loss, (bits, d)), grads = grad_fn(state.params)
    updates, opt_state = tx.update(grads, state.opt_state, state.params)
    params = optax.apply_updates(state.params, updates)
    metrics = {"loss": loss, "rate_bits": bits, "distortion": d,
               "temperature": temperature, "rate_weight": rate_weight}
    return state._replace(params=params, opt_state=opt_state,
                          step=state.step + 1, key=key), metrics

  train_chunk, train = loops.scan_loops(step, init, t.chunk_steps,
                                  t.num_steps // t.chunk_steps)
  return Trainer(comp, source, init, train_chunk, train)


def sweep_grid(config: ml_collections.ConfigDict):
  """Flattened λ × seed grid: (lmbdas [M] float32, seeds [M] int), λ-major."""
  return loops.sweep_grid(config.sweep.lmbdas, config.sweep.seeds)
