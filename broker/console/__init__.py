"""The console (issue 13): web pages for the people in the loop — court officers, unit clerks
at a manual desk, reviewers, the linkage office, administrators — on the gateway.

One concern per module:

- :mod:`.accounts`: accounts (Argon2id, optional TOTP, lockout), sessions, the operator audit log;
- :mod:`.forms`: form inputs generated from the document models, and the posted form read back;
- :mod:`.documents`: what a page shows of a document (the 文书 in words, its seal, its due date);
- :mod:`.app`: the pages (FastAPI, Jinja2 templates in ``templates/``, ``static/``).

``console_for(rt)`` is the console of one gateway (mounted at ``/console``);
``create_console(desks, accounts)`` serves several units' desks from one process.
"""

from broker.console.accounts import AccountStore, Role
from broker.console.app import console_for, create_console

__all__ = ["AccountStore", "Role", "console_for", "create_console"]
