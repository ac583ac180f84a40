"""The console (issue 13): web pages for the people in the loop — court officers, unit clerks
at a manual desk, reviewers, the linkage office, administrators — on the gateway.

One concern per module:

- :mod:`.accounts`: accounts (Argon2id, optional TOTP, lockout), sessions, the operator audit log;
- :mod:`.forms`: form inputs generated from the document models, and the posted form read back;
- :mod:`.documents`: what a page shows of a document (the 文书 in words, its seal, its due date);
- :mod:`.releases`, :mod:`.replies`: the release notice's measures, the clerk's answers from their forms;
- :mod:`.oversight`: the hub's ledger read for the reviewer and the linkage office;
- :mod:`.web`: what every page works with (the session, access and 403, CSRF, the audit line, a page);
- :mod:`.composing`: the documents the forms make and the pages of those forms;
- :mod:`.pages_session`, :mod:`.pages_court`, :mod:`.pages_desk`, :mod:`.pages_office`,
  :mod:`.pages_admin`: the pages of logging in, of the court officer, of the clerk's desk, of the
  linkage office and of the administrator (Jinja2 templates in ``templates/``, ``static/``);
- :mod:`.app`: the application: its error pages and headers, every group of pages.

``console_for(rt)`` is the console of one gateway (mounted at ``/console``);
``create_console(desks, accounts)`` serves several units' desks from one process.
"""

from broker.console.accounts import AccountStore, Role
from broker.console.app import console_for, create_console

__all__ = ["AccountStore", "Role", "console_for", "create_console"]
