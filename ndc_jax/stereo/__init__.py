"""The convolutional distributed stereo image codec (view 1 coded, view 2 at
the decoder only) and its job.

layers (Conv2D, GDN, sub-pixel upsampling, row cross-attention), transforms
(analysis, side encoder, fusion synthesis, hyper transforms), gaussian (the
hyperprior's conditional model and its ANS stream), vq (entropy-constrained
VQ for the distributed VQ-VAE), model (the codec variants as pure
functions), train (`make_train`, `arm`), bitstream (real files), evaluate
(learned and classical rows, gaps), plots, data (Motorcycle bands, crops,
checks), job (`train_and_evaluate`, `format_table`).
"""
