"""Torch only: multi-head attention (torch's masks: True = masked out), the encoder classifier, the tokenizer."""
