"""Middlebury stereo pairs as two correlated sources (left view, right view).

Source 0 is the left view, source 1 the right view: two encoders see aligned
patches at the same (row, col) of a rectified pair, so the views differ by a
horizontal shift of d pixels (the disparity) plus occlusions and
view-dependent shading.

Data:
* `load_motorcycle()`: the Middlebury 2014 "Motorcycle" pair that
  scikit-image ships inside its wheel (skimage/data/motorcycle_*.png|npz, no
  download): default exposure, downscaled 4x to 500 x 741, with ground-truth
  left-view disparity in pixels (+inf where unknown: 7.3 % of pixels).
* `load_middlebury_dir(path)`: any Middlebury 2014-style scene directory
  holding im0.png (left), im1.png (right), calib.txt and optionally disp0.pfm.

Convention (Middlebury, checked on the shipped pair): left pixel (r, c) shows
the scene point that the right view shows at (r, c - disp0[r, c]).

Splits are by image region: the rows are cut into contiguous bands
(train 80 % / val 10 % / test 10 % from top to bottom) and patches are cut
inside each band, so no test pixel is in any training patch. Rows, not
columns, because rectified views shift content along rows only: a column
split would put test-region scene content into training right-view patches.

Licence: the Middlebury stereo data carry no formal licence; they are free
for research use and Middlebury asks users to cite Scharstein et al. (2014)
(scikit-image redistributes the pair; its code is BSD-3-Clause).

Citation: D. Scharstein, H. Hirschmüller, Y. Kitajima, G. Krathwohl,
N. Nesic, X. Wang, P. Westling. High-resolution stereo datasets with
subpixel-accurate ground truth. GCPR 2014, LNCS 8753, pp. 31-42.
"""

import os
import re
from typing import Any, Mapping, NamedTuple, Optional, Sequence

import numpy as np

from ndc_jax.data import MultiSourceData
from ndc_jax.data import splits

CITATION = (
    "D. Scharstein, H. Hirschmüller, Y. Kitajima, G. Krathwohl, N. Nesic, "
    "X. Wang, P. Westling. High-resolution stereo datasets with "
    "subpixel-accurate ground truth. GCPR 2014, LNCS 8753, pp. 31-42.")
LICENCE = ("Middlebury stereo datasets: no formal licence, free for research "
           "use with citation of Scharstein et al. 2014")
MIDDLEBURY_URL = "https://vision.middlebury.edu/stereo/data/scenes2014/"
SKIMAGE_PIP = "pip install scikit-image==0.26.0"
# ITU-R BT.709 luma weights, as skimage.color.rgb2gray.
LUMA_WEIGHTS = np.array([0.2125, 0.7154, 0.0721], np.float32)
DIR_LAYOUT = ("a Middlebury 2014 scene directory, e.g. Motorcycle-perfect/, "
              "holding im0.png (left view), im1.png (right view), calib.txt "
              "and optionally disp0.pfm (left disparity, inf = unknown); "
              f"download scenes from {MIDDLEBURY_URL}")


class StereoPair(NamedTuple):
  """A rectified stereo pair.

  Attributes:
    left: [H, W, 3] uint8 left view (Middlebury im0).
    right: [H, W, 3] uint8 right view (im1).
    disparity: [H, W] float32 left-view disparity in pixels, +inf (or NaN)
      where unknown; None when the scene has no ground truth.
    calib: calib.txt fields (cam0/cam1 as 3x3 nested lists, doffs and
      baseline in pixels / mm, width, height, ...).
    meta: name, source, licence, citation, units.
  """
  left: np.ndarray
  right: np.ndarray
  disparity: Optional[np.ndarray]
  calib: Mapping[str, Any]
  meta: Mapping[str, Any]


def disparity_validity(disparity: np.ndarray) -> tuple[np.ndarray, float]:
  """Mask of known disparities and the fraction that is unknown.

  Args:
    disparity: [H, W] disparity in pixels, +inf or NaN where unknown.

  Returns:
    (valid [H, W] bool, True where finite; invalid_fraction in [0, 1]).
  """
  valid = np.isfinite(disparity)
  return valid, float(1.0 - valid.mean()) if valid.size else 0.0


