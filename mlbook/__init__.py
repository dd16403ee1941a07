"""mlbook: the tested package behind the book *Learning to Learn*.

Sub-packages follow the book: ``mlbook.data`` (Omniglot, episodes, sinusoids, digits),
``mlbook.models`` (Conv4, MLP), ``mlbook.training`` (the shared episodic loop and evaluation),
then one sub-package per family of methods.
"""

from mlbook.utils import default_device, mean_confidence_interval, seed_everything

__version__ = "0.1.0"

__all__ = ["__version__", "default_device", "mean_confidence_interval", "seed_everything"]
