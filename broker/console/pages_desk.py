"""The unit clerk's manual desk: the inbox with its due dates, a document as its 文书, and the
answers (result, extension, review suggestion, lead report), each sent exactly once."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from broker.console import documents as docs
from broker.console import replies
from broker.console.accounts import Role
from broker.console.composing import FormInvalid, answer_page, receipt_of
from broker.console.web import Console, ConsoleError, allow, audit, base_path, page, posted_form
from broker.gateway import answer as answers
from broker.gateway.problems import GatewayError


def register(app: FastAPI, console: Console) -> None:
    """Add these pages to the console's ``app``."""

    @app.get("/u/{unit}/inbox", response_class=HTMLResponse)
    def inbox(request: Request, unit: str) -> Response:
        _, rt = allow(console, request, unit, Role.CLERK, Role.REVIEWER)
        entries, _ = rt.inbox.page(0, 1000)
        rows = [docs.inbox_row(rt, e) for e in reversed(entries)]
        return page(console, request, "inbox.html", unit=unit, rows=rows)

    @app.get("/u/{unit}/inbox/{document_id}", response_class=HTMLResponse)
    def inbox_item(request: Request, unit: str, document_id: str) -> Response:
        me, rt = allow(console, request, unit, Role.CLERK, Role.REVIEWER)
        audit(console, request, me, "view", document_id)
        return answer_page(console, request, rt, document_id, {}, [])

    @app.post("/u/{unit}/inbox/{document_id}/answer", response_class=HTMLResponse)
    async def answer(request: Request, unit: str, document_id: str) -> Response:
        """The clerk's outcome as a receipt of result, through the gateway's answer path: built,
        checked, sealed and sent exactly once (003 bank rules 8, 15, 17)."""
        me, rt = allow(console, request, unit, Role.CLERK)
        form = await posted_form(request, me)
        try:
            receipt = receipt_of(rt, document_id, form)
            done = await run_in_threadpool(answers.answer, rt, document_id, receipt)
        except FormInvalid as exc:
            return answer_page(console, request, rt, document_id, form, [], exc.errors, 422)
        except GatewayError as exc:
            audit(console, request, me, "answer", document_id, exc.problems[0].code)
            return answer_page(console, request, rt, document_id, form, exc.problems, status_code=exc.status)
        audit(console, request, me, "answer", document_id)
        if done.new:
            rt.metrics.answered.inc()
        return RedirectResponse(f"{base_path(request)}/u/{unit}/inbox/{document_id}", status_code=303)

    @app.post("/u/{unit}/inbox/{document_id}/{kind}", response_class=HTMLResponse)
    async def reply(request: Request, unit: str, document_id: str, kind: str) -> Response:
        """An extension notice or a review suggestion from its form, through the gateway's
        answer path: checked, sealed and sent once per kind (002 四.7; 001 第二十条)."""
        me, rt = allow(console, request, unit, Role.CLERK)
        if kind not in replies.KINDS:
            raise ConsoleError.of("GW_ROUTE_NOT_FOUND", 404, method="POST", path=request.url.path)
        form = await posted_form(request, me)
        action = replies.KINDS[kind].xml_tag
        try:
            body = (
                replies.extension(form)
                if kind == "extension"
                else replies.review(form)
                if kind == "review"
                else replies.lead(form, document_id)
            )
            done = await run_in_threadpool(answers.answer, rt, document_id, body)
        except replies.ReplyInvalid as exc:
            return answer_page(
                console, request, rt, document_id, {}, [], status_code=422, reply=(kind, form, exc.errors)
            )
        except GatewayError as exc:
            audit(console, request, me, action, document_id, exc.problems[0].code)
            return answer_page(
                console,
                request,
                rt,
                document_id,
                {},
                exc.problems,
                status_code=exc.status,
                reply=(kind, form, {}),
            )
        audit(console, request, me, action, document_id)
        if done.new:
            rt.metrics.answered.inc()
        return RedirectResponse(f"{base_path(request)}/u/{unit}/inbox/{document_id}#{kind}", status_code=303)
