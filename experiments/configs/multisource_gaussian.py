"""Multi-source VAE compression of two correlated Gaussian vector sources.

The quadratic-Gaussian two-terminal source (Wagner, Tavildar, Viswanath 2008):
X1, X2 of `dim` i.i.d. component pairs, unit variance, correlation rho. Four
arms = {InfoNCE, MINE} × {alternating, joint updates}; each trains its whole
λ × β_MI × seed grid as one compiled program. β_MI takes both signs.

Run (~15 min on a 2-core CPU):
  python -m experiments.main \
      --config=experiments/configs/multisource_gaussian.py \
      --workdir=runs/multisource_gaussian
Small variant for tests and notebooks:
  --config=experiments/configs/multisource_gaussian.py:quick
"""

import ml_collections

from experiments.configs import common


def arm(estimator: str = "infonce", update: str = "alternating",
        critic: str = "separable") -> ml_collections.ConfigDict:
  """One multi-source sweep: source, model, training, λ × β_MI × seed grid."""
  c = ml_collections.ConfigDict()
  c.source = ml_collections.ConfigDict(dict(
      name="gaussian", num_sources=2, dim=2, rho=0.8, var=1.0))
  c.model = ml_collections.ConfigDict(dict(
      latent_dim=2, encoder_hidden=(64, 64), decoder_hidden=(64, 64),
      mi_estimator=estimator, critic=critic, critic_hidden=(32,),
      critic_embed=16, num_negatives=63, mi_multiway="pairwise",
      entropy_components=4, operational_weight=1.0))
  c.train = ml_collections.ConfigDict(dict(
      num_steps=1500, chunk_steps=500, batch_size=128, learning_rate=2e-3,
      entropy_learning_rate=1e-2, critic_learning_rate=2e-3,
      mine_ema_rate=0.01, update_mode=update))
  c.sweep = ml_collections.ConfigDict(dict(
      lmbdas=(2.0, 5.0, 12.0), betas=(-1.0, 0.0, 1.0), seeds=(0,),
      models_at_once=-1))  # see common.arm
  c.eval = ml_collections.ConfigDict(dict(num_samples=20_000, seed=1234))
  return c


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
  a = common.parse_arg(arg, quick=False)
  config = ml_collections.ConfigDict()
  config.job = "multisource"
  config.arms = ml_collections.ConfigDict({
      "infonce_alternating": arm("infonce", "alternating"),
      "infonce_joint": arm("infonce", "joint"),
      "mine_alternating": arm("mine", "alternating", "mlp"),
      "mine_joint": arm("mine", "joint", "mlp"),
  })
  if a.quick:
    for c in config.arms.values():
      c.train.num_steps, c.train.chunk_steps, c.train.batch_size = 40, 20, 32
      c.model.encoder_hidden = c.model.decoder_hidden = (16,)
      c.model.critic_hidden, c.model.critic_embed = (8,), 4
      c.model.num_negatives = 7
      c.sweep.lmbdas, c.sweep.betas = (2.0, 12.0), (-0.5, 0.5)
      c.eval.num_samples = 2048
  return config
