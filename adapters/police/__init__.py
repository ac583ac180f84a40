"""Reference adapter for public security (公安): see :mod:`adapters.police.adapter`.

- :mod:`adapters.police.native`: the bureau's registers in SQLite, enforcing the seeds' rules
  (:mod:`adapters.police.tables`: their schema, row types and in-transaction rules);
- :mod:`adapters.police.adapter`: the handlers and the sighting API (``report_sighting``);
- :mod:`adapters.police.demo`: the example network's data (``seed``) and a demo command line.
"""

from adapters.police.adapter import DutyOfficer, PoliceAdapter, PoliceSettings
from adapters.police.native import PoliceSystem

__all__ = ["DutyOfficer", "PoliceAdapter", "PoliceSettings", "PoliceSystem"]
