"""Excel functions: the xlwings UDFs (``=COST_PER_MTOK()`` ...), a few lines each.

``udfs`` (the functions and their specs), ``arguments`` (converting cell
values and ranges to arrays and back, one message per bad cell), ``lite``
(the generator of ``xlwings_lite/main.py``). The functions call
:mod:`tokencost.core` (and :mod:`tokencost.analysis` for the catalog
functions); nothing here reads or writes a workbook file.
"""
