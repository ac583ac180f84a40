"""The reference bank adapter (银行业金融机构): ``liandong adapter run bank --config bank.yaml``.

- :mod:`adapters.bank.adapter`: :class:`BankAdapter` and :class:`BankSettings` (handlers);
- :mod:`adapters.bank.native`: the core-banking stand-in in SQLite, where the rules of 003
  人民法院、银行业金融机构网络执行查控工作规范 6–17 are carried out;
- :mod:`adapters.bank.demo`: :func:`~adapters.bank.demo.seed`, the example bank's data.
"""

from adapters.bank.adapter import BankAdapter, BankSettings

__all__ = ["BankAdapter", "BankSettings"]
