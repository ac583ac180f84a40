"""The court officer's pages: compose, check, preview, seal and publish; follow what was sent; a
unit's documents, their PDF and XML (003 SPC–MPS 五(二): only a person of the unit sees them)."""

from __future__ import annotations

from datetime import datetime

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from broker.console import documents as docs
from broker.console import releases
from broker.console.accounts import Role
from broker.console.composing import (
    FormInvalid,
    checked_preview,
    compose_page_for,
    freeze_notice,
    measure_count,
    other_notice_page,
)
from broker.console.web import (
    READERS,
    Console,
    ConsoleError,
    allow,
    audit,
    base_path,
    page,
    posted_form,
    problems_of,
)
from broker.documents import codec
from broker.documents.document import CHINA_TZ
from broker.errors import LiandongError, Problem
from broker.gateway import status, submit
from broker.gateway.problems import GatewayError
from broker.parsing.hardened import parse


def register(app: FastAPI, console: Console) -> None:
    """Add these pages to the console's ``app``."""

    @app.get("/u/{unit}/compose", response_class=HTMLResponse)
    def compose_page(request: Request, unit: str, measures: str = "1") -> Response:
        _, rt = allow(console, request, unit, Role.OFFICER)
        return compose_page_for(console, request, rt, {}, measure_count(measures), {}, [])

    @app.post("/u/{unit}/compose", response_class=HTMLResponse)
    async def compose(request: Request, unit: str) -> Response:
        """Build the notice from the form, check it as the hub will, and show it for sealing."""
        me, rt = allow(console, request, unit, Role.OFFICER)
        form = await posted_form(request, me)
        count = measure_count(form.get("measures", "1"))
        if form.get("add"):
            return compose_page_for(console, request, rt, form, count + 1, {}, [])
        if form.get("refresh"):  # another recipient or measure kind: its fields
            return compose_page_for(console, request, rt, form, count, {}, [])
        try:
            draft = freeze_notice(rt, form, count)
        except FormInvalid as exc:
            return compose_page_for(console, request, rt, form, count, exc.errors, [], 422)
        checked = await run_in_threadpool(
            rt.checker.check, draft, signed=False, received_at=datetime.now(CHINA_TZ)
        )
        if not checked.ok:
            return compose_page_for(console, request, rt, form, count, {}, checked.problems, 422)
        document = codec.from_element(parse(draft))
        return page(
            console,
            request,
            "preview.html",
            unit=unit,
            draft=draft.decode("utf-8"),
            view=docs.view(document),
            xml=draft.decode("utf-8"),
            wenshu=docs.wenshu(rt, draft),
        )

    @app.get("/u/{unit}/compose/query", response_class=HTMLResponse)
    def query_page(request: Request, unit: str) -> Response:
        _, rt = allow(console, request, unit, Role.OFFICER)
        return other_notice_page(console, request, rt, "query.html", {}, {}, [])

    @app.post("/u/{unit}/compose/query", response_class=HTMLResponse)
    async def compose_query(request: Request, unit: str) -> Response:
        """A query notice (协助查询通知书) from its form, checked as the hub will, for sealing."""
        me, rt = allow(console, request, unit, Role.OFFICER)
        form = await posted_form(request, me)
        return await checked_preview(console, request, rt, "query.html", form, releases.query_notice)

    @app.get("/u/{unit}/release", response_class=HTMLResponse)
    def release_page(request: Request, unit: str, case: str) -> Response:
        _, rt = allow(console, request, unit, Role.OFFICER)
        return other_notice_page(console, request, rt, "release.html", {"CaseNumber": case}, {}, [])

    @app.post("/u/{unit}/release", response_class=HTMLResponse)
    async def compose_release(request: Request, unit: str) -> Response:
        """A release notice (解除协助执行通知书) of measures chosen from the case's earlier
        notices (001 art. 21), checked as the hub will, for sealing."""
        me, rt = allow(console, request, unit, Role.OFFICER)
        form = await posted_form(request, me)
        return await checked_preview(console, request, rt, "release.html", form, releases.release_notice)

    @app.post("/u/{unit}/compose/check", response_class=HTMLResponse)
    async def compose_check(request: Request, unit: str) -> Response:
        """The form checked as the officer types (htmx posts it on each change): values the model
        refuses, then — once every required field is there — every rule the hub will apply."""
        me, rt = allow(console, request, unit, Role.OFFICER)
        form = await posted_form(request, me)
        count = measure_count(form.get("measures", "1"))
        problems: list[Problem] = []
        try:
            draft = freeze_notice(rt, form, count)
        except FormInvalid as exc:
            # a field not filled in yet is not a mistake while typing; a malformed one is
            errors = {k: v for k, v in exc.errors.items() if form.get(k, "").strip()}
            missing = len(exc.errors) - len(errors)
            return page(console, request, "_checks.html", errors=errors, problems=[], missing=missing)
        checked = await run_in_threadpool(
            rt.checker.check, draft, signed=False, received_at=datetime.now(CHINA_TZ)
        )
        problems = checked.problems
        return page(console, request, "_checks.html", errors={}, problems=problems, missing=0)

    @app.post("/u/{unit}/publish")
    async def publish(request: Request, unit: str) -> Response:
        """Seal and publish through the gateway's submit path; the document id is the
        idempotency key, so a second click publishes nothing twice."""
        me, rt = allow(console, request, unit, Role.OFFICER)
        form = await posted_form(request, me)
        raw = form.get("draft", "").encode("utf-8")
        try:
            document_id = str(codec.from_element(parse(raw)).header.document_id)
            done = await run_in_threadpool(submit.submit, rt, raw, "xml", f"console:{document_id}")
        except (GatewayError, LiandongError) as exc:
            audit(
                console, request, me, "publish", None, problems_of(exc)[0].code if problems_of(exc) else "error"
            )
            raise ConsoleError(problems_of(exc), 422) from None
        audit(console, request, me, "publish", done.document_id)
        if done.new:
            rt.metrics.published.inc()
        return RedirectResponse(f"{base_path(request)}/u/{unit}/documents/{done.document_id}", status_code=303)

    @app.get("/u/{unit}/sent", response_class=HTMLResponse)
    def sent(request: Request, unit: str) -> Response:
        _, rt = allow(console, request, unit, Role.OFFICER, Role.REVIEWER)
        rows = [docs.row(rt.store, s.document_id, rt.deadlines) for s in reversed(rt.store.sent())]
        rows = [r for r in rows if r["type"] not in ("ExecutionReceipt",)]
        return page(console, request, "sent.html", unit=unit, rows=rows)

    @app.get("/u/{unit}/cases/{case:path}", response_class=HTMLResponse)
    def case(request: Request, unit: str, case: str) -> Response:
        me, rt = allow(console, request, unit, *READERS)
        audit(console, request, me, "view_case", case)
        # GW_NOT_FOUND: not a case of this unit; with the gateway's deadlines: overdue, released
        found = status.case_documents(rt.store, case, rt.deadlines)
        releasable = me.account.role is Role.OFFICER and any(
            r["direction"] == "out" and r["type"] == "AssistanceNotice" for r in found
        )
        return page(console, request, "case.html", unit=unit, case=case, rows=found, releasable=releasable)

    @app.get("/u/{unit}/documents", response_class=HTMLResponse)
    def documents(request: Request, unit: str) -> Response:
        _, rt = allow(console, request, unit, *READERS)
        rows = [docs.row(rt.store, s.document_id, rt.deadlines) for s in reversed(rt.store.sent())]
        rows += [
            docs.row(rt.store, e.document_id, rt.deadlines)
            for e in reversed(rt.store.inbox())
            if e.state != "invalid" and e.doc_type not in status.HUB_ANSWERS
        ]
        return page(console, request, "sent.html", unit=unit, rows=rows)

    @app.get("/u/{unit}/documents/{document_id}", response_class=HTMLResponse)
    def document(request: Request, unit: str, document_id: str) -> Response:
        me, rt = allow(console, request, unit, *READERS)
        audit(console, request, me, "view", document_id)
        state = status.document_status(rt.store, document_id, rt.deadlines)
        raw = status.sealed_xml(rt.store, document_id)
        receipts = [
            docs.receipt(rt.store, a["document_id"])
            for a in state.get("answers", [])
            if a["type"] == "ExecutionReceipt"
        ]
        # the unit's other answers: an extension moves the deadline, a review suggestion does not;
        # a lead report tells where the person was found
        replies_given = [
            {**a, "view": docs.receipt(rt.store, a["document_id"])["view"]}
            for a in state.get("answers", [])
            if a["type"] in ("ExtensionNotice", "ReviewSuggestion", "LeadReport")
        ]
        story = (
            console.ledger.story(document_id) if console.ledger and me.account.role is Role.REVIEWER else None
        )
        view_of = codec.from_element(parse(raw))
        return page(
            console,
            request,
            "document.html",
            unit=unit,
            state=state,
            view=docs.view(view_of),
            seal=docs.seal(raw),
            receipts=receipts,
            replies_given=replies_given,
            wenshu=docs.wenshu(rt, raw),
            chain=docs.chain(raw),
            story=story,
            # a document this unit sent and the hub served: when the recipient must answer
            due=docs.due_for(
                rt, raw, state["type"], view_of.header.recipient, state["service"]["received_at"]
            )
            if state.get("service")
            else None,
        )

    @app.get("/u/{unit}/documents/{document_id}/pdf")
    def document_pdf(request: Request, unit: str, document_id: str) -> Response:
        me, rt = allow(console, request, unit, *READERS)
        audit(console, request, me, "download_pdf", document_id)
        pdf = docs.pdf(rt, status.sealed_xml(rt.store, document_id))
        return Response(
            pdf,
            media_type="application/pdf",
            headers={"Content-Disposition": f'attachment; filename="{document_id}.pdf"'},
        )

    @app.get("/u/{unit}/documents/{document_id}/xml")
    def document_xml(request: Request, unit: str, document_id: str) -> Response:
        me, rt = allow(console, request, unit, *READERS)
        audit(console, request, me, "download_xml", document_id)
        return Response(
            status.sealed_xml(rt.store, document_id),
            media_type="application/xml",
            headers={"Content-Disposition": f'attachment; filename="{document_id}.xml"'},
        )
