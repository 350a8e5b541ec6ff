"""A learned 1-D convolutional transform codec for N multichannel signals,
coded by separate encoders and decoded jointly.

Ballé, Laparra, Simoncelli, "End-to-end optimized image compression", ICLR
2017 (transform coding with additive-noise training), in 1-D and distributed:
source i is a window x_i [C_i, W] (flattened [C_i·W] as every multi-source
sampler gives it); its encoder sees only x_i:

    analysis_i:  1×1 conv C_i → F (a learned channel mixing, random init: no
                 KLT is built in), then `downsamples` strided convs (kernel k,
                 stride 2, leaky ReLU of negative slope `model.slope`: 1 makes
                 the transforms linear), then a conv F → M
                 -> y_i [W / 2^downsamples, M], flattened [L·M] (position-major)
    ŷ_i = round(y_i) at test, ỹ_i = y_i + U(−½, ½) in training
    rate:        −Σ log2 P(ŷ_i) under a learned factorized density per latent
                 element (`entropy_model`, one ANS stream per source)
    synthesis:   one joint decoder of all latents [L, N·M] (convs, each
                 upsampling ×2 by a sub-pixel reshape)
                 with one 1×1 head per source -> x̂_i [C_i, W]
                 (model.decoder='joint'); or, model.decoder='separate', one
                 decoder per source of its own latents only [L, M]: the
                 same codec trained for separate decoding, the reference
                 of the side-information gain at equal rate.

The loss per source dimension (n = Σ_i C_i·W) is the operational
rate-distortion Lagrangian

    L = [ Σ_i bits_i(ỹ_i) + λ·Σ_i dim_i·mse_i − β_MI·Î(Ỹ_1; …; Ỹ_N) ] / n,

Î (nats → bits) an InfoNCE or MINE estimate of the latents' MI (`mi`; off
with model.mi_estimator='none'). With model.solo_decoders, N more synthesis
nets D_i^alone each decode x_i from ŷ_i alone (the other sources' latents
absent), trained on stop-gradient latents so they never change the
encoders, the entropy models or the joint decoder: the same bitstreams
decoded with and without the other sources, at exactly the same rate.

λ, β_MI and the seed are traced: `jit(vmap(train))` trains a λ × β_MI × seed
grid at once. The returned `ConvTrainer` has the fields of
`models.train.Trainer` (encode returns (y, 0) as a deterministic
"posterior"; gains are 1), so `quantized_latents`, `decode_latents`,
`latent_bits` and `evaluate.measured_bpd` code it unchanged.
"""

from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp
import ml_collections
import optax
from flax import nnx

from ndc_jax.core import entropy_model as em
from ndc_jax.core import loops, mi, runner
from ndc_jax.models import sources as ms

ESTIMATORS = ("none",) + tuple(mi.ESTIMATORS)
DECODERS = ("joint", "separate")
METRICS = ("loss", "op_bpd", "mse", "mse_alone", "mi_bits")


class Conv1D(nnx.Module):
  """A 1-D convolution with centred zero padding ((k − 1) // 2 before, the
  rest after) as one matmul over stacked shifts (im2col): x [B, W, C_in]
  -> [B, ceil(W / stride), C_out]. XLA:CPU runs
  nnx.Conv ~70x slower inside a lax.scan training loop; this form is not."""

  def __init__(self, c_in, c_out, kernel, stride=1, *, rngs: nnx.Rngs):
    self.kernel, self.stride = kernel, stride
    self.w = nnx.Param(jax.nn.initializers.lecun_normal()(
        rngs.params(), (kernel * c_in, c_out)))
    self.b = nnx.Param(jnp.zeros((c_out,)))

  def __call__(self, x):
    k, s, w = self.kernel, self.stride, x.shape[1]
    lo = (k - 1) // 2
    xp = jnp.pad(x, ((0, 0), (lo, k - 1 - lo), (0, 0)))
    cols = jnp.concatenate([xp[:, j:j + w:s] for j in range(k)], -1)
    return cols @ self.w[...] + self.b[...]


