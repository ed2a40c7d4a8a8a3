"""harvester: keeps an awesome-list of Dynamic Neural Network papers current.

The package is a library first (``harvester.harvest.run_harvest``, ``harvester.store``) and a
thin click CLI second (``harvester.cli``), so every step can be imported and tested alone.
"""

__version__ = "0.1.0"
