"""Documents as readable 文书 (issue 13, "Rendering"): every type renders in Chinese with its title,
numbers, addressee, body in words, officers and seal block; the HTML fetches nothing; the PDF's
text can be extracted; a tampered document says its seal does not verify, with the code.

WeasyPrint takes about a sixth of a second of CPU per PDF: the signed examples are printed once for
the module, by ``liandong render`` itself."""

from __future__ import annotations

import re
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
from typer.testing import CliRunner

from broker.cli.main import app
from broker.documents.document import DocumentType
from broker.documents.xmlmodel import XmlModel
from broker.errors import CATALOGUE, LiandongError
from broker.render import Seal, render, render_html
from broker.render import body as render_body
from broker.render.labels import TITLES
from broker.signing import DocumentSigner
from tests import hostile

ROOT = Path(__file__).resolve().parents[1]
SIGNED = sorted((ROOT / "examples" / "signed").glob("*.xml"))
UNSIGNED = sorted((ROOT / "examples" / "unsigned").glob("*.xml"))
CERTS = ROOT / "certs-example"
NOTICE = ROOT / "examples" / "signed" / "AssistanceNotice.xml"
TRUST = ["--trust", str(CERTS / "root-ca.pem"), "--crl", str(CERTS / "crl.pem"), "--registry", str(ROOT / "examples" / "network.yaml")]


@pytest.fixture(scope="module")
def seal() -> Seal:
    return Seal.from_files([CERTS / "root-ca.pem"], [CERTS / "crl.pem"], ROOT / "examples" / "network.yaml")


class _Links(HTMLParser):
    """Every attribute that can make a browser or WeasyPrint fetch something, and every CSS url()."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []
        self.styles: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._in_style = tag == "style"
        for name, value in attrs:
            if name in ("src", "href", "srcset", "data", "poster", "action", "background") and value:
                self.found.append(f"{tag}@{name}={value}")
            if name == "style" and value:
                self.styles.append(value)
        if tag == "link" or tag == "script" or tag == "img" or tag == "iframe":
            self.found.append(tag)

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.styles.append(data)


def external_resources(html: str) -> list[str]:
    parser = _Links()
    parser.feed(html)
    css = " ".join(parser.styles)
    return parser.found + re.findall(r"url\(|@import|@font-face", css)


@pytest.mark.parametrize("path", SIGNED + UNSIGNED, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_every_example_renders_with_its_title_numbers_and_no_external_resource(path: Path, seal: Seal):
    raw = path.read_bytes()
    r = render(raw, trust=seal)
    html = render_html(raw, trust=seal)
    assert r.title == TITLES[r.document_type] and f"<h1>{r.title}</h1>" in html
    assert r.document_id in html
    if r.case_number:
        assert r.case_number in html
    assert external_resources(html) == []
    expected = "verified" if path.parent.name == "signed" else "unsigned"
    assert r.seal.status == expected, r.seal.problems


def test_every_document_type_of_the_catalogue_has_a_signed_example_and_a_title():
    rendered = {render(p.read_bytes()).document_type for p in SIGNED}
    assert rendered == {t.value for t in DocumentType}
    assert set(TITLES) == {t.value for t in DocumentType}


def test_a_notice_reads_as_the_paper_form(seal: Seal):
    html = render_html(NOTICE.read_bytes(), trust=seal)
    for words in (
        "协助执行通知书",
        "中国工商银行股份有限公司云浮分行：",  # the addressee by its registry name
        "请你单位协助执行下列事项",
        "一、冻结存款",
        "账号 6222022010001234567（户名 陈国强）",
        "<th>冻结金额</th><td>人民币 500,000.00 元</td>",
        "<th>冻结期限</th><td>自2026年3月4日起至2027年3月3日止</td>",
        "李明",  # an officer
        "电子印章验证通过 / seal verifies",
        "证书序列号",
        "liandong Example Issuing CA",
    ):
        assert words in html, words


def test_units_and_types_in_a_body_are_named(seal: Seal):
    html = render_html((ROOT / "examples" / "signed" / "ServiceReceipt.xml").read_bytes(), trust=seal)
    assert "<th>送达文书种类</th><td>协助执行通知书</td>" in html
    assert "<th>受送达单位</th><td>中国工商银行股份有限公司云浮分行（91445300MA5100003A）</td>" in html


def test_without_a_registry_the_addressee_is_its_code():
    r = render(NOTICE.read_bytes())
    assert r.addressee == "91445300MA5100003A"
    assert r.seal.status == "unchecked" and r.seal.claimed and r.seal.serial


def test_a_tampered_document_renders_with_seal_does_not_verify_and_its_code(seal: Seal):
    raw = NOTICE.read_bytes().replace(b"500000.00", b"5000000.00", 1)
    r = render(raw, trust=seal)
    html = render_html(raw, trust=seal)
    assert r.seal.status == "failed"
    assert "印章验证未通过 / seal does not verify" in html
    assert "SIG_TAMPERED" in html and "SIG_TAMPERED" in [p.code for p in r.seal.problems]
    # who it claims to be sealed by is still shown, marked as not verified
    assert "未经验证" in html and r.seal.serial and r.seal.serial in html


def test_a_receipt_sealed_with_a_revoked_certificate_says_so_with_the_crl(seal: Seal):
    bank = CERTS / "units" / "91445300MA5100003A"
    revoked = DocumentSigner.from_files(bank / "sign-revoked.key", bank / "sign-revoked.pem", bank / "chain.pem")
    raw = revoked.sign((ROOT / "examples" / "unsigned" / "ExecutionReceipt.xml").read_bytes())
    r = render(raw, trust=seal)
    assert r.seal.status == "failed" and "CERT_REVOKED" in [p.code for p in r.seal.problems]
    assert "CERT_REVOKED" in render_html(raw, trust=seal)


def test_a_body_without_specific_wording_is_rendered_from_its_model():
    class NewNotice(XmlModel):  # a type another helper might add tomorrow
        xml_tag = "NewNotice"
        reason: str
        amount_due: int

    (section,) = render_body.generic(NewNotice(reason="依法", amount_due=3))
    assert [(r.label, r.value) for r in section.rows] == [("原因", "依法"), ("AmountDue", "3")]


@pytest.mark.parametrize(
    "raw, code",
    [(b"", "XML_EMPTY"), (b"<a>", "XML_MALFORMED"), (b"<x xmlns='urn:other'/>", "SCHEMA_UNKNOWN_ROOT")],
)
def test_input_that_is_no_document_is_a_coded_error(raw: bytes, code: str):
    with pytest.raises(LiandongError) as caught:
        render_html(raw)
    assert code in caught.value.codes


@pytest.mark.parametrize("hostile", hostile.CLASSES, ids=str)
def test_hostile_documents_render_with_their_code_or_fail_with_it_never_otherwise(hostile: hostile.Hostile, seal: Seal):
    """The checker's hostile inputs (issue 11): each is rendered (with a seal that does not verify
    and its code, when the seal is what is hostile) or refused with a code, never another exception."""
    raw = hostile.build()
    try:
        r = render(raw, trust=seal)
    except LiandongError as exc:
        assert exc.codes and all(c in CATALOGUE for c in exc.codes)
    else:
        html = render_html(raw, trust=seal)
        if r.seal.status != "verified":  # else the code is a business rule's, which rendering does not check
            assert r.seal.status == "failed" and hostile.code in [p.code for p in r.seal.problems]
            assert "seal does not verify" in html


def test_html_escapes_document_text(seal: Seal):
    raw = NOTICE.read_bytes().replace("陈国强".encode(), b"&lt;img src=x&gt;", 1)
    html = render_html(raw)
    assert "<img" not in html and "&lt;img src=x&gt;" in html


# --- liandong render ------------------------------------------------------------------------------


def run(*args: str):
    result = CliRunner().invoke(app, ["render", *args])
    # a command ends with its exit status, never with an exception of its own
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    return result


def pdf_text(path: Path) -> str:
    """The PDF's text as poppler's pdftotext extracts it (what copy and search see); a tenth of
    pypdf's CPU time on these CJK pages."""
    return subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], check=True, capture_output=True).stdout.decode()


