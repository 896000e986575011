"""`trendreel import`: dated items from a JSON Lines file, stored like crawled articles."""

from trendreel.importer.items import ImportItem, ImportStats, import_jsonl

__all__ = ["ImportItem", "ImportStats", "import_jsonl"]
