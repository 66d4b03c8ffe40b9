"""Generate the synthetic demo region (when missing) and build it: ``woonvoorraad demo``."""

from __future__ import annotations

import logging
from functools import partial
from pathlib import Path
from typing import Any

from woonvoorraad import layout
from woonvoorraad.config import Config
from woonvoorraad.demo.region import make_demo
from woonvoorraad.demo.validation import check_build
from woonvoorraad.pipeline import build

logger = logging.getLogger(__name__)


def build_demo(
    data_dir: str | Path | None = None,
    *,
    scale: float = 1.0,
    regenerate: bool = False,
    rebuild: bool = False,
    out: str | Path | None = None,
    config: Config | None = None,
    extra_parameters: dict[str, Any] | None = None,
) -> Path:
    """Make the synthetic demo region and build it, reusing what is already there.

    The inputs go to :func:`woonvoorraad.layout.demo_raw_dir` (``<data_dir>/raw/demo``, or
    ``raw/demo-scale<scale>`` for another scale) and are generated only when missing; the
    build goes to ``<data_dir>/processed/demo`` and is made only when it has no
    ``manifest.json`` yet (or when ``rebuild`` or ``regenerate`` is given). This is what
    ``woonvoorraad demo`` runs, and what the notebooks call so each of them runs on its own.

    Parameters
    ----------
    data_dir
        Data folder (default ``settings.data_dir``, read at call time).
    scale
        Size of the demo region, in (0, 1]; tests use about 0.1.
    regenerate
        Generate the inputs again even when they exist (implies ``rebuild``).
    rebuild
        Build again even when the build folder holds a ``manifest.json``.
    out
        Build folder (default ``<data_dir>/processed/demo``).
    config
        Effective configuration (:func:`woonvoorraad.config.load_config`; default: the
        built-in defaults).
    extra_parameters
        Run options recorded in the manifest besides ``command`` and ``scale``.

    Returns
    -------
    pathlib.Path
        The build folder.

    Raises
    ------
    ValueError
        If ``scale`` is not in (0, 1].

    Examples
    --------
    >>> import tempfile
    >>> build_demo(tempfile.mkdtemp(), scale=0.05).name  # doctest: +SKIP
    'demo'
    """
    folder = Path(out) if out is not None else layout.processed_dir(data_dir, layout.DEMO)
    if not (rebuild or regenerate) and (folder / "manifest.json").is_file():
        logger.info("demo build present in %s; reusing it", folder)
        return folder
    paths = make_demo(layout.demo_raw_dir(data_dir, scale=scale), scale=scale, overwrite=regenerate)
    build(
        bag_path=paths["bag"],
        buurten_path=paths["buurten"],
        out=folder,
        cbs_paths=[paths["cbs_2021"], paths["cbs_2022"]],
        labels_path=paths["labels"],
        config=config,
        synthetic=True,
        extra_parameters={"command": "demo", "scale": scale, **(extra_parameters or {})},
        checks=partial(check_build, paths["readme"].parent, config=config),
    )
    return folder
