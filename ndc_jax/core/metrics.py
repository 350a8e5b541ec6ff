"""Distortion metrics for images and signals (pure functions).

* `mse`, `rmse`, `psnr` (dB): reduce over `axis` (default -1, the flattened
  example axis of `MultiSourceData` sources [num, dim]).
* `prd`, `prdn` (%): percent root-mean-square difference for biosignals,
  the ECG-compression measure (e.g. Zigel, Cohen, Katz, IEEE TBME 47(10),
  2000): PRD = 100 sqrt(sum (x - x̂)² / sum x²); PRDN removes x's mean in the
  denominator, so it does not depend on the baseline offset.
* `ssim`, `ms_ssim`: Wang, Bovik, Sheikh, Simoncelli, "Image quality
  assessment: from error visibility to structural similarity", IEEE TIP 13(4),
  2004, Eq. 13 (11x11 Gaussian window, σ = 1.5, K1 = 0.01, K2 = 0.03), and
  Wang, Simoncelli, Bovik, "Multiscale structural similarity for image
  quality assessment", Asilomar 2003, Eq. 7 with the five weights of Sec. 3.
* `frechet_distance`: the Fréchet (2-Wasserstein) distance between Gaussians
  fitted to two feature sets, the FID formula of Heusel et al., "GANs trained
  by a two time-scale update rule converge to a local Nash equilibrium",
  NeurIPS 2017.

* `ms_ssim_scales`, `region_distortions`: the metrics of one assembled
  region (an image [H, W, C] in [0, 1] or a signal [channels, T]) that every
  image and signal job reports, learned and classical rows alike.

These are jnp functions (jit- and grad-friendly) except `frechet_distance`
and `region_distortions`, which return numpy / Python floats.
"""

import functools
from typing import Callable, Optional, Sequence, Union

import jax
import jax.numpy as jnp
import numpy as np

Axis = Union[int, Sequence[int], None]
# Wang et al. 2003, Sec. 3: weights of scales 1 (finest) .. 5 (coarsest).
MS_SSIM_WEIGHTS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)


def mse(x: jax.typing.ArrayLike, y: jax.typing.ArrayLike,
        axis: Axis = -1) -> jax.Array:
  """Mean squared error over `axis`, in squared units of x."""
  return jnp.mean(jnp.square(jnp.asarray(x) - jnp.asarray(y)), axis=axis)


def rmse(x: jax.typing.ArrayLike, y: jax.typing.ArrayLike,
         axis: Axis = -1) -> jax.Array:
  """Root mean squared error over `axis`, in units of x."""
  return jnp.sqrt(mse(x, y, axis))


def psnr(x: jax.typing.ArrayLike, y: jax.typing.ArrayLike,
         data_range: float = 1.0, axis: Axis = -1) -> jax.Array:
  """Peak signal-to-noise ratio in dB: 10 log10(data_range² / MSE).

  Args:
    x, y: arrays of equal shape, e.g. [num, dim] flattened patches.
    data_range: peak-to-peak range of the data (1.0 for [0, 1] floats, 255
      for uint8), in units of x.
    axis: axes the MSE averages over (per-example PSNR by default).

  Returns:
    PSNR in dB; +inf where x == y.
  """
  return 10.0 * jnp.log10(data_range**2 / mse(x, y, axis))


def prd(x: jax.typing.ArrayLike, x_hat: jax.typing.ArrayLike,
        axis: Axis = -1) -> jax.Array:
  """Percent RMS difference, 100 sqrt(Σ(x − x̂)² / Σx²), in %, over `axis`."""
  x, x_hat = jnp.asarray(x), jnp.asarray(x_hat)
  return 100.0 * jnp.sqrt(jnp.sum(jnp.square(x - x_hat), axis) /
                          jnp.sum(jnp.square(x), axis))


