"""Multi-source distributed VAE compression with an MI regularizer.

N encoders E_i see only x_i and give a Gaussian posterior q(z_i|x_i) =
N(μ_i, σ_i²) (reparameterized z_i = μ_i + σ_i·ε), prior N(0, I); one joint
decoder reconstructs every x_i from Z = [z_1..z_N]. The objective

    Σ_i [ −log p_θ(x_i|Z) + KL(q(z_i|x_i) ‖ p(z_i)) ] − β_MI · I(Z_1; …; Z_N)

is minimized; its reconstruction term is the *negative* log-likelihood. With a
Gaussian likelihood of variance s² per component, −log2 p_θ(x_i|Z) =
λ·‖x_i − x̂_i‖² + const with λ = 1 / (2 s² ln 2), so λ is the core's distortion
weight (bits per unit squared error) and s² = 1 / (2 λ ln 2). Per example and
divided by n = Σ_i dim_i, the loss (bits per source dimension) is

    L = [ Σ_i (KL_i + λ·dim_i·mse_i) − β_MI·Î ] / n
        + w_op·[ Σ_i (bits_i(ỹ_i) + λ·dim_i·mse(x_i, D(ỹ/g))) ] / n,

the second line being the operational path: y_i = g_i·μ_i (learned per-channel
gain g_i), ỹ = y + U(−½, ½) in training, round(y) at test, coded under a
learned factorized density (`core.entropy_model`). Î (nats → bits) is
InfoNCE or MINE (`core.mi`); its critics maximize their own bound. λ, β_MI and the seed are
traced: `jit(vmap(train))` trains the whole λ × β_MI × seed grid at once.

Updates (`train.update_mode`): ``alternating`` — encoders, entropy models and
critics step with the decoder fixed, then the decoder steps with the encoders
fixed (same batch); ``joint`` — one step of everything.
"""

from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp
import ml_collections
import optax
from flax import nnx

from ndc_jax.core import entropy_model as em
from ndc_jax.core import loops, mi, runner
from ndc_jax.core.nets import MLP
from ndc_jax.core.units import LN2
from ndc_jax.models import sources as ms

UPDATES = ("alternating", "joint")
METRICS = ("loss", "kl_bpd", "op_bpd", "mse", "mse_op", "mi_bits")


class VAEEncoder(nnx.Module):
  """x [B, n] -> (μ, log σ) [B, m] each; `log_gain` scales the coded latent."""

  def __init__(self, dim, latent, hidden, *, rngs: nnx.Rngs):
    self.net = MLP([dim, *hidden, 2 * latent], rngs=rngs)
    self.log_gain = nnx.Param(jnp.zeros((latent,)))

  def __call__(self, x):
    mu, log_sigma = jnp.split(self.net(x), 2, axis=-1)
    return mu, jnp.clip(log_sigma, -8.0, 4.0)


def gaussian_kl_bits(mu, log_sigma):
  """KL(N(μ, σ²) ‖ N(0, 1)) summed over the last axis, in bits; [B, m] -> [B]."""
  return 0.5 * jnp.sum(mu ** 2 + jnp.exp(2 * log_sigma) - 1 - 2 * log_sigma,
                       axis=-1) / LN2


class TrainState(NamedTuple):
  params: dict      # {"enc": {"encoders", "entropy"}, "dec", "critic"}
  opt_state: dict   # same groups
  mine_ma: jax.Array  # [num_terms] MINE moving averages of E_Q[e^T]
  step: jax.Array
  key: jax.Array


class Trainer(NamedTuple):
  source: ms.MultiSource
  terms: list       # MI terms (left latents, right latent)
  init: Callable        # key -> TrainState
  train_chunk: Callable  # (state, lmbda, beta) -> (state, chunk metrics)
  train: Callable        # (lmbda, beta, key) -> (state, metrics [chunks])
  encode: Callable       # (params, xs) -> [(μ_i, log σ_i)]
  decode: Callable       # (params, zs) -> [x̂_i]
  mi_nats: Callable      # (params, zs, key, ma) -> [(est, objective, ma)]
  gains: Callable        # params -> [g_i [m]] quantization gains


