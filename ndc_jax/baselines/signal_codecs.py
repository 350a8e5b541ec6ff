"""Classical transform codecs for multichannel biosignals, and a lossless
reference, as baselines: real ANS streams, decoded back.

A codec is fitted on the training split (`fit`) and codes a signal segment
x [C, T] (physical units) once (`code_signal`):

  1. per-channel mean removal (train means);
  2. transform — ``dwt``: an orthonormal wavelet decomposition per channel
     (PyWavelets `wavedec`, periodized, so critically sampled; default sym8,
     up to 6 levels); ``dct``: the orthonormal DCT-II on blocks of `block`
     samples per channel; ``klt_dwt``: the Karhunen-Loève transform across the
     channels (eigenvectors of their train covariance, orthonormal) then the
     DWT of each component;
  3. a uniform mid-tread quantizer, q = round(c / Δ), x̂ from q·Δ;
  4. entropy coding of q with one Laplace model per (channel or component,
     subband), its scale the ML estimate mean|c| of the train coefficients
     (the decoder holds these as a learned codec holds its weights), as a
     real constriction ANS stream (`QuantizedLaplace`), decoded and checked.

Rate (`CodedSignal.bits`) = 32 × the stream's words + `SIDE_BITS` (the
symbol range lo, hi, the step Δ and the length T, 32 bits each); per sample
it is bits / (C·T). Orthonormal transforms keep the squared error: Σ(x − x̂)²
= Σ(c − qΔ)².

`lossless_bits`: a FLAC-like lossless reference (Robinson, "SHORTEN", 1994;
the FLAC format's fixed predictors): the signal's integer ADC codes
(`integer_codes`), per channel and block of `LOSSLESS_BLOCK` samples the best
fixed polynomial predictor of order 0-4 and the best Rice parameter of its
residuals, counted exactly (a Rice code is a prefix code), plus 8 bits of
order and parameter and 16 bits per warm-up sample per block.
"""

import importlib
from typing import NamedTuple

import numpy as np

TRANSFORMS = ("dwt", "dct", "klt_dwt")
SIDE_BITS = 4 * 32  # lo, hi, Δ, T
LOSSLESS_BLOCK = 4096
PYWT_PIP = "pip install PyWavelets"
_CONSTRICTION_PIP = "pip install constriction"


def _pywt():
  try:
    return importlib.import_module("pywt")
  except ImportError as e:
    raise ImportError(f"The DWT baselines need PyWavelets: `{PYWT_PIP}`"
                      ) from e


def _constriction():
  try:
    return importlib.import_module("constriction")
  except ImportError as e:
    raise ImportError(f"Signal baselines need constriction: "
                      f"`{_CONSTRICTION_PIP}`") from e


class SignalCodec(NamedTuple):
  """A transform codec fitted on train signals of C channels.

  Attributes:
    transform: one of TRANSFORMS.
    mean: [C] train per-channel means (signal units).
    klt: [C, C] orthonormal; rows are the components (identity unless
      klt_dwt), ordered by decreasing train variance.
    scales: [C, B] Laplace scale per component and subband (signal units).
    wavelet, levels, block: transform settings (levels for DWT; block for DCT).
  """
  transform: str
  mean: np.ndarray
  klt: np.ndarray
  scales: np.ndarray
  wavelet: str
  levels: int
  block: int


class CodedSignal(NamedTuple):
  """One segment coded once: stream words, side bits, decoded signal."""
  words: np.ndarray
  decoded: np.ndarray
  estimated_bits: float

  @property
  def bits(self) -> int:
    return 32 * len(self.words) + SIDE_BITS


def dct_matrix(n: int) -> np.ndarray:
  """The orthonormal DCT-II matrix [n, n] (row k = frequency k)."""
  t, k = np.arange(n)[None, :], np.arange(n)[:, None]
  m = np.sqrt(2.0 / n) * np.cos(np.pi * (2 * t + 1) * k / (2 * n))
  m[0] /= np.sqrt(2.0)
  return m


def fit_klt(x: np.ndarray) -> np.ndarray:
  """KLT [C, C] of train signals x [C, T]: eigenvectors of the channel
  covariance as rows, by decreasing eigenvalue; orthonormal."""
  x = np.asarray(x, np.float64)
  evals, evecs = np.linalg.eigh(np.cov(x - x.mean(1, keepdims=True)))
  return evecs[:, np.argsort(evals)[::-1]].T


