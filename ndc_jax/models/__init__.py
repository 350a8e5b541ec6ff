"""The learned multi-source codecs the multi-source and real-data jobs train:
N encoders, each seeing its own source, one joint decoder, an MI regularizer.

sources (correlated Gaussians, or a data set as a sampler), train (the
distributed VAE: make_train, the objective, sweep_grid), conv (the 1-D conv
transform codec of multichannel signals), evaluate (rates, the two-terminal
bound, measured ANS bits). Imports no job.
"""
