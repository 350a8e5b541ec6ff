"""The convolutional distributed stereo image codec on colour Motorcycle
(`ndc_jax.stereo`): view 1 (left) coded, view 2 (right) at the decoder only,
beside JPEG, WebP, JPEG 2000, JPEG XL and AVIF coding view 1 alone.

Default (CPU, two arms: NDIC fusion decoder and the single-view codec, both
with the scale hyperprior; 19–24 min of wall time on an idle 2-core CPU;
results in docs/stereo_conv.md):
  python -m experiments.main --config=experiments/configs/stereo_conv.py \\
      --workdir=runs/stereo_conv
Full schedule on an accelerator (every variant: factorized, hyperprior and
mean-scale hyperprior, NDIC and NDIC-CAM, the MI-regularized arm with
β_MI ∈ {−0.1, 0.1}, the distributed VQ-VAE; larger nets, crops and
batches, 100k steps):
  python -m experiments.main --config=experiments/configs/stereo_conv.py:gpu \\
      --workdir=runs/stereo_conv_gpu
Tiny (tests): --config=experiments/configs/stereo_conv.py:quick

Other datasets (`config.data`, ndc_jax/stereo/job.py): KITTI Stereo 2012 +
2015 or Cityscapes under the NDIC protocol (centre crop 370 × 740 for KITTI,
resized to 128 × 256), trained on random crops of the training split and
evaluated on every test pair (rd.csv: means over the test images):
  python -m experiments.main --config=experiments/configs/stereo_conv.py \\
      --config.data.name=kitti --config.data.path=/data/kitti \\
      --workdir=runs/stereo_kitti
  python -m experiments.main --config=experiments/configs/stereo_conv.py \\
      --config.data.name=cityscapes --config.data.path=/data/cityscapes \\
      --workdir=runs/stereo_cityscapes
data.path: the dataset root (KITTI: holding data_stereo_flow_multiview/ and
data_scene_flow_multiview/; Cityscapes: leftImg8bit/ and rightImg8bit/);
data.split_dir: KITTI's NDIC split lists KITTI_stereo_{train,test}.txt
('' = the default split rule of ndc_jax/stereo/datasets.py);
data.versions: the KITTI sets of that rule, e.g. '(2015,)';
data.crop_hw: () = the protocol's; data.resize_hw: (128, 256);
data.max_test_images: code only the first N test pairs (0 = all), for CPU
runs. Add :gpu for the full schedule.
"""

import ml_collections

from experiments.configs import common
from ndc_jax.baselines import image_codecs
from ndc_jax.stereo import data, train

CPU_LMBDAS = (0.0018, 0.0075, 0.03)
GPU_LMBDAS = (0.0018, 0.0035, 0.0067, 0.013, 0.025, 0.0483)


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
  a = common.parse_arg(arg, quick=False, gpu=False)
  config = ml_collections.ConfigDict()
  config.job = "stereo"
  config.data = ml_collections.ConfigDict(dict(data.DATA_DEFAULTS))
  if a.gpu:
    kw = dict(lmbdas=GPU_LMBDAS, num_steps=100_000, filters=128,
              latent_channels=192, crop=(128, 256), batch_size=16)
    arms = {"ndic": ("factorized", "concat"),
            "single_view": ("factorized", "none"),
            "ndic_hyperprior": ("hyperprior", "concat"),
            "single_view_hyperprior": ("hyperprior", "none"),
            "ndic_mean_scale": ("mean_scale", "concat"),
            "single_view_mean_scale": ("mean_scale", "none"),
            "ndic_cam": ("hyperprior", "attention"),
            "ndic_mi": ("factorized", "concat"),
            "vqvae": ("vq", "concat")}
  elif a.quick:
    kw = dict(lmbdas=(0.01,), num_steps=4, filters=8, latent_channels=8,
              downsamples=2, crop=(16, 32), batch_size=4)
    arms = {"ndic": ("factorized", "concat"),
            "single_view": ("factorized", "none")}
  else:
    kw = dict(lmbdas=CPU_LMBDAS, num_steps=4000, filters=32,
              latent_channels=48, crop=(64, 128), batch_size=4)
    arms = {"ndic_hyperprior": ("hyperprior", "concat"),
            "single_view_hyperprior": ("hyperprior", "none")}
  config.arms = ml_collections.ConfigDict()
  for name, (entropy, fusion) in arms.items():
    c = train.arm(entropy=entropy, fusion=fusion, **kw)
    if a.quick:
      c.model.kernel = c.model.synthesis_kernel = 3
    if name == "ndic_mi":
      c.model.mi_estimator = "infonce"
      c.sweep.betas = (-0.1, 0.1)
    if a.gpu:
      c.train.chunk_steps = 5000
    elif not a.quick:
      # The short CPU schedule: a higher step size (at 1600 steps, 3e-3
      # reached 0.8 dB more than 1e-3 at equal rate on the test band).
      c.train.learning_rate = 3e-3
    config.arms[name] = c
  config.eval = ml_collections.ConfigDict(dict(
      latency_repeats=1 if a.quick else 3,
      figure_arm="ndic" if a.quick or a.gpu else "ndic_hyperprior"))
  quick_q = {"jpeg": (20, 80), "jpeg2000": (28.0, 38.0)}
  config.baselines = ml_collections.ConfigDict(dict(
      codecs=tuple(quick_q) if a.quick else image_codecs.CODECS,
      qualities=quick_q if a.quick else
      {k: tuple(v) for k, v in image_codecs.DEFAULT_QUALITIES.items()}))
  return config
