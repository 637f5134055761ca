"""Training: the loop, checkpoint I/O, the shipped models' recipes, the head-count experiment, metrics, a baseline."""
