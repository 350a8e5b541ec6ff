"""Loaders refuse inputs that do not match their metadata, naming the file.

Middlebury scenes: PNGs of other bit depths or with transparency, calib.txt
empty, of another size or with commas. WFDB records: one channel twice in a
group, two channels of one name, a sample rate of 0, units mixed in a group.
"""

import os
import re
import struct
import tempfile
import zlib

from absl.testing import absltest
from absl.testing import parameterized
import numpy as np
import wfdb

from ndc_jax.data import physionet, stereo

CALIB = ("cam0=[100 0 10; 0 100 10; 0 0 1]\ncam1=[100 0 12; 0 100 10; 0 0 1]\n"
         "doffs=2\nbaseline=100\nwidth=24\nheight=16\n")


def write_png(path: str, image: np.ndarray) -> None:
  """A PNG of image [H, W, C] (C = 1..4), 16-bit for uint16, else 8-bit,
  written by hand: Pillow cannot write 16-bit RGB."""
  image = image[..., None] if image.ndim == 2 else image
  h, w, c = image.shape
  depth = 16 if image.dtype == np.uint16 else 8
  rows = image.astype(">u2" if depth == 16 else np.uint8).reshape(h, -1)
  raw = b"".join(b"\0" + r.tobytes() for r in rows)

  def chunk(kind, data):
    return (struct.pack(">I", len(data)) + kind + data
            + struct.pack(">I", zlib.crc32(kind + data)))
  ihdr = struct.pack(">IIBBBBB", w, h, depth, {1: 0, 2: 4, 3: 2, 4: 6}[c],
                     0, 0, 0)
  with open(path, "wb") as f:
    f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


class MiddleburyBadInputTest(parameterized.TestCase):

  def scene(self, image, calib=CALIB):
    path = self.enterContext(tempfile.TemporaryDirectory())
    for name in ("im0.png", "im1.png"):
      write_png(os.path.join(path, name), image)
    with open(os.path.join(path, "calib.txt"), "w") as f:
      f.write(calib)
    return path

  def test_opaque_grey_alpha_and_rgba_load_as_rgb(self):
    rng = np.random.default_rng(0)
    grey = rng.integers(0, 256, (16, 24), dtype=np.uint8)
    opaque = np.full_like(grey, 255)
    pair = stereo.load_middlebury_dir(self.scene(np.stack([grey, opaque], -1)))
    self.assertEqual(pair.left.shape, (16, 24, 3))  # not H x W x 2
    np.testing.assert_array_equal(pair.left, np.repeat(grey[..., None], 3, -1))
    rgb = rng.integers(0, 256, (16, 24, 3), dtype=np.uint8)
    pair = stereo.load_middlebury_dir(
        self.scene(np.concatenate([rgb, opaque[..., None]], -1)))
    np.testing.assert_array_equal(pair.left, rgb)
    data = stereo.stereo_patches(pair, 4, color=True,
                                 fractions=(0.5, 0.25, 0.25))
    self.assertEqual(data["train"].shapes[0], (4, 4, 3))

  @parameterized.parameters(2, 4)
  def test_transparent_pixels_are_refused(self, channels):
    image = np.full((16, 24, channels), 255, np.uint8)
    image[3, 5, -1] = 0  # one transparent pixel
    path = self.scene(image)
    with self.assertRaisesRegex(ValueError, re.escape(
        os.path.join(path, "im0.png")) + " has an alpha channel with 1 "
                                "transparent"):
      stereo.load_middlebury_dir(path)

  @parameterized.parameters(((16, 24, 3), "16-bit RGB"),
                            ((16, 24), "16-bit grey"))
  def test_16_bit_pngs_are_refused_not_reduced(self, shape, what):
    image = np.random.default_rng(1).integers(0, 2**16, shape,
                                              dtype=np.uint16)
    path = self.scene(image)
    with self.assertRaisesRegex(ValueError, re.escape(
        os.path.join(path, "im0.png")) + f" is a {what} PNG; allowed: 8 bits"):
      stereo.load_middlebury_dir(path)

  def test_a_file_that_is_no_png(self):
    path = self.scene(np.zeros((16, 24, 3), np.uint8))
    with open(os.path.join(path, "im1.png"), "wb") as f:
      f.write(b"\xff\xd8\xff\xe0 a JPEG")
    with self.assertRaisesRegex(ValueError, "im1.png is not a PNG file"):
      stereo.load_middlebury_dir(path)

  @parameterized.named_parameters(
      ("empty", "", r"calib.txt has no cam0= line \(it holds nothing\)"),
      ("no_height", CALIB.replace("height=16\n", ""), "has no height= line"),
      ("wrong_width", CALIB.replace("width=24", "width=100"),
       r"calib.txt: width=100, height=16 but im0.png is 24 x 16"),
      ("wrong_height", CALIB.replace("height=16", "height=15"),
       r"width=24, height=15 but im0.png is 24 x 16"),
      ("commas", CALIB.replace("[100 0 10;", "[100, 0, 10;"),
       r"calib.txt:1: cam0='\[100, 0, 10;.* is not a matrix of numbers.*no "
       "commas"),
      ("not_3x3", CALIB.replace("0 0 1]\ncam1", "0 0]\ncam1"),
       r"calib.txt:1: cam0=.* is not 3 x 3"),
      ("width_text", CALIB.replace("width=24", "width=wide"),
       r"calib.txt:5: width='wide' is invalid; allowed: an integer >= 1"))
  def test_calib_is_checked_against_the_images(self, calib, message):
    path = self.scene(np.zeros((16, 24, 3), np.uint8), calib)
    with self.assertRaisesRegex(ValueError, re.escape(path) + ".*" + message):
      stereo.load_middlebury_dir(path)

  def test_good_scene_loads(self):
    pair = stereo.load_middlebury_dir(self.scene(np.zeros((16, 24, 3),
                                                          np.uint8)))
    self.assertEqual((pair.calib["width"], pair.calib["height"]), (24, 16))