@pytest.fixture(scope="module")
def pdfs(tmp_path_factory) -> tuple[Path, str]:
    """Every signed example and a tampered notice printed once by ``liandong render --format pdf``."""
    out = tmp_path_factory.mktemp("pdf")
    tampered = out / "tampered.xml"
    tampered.write_bytes(NOTICE.read_bytes().replace(b"500000.00", b"5000000.00", 1))
    result = run(*map(str, SIGNED), str(tampered), "--format", "pdf", "-o", str(out / "pdf"), *TRUST)
    return out / "pdf", result.output


def test_render_of_every_signed_example_gives_a_pdf_with_title_document_number_and_case_number(pdfs, seal: Seal):
    directory, output = pdfs
    assert output.count("RENDERED") == len(SIGNED) + 1 and "FAILED" not in output
    for path in SIGNED:
        r = render(path.read_bytes(), trust=seal)
        text = pdf_text(directory / f"{path.stem}.pdf")
        assert r.title in text, path.stem
        assert r.document_id in text, path.stem
        if r.case_number:
            assert r.case_number in text, path.stem
        assert "seal verifies" in text, path.stem


def test_render_of_a_tampered_document_says_so_on_the_pdf_and_the_terminal(pdfs):
    directory, output = pdfs
    line = next(line for line in output.splitlines() if "tampered.xml" in line)
    assert "SEAL DOES NOT VERIFY" in line and "SIG_TAMPERED" in output
    text = pdf_text(directory / "tampered.pdf")
    assert "seal does not verify" in text and "SIG_TAMPERED" in text


def test_render_html_of_every_signed_example_without_trust(tmp_path):
    result = run(*map(str, SIGNED), "-o", str(tmp_path))
    assert result.exit_code == 0 and result.output.count("seal not checked") == len(SIGNED)
    pages = sorted(tmp_path.glob("*.html"))
    assert [p.stem for p in pages] == [p.stem for p in SIGNED]
    assert all(external_resources(p.read_text()) == [] for p in pages)


def test_render_gives_each_unreadable_file_its_code_and_renders_the_others(tmp_path):
    empty = tmp_path / "empty.xml"
    empty.write_bytes(b"")
    result = run(str(tmp_path / "missing.xml"), str(tmp_path), str(empty), str(NOTICE), "-o", str(tmp_path / "out"))
    assert result.exit_code == 1
    for code in ("FILE_NOT_FOUND", "FILE_IS_DIRECTORY", "XML_EMPTY"):
        assert code in result.output
    assert (tmp_path / "out" / "AssistanceNotice.html").is_file()


def test_render_with_a_trust_file_that_cannot_be_read_is_a_coded_usage_error(tmp_path):
    bad = tmp_path / "root.pem"
    bad.write_text("not a certificate")
    result = run(str(NOTICE), "--trust", str(bad), "-o", str(tmp_path))
    assert result.exit_code == 2 and "FILE_ANCHOR_INVALID" in result.output
