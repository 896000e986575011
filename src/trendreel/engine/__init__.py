"""The distributed engine: the pipeline's stages as Temporal workflows and activities (docs/engine.md).

The in-process runner (`trendreel demo`, the CLI's stage commands, the gateway's run thread) stays the
embedded default; `engine.runner = "temporal"` hands runs to a Temporal cluster whose `trendreel worker`
processes call the very same service functions.
"""
