"""woonvoorraad: where do cheap, owner-occupied, post-war Dutch homes need help?

Modules
-------
bag
    Readers for BAG GeoPackages (PDOK bag-light, lvbag/GDAL-LVBAG, OGC API exports).
cbs
    Readers for the CBS wijk- en buurtkaart and Kerncijfers wijken en buurten.
eponline
    Reader for the EP-Online bulk energy-label CSV.
woningtype
    Dwelling type from footprints (PBL Vesta touching-neighbours rule).
dwellings
    The dwelling table: BAG units joined to buildings, buurten and labels.
indicators
    Per-buurt indicators, including the estimated target group.
pipeline
    ``build``: the whole chain from input files to ``buurten.parquet`` and a manifest.
datasets
    The built-in synthetic demo region.
config, settings
    Run configuration (TOML) and global settings.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
