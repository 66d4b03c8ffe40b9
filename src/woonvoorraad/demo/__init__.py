"""The built-in synthetic demo region: :func:`make_demo` generates it, :func:`build_demo` builds it.

The modules follow the stages of the generator: :mod:`~woonvoorraad.demo.names` (invented names),
:mod:`~woonvoorraad.demo.geography` (gemeenten, settlements, wijken, buurten),
:mod:`~woonvoorraad.demo.plots` (building mix and plots), :mod:`~woonvoorraad.demo.buildings`
(panden and units), :mod:`~woonvoorraad.demo.identifiers` (BAG ids and addresses),
:mod:`~woonvoorraad.demo.hamlets` (hamlets: woonplaatsen inside a village's rural buurt),
:mod:`~woonvoorraad.demo.statistics` (dwelling traits, CBS layers), :mod:`~woonvoorraad.demo.labels`
(EP-Online), :mod:`~woonvoorraad.demo.households` (the synthetic truth of owners, households and
incomes per dwelling), :mod:`~woonvoorraad.demo.region` (the public API and the writers) and
:mod:`~woonvoorraad.demo.build` (generate + build).
"""

from woonvoorraad.demo.build import build_demo
from woonvoorraad.demo.region import DEMO_SEED, demo_paths, make_demo

__all__ = ["DEMO_SEED", "build_demo", "demo_paths", "make_demo"]
