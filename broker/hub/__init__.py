"""The reference hub: checks, routes, timestamps service, keeps the ledger, watches deadlines."""
