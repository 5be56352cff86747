"""Sampling answers from a model: the seeded per-row samplers and stopping rules (`decoding`),
the continuous-batching loop (`continuous`), a system's generation job (`generate`), its
resumable parts (`parts`) and the split of one job over several processes (`shards`)."""
