"""Reference adapter of a market regulator (市场监督管理局): see :mod:`adapters.market.adapter`
for the handlers and :mod:`adapters.market.native` for the register and publicity system that
enforce the seeds' rules (001 arts. 12, 17, 20–21; 002 四.7(3), 四.17; 003 权力清单 59)."""

from adapters.market.adapter import MarketAdapter, MarketSettings
from adapters.market.demo import seed
from adapters.market.native import MarketRegister

__all__ = ["MarketAdapter", "MarketRegister", "MarketSettings", "seed"]
