"""PhysioNet ECG from a local WFDB database: lead groups as sources.

Needs a local copy of a PhysioNet WFDB database; `data.path` must be given
(an empty path is an error naming this flag). Default: INCART 12-lead
(257 Hz, 30 min per record; ODC-By 1.0), record I01, limb leads (I..aVF) vs
precordial leads (V1..V6), 0.5 s windows (128 samples, no overlap) cut
inside time splits train 80 % / val 10 % / test 10 %. Arms: InfoNCE vs
MINE, λ × β_MI ∈ {-0.5, 0, 0.5}. Claim checked in summary.json: PRD <= 2 %.

Get the data:  wget -r -N -c -np https://physionet.org/files/incartdb/1.0.0/
Run (a few minutes on a 2-core CPU):
  python -m experiments.main \
      --config=experiments/configs/ecg_wfdb.py \
      --config.data.path=/data/incart --config.data.record=I01 \
      --workdir=runs/ecg_wfdb
Other records: --config.data.groups=2 (two contiguous channel groups) or
"I,II;V1,V2" (named leads),
--config.data.licence=... --config.data.citation=... for other databases.
5-fold cross-validation: --config=...ecg_wfdb.py:kfold; tiny: ...py:quick
"""

from experiments.configs import realdata_common

INCART_CITATION = (
    "Tihonenko V, Khaustov A, Ivanov S, Rivin A, Yakushenko E. St Petersburg "
    "INCART 12-lead Arrhythmia Database. PhysioBank, PhysioToolkit, and "
    "PhysioNet, 2008. doi:10.13026/C2V88N; Goldberger et al., Circulation "
    "101(23):e215-e220, 2000.")


def get_config(arg: str | None = None):
  return realdata_common.base(
      arg,
      data=dict(name="ecg_wfdb", path="", record="I01",
                groups="limb_precordial", window=128, hop=0,
                dataset_name="", licence="ODC-By 1.0 (INCART)",
                citation=INCART_CITATION),
      claim=dict(metric="prd_pct", target=2.0, rate_bpd=0.0,
                 higher_is_better=False),
      latent_dim=32, hidden=(128,), lmbdas=(4.0, 16.0, 64.0),
      quick_data=dict(window=32))
