"""One module per nudge type the nudger raises; each registers its detectors
with ``services.nudger.registry.detector`` when imported (``registry.load``
imports every module here). docs/rules.md: "How to add a nudge type".
"""
