"""The modeling core of the learning loop: views-over-time histories, baselines, forecasters, scoring.

Pure Python over plain data (no database, no files but a model's bytes):

- `history`: the import shape (History, Sample), parse_line and read_jsonl;
- `evaluate`: the time split, Task A (from early samples) and Task B (from metadata alone), figures;
- `baselines`: log-linear growth (Szabo & Huberman 2008) and the account's mean;
- `features`: the features as plain functions of a History and the training-period stats;
- `models`: the forecaster from early samples and the cold-start predictor, with their bytes.
"""