def _meta(name: str, source: str) -> dict[str, Any]:
  return {"name": name, "source": source, "licence": LICENCE,
          "citation": CITATION, "units": "intensity scaled to [0, 1]",
          "disparity_units": "pixels (left view; +inf unknown)"}


def load_motorcycle() -> StereoPair:
  """The Middlebury 2014 Motorcycle pair shipped in scikit-image (500x741).

  Source: skimage.data.stereo_motorcycle(), files inside the scikit-image
  wheel (no network). Licence and citation: see the module docstring.
  Calibration (for the 4x-downscaled images, from scikit-image): focal
  994.978 px, principal point (311.193, 254.877) px, doffs 31.086 px,
  baseline 193.001 mm.

  Raises:
    ImportError: scikit-image is not installed (says the pip command).
  """
  try:
    from skimage import data as skdata  # pylint: disable=g-import-not-at-top
  except ImportError as e:
    raise ImportError("The Middlebury Motorcycle pair ships with "
                      f"scikit-image; install it with `{SKIMAGE_PIP}`") from e
  left, right, disparity = skdata.stereo_motorcycle()
  f, cx, cy, doffs = 994.978, 311.193, 254.877, 31.086
  calib = {"cam0": [[f, 0.0, cx], [0.0, f, cy], [0.0, 0.0, 1.0]],
           "cam1": [[f, 0.0, cx + doffs], [0.0, f, cy], [0.0, 0.0, 1.0]],
           "doffs": doffs, "baseline": 193.001,
           "width": left.shape[1], "height": left.shape[0]}
  meta = _meta("middlebury2014_motorcycle_quarter",
               "skimage.data.stereo_motorcycle() (Middlebury 2014 "
               "Motorcycle, default exposure, downscaled 4x); "
               + MIDDLEBURY_URL)
  return StereoPair(np.asarray(left, np.uint8), np.asarray(right, np.uint8),
                    np.asarray(disparity, np.float32), calib, meta)


def parse_calib(text: str, path: str = "calib.txt") -> dict[str, Any]:
  """Parses a Middlebury calib.txt: `key=value` lines, matrices as [a b; c d].

  Raises ValueError naming `path`, the line, the key and the value where a
  matrix entry is not a number or a matrix is not 3 x 3 (cam0, cam1), or
  width / height / ndisp are not positive integers; nothing is required
  here (`check_calib` checks a scene's calib against its images).
  """
  calib = {}
  for number, line in enumerate(text.splitlines(), 1):
    if "=" not in line:
      continue
    key, value = (s.strip() for s in line.split("=", 1))
    where = f"{path}:{number}: {key}={value!r}"
    if value.startswith("["):
      if not value.endswith("]"):
        raise ValueError(f"{where} opens a matrix that does not close; "
                         "allowed: [a b c; d e f; g h i]")
      rows = value[1:-1].split(";")
      try:
        calib[key] = [[float(v) for v in row.split()] for row in rows]
      except ValueError:
        raise ValueError(f"{where} is not a matrix of numbers; allowed: "
                         "[a b c; d e f; g h i], entries separated by "
                         "spaces (no commas), rows by ';'") from None
      if key in ("cam0", "cam1") and [len(r) for r in calib[key]] != [3] * 3:
        raise ValueError(f"{where} is not 3 x 3; allowed: a 3 x 3 camera "
                         "matrix [f 0 cx; 0 f cy; 0 0 1]")
    elif re.fullmatch(r"[+-]?\d+", value):
      calib[key] = int(value)
    else:
      try:
        calib[key] = float(value)
      except ValueError:
        calib[key] = value
    if key in ("width", "height", "ndisp") and not (
        isinstance(calib[key], int) and calib[key] >= 1):
      raise ValueError(f"{where} is invalid; allowed: an integer >= 1")
  return calib