def prdn(x: jax.typing.ArrayLike, x_hat: jax.typing.ArrayLike,
         axis: Axis = -1) -> jax.Array:
  """Mean-removed PRD, 100 sqrt(Σ(x − x̂)² / Σ(x − mean x)²), in %."""
  x, x_hat = jnp.asarray(x), jnp.asarray(x_hat)
  centred = x - jnp.mean(x, axis, keepdims=True)
  return 100.0 * jnp.sqrt(jnp.sum(jnp.square(x - x_hat), axis) /
                          jnp.sum(jnp.square(centred), axis))


def _gaussian_window(size: int, sigma: float) -> jax.Array:
  t = jnp.arange(size, dtype=jnp.float32) - (size - 1) / 2.0
  g = jnp.exp(-0.5 * jnp.square(t / sigma))
  return g / jnp.sum(g)


def _filter(x: jax.Array, window: jax.Array) -> jax.Array:
  """Valid separable filtering of [B, H, W, C] -> [B, H-k+1, W-k+1, C]."""
  b, h, w, c = x.shape
  x = jnp.transpose(x, (0, 3, 1, 2)).reshape(b * c, 1, h, w)
  k = window.shape[0]
  for kernel in (window.reshape(1, 1, k, 1), window.reshape(1, 1, 1, k)):
    x = jax.lax.conv_general_dilated(x, kernel.astype(x.dtype), (1, 1),
                                     "VALID")
  return jnp.transpose(x.reshape(b, c, *x.shape[2:]), (0, 2, 3, 1))


def _ssim_terms(x, y, data_range, window, k1, k2):
  """Mean luminance term l and contrast-structure term cs, each [B].

  The local (co)variances E[xy] − E[x]E[y] are taken of each image channel
  less its mean: in float32 the uncentred form cancels catastrophically
  (constant images of 0.6 gave σ² ≈ 4e-8, not 0, and SSIM 2e-4 off on a GPU)."""
  c1, c2 = (k1 * data_range)**2, (k2 * data_range)**2
  x_mean = jnp.mean(x, (1, 2), keepdims=True)
  y_mean = jnp.mean(y, (1, 2), keepdims=True)
  x, y = x - x_mean, y - y_mean
  fx, fy = _filter(x, window), _filter(y, window)
  var_x = _filter(x * x, window) - fx**2
  var_y = _filter(y * y, window) - fy**2
  cov = _filter(x * y, window) - fx * fy
  mu_x, mu_y = fx + x_mean, fy + y_mean
  lum = (2 * mu_x * mu_y + c1) / (mu_x**2 + mu_y**2 + c1)
  cs = (2 * cov + c2) / (var_x + var_y + c2)
  return jnp.mean(lum * cs, (1, 2, 3)), jnp.mean(cs, (1, 2, 3))


def _as_batch(x, y, min_side: int, what: str):
  x, y = jnp.asarray(x, jnp.float32), jnp.asarray(y, jnp.float32)
  if x.shape != y.shape or x.ndim < 3:
    raise ValueError(f"x.shape={x.shape}, y.shape={y.shape}; {what} needs "
                     "two equal shapes [..., H, W, C]")
  if min(x.shape[-3:-1]) < min_side:
    raise ValueError(f"image of {x.shape[-3]}x{x.shape[-2]} pixels is too "
                     f"small for {what}: each side must be >= {min_side}")
  batch = x.shape[:-3]
  flat = (-1,) + x.shape[-3:]  # [..., H, W, C] -> [B, H, W, C]
  return x.reshape(flat), y.reshape(flat), batch


def ssim(x: jax.typing.ArrayLike, y: jax.typing.ArrayLike,
         data_range: float = 1.0, filter_size: int = 11,
         filter_sigma: float = 1.5, k1: float = 0.01, k2: float = 0.03
         ) -> jax.Array:
  """Mean SSIM of images [..., H, W, C] -> [...] (Wang et al. 2004, Eq. 13).

  Local statistics use a normalised Gaussian window (population variance),
  evaluated only where the window fits (no padding), averaged over pixels
  and channels; data_range is in units of x (1.0 for [0, 1] images). Equals
  skimage.metrics.structural_similarity(gaussian_weights=True, sigma=1.5,
  use_sample_covariance=False).
  """
  x, y, batch = _as_batch(x, y, filter_size, "ssim")
  value = _ms_ssim_batch(x, y, data_range, filter_sigma, k1, k2, scales=1,
                         filter_size=filter_size)
  return value.reshape(batch)


