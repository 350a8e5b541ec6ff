"""Multi-source distributed coding: N encoders, one joint decoder, an
MI regularizer β_MI·I(Z_i; Z_j).

sources (correlated Gaussians or data), train (make_train: the objective),
mi (InfoNCE and MINE), entropy_model (latent priors and ANS), evaluate,
plots, job (train_and_evaluate).
"""
