"""Shared machinery every job uses; imports no job.

runner (build, train_grid, load_or_train, check_workdir, is_writer), loops
(scan_loops, sweep_grid), nets (MLP), trainer (the Trainer interface),
registry (lookup), results (atomic files), tables (format_table), plotting
(save_figure), metrics (PSNR, MS-SSIM, PRD, FID, region metrics),
entropy_model (latent priors and ANS), mi (InfoNCE and MINE), sharding
(meshes and sharded sweeps), units (LN2).
"""