def _downsample(x: jax.Array) -> jax.Array:
  """2x2 average pooling of [B, H, W, C] (odd last row / column dropped)."""
  b, h, w, c = x.shape
  x = x[:, :h // 2 * 2, :w // 2 * 2]
  return x.reshape(b, h // 2, 2, w // 2, 2, c).mean((2, 4))


def ms_ssim(x: jax.typing.ArrayLike, y: jax.typing.ArrayLike,
            data_range: float = 1.0, scales: int = 5,
            filter_size: int = 11, filter_sigma: float = 1.5,
            k1: float = 0.01, k2: float = 0.03) -> jax.Array:
  """Multi-scale SSIM of images [..., H, W, C] -> [...], in [0, 1].

  MS-SSIM = (l_M · cs_M)^{w_M} · Π_{j<M} cs_j^{w_j} (Wang et al. 2003,
  Eq. 7), scale j+1 being scale j after 2x2 average pooling. With the
  standard scales=5 the weights are MS_SSIM_WEIGHTS; with fewer scales
  (small patches) the first `scales` weights are renormalised to sum to 1,
  so identical images still score 1; scales=1 gives `ssim`. As in
  tf.image.ssim_multiscale, negative cs and l·cs values are clamped to 0
  before the fractional powers.

  Args:
    x, y: images [..., H, W, C] of equal shape, values in [0, data_range].
    data_range: peak-to-peak range in units of x.
    scales: number of scales, 1..5; needs min(H, W) >= filter_size *
      2^(scales-1) (176 px for 5 scales, 22 px for 2 with an 11-tap window).

  Raises:
    ValueError: scales outside 1..5 or images too small (names the minimum).
  """
  if isinstance(scales, bool) or not isinstance(scales, int) or not (
      1 <= scales <= len(MS_SSIM_WEIGHTS)):
    raise ValueError(f"scales={scales!r} is invalid; it must be an int in "
                     f"[1, {len(MS_SSIM_WEIGHTS)}]")
  x, y, batch = _as_batch(x, y, filter_size * 2**(scales - 1),
                          f"ms_ssim with scales={scales} and "
                          f"filter_size={filter_size}")
  value = _ms_ssim_batch(x, y, data_range, filter_sigma, k1, k2,
                         scales=scales, filter_size=filter_size)
  return value.reshape(batch)


@functools.partial(jax.jit, static_argnames=("scales", "filter_size"))
def _ms_ssim_batch(x, y, data_range, filter_sigma, k1, k2, *, scales,
                   filter_size):
  """MS-SSIM of [B, H, W, C] -> [B]; scales=1 is plain SSIM."""
  weights = np.asarray(MS_SSIM_WEIGHTS[:scales], np.float32)
  if scales < len(MS_SSIM_WEIGHTS):
    weights = weights / np.sum(weights)
  window = _gaussian_window(filter_size, filter_sigma)
  value = jnp.ones(x.shape[0], jnp.float32)
  for j in range(scales):
    l_cs, cs = _ssim_terms(x, y, data_range, window, k1, k2)
    if scales == 1:
      return l_cs
    term = l_cs if j == scales - 1 else cs
    value = value * jnp.maximum(term, 0.0)**weights[j]
    if j < scales - 1:
      x, y = _downsample(x), _downsample(y)
  return value


def gaussian_frechet_distance(mu1: np.ndarray, cov1: np.ndarray,
                              mu2: np.ndarray, cov2: np.ndarray) -> float:
  """Fréchet distance between N(mu1, cov1) and N(mu2, cov2), squared units.

  d² = ||mu1 − mu2||² + tr(cov1 + cov2 − 2 (cov1 cov2)^{1/2}) (Heusel et al.
  2017, the FID formula). tr((cov1 cov2)^{1/2}) is computed as Σ sqrt(eig(
  S cov2 S)) with S = cov1^{1/2}, a symmetric PSD matrix, so no complex
  sqrtm is needed. Covariances must be symmetric PSD of shape [d, d].
  """
  mu1, mu2 = np.asarray(mu1, np.float64), np.asarray(mu2, np.float64)
  cov1, cov2 = np.asarray(cov1, np.float64), np.asarray(cov2, np.float64)
  d = mu1.shape[-1]
  if mu2.shape != (d,) or cov1.shape != (d, d) or cov2.shape != (d, d):
    raise ValueError(f"shapes mu1 {mu1.shape}, cov1 {cov1.shape}, mu2 "
                     f"{mu2.shape}, cov2 {cov2.shape}; expected [d] and "
                     "[d, d] with one d")
  evals, evecs = np.linalg.eigh(cov1)
  sqrt1 = (evecs * np.sqrt(np.clip(evals, 0, None))) @ evecs.T
  middle = np.linalg.eigvalsh(sqrt1 @ cov2 @ sqrt1)
  tr_sqrt = np.sum(np.sqrt(np.clip(middle, 0, None)))
  return float(np.sum((mu1 - mu2)**2) + np.trace(cov1) + np.trace(cov2)
               - 2.0 * tr_sqrt)


def frechet_distance(a: np.ndarray, b: np.ndarray,
                     feature_fn: Optional[Callable[[np.ndarray],
                                                   np.ndarray]] = None
                     ) -> float:
  """Fréchet distance between Gaussians fitted to two sets of examples.

  Fits mean and covariance (np.cov, ddof = 1, as the reference FID code) of
  feature_fn(a) and feature_fn(b), then `gaussian_frechet_distance`. It is
  FID only when feature_fn is the pretrained Inception-v3 pool3 embedding;
  with raw pixels, random or untrained features the number compares only
  first and second moments and is not comparable to published FIDs. Needs
  many more examples than feature dimensions for a stable covariance.

  Args:
    a, b: examples [num_a, ...] and [num_b, ...]; num_a, num_b >= 2.
    feature_fn: maps a batch [num, ...] to features [num, d]; None uses the
      flattened examples as features.

  Returns:
    The squared Fréchet distance, in squared feature units.
  """
  feats = []
  for name, z in (("a", a), ("b", b)):
    z = np.asarray(feature_fn(z) if feature_fn is not None else z)
    z = z.reshape(z.shape[0], -1).astype(np.float64)
    if z.shape[0] < 2:
      raise ValueError(f"{name} has {z.shape[0]} examples; a covariance "
                       "needs at least 2")
    feats.append(z)
  if feats[0].shape[1] != feats[1].shape[1]:
    raise ValueError(f"feature sizes differ: {feats[0].shape[1]} vs "
                     f"{feats[1].shape[1]}")
  stats = [(f.mean(0), np.atleast_2d(np.cov(f, rowvar=False))) for f in feats]
  return gaussian_frechet_distance(*stats[0], *stats[1])


def ms_ssim_scales(patch: int) -> int:
  """Most MS-SSIM scales an 11-tap window fits in a patch (0: none)."""
  return max((s for s in range(1, 6) if patch >= 11 * 2 ** (s - 1)), default=0)


def region_distortions(x: np.ndarray, x_hat: np.ndarray) -> dict:
  """Domain metrics of one assembled region, physical units: an image
  [H, W, C] in [0, 1] (PSNR, MS-SSIM at `ms_ssim_scales(min(H, W))`) or a
  signal [channels, T] (RMSE, PRD, PRDN)."""
  x, x_hat = np.asarray(x, np.float32), np.asarray(x_hat, np.float32)
  if x.ndim == 3:
    x_hat = np.clip(x_hat, 0, 1)
    scales = ms_ssim_scales(min(x.shape[:2]))
    ssim = (float(ms_ssim(x, x_hat, scales=scales)) if scales
            else float("nan"))
    return {"psnr_db": float(psnr(x, x_hat, axis=None)),
            "ms_ssim": ssim}
  return {"rmse": float(rmse(x, x_hat, axis=None)),
          "prd_pct": float(prd(x, x_hat, axis=None)),
          "prdn_pct": float(prdn(x, x_hat, axis=None))}
