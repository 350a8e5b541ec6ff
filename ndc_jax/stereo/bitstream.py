"""Real bitstreams of the stereo codec: view 1 in, bytes out; bytes and
view 2 in, the reconstruction out.

File layout (big-endian): height, width (uint16 each), then per stream
(hyperprior, mean_scale: ẑ then round(y − μ(ẑ)); factorized: ŷ; vq: the
indices) lo, hi (int32),
the word count (uint32) and the ANS words (uint32). The rate is 8 × the
file's length: every header byte is counted.

`Coder(codec)` compiles the network parts once per arm; `compress` sees
view 1 only. Images whose sides are not multiples of `codec.multiple` are
edge-padded before the analysis and cropped after the synthesis
(`data.pad_to`); the padded latents are coded and counted.
"""

import struct
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from ndc_jax.core import entropy_model as em
from ndc_jax.stereo import data as stereo_data
from ndc_jax.stereo import gaussian, model, transforms, vq

HEADER = ">HH"
STREAM = ">iiI"
MAX_SIDE = 2 ** 16 - 1


class Decoded(NamedTuple):
  image: np.ndarray    # float32 [H, W, 3]
  symbols: dict        # the decoded integer symbols ([1, ...] arrays)


def _pack(words: np.ndarray, lo: int, hi: int) -> bytes:
  words = np.asarray(words, np.uint32)
  return struct.pack(STREAM, lo, hi, words.size) + words.astype(">u4").tobytes()


def _unpack(data: bytes, pos: int):
  lo, hi, n = struct.unpack_from(STREAM, data, pos)
  pos += struct.calcsize(STREAM)
  words = np.frombuffer(data, ">u4", n, pos).astype(np.uint32)
  return words, lo, hi, pos + 4 * n


class Coder:
  """compress / decompress with one codec variant (any params of it)."""

  def __init__(self, codec: model.Codec, entropy: str):
    self.codec, self.entropy = codec, entropy
    self._symbols = jax.jit(codec.symbols)
    self._conditionals = jax.jit(codec.conditionals, static_argnums=2)
    self._decode = jax.jit(lambda p, s, x2: codec.decode(
        p, codec.latents(p, s), x2))
    self._bits = jax.jit(codec.bits)

  def symbols(self, params, x1: np.ndarray, lmbda: float) -> dict:
    """The integer symbols of view 1 [H, W, 3] (padded), [1, ...] each."""
    x = stereo_data.pad_to(np.asarray(x1, np.float32), self.codec.multiple)
    return jax.tree.map(np.asarray, self._symbols(
        params, jnp.asarray(x[None]), jnp.float32(lmbda)))

  def estimated_bits(self, params, sym: dict) -> float:
    """The entropy model's bits of `sym` (no header, no ANS overhead)."""
    return float(self._bits(params, sym)[0])

  def compress(self, params, x1: np.ndarray, lmbda: float) -> bytes:
    """View 1 [H, W, 3] in [0, 1] -> the file's bytes (view 2 unused)."""
    h, w = np.shape(x1)[:2]
    if not (1 <= h <= MAX_SIDE and 1 <= w <= MAX_SIDE):
      raise ValueError(f"image of {h}x{w} px: sides must lie in "
                       f"[1, {MAX_SIDE}]")
    sym = self.symbols(params, x1, lmbda)
    ent = jax.tree.map(np.asarray, params["entropy"])
    out = struct.pack(HEADER, h, w)
    if self.entropy == "vq":
      return out + _pack(vq.encode(sym["k"], ent["logits"]), 0, 0)
    if self.entropy in model.GAUSSIAN:
      z = sym["z"]
      words, lo, hi = em.encode(ent["z"], z.reshape(-1, z.shape[-1]))
      out += _pack(words, lo, hi)
      return out + _pack(*gaussian.encode(sym["y"], self._sigma(
          params, z, sym["y"].shape[1:3])))
    y = sym["y"]
    return out + _pack(*em.encode(ent["y"], y.reshape(-1, y.shape[-1])))

  def decompress(self, params, data: bytes, x2: np.ndarray) -> Decoded:
    """The file's bytes and view 2 [H, W, 3] -> view 1's reconstruction."""
    h, w = struct.unpack_from(HEADER, data, 0)
    if np.shape(x2)[:2] != (h, w):
      raise ValueError(f"the file holds a {h}x{w} px view; the side "
                       f"information is {np.shape(x2)[0]}x{np.shape(x2)[1]}")
    pos = struct.calcsize(HEADER)
    m = self.codec.multiple
    hp, wp = stereo_data.padded_size(h, m), stereo_data.padded_size(w, m)
    ent = jax.tree.map(np.asarray, params["entropy"])
    y_shape = self._latent_shape(params, hp, wp)
    sym = {}
    if self.entropy == "vq":
      words, _, _, pos = _unpack(data, pos)
      sym["k"] = vq.decode(words, ent["logits"], int(np.prod(y_shape[:3]))
                           ).reshape(y_shape[:3]).astype(np.int32)
    else:
      if self.entropy in model.GAUSSIAN:
        f = 2 ** transforms.HYPER_DOWNSAMPLES
        z_shape = (1, -(-y_shape[1] // f), -(-y_shape[2] // f),
                   ent["z"]["logits"].shape[0])
        words, lo, hi, pos = _unpack(data, pos)
        z = em.decode(ent["z"], words, lo, hi,
                      (int(np.prod(z_shape[:3])), z_shape[3]))
        sym["z"] = z.reshape(z_shape).astype(np.int32)
        sigma = self._sigma(params, sym["z"], y_shape[1:3])
        words, lo, hi, pos = _unpack(data, pos)
        sym["y"] = gaussian.decode(words, lo, hi, sigma).astype(np.int32)
      else:
        words, lo, hi, pos = _unpack(data, pos)
        sym["y"] = em.decode(ent["y"], words, lo, hi,
                             (int(np.prod(y_shape[:3])), y_shape[3])
                             ).reshape(y_shape).astype(np.int32)
    if pos != len(data):
      raise ValueError(f"{len(data) - pos} trailing bytes after the streams")
    side = stereo_data.pad_to(np.asarray(x2, np.float32), m)[None]
    x_hat = np.asarray(self._decode(params, sym, jnp.asarray(side)))[0]
    return Decoded(x_hat[:h, :w], sym)

  def _sigma(self, params, z: np.ndarray, hw) -> np.ndarray:
    """σ(ẑ) of the Gaussian models' y symbols, [1, h, w, M]."""
    return np.asarray(self._conditionals(
        params, jnp.asarray(z, jnp.float32), tuple(int(v) for v in hw))[1])

  def _latent_shape(self, params, hp: int, wp: int) -> tuple:
    y = jax.eval_shape(self.codec.encode, params,
                       jax.ShapeDtypeStruct((1, hp, wp, 3), jnp.float32))
    return tuple(y.shape)


def header_bytes(data: bytes) -> int:
  """Bytes of a file that are not ANS words (image size, stream headers)."""
  pos = head = struct.calcsize(HEADER)
  while pos < len(data):
    _, _, n = struct.unpack_from(STREAM, data, pos)
    pos += struct.calcsize(STREAM) + 4 * n
    head += struct.calcsize(STREAM)
  return head
