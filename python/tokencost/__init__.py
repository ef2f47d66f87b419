"""tokencost: what an AI token really costs to serve, from the chip up."""
import os

# openpyxl serializes XML with lxml whenever lxml is installed (other packages pull it in),
# and then writes pivot caches with an undeclared r: prefix (a corrupt workbook.xml) and
# other bytes than without it. tokencost reads and writes workbooks with openpyxl's
# standard-library serializer, so every file it writes is the same whatever is installed.
# Set before openpyxl is first imported; OPENPYXL_LXML=True in the environment overrides it.
os.environ.setdefault("OPENPYXL_LXML", "False")

from .errors import InputError  # noqa: E402

__version__ = "0.1.0"
__all__ = ["InputError", "__version__"]
