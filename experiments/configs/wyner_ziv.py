"""The one-shot Wyner-Ziv compressor (Ozyilkan, Ballé, Erkip 2023): three arms.

* gaussian_conditional: Y = X + N, rate model q(u|y); the encoder's MLP sits
  on a codebook head (a uniform quantizer at initialization, see
  `models.CodebookHead`), 6000 steps at batch 1024 with a cosine step decay.
* gaussian_marginal:    Y = X + N, rate model q(u) (a true distributed code).
* laplace_marginal:     X ~ Laplace(0, 1), Y = sign(X), rate model q(u).

Run (the README's main job, about 3 min on a 2-core CPU):
  python -m experiments.main --config=experiments/configs/wyner_ziv.py \
      --workdir=runs/wyner_ziv
Small variant for tests and notebooks:
  --config=experiments/configs/wyner_ziv.py:quick
Paper-scale variant (a GPU job): the Gaussian marginal arm alone, where
binning is the open question, on the published notebook's schedule (200k
steps, the first 30k warming up the rate term), batch 1024, six λ × two seeds:
  --config=experiments/configs/wyner_ziv.py:paper
"""

import ml_collections

from experiments.configs import common


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
  a = common.parse_arg(arg, quick=False, paper=False)
  if a.quick and a.paper:
    raise ValueError("config arguments quick and paper exclude each other")
  config = ml_collections.ConfigDict()
  config.job = "wyner_ziv"
  conditional = common.arm("gaussian", "conditional",
                           (30., 100., 300., 1e3, 3e3))
  conditional.model.encoder_head = "codebook"
  conditional.train.update(num_steps=6000, chunk_steps=500, batch_size=1024,
                           lr_schedule="cosine")
  config.arms = ml_collections.ConfigDict({
      "gaussian_conditional": conditional,
      "gaussian_marginal": common.arm(
          "gaussian", "marginal", (1e3, 3e3, 1e4, 3e4, 1e5)),
      "laplace_marginal": common.arm(
          "signed_laplace", "marginal", (3., 10., 30., 100., 300.)),
  })
  if a.paper:
    marginal = config.arms.gaussian_marginal
    marginal.train.update(num_steps=200_000, chunk_steps=10_000,
                          warmup_steps=30_000, batch_size=1024,
                          temperature_decay_steps=150_000.0,
                          lr_schedule="cosine")
    marginal.sweep.update(lmbdas=(1e3, 3e3, 1e4, 3e4, 1e5, 3e5), seeds=(0, 1))
    config.arms = ml_collections.ConfigDict({"gaussian_marginal": marginal})
  if a.quick:
    for arm in config.arms.values():
      arm.train.num_steps, arm.train.chunk_steps = 60, 30
      arm.train.warmup_steps = 30
      arm.train.batch_size = 64
      arm.model.num_indices = 16
      arm.model.encoder_hidden = arm.model.decoder_hidden = (32,)
      arm.model.prior_hidden = (32,)
      arm.sweep.lmbdas = arm.sweep.lmbdas[::2]
      arm.eval.num_samples = 4096
      arm.eval.baseline_quick = True
  return config
