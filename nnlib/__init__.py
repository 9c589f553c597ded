"""nnlib: a small NumPy neural-network library with the semantics of Keras 3.

Imports NumPy only. See `Sequential` in nnlib.model for the whole workflow.
"""

from nnlib.layers import Dense, Input
from nnlib.losses import BinaryCrossentropy, MeanSquaredError
from nnlib.model import History, Sequential
from nnlib.optimizers import SGD, Adam, RMSprop

__all__ = ["Adam", "BinaryCrossentropy", "Dense", "History", "Input", "MeanSquaredError",
           "RMSprop", "SGD", "Sequential"]
