"""ECG from a local WFDB record with the learned conv transform codec
(`models.conv`) beside DWT / DCT / KLT + DWT.

The data of `ecg_wfdb` in 256-sample windows (train hop 16, test tiles
without overlap), std pooled per source; `data.path` must be given. For
the MIT-BIH 208 stand-in of docs/realdata_baselines.md (two 1-channel
sources, minutes 0–2.5 and 2.5–5 of lead MLII; test = 21 tiles, the 5376
samples per channel the DWT rows code):
  python -m experiments.main --config=experiments/configs/ecg_conv.py \\
      --config.data.path=/tmp/ecg208 --config.data.record=mitdb208 \\
      --config.data.groups=2 --workdir=runs/ecg_conv
(~15 min on a loaded 2-core CPU). Other records: set
--config.arms.conv.model.channels to the sources' channel counts.
More steps on an accelerator: ...ecg_conv.py:gpu; MI variant: ...py:mi;
tiny: ...py:quick.
"""

from experiments.configs import ecg_wfdb, realdata_conv


def get_config(arg: str | None = None):
  data = ecg_wfdb.get_config().data.to_dict()
  data.update(window=256, hop=16)
  del data["fractions"]
  return realdata_conv.base(
      arg, data=data,
      # DWT's PRD at 0.497 bpd on the MIT-BIH 208 stand-in.
      claim=dict(metric="prd_pct", target=10.0, rate_bpd=0.5,
                 higher_is_better=False),
      arm=dict(channels=(1, 1), filters=32, latent_channels=8,
               downsamples=3, lmbdas=(10.0, 30.0), num_steps=3200),
      quick_data=dict(window=32, hop=16),
      quick_arm=dict(channels=(1, 1), filters=8, latent_channels=2,
                     downsamples=2, lmbdas=(10.0,), num_steps=40),
      gpu_steps=20000)