def check_calib(calib: Mapping[str, Any], shape: tuple[int, ...],
                path: str = "calib.txt") -> None:
  """Raises ValueError unless `calib` (from `parse_calib`) holds width and
  height equal to the images' [H, W, ...] `shape`, and 3 x 3 cam0 and cam1
  matrices, as every Middlebury 2014 calib.txt does."""
  for key in ("cam0", "cam1", "width", "height"):
    if key not in calib:
      raise ValueError(f"{path} has no {key}= line (it holds "
                       f"{sorted(calib) or 'nothing'}); a Middlebury "
                       "calib.txt gives cam0, cam1, doffs, baseline, width "
                       "and height")
  height, width = shape[:2]
  if (calib["width"], calib["height"]) != (width, height):
    raise ValueError(f"{path}: width={calib['width']}, height="
                     f"{calib['height']} but im0.png is {width} x {height} "
                     "(width x height); allowed: the images' own size (a "
                     "calib.txt of another resolution or scene?)")


def read_pfm(path: str) -> np.ndarray:
  """Reads a PFM image ([H, W] for 'Pf', [H, W, 3] for 'PF') as float32."""
  with open(path, "rb") as f:
    kind = f.readline().strip()
    if kind not in (b"Pf", b"PF"):
      raise ValueError(f"{path}: PFM header {kind!r}; expected b'Pf' or b'PF'")
    width, height = (int(v) for v in f.readline().split())
    scale = float(f.readline().strip())
    data = np.frombuffer(f.read(), dtype="<f4" if scale < 0 else ">f4")
  shape = (height, width, 3) if kind == b"PF" else (height, width)
  return np.flipud(data.reshape(shape)).astype(np.float32)  # rows bottom-up


def write_pfm(path: str, image: np.ndarray) -> None:
  """Writes [H, W] float32 as little-endian greyscale PFM (inf allowed)."""
  image = np.asarray(image, np.float32)
  if image.ndim != 2:
    raise ValueError(f"image.shape={image.shape}; write_pfm takes [H, W]")
  with open(path, "wb") as f:
    f.write(f"Pf\n{image.shape[1]} {image.shape[0]}\n-1.0\n".encode())
    f.write(np.flipud(image).astype("<f4").tobytes())


# PNG colour types (IHDR byte 9) and what _read_rgb does with them.
_PNG_COLOUR = {0: "grey", 2: "RGB", 3: "palette", 4: "grey+alpha",
               6: "RGBA"}


def png_header(path: str) -> tuple[int, int, int, str]:
  """(height, width, bit depth, colour type name) from a PNG's IHDR.

  Raises ValueError naming `path` if it is not a PNG file.
  """
  with open(path, "rb") as f:
    head = f.read(26)
  if len(head) < 26 or head[:8] != b"\x89PNG\r\n\x1a\n" or head[12:16] != b"IHDR":
    raise ValueError(f"{path} is not a PNG file (it starts with "
                     f"{head[:8]!r}); allowed: an 8-bit PNG")
  width, height = (int.from_bytes(head[i:i + 4], "big") for i in (16, 20))
  depth, colour = head[24], head[25]
  if colour not in _PNG_COLOUR:
    raise ValueError(f"{path}: PNG colour type {colour} is invalid")
  return height, width, depth, _PNG_COLOUR[colour]


