"""Reference adapter of a real-estate registry (不动产登记中心; 住建 house records): see
:mod:`adapters.realestate.adapter` for the handlers and :mod:`adapters.realestate.native` for the
register that enforces the seeds' rules (001 arts. 11–12, 20–21; 002 四.7(3), 四.13, 四.14)."""

from adapters.realestate.adapter import RealEstateAdapter, RealEstateSettings
from adapters.realestate.demo import seed
from adapters.realestate.native import RealEstateRegister

__all__ = ["RealEstateAdapter", "RealEstateRegister", "RealEstateSettings", "seed"]
