"""Ingest: normalisation, safe ids, and reading real files (local and on moto's S3) into documents."""
from __future__ import annotations

import importlib.util
import json
import re
import unicodedata
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipelines.ingest import (
    MAX_DOC_ID_LEN,
    Document,
    Rejected,
    iter_documents,
    normalise_text,
    sanitise_doc_id,
    text_sha256,
)

SAFE_ID = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._-]*$")


def split(items) -> tuple[dict[str, Document], list[Rejected]]:
    """Good documents by id, and the rejections in order."""
    items = list(items)
    return ({d.doc_id: d for d in items if isinstance(d, Document)}, [r for r in items if isinstance(r, Rejected)])


def reason_for(rejected: list[Rejected], source_end: str) -> str:
    """The reason of the one rejection whose source ends with source_end."""
    found = [r.reason for r in rejected if r.source.endswith(source_end)]
    assert len(found) == 1, (source_end, rejected)
    return found[0]


# -- Text ---------------------------------------------------------------------------------------------
def test_normalise_text_unifies_newlines_spaces_and_unicode_form():
    raw = "  Caf\u0065\u0301 \t au   lait\r\nline two  \r\rpara\u00a0three\n\n\n\n\nlast\t \n"
    assert normalise_text(raw) == "Caf\u00e9 au lait\nline two\n\npara three\n\nlast"


def test_normalise_text_is_idempotent():
    raw = " a \r\n\r\n\r\n b\u2028c\t\td \n \n \n e "
    once = normalise_text(raw)
    assert normalise_text(once) == once


def test_text_sha256_is_stable_and_blind_to_layout_noise():
    assert text_sha256("hello") == "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
    nfd_crlf = normalise_text(unicodedata.normalize("NFD", "Crème brûlée\r\n\r\nis  good"))
    nfc_lf = normalise_text("Crème brûlée\n\nis good")
    assert text_sha256(nfd_crlf) == text_sha256(nfc_lf)


# -- Ids ----------------------------------------------------------------------------------------------
NASTY_IDS = [
    "../../etc/passwd", "/etc/passwd", "C:\\Windows\\system32", "..", ".", "", ".hidden", "-rf",
    "a/../../b", "guides/setup.md", "héllo wörld", "日本語の文書", "x" * 1000, "a\x00b", "emoji 🎉",
    "a" * 120 + "/" + "b" * 120, "s3://bucket/key", "%2e%2e%2f", "name with\nnewline",
]


@pytest.mark.parametrize("raw", NASTY_IDS)
def test_sanitised_doc_id_is_a_safe_path_component_and_key_part(raw, tmp_path):
    safe = sanitise_doc_id(raw)
    assert SAFE_ID.match(safe), safe
    assert ".." not in safe and "/" not in safe and len(safe) <= MAX_DOC_ID_LEN
    assert (tmp_path / safe).resolve().parent == tmp_path.resolve()  # never escapes its folder
    assert sanitise_doc_id(raw) == safe  # stable


def test_safe_doc_ids_are_left_alone():
    for raw in ("report-2024.txt", "guide_v2.md", "A1", "x" * MAX_DOC_ID_LEN):
        assert sanitise_doc_id(raw) == raw


def test_distinct_raw_ids_stay_distinct():
    raws = NASTY_IDS + [
        "a/b", "a_b", "a.txt", "a.md", "a b", "a__b", "é", unicodedata.normalize("NFD", "é"),
        "x" * 1001, "x" * 999, "guides_setup.md", "a..b", "a.b", ".a", "a",
    ]
    out = {sanitise_doc_id(r) for r in raws}
    assert len(out) == len(set(raws))
    # A raw id crafted to look like another id's sanitised output is still kept apart.
    crafted = sanitise_doc_id("a/b")
    assert sanitise_doc_id(crafted) != crafted


def test_sanitise_doc_id_rejects_non_strings():
    with pytest.raises(ValueError, match="must be a string"):
        sanitise_doc_id(42)  # type: ignore[arg-type]


