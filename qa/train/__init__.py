"""Training the extractive reader: features, the fine-tuning loop, export.

Kept apart from inference: nothing under ``qa/`` outside this package imports
it, so answering a question never loads torch's training stack. It needs the
``[train]`` extra (torch and transformers).
"""