def validate(config: ml_collections.ConfigDict) -> None:
  """Raises ValueError naming a bad `model`, `train` or `sweep` field."""
  m, t = config.model, config.train
  runner.check_counts(config, ("model.latent_dim",
                               "model.entropy_components"))
  runner.check_schedule(config)
  if not (isinstance(m.num_negatives, int) and
          1 <= m.num_negatives < t.batch_size):
    raise ValueError(f"model.num_negatives={m.num_negatives!r} is invalid; it "
                     f"must be an integer in [1, train.batch_size − 1 = "
                     f"{t.batch_size - 1}] (negatives come from the batch)")
  for field, v, allowed in (
      ("mi_estimator", m.mi_estimator, tuple(mi.ESTIMATORS)),
      ("critic", m.critic, mi.CRITICS),
      ("mi_multiway", m.mi_multiway, mi.MULTIWAY)):
    if v not in allowed:
      raise ValueError(f"model.{field}={v!r} is unknown; allowed: {allowed}")
  if t.update_mode not in UPDATES:
    raise ValueError(f"train.update_mode={t.update_mode!r} is unknown; allowed: "
                     f"{UPDATES}")
  for field in ("learning_rate", "entropy_learning_rate",
                "critic_learning_rate"):
    if not t[field] > 0:
      raise ValueError(f"train.{field}={t[field]!r} must be > 0")
  if not 0 < t.mine_ema_rate <= 1:
    raise ValueError(f"train.mine_ema_rate={t.mine_ema_rate!r} must lie in "
                     "(0, 1]")
  if not m.operational_weight >= 0:
    raise ValueError(f"model.operational_weight={m.operational_weight!r} must "
                     "be >= 0")
  s = config.sweep
  if not s.lmbdas or any(not l > 0 for l in s.lmbdas):
    raise ValueError(f"sweep.lmbdas={tuple(s.lmbdas)!r} must be a non-empty "
                     "list of values > 0")
  if not s.betas or any(not abs(b) < float("inf") for b in s.betas):
    raise ValueError(f"sweep.betas={tuple(s.betas)!r} must be a non-empty list "
                     "of finite values (either sign)")
  if not s.seeds:
    raise ValueError("sweep.seeds is empty; give at least one integer seed")


def sweep_grid(config):
  """Flattened λ × β_MI × seed grid, λ-major: (lmbdas, betas, seeds), [M]."""
  s = config.sweep
  return loops.sweep_grid(s.lmbdas, s.betas, s.seeds)


def quantized_latents(trainer: Trainer, params, post) -> list:
  """Test-time latents ŷ_i = round(g_i·μ_i) from the posteriors
  [(μ_i, log σ_i)], each [B, m] (integers as floats)."""
  return [em.quantize(g * mu)
          for (mu, _), g in zip(post, trainer.gains(params))]


def decode_latents(trainer: Trainer, params, ys) -> list:
  """x̂_i from coded latents ŷ_i (rounded, or noisy in training): the
  decoder sees ŷ_i / g_i. ys [(B, m)] -> [(B, dim_i)]."""
  return trainer.decode(params, [y / g for y, g in
                                 zip(ys, trainer.gains(params))])


def latent_bits(params, ys) -> list:
  """Each source's mean estimated bits per example under its entropy
  model, −Σ log2 p(ŷ_i); ys [(B, m)] -> [scalar]."""
  return [jnp.mean(jnp.sum(em.bits(p, y), -1))
          for p, y in zip(params["enc"]["entropy"], ys)]


