"""The multi-source job on real correlated sources (stereo images, EEG, ECG).

data (loaders and splits), protocol (splits, folds, normalization), metrics
(PSNR, MS-SSIM, PRD, ...), evaluate, plots, job (train_and_evaluate).
"""
