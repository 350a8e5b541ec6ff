"""Gap of the learned operational sum rate to the two-terminal bound.

Trains (or, if `workdir` holds the results, reloads) the multi-source
Gaussian config and prints, per distortion level (one λ each) and arm:
  D1, D2      per-source MSE of the decoder fed the rounded latents;
  op_bits     measured ANS bitstream bits per sample pair (R1 + R2);
  kl_bits     the VAE rate Σ KL / dim at the VAE distortion;
  bound_bits  the two-terminal minimum sum rate (WTV 2008) at (D1, D2);
  gap_bits    op_bits − bound_bits (target <= 0.5);
for β_MI = 0 and for the β_MI with the smallest gap, then the mean gap per
sign of β_MI (which sign lowers the sum rate at equal distortion).

  python -m experiments.benchmarks.multisource_gap \
      --workdir=runs/multisource_gaussian

`--cpu_devices` and `--mesh` lay the training out as for experiments/main.py.
"""

import numpy as np
from absl import app, flags
from ml_collections import config_flags

from experiments import device_flags
from ndc_jax.multisource import job as multisource_job

_CONFIG = config_flags.DEFINE_config_file(
    "config", "experiments/configs/multisource_gaussian.py",
    "Multi-source config file.", lock_config=True)
_WORKDIR = flags.DEFINE_string("workdir", "runs/multisource_gaussian",
                               "Results folder (reused if complete).")


def _line(r, label):
  return (f"  {r['arm']:>20} {label:>9} β={r['beta_mi']:+5.2f} "
          f"D1={r['mse_op_1']:.4f} D2={r['mse_op_2']:.4f} "
          f"op_bits={r['op_bpd_sum']:.3f} kl_bits={r['kl_bpd_sum']:.3f} "
          f"bound_bits={r['two_terminal_op_bits']:.3f} "
          f"gap_bits={r['gap_op_bits']:+.3f}")


def main(argv):
  del argv
  device_flags.split_cpu()
  rows = multisource_job.train_and_evaluate(
      _CONFIG.value, _WORKDIR.value, mesh=device_flags.mesh())
  print("bits per sample pair; D = MSE per source (operational decoder)")
  for lmbda in sorted({r["lmbda"] for r in rows}):
    sub = [r for r in rows if r["lmbda"] == lmbda]
    d = np.mean([(r["mse_op_1"] + r["mse_op_2"]) / 2 for r in sub])
    print(f"λ={lmbda:g} (mean D ≈ {d:.3f}):")
    for arm in sorted({r["arm"] for r in sub}):
      pts = [r for r in sub if r["arm"] == arm]
      zero = [r for r in pts if r["beta_mi"] == 0.0]
      if zero:
        print(_line(zero[0], "β=0"))
      print(_line(min(pts, key=lambda r: r["gap_op_bits"]), "best β"))
    best = min(sub, key=lambda r: r["gap_op_bits"])
    print(f"  best gap at λ={lmbda:g}: {best['gap_op_bits']:+.3f} bits "
          f"({best['arm']}, β={best['beta_mi']:+g})")
  print("mean excess over the bound at the achieved distortion, by β_MI sign:")
  for arm in sorted({r["arm"] for r in rows}):
    parts = []
    for name, keep in (("β<0", lambda b: b < 0), ("β=0", lambda b: b == 0),
                       ("β>0", lambda b: b > 0)):
      pts = [r for r in rows if r["arm"] == arm and keep(r["beta_mi"])]
      if pts:
        parts.append(f"{name}: op {np.mean([r['gap_op_bits'] for r in pts]):+.3f}"
                     f" kl {np.mean([r['gap_kl_bits'] for r in pts]):+.3f}")
    print(f"  {arm:>20}  " + " | ".join(parts))


if __name__ == "__main__":
  app.run(main)
