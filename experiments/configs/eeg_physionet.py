"""PhysioNet EEG: left- and right-hemisphere channels as two sources.

EEG Motor Movement/Imagery record S001R02 (64 channels, 160 Hz, 61 s, µV;
shipped in biosignalsnotebooks): 27 left-hemisphere channels vs 27 right
ones (midline dropped), 0.2 s windows (32 samples, hop 8) cut inside time
splits train 80 % / val 10 % / test 10 %. Arms: InfoNCE vs MINE,
λ × β_MI ∈ {-0.5, 0, 0.5}. Reported: RMSE (µV) and PRD (%).

Run (a few minutes on a 2-core CPU):
  python -m experiments.main \
      --config=experiments/configs/eeg_physionet.py \
      --workdir=runs/eeg_physionet
5-fold cross-validation (mean ± std): --config=...eeg_physionet.py:kfold
Tiny variant for tests: --config=experiments/configs/eeg_physionet.py:quick
"""

from experiments.configs import realdata_common


def get_config(arg: str | None = None):
  return realdata_common.base(
      arg,
      data=dict(name="eeg_physionet", groups="hemispheres", window=32, hop=8),
      claim=dict(metric="prd_pct", target=2.0, rate_bpd=0.0,
                 higher_is_better=False),
      latent_dim=32, hidden=(128,), lmbdas=(4.0, 16.0, 64.0),
      quick_data=dict(groups="C3,Fc3;C4,Fc4", window=16, hop=16))
