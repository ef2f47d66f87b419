"""Editing an analyst's workbook in place, never losing their work.

``safety`` (the gate every file passes, and the inventory of what an openpyxl
round trip keeps), ``refresh`` (cached values after an edit), ``scenarios``
(scenario tabs: add, remove, list), ``prices`` (prices appended to the Prices
table), ``tables`` (growing an Excel Table as Excel does).
"""
