"""Global settings, read at call time (the osmnx pattern).

Change a value with ``woonvoorraad.settings.<name> = value``; most can also be set from the
environment before import (shown in brackets).

data_dir : Path
    Root of ``raw/`` and ``processed/`` data. [``WOONVOORRAAD_DATA_DIR``, default ``./data``]
cache_dir : Path
    HTTP response cache. [``WOONVOORRAAD_CACHE_DIR``, default ``<data_dir>/raw/cache``]
use_cache : bool
    Read and write the HTTP cache. [``WOONVOORRAAD_USE_CACHE``, default true]
offline : bool
    Never touch the network; a request missing from the cache raises
    :class:`woonvoorraad.errors.OfflineError`. [``WOONVOORRAAD_OFFLINE``, default false]
requests_timeout : float
    Seconds before a connection or read times out. [``WOONVOORRAAD_TIMEOUT``, default 60]
max_retries : int
    Retries on connection errors, 429 and 5xx. [``WOONVOORRAAD_MAX_RETRIES``, default 4]
backoff_factor : float
    First retry waits this many seconds, doubling each time. [default 1.0]
max_pages : int
    Safety limit for paged downloads (a service whose ``next`` link never ends). [default 10000]
negative_cache_max_age : float
    Seconds a cached negative answer (HTTP 404 or 410, with its provenance) is trusted before
    the request is sent again; offline mode uses it whatever its age.
    [``WOONVOORRAAD_NEGATIVE_CACHE_MAX_AGE``, default 604800: one week]
pdok_bag_url, pdok_cbs_url_template, cbs_odata_url, cbs_odata_feed_url, ep_online_url : str
    Base URLs of the services; point them at a mirror or a test server.
    [``WOONVOORRAAD_PDOK_BAG_URL``, ``WOONVOORRAAD_PDOK_CBS_URL``, ``WOONVOORRAAD_CBS_ODATA_URL``,
    ``WOONVOORRAAD_EP_ONLINE_URL``]
allowed_redirect_hosts : tuple[str, ...]
    Extra hosts a redirect may lead to, besides the hosts of the base URLs.
ep_online_api_key_env : str
    Name of the environment variable holding the EP-Online API key (``EP_ONLINE_API_KEY``).
    The key itself is never stored in settings, logs or outputs.
user_agent : str
    HTTP User-Agent.
show_progress : bool
    Show tqdm progress bars on long steps. [``WOONVOORRAAD_PROGRESS``, default true, but false
    inside a Jupyter kernel: a text bar there ends as an empty stderr box in the notebook]
"""

from __future__ import annotations

import os
import sys
from pathlib import Path


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on", "ja"}


data_dir: Path = Path(os.environ.get("WOONVOORRAAD_DATA_DIR", "data"))
cache_dir: Path | None = (
    Path(os.environ["WOONVOORRAAD_CACHE_DIR"]) if "WOONVOORRAAD_CACHE_DIR" in os.environ else None
)
use_cache: bool = _env_bool("WOONVOORRAAD_USE_CACHE", True)
offline: bool = _env_bool("WOONVOORRAAD_OFFLINE", False)
requests_timeout: float = float(os.environ.get("WOONVOORRAAD_TIMEOUT", "60"))
max_retries: int = int(os.environ.get("WOONVOORRAAD_MAX_RETRIES", "4"))
backoff_factor: float = 1.0
max_pages: int = 10_000
negative_cache_max_age: float = float(os.environ.get("WOONVOORRAAD_NEGATIVE_CACHE_MAX_AGE",
                                                     "604800"))

pdok_bag_url: str = os.environ.get(
    "WOONVOORRAAD_PDOK_BAG_URL", "https://api.pdok.nl/kadaster/bag/ogc/v2"
)
pdok_cbs_url_template: str = os.environ.get(
    "WOONVOORRAAD_PDOK_CBS_URL", "https://api.pdok.nl/cbs/wijken-en-buurten-{year}/ogc/v1"
)
cbs_odata_url: str = os.environ.get(
    "WOONVOORRAAD_CBS_ODATA_URL", "https://opendata.cbs.nl/ODataApi/odata"
)
cbs_odata_feed_url: str = os.environ.get(
    "WOONVOORRAAD_CBS_ODATA_FEED_URL", "https://opendata.cbs.nl/ODataFeed/odata"
)
ep_online_url: str = os.environ.get(
    "WOONVOORRAAD_EP_ONLINE_URL", "https://public.ep-online.nl/api/v5"
)
allowed_redirect_hosts: tuple[str, ...] = ()
ep_online_api_key_env: str = "EP_ONLINE_API_KEY"
user_agent: str = "woonvoorraad (+https://github.com/woonvoorraad/woonvoorraad)"
# a Jupyter kernel replaces sys.stderr by ipykernel's OutStream before this module is imported
_in_kernel = type(sys.stderr).__module__.startswith("ipykernel")
show_progress: bool = _env_bool("WOONVOORRAAD_PROGRESS", not _in_kernel)
