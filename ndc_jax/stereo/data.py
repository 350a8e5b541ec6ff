"""Stereo image pairs for the distributed codec: checks, splits, crops,
padding.

A pair is (view 1, view 2): view 1 is coded, view 2 is the side information
the decoder holds. Images are float32 [H, W, 3] in [0, 1] inside this
package (loaders that give [0, 255] are divided by 255 by `from_255`).

Motorcycle (`motorcycle_splits`): the Middlebury 2014 pair scikit-image
ships (`ndc_jax.data.stereo.load_motorcycle`, 500 × 741, colour),
cut into contiguous row bands by `ndc_jax.data.splits.named_split_slices`
(train rows 0–400, val 400–450, test 450–500): training samples random
crops of the train band, evaluation codes the whole test band once as one
image per view. View 1 = left (im0), view 2 = right (im1).

The benchmarks (KITTI, Cityscapes: `ndc_jax.stereo.datasets`, wired in by
the stereo job) give stacks of pairs [N, H, W, 3]; `sample_crops` crops a
stack [P, 2, H, W, 3] (Motorcycle: P = 1).
"""

from typing import Sequence

import jax
import jax.numpy as jnp
import numpy as np

from ndc_jax.data import splits
from ndc_jax.data import stereo as stereo_data
from ndc_jax.stereo import datasets

CHANNELS = 3
# The stereo job's config.data fields and defaults (ndc_jax/stereo/job.py):
# the dataset, its root, KITTI's split lists and sets, the benchmarks'
# centre crop (() = the protocol's) and resize (height, width) in pixels,
# and how many test pairs to code (0 = all).
DATA_DEFAULTS = dict(name="motorcycle", path="", split_dir="",
                     versions=(2015, 2012), crop_hw=(),
                     resize_hw=datasets.NDIC_RESIZE_HW, max_test_images=0)


def check_pair(x1: np.ndarray, x2: np.ndarray, name: str = "pair") -> None:
  """Raises ValueError unless x1 and x2 are images [H, W, 3], or stacks of
  N >= 1 images [N, H, W, 3], of one shape."""
  for view, x in (("view 1", x1), ("view 2", x2)):
    shape = np.shape(x)
    if (len(shape) not in (3, 4) or shape[-1] != CHANNELS
        or (len(shape) == 4 and shape[0] < 1)):
      raise ValueError(f"{name}: {view} has shape {shape}; the stereo codec "
                       f"takes colour images [H, W, {CHANNELS}] (or stacks "
                       f"[N >= 1, H, W, {CHANNELS}])")
  if np.shape(x1) != np.shape(x2):
    raise ValueError(f"{name}: view 1 is {np.shape(x1)} and view 2 is "
                     f"{np.shape(x2)}; both views of a pair must have the "
                     "same height, width and channels")


def from_255(x: np.ndarray) -> np.ndarray:
  """[0, 255] floats or uint8 -> float32 [0, 1]."""
  return np.asarray(x, np.float32) / 255.0


def motorcycle_splits(fractions: Sequence[float] = splits.DEFAULT_FRACTIONS
                      ) -> dict:
  """{"train", "val", "test"} -> (view 1, view 2), float32 [rows, 741, 3]
  in [0, 1], and "meta" (source, licence, citation, row bands)."""
  pair = stereo_data.load_motorcycle()
  bands = splits.named_split_slices(pair.left.shape[0], fractions)
  out = {name: (from_255(pair.left[rows]), from_255(pair.right[rows]))
         for name, rows in bands.items()}
  out["meta"] = dict(pair.meta, view_1="left (im0)", view_2="right (im1)",
                     rows={k: [v.start, v.stop] for k, v in bands.items()},
                     units="intensity scaled to [0, 1]")
  return out


def check_crop(crop: Sequence[int], image_shape, multiple: int) -> None:
  """Raises ValueError unless crop (h, w) fits the image and `multiple`
  (the transforms' total downsampling) divides both sides."""
  h, w = image_shape[:2]
  ch, cw = crop
  if not (1 <= ch <= h and 1 <= cw <= w):
    raise ValueError(f"train.crop={tuple(crop)} does not fit the training "
                     f"images of {h}x{w} px; allowed: 1..{h} x 1..{w}")
  if ch % multiple or cw % multiple:
    raise ValueError(f"train.crop={tuple(crop)}: both sides must be "
                     f"multiples of {multiple} (2^downsamples of the "
                     "transforms)")