class WfdbBadInputTest(absltest.TestCase):

  def setUp(self):
    super().setUp()
    self.dir = self.enterContext(tempfile.TemporaryDirectory())
    self.signal = np.random.default_rng(0).normal(size=(400, 4))

  def record(self, name, units=("mV",) * 4, header=None):
    wfdb.wrsamp(name, fs=100, units=list(units),
                sig_name=["I", "II", "III", "V1"], p_signal=self.signal,
                fmt=["16"] * 4, write_dir=self.dir)
    path = os.path.join(self.dir, name + ".hea")
    if header:  # wfdb writes neither duplicate names nor fs = 0
      with open(path) as f:
        text = header(f.read())
      with open(path, "w") as f:
        f.write(text)
    return path

  def test_a_channel_twice_in_one_group(self):
    self.record("r")
    for groups in ([["I", "I"], ["III"]], [[0, 0], [2]], [["I", 0], [2]]):
      with self.assertRaisesRegex(ValueError, r"group \[.*\] holds channels "
                                  r"\['I'\] \(indices \[0\]\) more than once"):
        physionet.load_wfdb_ecg(self.dir, "r", groups, window=20)

  def test_duplicate_channel_names(self):
    path = self.record("r", header=lambda t: t.replace(" II\n", " I\n"))
    with self.assertRaisesRegex(ValueError, re.escape(path) + r": channel "
                                r"names \['I'\] name more than one channel "
                                r"each \(at \[\[0, 1\]\]\)"):
      physionet.load_wfdb_ecg(self.dir, "r", 2, window=20)
    with self.assertRaisesRegex(ValueError, r"'I' names channels \[0, 1\]"):
      physionet.channel_groups(("I", "I", "II"), [["I"], ["II"]])

  def test_sample_rate_zero(self):
    path = self.record("r", header=lambda t: re.sub(r"^(r 4) 100", r"\1 0",
                                                    t))
    with self.assertRaisesRegex(ValueError, re.escape(path) + ": sample rate "
                                "0 Hz is invalid; allowed: a finite rate > 0"):
      physionet.load_wfdb_ecg(self.dir, "r", 2, window=20)

  def test_units_mixed_in_a_group(self):
    self.record("r", units=("mV", "uV", "mV", "mV"))
    with self.assertRaisesRegex(ValueError, r"the group \['I', 'II'\] mixes "
                                r"units \['mV', 'uV'\]; allowed: one unit"):
      physionet.load_wfdb_ecg(self.dir, "r", [["I", "II"], ["III", "V1"]],
                              window=20)
    data = physionet.load_wfdb_ecg(self.dir, "r", [["I", "III"], ["II"]],
                                   window=20)
    self.assertEqual(data["test"].meta["source_units"], ["mV", "uV"])
    data = physionet.load_wfdb_ecg(self.dir, "r", [["I", "II"], ["III"]],
                                   window=20, standardize=True)  # unitless
    self.assertNotIn("source_units", data["test"].meta)


if __name__ == "__main__":
  absltest.main()
