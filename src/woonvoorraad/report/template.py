"""The report template and its Jupyter kernel: where the template is, its parameters."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from woonvoorraad.errors import InputError, WoonvoorraadError

logger = logging.getLogger(__name__)

#: Name of the Jupyter kernel the reports run in (``make`` installs it).
KERNEL_NAME = "woonvoorraad"


#: Parameters of the report template, with their meaning (the template's ``parameters`` cell).
TEMPLATE_PARAMETERS: dict[str, str] = {
    "gemeente_code": "CBS gemeentecode, e.g. GM0114",
    "data_dir": "processed data folder of a build (with manifest.json)",
    "jaar": "CBS year the report describes (None: the year of the data)",
    "regio_naam": "name of the comparison region (None: all gemeenten of the build)",
    "kaart": "embed the interactive map",
    "kaart_bestand": "file name of the standalone map beside the report (link), or ''",
    "max_kandidaten": "number of proeftuin candidates shown",
    "offline": "inline Leaflet (True) or load it from a CDN (False)",
}


class ReportParameterError(WoonvoorraadError, ValueError):
    """A parameter is not in the report template's ``parameters`` cell."""


class KernelNotFoundError(WoonvoorraadError, LookupError):
    """The Jupyter kernel for the reports is not installed."""


def _install_data_dirs() -> list[str]:
    """Where pip puts a wheel's data files: the environment's prefix, then the user base."""
    import site
    import sysconfig

    dirs = [sysconfig.get_path("data")]
    user = getattr(site, "USER_BASE", None)
    if user and user not in dirs:
        dirs.append(user)
    return dirs


def find_template() -> Path:
    """The report template ``notebooks/templates/gemeente_rapport.ipynb``.

    Looked up as ``$WOONVOORRAAD_TEMPLATE``, else beside the package in a source checkout or
    editable install, else where a wheel installs it (``<prefix>/share/woonvoorraad/templates``,
    also for ``pip install --user``).

    Raises
    ------
    InputError
        The template cannot be found (pass ``template=`` / ``--template``).
    """
    env = os.environ.get("WOONVOORRAAD_TEMPLATE")
    candidates = [Path(env)] if env else []
    candidates.append(Path(__file__).resolve().parents[3] / "notebooks" / "templates"
                      / "gemeente_rapport.ipynb")
    candidates += [Path(base) / "share" / "woonvoorraad" / "templates" / "gemeente_rapport.ipynb"
                   for base in _install_data_dirs()]
    for c in candidates:
        if c.is_file():
            return c
    raise InputError("report template gemeente_rapport.ipynb not found (looked in "
                     f"{', '.join(str(c) for c in candidates)}); pass --template FILE")


def read_template_parameters(template: str | Path) -> dict[str, Any]:
    """Names and defaults of the template's ``parameters`` cell (papermill's inspection).

    Raises
    ------
    ReportParameterError
        The template has no cell tagged ``parameters``.
    """
    import papermill as pm

    params = pm.inspect_notebook(str(template))
    if not params:
        raise ReportParameterError(f"{template}: no cell tagged 'parameters'")
    return {name: info.get("default") for name, info in params.items()}


def check_template_parameters(template: str | Path, parameters: Mapping[str, Any]) -> None:
    """Reject parameters the template does not declare (an error, not papermill's warning).

    Raises
    ------
    ReportParameterError
        Naming the unknown parameters and the known ones.
    """
    known = read_template_parameters(template)
    unknown = sorted(set(parameters) - set(known))
    if unknown:
        raise ReportParameterError(
            f"unknown report parameter(s) {', '.join(unknown)}; the template "
            f"{Path(template).name} accepts: {', '.join(sorted(known))}")


def ensure_kernel(name: str = KERNEL_NAME, *, install: bool = True) -> str:
    """Make sure the Jupyter kernel ``name`` exists; install the project kernel if missing.

    The project kernel (``woonvoorraad``) is installed into this environment
    (``python -m ipykernel install --sys-prefix --name woonvoorraad``, what ``make`` does);
    other names must exist already.

    Returns
    -------
    str
        The kernel name.

    Raises
    ------
    KernelNotFoundError
        The kernel does not exist and cannot be installed.
    """
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    ksm = KernelSpecManager()
    try:
        spec = ksm.get_kernel_spec(name)
    except NoSuchKernel:
        spec = None
    if spec is not None:
        exe = spec.argv[0] if spec.argv else ""
        # a bare "python" is looked up on PATH (the runner puts this Python first)
        if not Path(exe).is_absolute() or Path(exe).is_file():
            if (name == KERNEL_NAME and Path(exe).is_absolute()
                    and Path(exe).resolve() != Path(sys.executable).resolve()):
                logger.warning("kernel %s runs %s, not this Python (%s)", name, exe,
                               sys.executable)
            return name
        if name != KERNEL_NAME or not install:
            raise KernelNotFoundError(f"Jupyter kernel {name!r} points to a missing Python "
                                      f"({exe}); reinstall it")
        logger.warning("kernel %s points to a missing Python (%s); reinstalling", name, exe)
    elif name != KERNEL_NAME or not install:
        raise KernelNotFoundError(
            f"Jupyter kernel {name!r} is not installed; install it with "
            f"'{sys.executable} -m ipykernel install --sys-prefix --name {name}' or pass "
            f"--kernel with one of: {', '.join(sorted(ksm.find_kernel_specs()))}")
    from ipykernel.kernelspec import install as install_kernel

    path = install_kernel(kernel_name=name, display_name="woonvoorraad", prefix=sys.prefix)
    logger.info("installed Jupyter kernel %s in %s", name, path)
    return name
