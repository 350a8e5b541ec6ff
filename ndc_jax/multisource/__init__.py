"""The multi-source job: the learned codecs of `ndc_jax.models` (N encoders,
one joint decoder, an MI regularizer β_MI·I(Z_i; Z_j)) trained and evaluated
against the two-terminal bound.

plots, job (train_and_evaluate).
"""
