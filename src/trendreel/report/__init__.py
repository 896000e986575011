"""The report: what was published, how it did over time, and the trends live at upload time (HTML + CSV)."""
