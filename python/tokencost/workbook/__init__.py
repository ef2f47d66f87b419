"""Workbook shell: templates -> openpyxl workbooks with cached values; LibreOffice recalculation."""
