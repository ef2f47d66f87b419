"""tokencost: what an AI token really costs to serve, from the chip up."""
from .errors import InputError

__version__ = "0.1.0"
__all__ = ["InputError", "__version__"]
