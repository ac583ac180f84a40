"""Reference adapter for the credit platform (信用信息共享平台): see :mod:`adapters.credit.adapter`.

- :mod:`adapters.credit.native`: the dishonest-debtor list in SQLite, enforcing 003 失信规定;
- :mod:`adapters.credit.adapter`: the document handlers, the status query and ``status()``;
- :mod:`adapters.credit.demo`: the example network's listings (``seed``).
"""

from adapters.credit.adapter import CreditAdapter, CreditSettings
from adapters.credit.native import CreditPlatform

__all__ = ["CreditAdapter", "CreditPlatform", "CreditSettings"]
