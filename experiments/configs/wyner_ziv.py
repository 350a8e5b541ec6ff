"""The one-shot Wyner-Ziv compressor (Ozyilkan, Ballé, Erkip 2023): four arms.

* gaussian_conditional: Y = X + N, rate model q(u|y); the encoder's MLP sits
  on a codebook head (a uniform quantizer at initialization, see
  `models.CodebookHead`), 6000 steps at batch 512 with a cosine step decay.
* gaussian_marginal:    Y = X + N, rate model q(u) (a true distributed code):
  the argmin encoder trained by deterministic annealing (τ from 10 to 0.01
  bits over 7500 steps), a mixture decoder (16 learned centres per index,
  drawn at random on ±3.5·std(Y)) and E_{y|x} on a randomly shifted 128-point
  y-grid, 9000 steps at batch 512; it learns binning (one index serves
  several disjoint cells of x).
* gaussian_x_is_y_plus_noise_marginal: the same arm for X = Y + N.
* laplace_marginal:     X ~ Laplace(0, 1), Y = sign(X), rate model q(u): the
  same recipe with K = 64, gates of width 0.5 in y, E_{y|x} exact on the
  support {−1, 1} of Y, x drawn stratified (one draw per 1/512 of
  probability), τ per unit of λ (τ/λ from 2 to 10⁻⁴ over 20k of 24k steps,
  so that every λ starts above its first split), the rate term of the
  annealing tempered by min(τ, 1 bit) (mass-constrained: q(u) pairs the
  cells of x > 0 and x < 0 while τ is hundreds of bits); 16 seeds train at
  once and each λ keeps the seed of least rate + λ·MSE on a validation set
  (`eval.select_seed`).

The marginal arms' Adam steps drop ×0.1 when τ reaches its floor (at 7500
of 9000 steps, 20k of 24k for the Laplacian).

Blocks of n = 2 pairs (`:block`, 11–15 min on a 2-core CPU): the same
marginal recipe on x, y in R², with E_{y|x} on a randomly shifted 6 × 6 grid
around E[y|x] over ±3 std of y|x (`model.side_info_local_grid`; the scalar
y-grid does not extend to blocks) and a learned table decoder
(`models.TableDecoder`: x̂ per
index on a 129 × 129 grid in y, bilinear, started from 32 random points per
index), K = 64; rates are bits per scalar sample, held against the scalar
baseline on each component:
  --config=experiments/configs/wyner_ziv.py:block

Run (the README's main job, 7–19 min on a 2-core CPU, see docs/benchmarks.md):
  python -m experiments.main --config=experiments/configs/wyner_ziv.py \
      --workdir=runs/wyner_ziv
Small variant for tests and notebooks:
  --config=experiments/configs/wyner_ziv.py:quick
The published recipe (the JSAIT notebook's schedule, a GPU job; ≈ 0.5 s per
step on a 2-core CPU): the argmin encoder, q(u) as K = 32 free logits, 16
draws of y|x, a 100-100 leaky-ReLU MLP decoder, a 30k-step decoder warm-up on
32 draws of x each given 2 random indices (1 for the Laplacian), then joint
training to 200k steps at batch 512, Adam 1e-3 ×0.1 at 70% of the steps; the
three marginal arms (Y = X + N, X = Y + N, the signed Laplacian). Its X = Y + N
sampler draws y = (x + n)/(1 + 2σ²); here p(y|x) is the exact posterior
N(x·(1 − σ²), σ²(1 − σ²)) of X ~ N(0, 1), X = Y + N, Var N = σ²:
  --config=experiments/configs/wyner_ziv.py:paper
"""

import ml_collections

from experiments.configs import common


def binning_arm(source: str, lmbdas, direction: str = "y_is_x_plus_noise"
                ) -> ml_collections.ConfigDict:
  """The marginal arm that learns binning (see the module docstring)."""
  arm = common.arm(source, "marginal", lmbdas, encoder="argmin")
  arm.source.direction = direction
  arm.model.update(num_indices=32, decoder="mixture", decoder_centres=16,
                   decoder_centre_range=3.5, decoder_width=0.1,
                   side_info_grid=128, side_info_grid_range=4.5)
  arm.train.update(num_steps=9000, chunk_steps=500, batch_size=512,
                   learning_rate=3e-3, annealed_argmin=True, warmup_steps=0,
                   temperature_start=10.0, temperature_end=0.01,
                   temperature_decay_steps=7500.0)
  return polished_at_annealing_end(arm)