def make_train(config: ml_collections.ConfigDict,
               source: ms.MultiSource | None = None) -> Trainer:
  """Pure training functions of `config`; `source` overrides config.source."""
  validate(config)
  source = source or ms.make_source(config.source)
  m, t = config.model, config.train
  dims, num, lat = source.dims, source.num_sources, m.latent_dim
  n_tot = float(sum(dims))
  terms = mi.multiway_terms(m.mi_multiway, num)
  splits = [sum(dims[:i + 1]) for i in range(num - 1)]

  def build(key):
    keys = jax.random.split(key, 2 * num + 1 + len(terms))
    encs = [VAEEncoder(d, lat, m.encoder_hidden, rngs=nnx.Rngs(k))
            for d, k in zip(dims, keys[:num])]
    dec = MLP([num * lat, *m.decoder_hidden, int(n_tot)],
              rngs=nnx.Rngs(keys[num]))
    critics = [mi.make_critic(m.critic, lat * len(left), lat,
                              m.critic_hidden, m.critic_embed, k)
               for (left, _), k in zip(terms, keys[num + 1:])]
    return encs, dec, critics

  # The modules' structure, traced abstractly (nothing is computed).
  encs, dec, critics = nnx.eval_shape(lambda: build(jax.random.key(0)))
  g_enc = [nnx.split(e)[0] for e in encs]
  g_dec = nnx.split(dec)[0]
  g_crit = [nnx.split(c)[0] for c in critics]

  def init_params(key):
    encs, dec, critics = build(key)
    return {"enc": {"encoders": [nnx.split(e)[1] for e in encs],
                    "entropy": [em.init_params(lat, m.entropy_components)
                                for _ in range(num)]},
            "dec": nnx.split(dec)[1],
            "critic": [nnx.split(c)[1] for c in critics]}

  def encode(params, xs):
    return [nnx.merge(g, p)(x) for g, p, x in
            zip(g_enc, params["enc"]["encoders"], xs)]

  def decode(params, zs):
    out = nnx.merge(g_dec, params["dec"])(jnp.concatenate(zs, axis=-1))
    return jnp.split(out, splits, axis=-1)

  def mi_nats(params, zs, key, ma):
    critics = [nnx.merge(g, p) for g, p in zip(g_crit, params["critic"])]
    return mi.estimate_terms(m.mi_estimator, terms, critics, zs,
                             m.num_negatives, key, ma, t.mine_ema_rate)

  def gains(params):
    return [jnp.exp(nnx.merge(g, p).log_gain[...])
            for g, p in zip(g_enc, params["enc"]["encoders"])]

  def loss_fn(params, xs, lmbda, beta, ma, key):
    k_z, k_u, k_mi = jax.random.split(key, 3)
    post = encode(params, xs)
    zs = [mu + jnp.exp(ls) * jax.random.normal(k, mu.shape)
          for (mu, ls), k in zip(post, jax.random.split(k_z, num))]
    kl = sum(jnp.mean(gaussian_kl_bits(mu, ls)) for mu, ls in post)
    se = [jnp.mean(jnp.sum((x - xh) ** 2, -1)) for x, xh in
          zip(xs, decode(params, zs))]
    ys = [em.noisy(k, g * mu) for (mu, _), g, k in
          zip(post, gains(params), jax.random.split(k_u, num))]
    op_bits = sum(latent_bits(params, ys))
    se_op = [jnp.mean(jnp.sum((x - xh) ** 2, -1)) for x, xh in
             zip(xs, decode(params, [y / g for y, g in
                                     zip(ys, gains(params))]))]
    sg = jax.lax.stop_gradient
    frozen = {**params, "critic": sg(params["critic"])}
    enc_terms = mi_nats(frozen, zs, k_mi, ma)
    crit_terms = mi_nats(params, [sg(z) for z in zs], k_mi, ma)
    mi_est = sum(e for e, _, _ in enc_terms)
    loss = ((kl + lmbda * sum(se) - beta * sum(o for _, o, _ in enc_terms)
             / LN2) + m.operational_weight * (op_bits + lmbda * sum(se_op))
            ) / n_tot - sum(o for _, o, _ in crit_terms)
    metrics = {"kl_bpd": kl / n_tot, "op_bpd": op_bits / n_tot,
               "mse": sum(se) / n_tot, "mse_op": sum(se_op) / n_tot,
               "mi_bits": mi_est / LN2}
    new_ma = jnp.stack([a for _, _, a in crit_terms])
    return loss, (metrics, new_ma)

  net = optax.adam(t.learning_rate)
  tx = {"enc": optax.multi_transform(
            {"net": net, "entropy": optax.adam(t.entropy_learning_rate)},
            lambda p: {k: jax.tree.map(lambda _: k if k == "entropy" else "net",
                                       v) for k, v in p.items()}),
        "dec": net, "critic": optax.adam(t.critic_learning_rate)}

  def init(key):
    k_p, k_t = jax.random.split(key)
    params = init_params(k_p)
    opt = {g: tx[g].init(params[g]) for g in tx}
    return TrainState(params, opt, jnp.ones((len(terms),)),
                      jnp.zeros((), jnp.int32), k_t)

  def apply(params, opt, grads, groups):
    params, opt = dict(params), dict(opt)
    for g in groups:
      upd, opt[g] = tx[g].update(grads[g], opt[g], params[g])
      params[g] = optax.apply_updates(params[g], upd)
    return params, opt

  def step(state, lmbda, beta):
    key, k_x, k_1, k_2 = jax.random.split(state.key, 4)
    xs = source.sample(k_x, t.batch_size)
    grad_fn = jax.value_and_grad(loss_fn, has_aux=True)
    (loss, (metrics, ma)), grads = grad_fn(state.params, xs, lmbda, beta,
                                           state.mine_ma, k_1)
    if t.update_mode == "joint":
      params, opt = apply(state.params, state.opt_state, grads,
                          ("enc", "dec", "critic"))
    else:  # encoders (+ entropy models, critics) with the decoder fixed
      params, opt = apply(state.params, state.opt_state, grads,
                          ("enc", "critic"))
      _, grads = grad_fn(params, xs, lmbda, beta, state.mine_ma, k_2)
      params, opt = apply(params, opt, grads, ("dec",))
    metrics["loss"] = loss
    return TrainState(params, opt, ma, state.step + 1, key), metrics

  train_chunk, train = loops.scan_loops(step, init, t.chunk_steps,
                                            t.num_steps // t.chunk_steps)
  return Trainer(source, terms, init, train_chunk, train, encode, decode,
                 mi_nats, gains)