def _bands(codec_or_settings, z: np.ndarray) -> list[np.ndarray]:
  """Transform coefficients of components z [C, T]: B arrays [C, n_b]."""
  transform, wavelet, levels, block = codec_or_settings
  if transform == "dct":
    t = z.shape[1]
    pad = -t % block
    z = np.pad(z, ((0, 0), (0, pad)), mode="edge")  # [C, nb·block]
    c = z.reshape(z.shape[0], -1, block) @ dct_matrix(block).T
    return [c[:, :, k] for k in range(block)]
  return _pywt().wavedec(z, wavelet, mode="periodization", level=levels,
                         axis=-1)


def _unbands(settings, bands: list[np.ndarray], length: int) -> np.ndarray:
  transform, wavelet, _, block = settings
  if transform == "dct":
    c = np.stack(bands, -1) @ dct_matrix(block)  # [C, nb, block]
    return c.reshape(c.shape[0], -1)[:, :length]
  return _pywt().waverec(bands, wavelet, mode="periodization",
                         axis=-1)[:, :length]


def _settings(codec: SignalCodec):
  return (codec.transform, codec.wavelet, codec.levels, codec.block)


def fit(transform: str, train: np.ndarray, wavelet: str = "sym8",
        levels: int = 6, block: int = 32) -> SignalCodec:
  """Fits a codec on train signals [C, T_train]: means, KLT, subband scales.

  `levels` is capped by what T_train allows (`pywt.dwt_max_level`)."""
  if transform not in TRANSFORMS:
    raise ValueError(f"transform {transform!r} is unknown; allowed: "
                     f"{TRANSFORMS}")
  train = np.asarray(train, np.float64)
  mean = train.mean(1)
  channels = train.shape[0]
  klt = (fit_klt(train) if transform == "klt_dwt" and channels > 1
         else np.eye(channels))
  if transform != "dct":
    levels = min(levels, _pywt().dwt_max_level(
        train.shape[1], _pywt().Wavelet(wavelet).dec_len))
  name = "dct" if transform == "dct" else "dwt"
  bands = _bands((name, wavelet, levels, block), klt @ (train - mean[:, None]))
  scales = np.stack([np.maximum(np.mean(np.abs(b), 1), 1e-9) for b in bands],
                    1)
  return SignalCodec(name if transform != "klt_dwt" else transform, mean, klt,
                     scales, wavelet, int(levels), int(block))


def _transform_name(codec: SignalCodec) -> str:
  return "dct" if codec.transform == "dct" else "dwt"


def analyze(codec: SignalCodec, x: np.ndarray) -> list[np.ndarray]:
  """Subband coefficients of x [C, T]: B arrays [C, n_b]."""
  z = codec.klt @ (np.asarray(x, np.float64) - codec.mean[:, None])
  return _bands((_transform_name(codec),) + _settings(codec)[1:], z)


def synthesize(codec: SignalCodec, bands: list[np.ndarray],
               length: int) -> np.ndarray:
  """The signal [C, length] of subband coefficients (inverse of analyze)."""
  z = _unbands((_transform_name(codec),) + _settings(codec)[1:], bands, length)
  return codec.klt.T @ z + codec.mean[:, None]


def _laplace_bits(q: np.ndarray, scale: np.ndarray) -> float:
  """−Σ log2 P(q) of integers q under Laplace(0, scale) binned to [q ± ½]."""
  a = np.abs(q).astype(np.float64)
  tail = lambda v: np.exp(-np.maximum(v, 0.0) / scale)  # 2·P(|c| > v)
  p = np.where(a == 0, 1.0 - tail(0.5), 0.5 * (tail(a - 0.5) - tail(a + 0.5)))
  return float(-np.sum(np.log2(np.maximum(p, 1e-300))))


