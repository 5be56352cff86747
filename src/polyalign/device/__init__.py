"""Which accelerator a job may use: the CPU/GPU policy (`policy`) and a local run's one-GPU-per-job
lease (`lease`)."""
