import pytest

from hypernet.chunking import NO_TOKENS, Chunker, chunk_ids, chunk_spans, split_by_lengths


def test_short_document_is_one_chunk():
    assert chunk_spans(100, 512) == [(0, 100)]
    assert chunk_spans(0, 512) == []


def test_long_document_gets_equal_slices_covering_every_token():
    spans = chunk_spans(1300, 512)
    assert len(spans) == 3
    lengths = [e - s for s, e in spans]
    assert max(lengths) - min(lengths) <= 1 and max(lengths) <= 512
    assert spans[0][0] == 0 and spans[-1][1] == 1300
    assert all(a[1] == b[0] for a, b in zip(spans, spans[1:]))


def test_chunk_cap_grows_slices_instead_of_dropping_text():
    ids = list(range(5000))
    chunks = chunk_ids(ids, 512, max_chunks=4)
    assert len(chunks) == 4 and sum(chunks, []) == ids


def test_chunker_lengths_rebuild_the_same_chunks_as_its_split():
    chunker = Chunker(512, max_chunks=4)
    ids = list(range(1300))
    assert split_by_lengths(ids, chunker.lengths(ids)) == chunker.split(ids) == chunk_ids(ids, 512, 4)


def test_chunker_refuses_a_document_without_tokens():
    with pytest.raises(ValueError, match=NO_TOKENS):
        Chunker(512).lengths([])
