"""PhysioNet EEG (S001R02, 27 left vs 27 right channels) with the learned
conv transform codec (`models.conv`) beside DWT / DCT / KLT + DWT.

The data of `eeg_physionet` (same time splits; test = samples 8784–9744,
coded once) in 96-sample windows (train hop 8, test 10 tiles), std pooled
per hemisphere. Arm `conv`: per hemisphere a learned 27 → F channel mixing
and 3 stride-2 convs to 24 latent channels, all linear (model.slope = 1), a
joint decoder and a lone decoder per hemisphere (side_gain_prd). Arm
`conv_separate`: the same codec trained with one decoder per hemisphere of
its own latents (separate_gain_prd of the conv rows: joint against
separate decoding at equal rate). Rows in rd.csv / rd.png beside the
classical codecs; curve.csv: test rate and PRD after each stage.

Run (~11 min on a loaded 2-core CPU):
  python -m experiments.main --config=experiments/configs/eeg_conv.py \\
      --workdir=runs/eeg_conv
More steps on an accelerator: --config=experiments/configs/eeg_conv.py:gpu
The MI-regularized variant: ...eeg_conv.py:mi; without the separately
trained arm: ...eeg_conv.py:separate=0; tiny: ...eeg_conv.py:quick
"""

from experiments.configs import realdata_conv


def get_config(arg: str | None = None):
  return realdata_conv.base(
      arg,
      data=dict(name="eeg_physionet", groups="hemispheres", window=96,
                hop=8),
      # KLT + DWT's PRD at 0.105 bpd (docs/realdata_baselines.md).
      claim=dict(metric="prd_pct", target=31.6, rate_bpd=0.105,
                 higher_is_better=False),
      arm=dict(channels=(27, 27), filters=32, latent_channels=24,
               downsamples=3, lmbdas=(2.0, 6.0), num_steps=3600),
      # Linear transforms: with leaky ReLU (slope 0.01) the codec lost to
      # KLT + DWT above 0.09 bpd (docs/realdata_baselines.md).
      model=dict(slope=1.0),
      quick_data=dict(groups="C3,Fc3;C4,Fc4", window=32, hop=16),
      quick_arm=dict(channels=(2, 2), filters=8, latent_channels=2,
                     downsamples=2, lmbdas=(1.0,), num_steps=40),
      gpu_steps=20000, separate=True)