class Analysis(nnx.Module):
  """x [B, W, C] -> y [B, W / 2^downsamples, M]; leaky ReLU of negative
  `slope` after each strided conv (slope 1: a linear transform)."""

  def __init__(self, channels, filters, latent, kernel, downsamples,
               slope=0.01, *, rngs: nnx.Rngs):
    self.slope = slope
    self.mix = Conv1D(channels, filters, 1, rngs=rngs)
    self.down = nnx.List([Conv1D(filters, filters, kernel, 2, rngs=rngs)
                          for _ in range(downsamples)])
    self.out = Conv1D(filters, latent, kernel, rngs=rngs)

  def __call__(self, x):
    h = self.mix(x)
    for conv in self.down:
      h = jax.nn.leaky_relu(conv(h), self.slope)
    return self.out(h)


class Synthesis(nnx.Module):
  """Latents [B, L, K] -> one output per head, [B, L·2^upsamples, C_j];
  leaky ReLU of negative `slope` as in `Analysis`."""

  def __init__(self, latent, filters, heads, kernel, upsamples, slope=0.01,
               *, rngs: nnx.Rngs):
    self.slope = slope
    self.inp = Conv1D(latent, filters, kernel, rngs=rngs)
    # Each upsampling: a conv to 2F channels, then [L, 2F] -> [2L, F]
    # (sub-pixel; Shi et al. 2016) — a transposed conv's backward pass is
    # ~10x slower on CPU.
    self.up = nnx.List([Conv1D(filters, 2 * filters, kernel, rngs=rngs)
                        for _ in range(upsamples)])
    self.heads = nnx.List([Conv1D(filters, c, 1, rngs=rngs) for c in heads])

  def __call__(self, z):
    h = jax.nn.leaky_relu(self.inp(z), self.slope)
    for conv in self.up:
      h = conv(h)
      h = jax.nn.leaky_relu(h.reshape(h.shape[0], -1, h.shape[-1] // 2),
                            self.slope)
    return [head(h) for head in self.heads]


class ConvTrainer(NamedTuple):
  """The fields of `models.train.Trainer`, plus the lone decoders."""
  source: ms.MultiSource
  terms: list
  init: Callable         # key -> loops.CriticTrainState (params: {"enc":
                         # {"encoders", "entropy"}, "dec", "alone", "critic"})
  train_chunk: Callable  # (state, lmbda, beta) -> (state, chunk metrics)
  train: Callable        # (lmbda, beta, key) -> (state, metrics [chunks])
  encode: Callable       # (params, xs) -> [(y_i [B, L·M], zeros)]
  decode: Callable       # (params, ys) -> [x̂_i [B, dim_i]] (joint decoder)
  mi_nats: Callable      # (params, ys, key, ma) -> [(est, objective, ma)]
  gains: Callable        # params -> [ones [L·M]]
  decode_alone: Callable  # (params, ys) -> [x̂_i from y_i alone] (or None)
  latent_shape: tuple    # (L, M) per source
  metric_names: tuple = METRICS
  has_posterior: bool = False  # no VAE posterior: KL columns are NaN


def validate(config: ml_collections.ConfigDict, source: ms.MultiSource,
             channels: list) -> None:
  """Raises ValueError naming a bad `model`, `train` or `sweep` field."""
  m, t, s = config.model, config.train, config.sweep
  runner.check_counts(config, ("model.filters", "model.latent_channels",
                               "model.kernel", "model.entropy_components"))
  runner.check_schedule(config)
  if not (isinstance(m.downsamples, int) and m.downsamples >= 0):
    raise ValueError(f"model.downsamples={m.downsamples!r} must be an integer "
                     ">= 0")
  for i, (d, c) in enumerate(zip(source.dims, channels)):
    w = d // c
    if d % c or w % 2 ** m.downsamples:
      raise ValueError(
          f"source {i + 1}: {d} values as {c} channels give windows of "
          f"{d / c:g} samples, not a multiple of 2^model.downsamples = "
          f"{2 ** m.downsamples}; change data.window or model.downsamples")
  if len({d // c for d, c in zip(source.dims, channels)}) != 1:
    raise ValueError("every source needs the same window length (the joint "
                     "decoder aligns their latents in time)")
  if not (isinstance(m.slope, (int, float)) and 0 <= m.slope <= 1):
    raise ValueError(f"model.slope={m.slope!r} is invalid; allowed: a number "
                     "in [0, 1] (leaky ReLU's negative slope; 1 = linear)")
  if m.decoder not in DECODERS:
    raise ValueError(f"model.decoder={m.decoder!r} is unknown; allowed: "
                     f"{DECODERS}")
  if m.decoder == "separate" and m.solo_decoders:
    raise ValueError("model.solo_decoders=True with model.decoder="
                     "'separate': its decoders already see one source each; "
                     "set model.solo_decoders=False")
  if m.mi_estimator not in ESTIMATORS:
    raise ValueError(f"model.mi_estimator={m.mi_estimator!r} is unknown; "
                     f"allowed: {ESTIMATORS}")
  if m.mi_estimator != "none":
    if m.critic not in mi.CRITICS:
      raise ValueError(f"model.critic={m.critic!r} is unknown; allowed: "
                       f"{mi.CRITICS}")
    if not 1 <= m.num_negatives < t.batch_size:
      raise ValueError(f"model.num_negatives={m.num_negatives!r} must lie in "
                       f"[1, train.batch_size − 1 = {t.batch_size - 1}]")
  elif any(b != 0 for b in s.betas):
    raise ValueError(f"sweep.betas={tuple(s.betas)!r}: β_MI ≠ 0 needs an MI "
                     "estimator (model.mi_estimator='infonce' or 'mine')")
  for field in ("learning_rate", "entropy_learning_rate"):
    if not t[field] > 0:
      raise ValueError(f"train.{field}={t[field]!r} must be > 0")
  if not 0 < t.final_lr_fraction <= 1:
    raise ValueError(f"train.final_lr_fraction={t.final_lr_fraction!r} must "
                     "lie in (0, 1]")
  if not s.lmbdas or any(not l > 0 for l in s.lmbdas):
    raise ValueError(f"sweep.lmbdas={tuple(s.lmbdas)!r} must be a non-empty "
                     "list of values > 0")
  if not s.seeds:
    raise ValueError("sweep.seeds is empty; give at least one integer seed")


def make_train(config: ml_collections.ConfigDict, source: ms.MultiSource,
               channels=None) -> ConvTrainer:
  """Pure training functions of a conv arm on `source`.

  `channels` [N]: the channel count of each source (its dim = C_i·W);
  default `config.model.channels`, else one channel per source."""
  channels = list(channels or config.model.get("channels") or
                  [1] * source.num_sources)
  validate(config, source, channels)
  m, t = config.model, config.train
  num, dims = source.num_sources, source.dims
  window = dims[0] // channels[0]
  length, lat = window // 2 ** m.downsamples, m.latent_channels
  flat = length * lat
  n_tot = float(sum(dims))
  use_mi = m.mi_estimator != "none"
  separate = m.decoder == "separate"
  terms = mi.multiway_terms(m.get("mi_multiway", "pairwise"), num) if (
      use_mi) else []

  def build(key):
    keys = jax.random.split(key, 2 * num + 1 + len(terms))
    encs = [Analysis(c, m.filters, lat, m.kernel, m.downsamples, m.slope,
                     rngs=nnx.Rngs(k)) for c, k in zip(channels, keys[:num])]
    dec = ([Synthesis(lat, m.filters, [c], m.kernel, m.downsamples, m.slope,
                      rngs=nnx.Rngs(k))
            for c, k in zip(channels, jax.random.split(keys[num], num))]
           if separate else
           Synthesis(num * lat, m.filters, channels, m.kernel, m.downsamples,
                     m.slope, rngs=nnx.Rngs(keys[num])))
    alone = [Synthesis(lat, m.filters, [c], m.kernel, m.downsamples, m.slope,
                       rngs=nnx.Rngs(k))
             for c, k in zip(channels, keys[num + 1:2 * num + 1])
             ] if m.solo_decoders else []
    critics = [mi.make_critic(m.critic, flat * len(left), flat,
                              m.critic_hidden, m.critic_embed, k)
               for (left, _), k in zip(terms, keys[2 * num + 1:])]
    return encs, dec, alone, critics

  # The modules' structure, traced abstractly (nothing is computed).
  shapes = nnx.eval_shape(lambda: build(jax.random.key(0)))
  g_enc = [nnx.split(e)[0] for e in shapes[0]]
  g_dec = ([nnx.split(d)[0] for d in shapes[1]] if separate
           else nnx.split(shapes[1])[0])
  g_alone = [nnx.split(a)[0] for a in shapes[2]]
  g_crit = [nnx.split(c)[0] for c in shapes[3]]

  def init_params(key):
    encs, dec, alone, critics = build(key)
    return {"enc": {"encoders": [nnx.split(e)[1] for e in encs],
                    "entropy": [em.init_params(flat, m.entropy_components)
                                for _ in range(num)]},
            "dec": ([nnx.split(d)[1] for d in dec] if separate
                    else nnx.split(dec)[1]),
            "alone": [nnx.split(a)[1] for a in alone],
            "critic": [nnx.split(c)[1] for c in critics]}

  def to_time(x, c):  # [B, C·W] -> [B, W, C]
    return jnp.swapaxes(x.reshape(x.shape[0], c, window), 1, 2)

  def from_time(h):  # [B, W, C] -> [B, C·W]
    return jnp.swapaxes(h, 1, 2).reshape(h.shape[0], -1)

  def encode(params, xs):
    ys = [nnx.merge(g, p)(to_time(x, c)).reshape(x.shape[0], flat)
          for g, p, x, c in zip(g_enc, params["enc"]["encoders"], xs,
                                channels)]
    return [(y, jnp.zeros_like(y)) for y in ys]

  def decode_each(graphs, states, ys):  # source i from ŷ_i alone
    return [from_time(nnx.merge(g, p)(y.reshape(-1, length, lat))[0])
            for g, p, y in zip(graphs, states, ys)]

  def decode(params, ys):
    if separate:
      return decode_each(g_dec, params["dec"], ys)
    z = jnp.concatenate([y.reshape(-1, length, lat) for y in ys], -1)
    return [from_time(h) for h in nnx.merge(g_dec, params["dec"])(z)]

  def decode_alone(params, ys):
    return decode_each(g_alone, params["alone"], ys)

  def mi_nats(params, ys, key, ma):
    critics = [nnx.merge(g, p) for g, p in zip(g_crit, params["critic"])]
    return mi.estimate_terms(m.mi_estimator, terms, critics, ys,
                             m.num_negatives, key, ma, t.mine_ema_rate)

  def gains(params):
    del params
    return [jnp.ones((flat,)) for _ in range(num)]

  def sq_err(xs, xhs):
    return [jnp.mean(jnp.sum((x - xh) ** 2, -1)) for x, xh in zip(xs, xhs)]

  def loss_fn(params, xs, lmbda, beta, ma, key):
    k_u, k_mi = jax.random.split(key)
    ys = [em.noisy(k, y) for (y, _), k in
          zip(encode(params, xs), jax.random.split(k_u, num))]
    bits = sum(jnp.mean(jnp.sum(em.bits(p, y), -1))
               for p, y in zip(params["enc"]["entropy"], ys))
    se = sq_err(xs, decode(params, ys))
    sg = jax.lax.stop_gradient
    se_alone = (sq_err(xs, decode_alone(params, [sg(y) for y in ys]))
                if m.solo_decoders else [jnp.zeros(())])
    mi_obj, crit_obj, mi_est, new_ma = mi.critic_game(
        lambda cp, lat, k, a: mi_nats({**params, "critic": cp}, lat, k, a),
        params["critic"], ys, k_mi, ma, use_mi)
    # The operational rate-distortion Lagrangian, bits per source dimension
    # (the lone decoders' term only reaches their own parameters).
    loss = (bits + lmbda * (sum(se) + sum(se_alone)) - beta * mi_obj
            ) / n_tot - crit_obj
    metrics = {"op_bpd": bits / n_tot, "mse": sum(se) / n_tot,
               "mse_alone": sum(se_alone) / n_tot, "mi_bits": mi_est}
    return loss, (metrics, new_ma)

  steps = t.num_steps
  decay = lambda lr: optax.cosine_decay_schedule(lr, steps,
                                                 t.final_lr_fraction)
  net = optax.adam(decay(t.learning_rate))
  tx = optax.multi_transform(
      {"net": net, "entropy": optax.adam(decay(t.entropy_learning_rate)),
       "critic": optax.adam(t.get("critic_learning_rate",
                                  t.learning_rate))},
      lambda p: {"enc": {"encoders": jax.tree.map(lambda _: "net",
                                                  p["enc"]["encoders"]),
                         "entropy": jax.tree.map(lambda _: "entropy",
                                                 p["enc"]["entropy"])},
                 "dec": jax.tree.map(lambda _: "net", p["dec"]),
                 "alone": jax.tree.map(lambda _: "net", p["alone"]),
                 "critic": jax.tree.map(lambda _: "critic", p["critic"])})

  init, step = loops.lagrangian_steps(
      init_params, tx, len(terms),
      lambda k: (source.sample(k, t.batch_size),), loss_fn)
  train_chunk, train = loops.scan_loops(step, init, t.chunk_steps,
                                        t.num_steps // t.chunk_steps)
  return ConvTrainer(source, terms, init, train_chunk, train, encode, decode,
                     mi_nats, gains, decode_alone if m.solo_decoders else None,
                     (length, lat))


def arm(channels=(1, 1), filters: int = 32, latent_channels: int = 8,
        downsamples: int = 3, lmbdas=(1.0,), num_steps: int = 2000
        ) -> ml_collections.ConfigDict:
  """A conv arm's config: model, train, sweep, eval (see `make_train`)."""
  c = ml_collections.ConfigDict()
  c.model = ml_collections.ConfigDict(dict(
      name="conv", channels=tuple(channels), filters=filters,
      latent_channels=latent_channels, kernel=5, downsamples=downsamples,
      slope=0.01,  # leaky ReLU's negative slope (1.0: linear transforms)
      entropy_components=3, solo_decoders=True,
      # 'separate': each source decoded from its own latents only (then
      # solo_decoders=False), the separately trained reference codec.
      decoder="joint",
      # The MI-regularized variant: 'infonce' or 'mine' with β_MI ≠ 0.
      mi_estimator="none", critic="separable", critic_hidden=(64,),
      critic_embed=16, num_negatives=31, mi_multiway="pairwise"))
  c.train = ml_collections.ConfigDict(dict(
      num_steps=num_steps, chunk_steps=num_steps // 4, batch_size=32,
      learning_rate=1.5e-3, entropy_learning_rate=1e-2,
      critic_learning_rate=1e-3, final_lr_fraction=0.1, mine_ema_rate=0.01))
  c.sweep = ml_collections.ConfigDict(dict(lmbdas=tuple(lmbdas), betas=(0.0,),
                                           seeds=(0,), models_at_once=-1))
  c.eval = ml_collections.ConfigDict(dict(num_samples=2000, seed=1234))
  return c
