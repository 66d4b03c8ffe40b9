"""Scenarios for the instrumentarium (issue #15): what an upgrade costs, saves, asks of owners.

Named packages of measures (``config/scenarios.toml``) applied to the buurten of a build: per
buurt and per income group the investment (PBL Vesta MAIS kentallen), subsidies (ISDE, a
gemeente contribution), energy and CO₂ saved (PBL heat demand per label), the loan payment
(Warmtefonds, 0 % under its income limit; SVn Blijverslening) and the net monthly cost; and the
answer per buurt: the share of target-group owners for whom the package is cash-flow neutral,
who needs a Verzilverlening or extra subsidy, and the gap in euro. See ``docs/scenarios.md``.
"""

from woonvoorraad.scenarios.config import load_scenario_config
from woonvoorraad.scenarios.run import ScenarioResult, run_scenarios, write_scenarios

__all__ = ["ScenarioResult", "load_scenario_config", "run_scenarios", "write_scenarios"]
