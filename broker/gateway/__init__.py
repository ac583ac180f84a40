"""The liandong gateway: a local HTTP API beside an organisation's own system (docs/gateway.md).

One process per organisation (a court or a member unit): its program speaks plain HTTP to the
gateway, which checks, seals, publishes and keeps the evidence through the same parts a Python
court or adapter uses (:mod:`broker.court`, :mod:`broker.transport`, :mod:`broker.checking`,
:mod:`broker.signing`). One concern per module:

- :mod:`.config`: the YAML file (a unit configuration plus the HTTP side);
- :mod:`.tokens`: API tokens, hashed, with scopes;
- :mod:`.audit`: the append-only audit log of every call;
- :mod:`.problems`: the house error body and the HTTP status of each code;
- :mod:`.body`: reading a request body within the size limit;
- :mod:`.state`: the gateway's own records (idempotency keys, answers given);
- :mod:`.submit`: a court's document, from JSON or XML to sealed and published;
- :mod:`.status`: what became of a document, a case's documents, a unit's inbox;
- :mod:`.answer`: a unit's answers (result, extension notice, review suggestion, lead report),
  each built into a sealed document exactly once;
- :mod:`.deadlines`: when a document falls due (the state ``overdue``);
- :mod:`.kinds`: ``Kind``, the JSON discriminator of the XSD's choices;
- :mod:`.tls`: HTTPS, and the subject of a client certificate;
- :mod:`.auth`: who may call what, as FastAPI dependencies (``Runtime``, ``Reader``, ...);
- :mod:`.routes`: one router per resource (documents, cases, inbox, answers, events,
  operations), and the one line where another package adds its router;
- :mod:`.app`: the FastAPI application; :mod:`.server`: running it on uvicorn.
"""