def _read_rgb(path: str) -> np.ndarray:
  """An 8-bit PNG as [H, W, 3] uint8: grey repeated over the 3 channels, an
  alpha channel dropped if it is fully opaque. Raises ValueError naming the
  file for other bit depths (16-bit PNGs would lose their low byte: Pillow
  reads 16-bit RGB as 8-bit) and for transparent pixels."""
  from skimage import io  # pylint: disable=g-import-not-at-top
  height, width, depth, colour = png_header(path)
  if depth != 8 and colour != "palette":
    raise ValueError(f"{path} is a {depth}-bit {colour} PNG; allowed: 8 bits "
                     "per channel (grey, grey+alpha, RGB, RGBA or palette); "
                     "convert it to 8 bits first")
  image = np.asarray(io.imread(path))
  if image.dtype != np.uint8 or image.shape[:2] != (height, width):
    raise ValueError(f"{path}: read as {image.dtype} {image.shape}, its "
                     f"header says {height} x {width} {depth}-bit {colour}; "
                     "allowed: an 8-bit PNG")
  if image.ndim == 2:
    image = image[..., None]
  channels = image.shape[-1]
  if channels in (2, 4):  # grey+alpha, RGBA
    alpha = image[..., -1]
    if (alpha != 255).any():
      raise ValueError(
          f"{path} has an alpha channel with {int((alpha != 255).sum())} "
          "transparent or translucent pixels; allowed: an opaque image "
          "(a stereo view has no transparency)")
    image = image[..., :-1]
  if image.shape[-1] == 1:
    image = np.repeat(image, 3, axis=-1)
  if image.ndim != 3 or image.shape[-1] != 3:
    raise ValueError(f"{path}: {image.shape} is not an image of 1-4 "
                     "channels")
  return image


def load_middlebury_dir(path: str) -> StereoPair:
  """Loads a Middlebury 2014-style scene directory (im0, im1, calib, disp0).

  Source: the user's copy of a Middlebury stereo scene; licence and citation
  as in the module docstring (Middlebury 2001-2021 sets ask to cite their own
  papers; `meta["citation"]` names the 2014 one).

  Args:
    path: directory with im0.png, im1.png, calib.txt, optionally disp0.pfm.

  Raises:
    FileNotFoundError: the directory or a required file is missing (says the
      expected layout and where to download it).
    ValueError: the two views differ in shape; a view is not an 8-bit PNG
      or has transparent pixels (`_read_rgb`); calib.txt does not parse or
      its width and height are not the images' (`check_calib`).
  """
  if not os.path.isdir(path):
    raise FileNotFoundError(f"Middlebury directory {path!r} does not exist; "
                            f"expected {DIR_LAYOUT}")
  for name in ("im0.png", "im1.png", "calib.txt"):
    if not os.path.isfile(os.path.join(path, name)):
      raise FileNotFoundError(f"{os.path.join(path, name)!r} is missing; "
                              f"expected {DIR_LAYOUT}")
  try:
    import skimage  # pylint: disable=g-import-not-at-top,unused-import
  except ImportError as e:
    raise ImportError(f"Reading PNGs needs scikit-image: `{SKIMAGE_PIP}`"
                      ) from e
  left = _read_rgb(os.path.join(path, "im0.png"))
  right = _read_rgb(os.path.join(path, "im1.png"))
  if left.shape != right.shape:
    raise ValueError(f"{path}: im0.png {left.shape} and im1.png "
                     f"{right.shape} differ; "
                     "a rectified pair must have equal shapes")
  calib_path = os.path.join(path, "calib.txt")
  with open(calib_path) as f:
    calib = parse_calib(f.read(), calib_path)
  check_calib(calib, left.shape, calib_path)
  disp_path = os.path.join(path, "disp0.pfm")
  disparity = read_pfm(disp_path) if os.path.isfile(disp_path) else None
  if disparity is not None and disparity.shape != left.shape[:2]:
    raise ValueError(f"disp0.pfm {disparity.shape} does not match im0.png "
                     f"{left.shape[:2]}")
  scene = os.path.basename(os.path.normpath(path))
  meta = _meta(f"middlebury_{scene}", f"local directory {path} "
               f"({MIDDLEBURY_URL})")
  return StereoPair(left, right, disparity, calib, meta)


def to_unit_float(image: np.ndarray, color: bool) -> np.ndarray:
  """uint8 [H, W, 3] -> float32 [H, W, C] in [0, 1]; C = 3 or 1 (BT.709 luma)."""
  x = np.asarray(image, np.float32) / 255.0
  if not color:
    x = np.clip(x @ LUMA_WEIGHTS, 0.0, 1.0)[..., None]
  return x