# -- Local corpora ---------------------------------------------------------------------------------
def write(path: Path, data: str | bytes) -> Path:
    """Write text (UTF-8) or bytes, creating parent folders."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


@pytest.fixture
def messy_corpus(tmp_path) -> Path:
    """A directory tree with good documents and one of every kind of bad one."""
    root = tmp_path / "corpus"
    write(root / "a.txt", "Alpha   text.\r\n\r\n\r\nSecond paragraph.")
    write(root / "a.md", "# Alpha in markdown")
    write(root / "guides" / "setup.md", "Run the installer.")
    write(root / "page.html", "<html><head><title>Doc &amp; Title</title><style>p{color:red}</style>"
                              "<script>alert('x')</script></head><body><h1>Head</h1><p>Body&nbsp;text"
                              "<br>next line</p><!-- hidden --></body></html>")
    write(root / "empty.txt", "")
    write(root / "blank.md", " \n\t\n  ")
    write(root / "binary.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    write(root / "controls.txt", bytes(range(1, 9)) * 50)
    write(root / "latin1.txt", "caf\u00e9".encode("latin-1"))
    write(root / "notepad.txt", "\ufeffCaf\u00e9 menu.\r\nSoup of the day.".encode("utf-16-le"))
    write(root / "broken16.txt", b"\xff\xfe" + "ok".encode("utf-16-le") + b"\x00\xd8")  # a lone surrogate
    write(root / "big.txt", "y" * 1_500_000)
    write(root / "records.jsonl", "\n".join([
        json.dumps({"id": "../../etc/passwd", "text": "Escaping record.", "lang": "en"}),
        json.dumps({"id": "rec-1", "text": "Record one."}),
        json.dumps({"id": "rec-1", "text": "Record one again."}),
        "{not json",
        json.dumps({"id": "no-text"}),
        json.dumps({"text": "no id"}),
        "",
    ]))
    write(root / "scan.pdf", b"%PDF-1.4\n%fake\n")
    write(root / "data.bin", b"whatever")
    write(root / ".DS_Store", b"\x00\x00")
    return root


def test_messy_corpus_keeps_good_documents_and_gives_each_bad_one_a_reason(messy_corpus):
    good, rejected = split(iter_documents(str(messy_corpus), max_doc_bytes=1_000_000))

    escaped = sanitise_doc_id("../../etc/passwd")
    assert set(good) == {"a.txt", "a.md", sanitise_doc_id("guides/setup.md"), "page.html", escaped, "rec-1",
                         "notepad.txt"}
    assert good["notepad.txt"].text == "Caf\u00e9 menu.\nSoup of the day."  # UTF-16 with its byte order mark
    assert good["a.txt"].text == "Alpha text.\n\nSecond paragraph."
    assert good["a.txt"].sha256 == text_sha256(good["a.txt"].text)
    assert good["rec-1"].text == "Record one."  # the first of two records with that id wins
    assert good[escaped].metadata == {"lang": "en", "raw_id": "../../etc/passwd"}
    assert good[sanitise_doc_id("guides/setup.md")].metadata["path"] == "guides/setup.md"

    assert "empty" in reason_for(rejected, "empty.txt")
    assert "empty" in reason_for(rejected, "blank.md")
    assert "binary" in reason_for(rejected, "binary.txt")
    assert "binary" in reason_for(rejected, "controls.txt")
    assert reason_for(rejected, "latin1.txt") == "invalid UTF-8 at byte 3; re-encode the file as UTF-8"
    assert reason_for(rejected, "broken16.txt") == "invalid UTF-16 at byte 6"
    assert reason_for(rejected, "big.txt") == "file is 1500000 bytes, over max_doc_bytes=1000000"
    assert "duplicate doc_id" in reason_for(rejected, "records.jsonl:3")
    assert "unparseable JSON" in reason_for(rejected, "records.jsonl:4")
    assert reason_for(rejected, "records.jsonl:5") == "record without text field 'text'"
    assert reason_for(rejected, "records.jsonl:6") == "record without id field 'id'"
    assert reason_for(rejected, "data.bin") == "unsupported extension '.bin'"
    assert len(rejected) == 13  # scan.pdf is the 13th; .DS_Store is skipped as hidden, not rejected


def test_html_loses_tags_scripts_and_styles_but_keeps_title_and_breaks(messy_corpus):
    good, _ = split(iter_documents(str(messy_corpus / "page.html")))
    page = good["page.html"]
    assert page.text == "Head\n\nBody text\nnext line"
    assert page.metadata["title"] == "Doc & Title"


def test_pdf_is_rejected_when_no_pdf_package_is_installed(messy_corpus):
    if importlib.util.find_spec("pypdf") is not None:
        pytest.skip("pypdf is installed: PDFs are extracted")
    _, rejected = split(iter_documents(str(messy_corpus / "scan.pdf")))
    assert [r.reason for r in rejected] == ["pdf text extraction not available"]


def test_fifty_megabyte_file_is_rejected_by_size_before_it_is_read(tmp_path):
    big = tmp_path / "corpus" / "huge.txt"
    big.parent.mkdir()
    with big.open("wb") as f:  # sparse: costs no disk, and all zeros, so reading it would say "binary"
        f.truncate(50_000_000)
    write(tmp_path / "corpus" / "ok.txt", "fine")
    good, rejected = split(iter_documents(str(big.parent), max_doc_bytes=1_000_000))
    assert list(good) == ["ok.txt"]
    assert reason_for(rejected, "huge.txt") == "file is 50000000 bytes, over max_doc_bytes=1000000"


def test_overlong_jsonl_line_is_skipped_and_the_next_line_still_read(tmp_path):
    path = tmp_path / "big.jsonl"
    with path.open("wb") as f:
        f.write(b'{"id": "huge", "text": "')
        f.truncate(5_000_000)
        f.seek(0, 2)
        f.write(b'"}\n' + json.dumps({"id": "after", "text": "still read"}).encode() + b"\n")
    good, rejected = split(iter_documents(str(path), max_doc_bytes=100_000))
    assert list(good) == ["after"]
    assert rejected[0].reason == "JSON line is 5000003 bytes, too long for max_doc_bytes=100000"


def test_record_text_over_the_cap_is_rejected(tmp_path):
    path = write(tmp_path / "r.jsonl", json.dumps({"id": "long", "text": "z" * 2000}) + "\n")
    _, rejected = split(iter_documents(str(path), max_doc_bytes=1000))
    assert rejected == [Rejected("long", f"{path}:1", "text is 2000 bytes, over max_doc_bytes=1000")]


def test_json_file_holds_one_record_or_a_list(tmp_path):
    write(tmp_path / "c" / "one.json", json.dumps({"id": "solo", "text": "Only one.", "author": "ann"}))
    write(tmp_path / "c" / "many.json", json.dumps([{"id": "m1", "text": "First."}, {"id": 2, "text": "Second."}]))
    good, rejected = split(iter_documents(str(tmp_path / "c")))
    assert rejected == []
    assert sorted(good) == ["2", "m1", "solo"]
    assert good["solo"].metadata == {"author": "ann"}


def test_parquet_file_records_keep_their_other_fields_as_metadata(tmp_path):
    path = tmp_path / "docs.parquet"
    pq.write_table(pa.table({"doc": ["p1", "p2"], "body": ["One.", "Two."], "year": [2020, 2021]}), path)
    good, _ = split(iter_documents(str(path), id_field="doc", text_field="body"))
    assert good["p2"].text == "Two."
    assert good["p2"].metadata == {"year": 2021}


def test_custom_id_and_text_fields_in_jsonl(tmp_path):
    path = write(tmp_path / "r.jsonl", json.dumps({"key": "k/1", "content": "Body."}) + "\n")
    good, _ = split(iter_documents(str(path), id_field="key", text_field="content"))
    assert [d.text for d in good.values()] == ["Body."]


def test_csv_records_stream_with_their_other_columns_as_metadata(tmp_path):
    # What a spreadsheet export looks like: a byte order mark, CRLF, a quoted text with commas,
    # quotes and a line break, a blank line, and rows that are wrong in every way a row can be.
    path = write(tmp_path / "faq.csv", "\ufeff" + "\r\n".join([
        "id,text,team",
        'q1,"Refunds take 5 days, not 3.\r\nAsk ""Billing"" first.",billing',
        "",
        "q2,Passwords reset at midnight.,it",
        "q3,Too,many,fields",
        "q4,",
        ",An orphan text.,ops",
        "q5,Last one.,ops",
    ]))
    good, rejected = split(iter_documents(str(path)))
    assert sorted(good) == ["q1", "q2", "q5"]
    assert good["q1"].text == 'Refunds take 5 days, not 3.\nAsk "Billing" first.'
    assert good["q1"].metadata == {"team": "billing"}
    assert [(r.doc_id, r.source, r.reason) for r in rejected] == [
        (None, f"{path}:6", "row has 4 fields, the header 3"),
        (None, f"{path}:7", "row has 2 fields, the header 3"),
        (None, f"{path}:8", "record without id field 'id'"),
    ]


def test_tsv_with_custom_fields_and_a_csv_without_them(tmp_path):
    write(tmp_path / "c" / "notes.tsv", "key\tbody\nn-1\tFirst note, with a comma.\nn-2\t\n")
    write(tmp_path / "c" / "other.csv", "id,text\nx,Has the default columns.\n")
    good, rejected = split(iter_documents(str(tmp_path / "c"), id_field="key", text_field="body"))
    assert [d.text for d in good.values()] == ["First note, with a comma."]
    assert reason_for(rejected, "notes.tsv:3") == "empty text (nothing but whitespace)"
    assert reason_for(rejected, "other.csv") == "header row has no column 'key' or 'body'"


def test_csv_that_breaks_mid_file_keeps_the_rows_before_it(tmp_path):
    latin1 = write(tmp_path / "latin1.csv", "id,text\na,Fine.\nb,Caf\u00e9.\nc,Never read.\n".encode("latin-1"))
    good, rejected = split(iter_documents(str(latin1)))
    assert list(good) == ["a"]
    assert rejected == [Rejected(None, f"{latin1}:3", "invalid UTF-8 at byte 5 of the line; re-encode the file "
                                                      "as UTF-8; the rest of the file was not read")]

    utf16 = write(tmp_path / "excel.tsv", "id\ttext\na\tFine.\n".encode("utf-16"))
    assert list(iter_documents(str(utf16))) == [Rejected(None, f"{utf16}:1", "UTF-16 text (it starts with a byte "
                                                         "order mark); save the file as UTF-8; the rest of the "
                                                         "file was not read")]

    # An unclosed quote swallows the lines after it until the field is over the cap.
    unclosed = write(tmp_path / "quote.csv", 'id,text\na,Fine.\nb,"never closed\n' + ("z" * 99 + "\n") * 800)
    good, rejected = split(iter_documents(str(unclosed), max_doc_bytes=1000))
    assert list(good) == ["a"]
    assert rejected == [Rejected(None, f"{unclosed}:3", "unparseable CSV: field larger than field limit "
                                                        "(67536); the rest of the file was not read")]

    long_line = write(tmp_path / "long.csv", "id,text\na,Fine.\nb," + "z" * 70_000 + "\nc,Never read.\n")
    good, rejected = split(iter_documents(str(long_line), max_doc_bytes=1000))
    assert list(good) == ["a"]
    assert rejected == [Rejected(None, f"{long_line}:3", "line is 70003 bytes, too long for max_doc_bytes=1000; "
                                                         "the rest of the file was not read")]


def test_csv_text_over_the_cap_gets_the_size_reason(tmp_path):
    path = write(tmp_path / "r.csv", "id,text\nlong," + "z" * 2000 + "\nshort,ok\n")
    good, rejected = split(iter_documents(str(path), max_doc_bytes=1000))
    assert list(good) == ["short"]
    assert rejected == [Rejected("long", f"{path}:2", "text is 2000 bytes, over max_doc_bytes=1000")]


def test_empty_csv_is_rejected_with_its_reason(tmp_path):
    path = write(tmp_path / "empty.csv", "")
    assert list(iter_documents(str(path))) == [Rejected(None, str(path), "empty file (no header row)")]


def test_missing_source_and_bad_cap_are_user_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="not found"):
        iter_documents(str(tmp_path / "nope"))
    with pytest.raises(ValueError, match="max_doc_bytes"):
        iter_documents(str(tmp_path), max_doc_bytes=0)


# -- S3 --------------------------------------------------------------------------------------------
def test_s3_prefix_reads_like_a_directory(s3_bucket):
    import fsspec

    fs = fsspec.filesystem("s3")
    fs.pipe({
        f"{s3_bucket}/docs/a.txt": b"From S3.",
        f"{s3_bucket}/docs/sub/b.md": b"Nested   doc.",
        f"{s3_bucket}/docs/r.jsonl": b'{"id": "r1", "text": "Record."}\n',
        f"{s3_bucket}/docs/t.csv": b'id,text\nc1,"A CSV row, from S3."\n',
        f"{s3_bucket}/docs/empty.txt": b"",
        f"{s3_bucket}/other/ignored.txt": b"Not under the prefix.",
    })
    good, rejected = split(iter_documents(f"{s3_bucket}/docs"))
    assert sorted(good) == sorted(["a.txt", sanitise_doc_id("sub/b.md"), "r1", "c1"])
    assert good["c1"].text == "A CSV row, from S3." and good["c1"].source == f"{s3_bucket}/docs/t.csv:2"
    assert good[sanitise_doc_id("sub/b.md")].text == "Nested doc."
    assert good["a.txt"].source == f"{s3_bucket}/docs/a.txt"
    assert [(r.doc_id, r.reason) for r in rejected] == [("empty.txt", "empty text (nothing but whitespace)")]