def polished_at_annealing_end(arm: ml_collections.ConfigDict
                              ) -> ml_collections.ConfigDict:
  """Both Adam steps ×0.1 once τ has reached its floor: the cells are set
  and the remaining steps only settle the centroids and q(u)."""
  t = arm.train
  t.update(lr_schedule="step",
           lr_step_at=t.temperature_decay_steps / t.num_steps)
  return arm


def published_arm(source: str, lmbdas, direction: str = "y_is_x_plus_noise"
                  ) -> ml_collections.ConfigDict:
  """The published notebook's marginal arm (see the module docstring)."""
  arm = common.arm(source, "marginal", lmbdas, encoder="argmin")
  arm.source.direction = direction
  arm.model.update(num_indices=32, side_info_samples=16)
  arm.train.update(num_steps=200_000, chunk_steps=10_000, batch_size=512,
                   learning_rate=1e-3, prior_learning_rate=1e-3,
                   lr_schedule="step", warmup_steps=0,
                   decoder_warmup_steps=30_000, decoder_warmup_points=32,
                   decoder_warmup_indices=1 if source == "signed_laplace"
                   else 2)
  return arm


def block_arm(lmbdas, dim: int = 2) -> ml_collections.ConfigDict:
  """The marginal arm on blocks of `dim` pairs (see the module docstring)."""
  arm = binning_arm("gaussian", lmbdas)
  arm.source.dim = dim
  arm.model.update(num_indices=64, decoder="table", decoder_centres=32,
                   decoder_table_points=129, decoder_table_range=4.5,
                   side_info_grid=0, side_info_local_grid=6,
                   side_info_local_range=3.0)
  return arm


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
  a = common.parse_arg(arg, quick=False, paper=False, block=False)
  if a.quick and a.paper:
    raise ValueError("config arguments quick and paper exclude each other")
  if a.paper and a.block:
    raise ValueError("config arguments paper and block exclude each other")
  config = ml_collections.ConfigDict()
  config.job = "wyner_ziv"
  conditional = common.arm("gaussian", "conditional",
                           (30., 100., 300., 1e3, 3e3))
  conditional.model.encoder_head = "codebook"
  conditional.train.update(num_steps=6000, chunk_steps=500, batch_size=512,
                           lr_schedule="cosine")
  laplace = binning_arm("signed_laplace", (3., 30., 300.))
  laplace.model.update(num_indices=64, decoder_width=0.5)
  laplace.train.update(num_steps=24_000, chunk_steps=2000,
                       temperature_decay_steps=20_000.0,
                       x_sampling="stratified", temperature_per_lambda=True,
                       temperature_start=2.0, temperature_end=1e-4,
                       rate_temperature_cap=1.0)
  polished_at_annealing_end(laplace)
  laplace.sweep.seeds = tuple(range(16))
  laplace.eval.select_seed = True
  config.arms = ml_collections.ConfigDict({
      "gaussian_conditional": conditional,
      "gaussian_marginal": binning_arm("gaussian", (300., 500., 1e3, 2e3)),
      "gaussian_x_is_y_plus_noise_marginal": binning_arm(
          "gaussian", (300., 500., 1e3, 2e3), "x_is_y_plus_noise"),
      "laplace_marginal": laplace,
  })
  if a.paper:
    config.arms = ml_collections.ConfigDict({
        "gaussian_marginal": published_arm("gaussian", (300., 1e3, 3e3)),
        "gaussian_x_is_y_plus_noise_marginal": published_arm(
            "gaussian", (300., 1e3, 3e3), "x_is_y_plus_noise"),
        "laplace_marginal": published_arm("signed_laplace", (3., 30., 300.)),
    })
  if a.block:
    config.arms = ml_collections.ConfigDict({
        "gaussian_block2_marginal": block_arm((300., 500.))})
  if a.quick:  # the X = Y + N arm runs the same code as gaussian_marginal
    config.arms = ml_collections.ConfigDict({
        name: arm for name, arm in config.arms.items()
        if name != "gaussian_x_is_y_plus_noise_marginal"})
    for arm in config.arms.values():
      arm.train.num_steps, arm.train.chunk_steps = 60, 30
      arm.train.warmup_steps = 30
      arm.train.batch_size = 64
      arm.model.num_indices = 16
      arm.model.encoder_hidden = arm.model.decoder_hidden = (32,)
      arm.model.prior_hidden = (32,)
      arm.sweep.lmbdas = arm.sweep.lmbdas[::2]
      arm.sweep.seeds = arm.sweep.seeds[:2]
      arm.eval.num_samples = arm.eval.validation_samples = 4096
      arm.eval.baseline_quick = True
  return config
