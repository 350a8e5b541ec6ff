"""Shared pieces of the learned-conv real-data configs (`eeg_conv`,
`ecg_conv`): the real-data job with one `conv` arm (`models.conv`: a
1-D convolutional transform codec per channel group, one joint decoder and
a lone decoder per source) beside the classical signal codecs; with
`separate`, a second arm `conv_separate` (the same codec trained with one
decoder per source of its own latents: model.decoder='separate') that the
conv arm's rows are compared with at equal rate (separate_gain_*).

Arguments: `quick` (a tiny run for tests), `gpu` (more steps and a larger
batch, for an accelerator), `mi` (the MI-regularized variant: InfoNCE,
β_MI ∈ {−0.1, 0, 0.1}), `kfold` / `folds=k` as in `realdata_common`,
`separate=0|1` (the twin arm; the default is the data config's).
"""

import ml_collections

from experiments.configs import common, realdata_common
from ndc_jax.models import conv


def base(arg: str | None, data: dict, claim: dict, arm: dict,
         quick_data: dict, quick_arm: dict, gpu_steps: int,
         model: dict | None = None, separate: bool = False
         ) -> ml_collections.ConfigDict:
  """The real-data config of one conv arm (`conv.arm(**arm)`, then the
  `model` fields), and its separately trained twin if `separate`."""
  a = common.parse_arg(arg, quick=False, gpu=False, mi=False, kfold=False,
                       folds=5, separate=separate)
  config = realdata_common.base(f"kfold={a.kfold},folds={a.folds}",
                                data={**data, "normalize": "source"},
                                claim=claim, latent_dim=1, hidden=(1,),
                                lmbdas=(1.0,), quick_data={})
  c = conv.arm(**{**arm, **(quick_arm if a.quick else {})})
  c.model.update(model or {})
  c.eval.curve = True  # curve.csv: test rate and PRD after each chunk
  if a.gpu:
    c.train.num_steps, c.train.batch_size = gpu_steps, 128
    c.train.chunk_steps = gpu_steps // 8
  if a.mi:
    c.model.mi_estimator = "infonce"
    c.sweep.betas = (-0.1, 0.0, 0.1)
  config.arms = ml_collections.ConfigDict({"conv": c})
  if a.quick:
    c.train.batch_size, c.model.num_negatives = 8, 7
  if a.separate:
    twin = ml_collections.ConfigDict(c.to_dict())
    twin.model.update(decoder="separate", solo_decoders=False,
                      mi_estimator="none")
    # One λ below the conv arm's: at equal λ the twin spends more bits, so
    # its rates would not reach the conv arm's lowest rate.
    twin.sweep.betas = (0.0,)
    twin.sweep.lmbdas = (min(c.sweep.lmbdas) / 2,) + tuple(c.sweep.lmbdas)
    c.eval.separate_arm = "conv_separate"
    config.arms.conv_separate = twin
  if a.quick:
    config.data.update(quick_data)
    config.baselines = realdata_common.baselines(data["name"], quick=True)
    config.eval.latency_repeats = 2
    config.eval.num_figure_examples = 2
  return config
