"""Training the face-manipulation detector: self-blended data, the network, export, evaluation.

Synthesis (`sbi`) needs only NumPy and Pillow; training needs the `unmask[train]` extra (PyTorch).
"""