def sample_crops(pairs: jax.Array, key: jax.Array, batch: int,
                 crop: Sequence[int]) -> tuple[jax.Array, jax.Array]:
  """Random aligned crops of both views: pairs uint8 [P, 2, H, W, 3] ->
  (x1, x2), float32 [batch, h, w, 3] in [0, 1], same origin in both.

  Each batch element draws its own pair (uniform over P) and its own
  origin. A single pair (P = 1, Motorcycle) draws no pair index, so its
  crops are those of the one-pair sampler for the same key.
  """
  ch, cw = crop
  p, _, h, w, c = pairs.shape
  if p > 1:
    key, k_pair = jax.random.split(key)
    index = jax.random.randint(k_pair, (batch,), 0, p)
  else:
    index = jnp.zeros((batch,), jnp.int32)
  kr, kc = jax.random.split(key)
  rows = jax.random.randint(kr, (batch,), 0, h - ch + 1)
  cols = jax.random.randint(kc, (batch,), 0, w - cw + 1)
  cut = jax.vmap(lambda i, r, q: jax.lax.dynamic_slice(
      pairs, (i, 0, r, q, 0), (1, 2, ch, cw, c))[0])(index, rows, cols)
  cut = cut.astype(jnp.float32) / 255.0  # [B, 2, h, w, 3]
  return cut[:, 0], cut[:, 1]


def edge_pad_crops(x1: jax.Array, x2: jax.Array, key: jax.Array,
                   multiple: int) -> tuple[jax.Array, jax.Array, jax.Array]:
  """Crops [B, h, w, 3] as the codec sees an image whose sides are not
  multiples of `multiple` (`pad_to`): per element, the last p_h rows and
  p_w columns, p ~ U{0, ..., min(multiple, side) − 1}, replaced by edge
  replication of the rest, in both views alike.

  Returns (x1, x2, valid): valid float32 [B, h, w, 1] is 1 on the kept
  pixels, 0 on the replicated ones — the distortion is measured on the
  kept pixels only, as at test, while every latent is coded.
  """
  b, h, w = x1.shape[:3]
  kh, kw = jax.random.split(key)
  p_h = jax.random.randint(kh, (b,), 0, min(multiple, h))
  p_w = jax.random.randint(kw, (b,), 0, min(multiple, w))
  rows = jnp.minimum(jnp.arange(h)[None], (h - 1 - p_h)[:, None])  # [B, h]
  cols = jnp.minimum(jnp.arange(w)[None], (w - 1 - p_w)[:, None])  # [B, w]
  pad = jax.vmap(lambda x, r, c: x[r][:, c])
  valid = ((jnp.arange(h)[None, :, None] < (h - p_h)[:, None, None]) &
           (jnp.arange(w)[None, None, :] < (w - p_w)[:, None, None]))
  return (pad(x1, rows, cols), pad(x2, rows, cols),
          valid[..., None].astype(jnp.float32))


def to_uint8(x: np.ndarray) -> np.ndarray:
  """float [0, 1] -> uint8 (rounded)."""
  return np.round(np.clip(np.asarray(x), 0.0, 1.0) * 255.0).astype(np.uint8)


def padded_size(size: int, multiple: int) -> int:
  return -(-size // multiple) * multiple


def pad_to(x: np.ndarray, multiple: int) -> np.ndarray:
  """Edge-replicates [H, W, C] (or [B, H, W, C]) up to multiples of
  `multiple`; the codec crops the decoded image back to H × W."""
  h, w = x.shape[-3], x.shape[-2]
  pads = [(0, 0)] * (x.ndim - 3) + [(0, padded_size(h, multiple) - h),
                                    (0, padded_size(w, multiple) - w),
                                    (0, 0)]
  return np.pad(x, pads, mode="edge")