def _grid(rows: slice, width: int, patch: int, stride: int):
  """Top-left (row, col) of every patch fully inside rows x [0, width)."""
  r = np.arange(rows.start, rows.stop - patch + 1, stride)
  c = np.arange(0, width - patch + 1, stride)
  rr, cc = np.meshgrid(r, c, indexing="ij")
  return np.stack([rr.ravel(), cc.ravel()], axis=-1).astype(np.int32)


def _cut(image: np.ndarray, origins: np.ndarray, patch: int) -> np.ndarray:
  """[H, W, ...] -> [num, patch, patch, ...] at the given top-left origins."""
  return np.stack([image[r:r + patch, c:c + patch] for r, c in origins])


def stereo_patches(pair: StereoPair,
                   patch_size: int = 32,
                   color: bool = False,
                   fractions: Sequence[float] = splits.DEFAULT_FRACTIONS,
                   stride: Optional[int] = None
                   ) -> dict[str, MultiSourceData]:
  """Aligned left/right patches per split: sources = (left, right).

  Args:
    pair: a StereoPair (`load_motorcycle()` or `load_middlebury_dir()`).
    patch_size: patch side in pixels, 1 <= patch_size <= the smallest split
      band's height (and the image width).
    color: True -> RGB patches [p, p, 3]; False -> BT.709 grey [p, p, 1].
    fractions: (train, val, test) fractions of the image rows, top to bottom.
    stride: step between patch origins in pixels (default patch_size, i.e.
      non-overlapping).

  Returns:
    {"train", "val", "test"} -> MultiSourceData with sources (left, right),
    each float32 [num, p*p*C] in [0, 1]; shapes ((p, p, C), (p, p, C));
    extras "origin_rc" [num, 2] int32 (top-left row, col in the image) and,
    if the pair has ground truth, "disparity" [num, p*p] float32 (0 where
    unknown), "disparity_valid" [num, p*p] bool and
    "disparity_valid_fraction" [num] float32. meta adds the split, its row
    range and "invalid_disparity_fraction" of the split's patches.

  Raises:
    ValueError: bad patch_size or stride (names the allowed range).
  """
  height, width = pair.left.shape[:2]
  bands = splits.named_split_slices(height, fractions)
  max_patch = min(min(s.stop - s.start for s in bands.values()), width)
  if (isinstance(patch_size, bool) or not isinstance(patch_size, int)
      or not 1 <= patch_size <= max_patch):
    raise ValueError(f"patch_size={patch_size!r} is invalid; it must be an "
                     f"int in [1, {max_patch}] (the smallest split band of "
                     f"this {height}x{width} image with fractions "
                     f"{tuple(fractions)})")
  stride = patch_size if stride is None else stride
  if isinstance(stride, bool) or not isinstance(stride, int) or stride < 1:
    raise ValueError(f"stride={stride!r} is invalid; it must be an int >= 1")
  left, right = to_unit_float(pair.left, color), to_unit_float(pair.right,
                                                               color)
  shape = (patch_size, patch_size, left.shape[-1])
  out = {}
  for name, rows in bands.items():
    origins = _grid(rows, width, patch_size, stride)
    sources = tuple(_cut(v, origins, patch_size).reshape(len(origins), -1)
                    for v in (left, right))
    extras = {"origin_rc": origins}
    meta = dict(pair.meta, split=name, rows=[rows.start, rows.stop],
                patch_shape=list(shape), stride=stride,
                source_names=["left_view", "right_view"])
    if pair.disparity is not None:
      valid, _ = disparity_validity(pair.disparity)
      valid_p = _cut(valid, origins, patch_size).reshape(len(origins), -1)
      disp = np.where(valid, pair.disparity, 0.0).astype(np.float32)
      extras["disparity"] = _cut(disp, origins, patch_size).reshape(
          len(origins), -1)
      extras["disparity_valid"] = valid_p
      extras["disparity_valid_fraction"] = valid_p.mean(-1).astype(np.float32)
      meta["invalid_disparity_fraction"] = float(1.0 - valid_p.mean())
    out[name] = MultiSourceData(sources, (shape, shape), meta, extras)
  return out