def code_signal(codec: SignalCodec, x: np.ndarray, step: float
                ) -> CodedSignal:
  """Codes x [C, T] once with quantizer step Δ = `step` (signal units).

  Returns the ANS words, x̂ [C, T] float32 decoded from them, and the
  model's estimate −Σ log2 P(q) in bits (without side bits).

  Raises:
    RuntimeError: the stream does not decode to its symbols.
  """
  cs = _constriction()
  x = np.asarray(x)
  bands = analyze(codec, x)
  qs = [np.round(b / step).astype(np.int32) for b in bands]
  flat_q = np.concatenate([q.ravel() for q in qs])
  flat_s = np.concatenate([np.broadcast_to(codec.scales[:, k:k + 1] / step,
                                           q.shape).ravel()
                           for k, q in enumerate(qs)])
  flat_s = np.maximum(flat_s, 1e-6)  # constriction needs scale > 0
  lo, hi = int(flat_q.min()), int(flat_q.max())
  model = cs.stream.model.QuantizedLaplace(lo, hi + 1)  # [lo, hi + 1)
  coder = cs.stream.stack.AnsCoder()
  zeros = np.zeros_like(flat_s)
  coder.encode_reverse(flat_q, model, zeros, flat_s)
  words = coder.get_compressed()
  back = cs.stream.stack.AnsCoder(words).decode(model, zeros, flat_s)
  if not np.array_equal(back, flat_q):
    raise RuntimeError(f"{codec.transform} at Δ={step}: the ANS stream does "
                       "not decode to its symbols")
  splits = np.cumsum([q.size for q in qs])[:-1]
  decoded_q = [a.reshape(q.shape) for a, q in zip(np.split(back, splits), qs)]
  x_hat = synthesize(codec, [q * step for q in decoded_q], x.shape[1])
  est = sum(_laplace_bits(q, codec.scales[:, k:k + 1] / step)
            for k, q in enumerate(qs))
  return CodedSignal(words, x_hat.astype(np.float32), est)


def integer_codes(x: np.ndarray, resolution=None, tol: float = 0.02
                  ) -> np.ndarray | None:
  """The integer ADC codes of a physical signal x [C, T], int64 [C, T]: x /
  resolution per channel when `resolution` ([C], physical units per code,
  from the file's header) is given, else (x − min) / the smallest step
  between the channel's values; None where some channel is not within `tol`
  codes of such a grid."""
  x = np.asarray(x, np.float64)
  out = []
  for c, row in enumerate(x):
    if resolution is not None and np.isfinite(resolution[c]):
      k = row / float(resolution[c])
    else:
      steps = np.diff(np.unique(row))
      if not steps.size:
        out.append(np.zeros(row.shape, np.int64))
        continue
      k = (row - row.min()) / steps.min()
    if np.max(np.abs(k - np.round(k))) > tol:
      return None
    out.append(np.round(k).astype(np.int64))
  return np.stack(out)


def _fixed_residual(n: np.ndarray, order: int) -> np.ndarray:
  """FLAC's fixed predictor of `order`: the order-th difference of n[t]."""
  return np.diff(n, order) if order else n.copy()


def _undo_fixed(res: np.ndarray, warmup: np.ndarray) -> np.ndarray:
  """Inverts `_fixed_residual` from the warm-up samples."""
  n = res
  for k in range(len(warmup), 0, -1):
    start = np.diff(warmup, k - 1)[0] if k > 1 else warmup[0]
    n = np.concatenate([[start], start + np.cumsum(n)])
  return n


def _rice_bits(res: np.ndarray) -> tuple[int, int]:
  """(bits, parameter) of the best Rice code of signed integers res."""
  u = np.where(res >= 0, 2 * res, -2 * res - 1).astype(np.int64)  # zigzag
  best = min(((int(np.sum((u >> k) + 1 + k)), k) for k in range(15)))
  return best


def lossless_bits(x: np.ndarray, resolution=None,
                  block: int = LOSSLESS_BLOCK) -> tuple[float, int]:
  """(bits, samples) of the FLAC-like code of x [C, T] (`integer_codes` with
  `resolution`); NaN bits if x has no integer grid. Each block's residuals
  are decoded back and checked."""
  codes = integer_codes(x, resolution)
  if codes is None:
    return float("nan"), int(np.size(x))
  total = 0
  for n in codes:
    for s in range(0, n.size, block):
      b = n[s:s + block]
      options = []
      for order in range(min(4, b.size - 1) + 1):
        res = _fixed_residual(b, order)
        bits, _ = _rice_bits(res)
        options.append((bits + 8 + 16 * order, order))
      bits, order = min(options)
      if not np.array_equal(_undo_fixed(_fixed_residual(b, order),
                                        b[:order]), b):
        raise RuntimeError("the fixed predictor does not invert")
      total += bits
  return float(total), int(codes.size)
