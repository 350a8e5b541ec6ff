"""Middlebury stereo: left and right views as two correlated sources.

The Middlebury 2014 Motorcycle pair shipped in scikit-image (500 x 741,
greyscale), 16 px patches (stride 8) cut inside row bands: train 80 % / val
10 % / test 10 % top to bottom. Arms: InfoNCE vs MINE,
λ × β_MI ∈ {-0.5, 0, 0.5}.
Claim checked in summary.json: PSNR >= 30 dB at <= 0.4 bits per dimension.
Another Middlebury scene: --config.data.path=/data/Motorcycle-perfect.

Run (a few minutes on a 2-core CPU):
  python -m experiments.main \
      --config=experiments/configs/stereo_middlebury.py \
      --workdir=runs/stereo_middlebury
5-fold cross-validation (mean ± std): --config=...stereo_middlebury.py:kfold
Tiny variant for tests: --config=experiments/configs/stereo_middlebury.py:quick
"""

from experiments.configs import realdata_common


def get_config(arg: str | None = None):
  return realdata_common.base(
      arg,
      data=dict(name="stereo_middlebury", path="", patch_size=16, stride=8,
                color=False),
      claim=dict(metric="psnr_db", target=30.0, rate_bpd=0.4,
                 higher_is_better=True),
      latent_dim=32, hidden=(128,), lmbdas=(4.0, 16.0, 64.0),
      quick_data=dict(patch_size=12, stride=12))
