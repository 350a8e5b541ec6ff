"""Classical one-shot Wyner-Ziv baselines (NumPy float64; the Gaussian law
from `ndc_jax.theory.bounds`, no job package).

The references that a learned compressor of Ozyilkan, Ballé, Erkip ("Neural
Distributed Compressor Discovers Binning", ISIT 2023) is compared with, in
bits per scalar sample and MSE:

* `nested_sq`: the nested (coset) uniform scalar quantizer with its exact
  MMSE decoder E[X | u, y], H(U), H(U|Y) and D (M = ∞: side information at
  both ends); the entropy-coded |X| quantizer of the signed Laplacian.
* `wz_lloyd`: Lloyd design of the entropy-constrained one-shot quantizer on a
  discretized source, marginal q(k) or conditional q(k | y) rate, many starts.
* `wz_quantizers`: lower convex R-D hulls, `rate_at_distortion`,
  `distortion_at_rate`, and `best_baseline(source, ...)`, the best classical
  curve of a source.

Classical codecs of real data (NumPy plus optional libraries, each missing
one named with its pip package):

* `image_codecs`: JPEG, WebP (Pillow), JPEG 2000, JPEG XL, AVIF
  (imagecodecs) — real files, decoded back, header bytes apart.
* `signal_codecs`: DWT (PyWavelets), block DCT and KLT + DWT transform codes
  with Laplace subband models fitted on train and constriction ANS streams;
  a FLAC-like lossless reference.
"""
