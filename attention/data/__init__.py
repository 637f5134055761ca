"""Datasets: their types, the built-in corpora and the synthetic task, CSV uploads, and batching into padded ids."""
