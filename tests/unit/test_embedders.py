"""Text embedders (the real USE model, the hashing twin, the registry) and chunking."""

from __future__ import annotations

import base64
import itertools
import json

import httpx
import numpy as np
import pytest

from trendreel.errors import ConfigError, TrendreelError
from trendreel.index.chunking import chunk_text, split_sentences
from trendreel.index.embedders import (
    EMPTY_TEXT_PLACEHOLDER,
    EmbeddingDimMismatch,
    EmbeddingServerError,
    TextEmbedder,
    load_text_embedder,
)
from trendreel.index.embedders.openai_http import OpenAIEmbedder

PAIRS = [
    ("서울 아파트값이 3주 연속 올랐다.", "Apartment prices in Seoul rose for the third week in a row."),
    ("한국은행이 기준금리를 동결했다.", "The Bank of Korea kept its base rate unchanged."),
    ("대표팀이 월드컵 예선에서 일본을 2대 1로 이겼다.", "The national team beat Japan 2-1 in a World Cup qualifier."),
    ("태풍이 남해안에 상륙해 항공편이 결항됐다.", "A typhoon made landfall on the south coast and flights were cancelled."),
]


@pytest.fixture(scope="module")
def usem():
    return load_text_embedder("usem")


class CountingEmbedder(TextEmbedder):
    name = "counting"
    dim = 4

    def __init__(self):
        self.batches: list[list[str]] = []

    def embed_batch(self, texts):
        self.batches.append(list(texts))
        v = np.array([[len(t), 1, 0, 0] for t in texts], dtype=np.float32)
        return v / np.linalg.norm(v, axis=1, keepdims=True)


# -- the base contract -------------------------------------------------------------------------


def test_embed_batches_and_keeps_order():
    emb = CountingEmbedder()
    texts = [f"t{'x' * i}" for i in range(70)]
    out = emb.embed(texts, batch_size=32)
    assert [len(b) for b in emb.batches] == [32, 32, 6]
    assert out.shape == (70, 4) and out.dtype == np.float32
    assert np.allclose(out, emb.embed_batch(texts))


def test_embed_empty_list_and_blank_texts():
    emb = CountingEmbedder()
    assert emb.embed([]).shape == (0, 4)
    assert emb.batches == []
    emb.embed(["", "  \n", "real"])
    assert emb.batches == [[EMPTY_TEXT_PLACEHOLDER, EMPTY_TEXT_PLACEHOLDER, "real"]]


def test_embed_refuses_a_bare_string_and_bad_batch_size():
    emb = CountingEmbedder()
    with pytest.raises(TypeError):
        emb.embed("one text")
    with pytest.raises(ValueError):
        emb.embed(["a"], batch_size=0)


def test_embed_checks_the_backend_shape():
    class Broken(CountingEmbedder):
        def embed_batch(self, texts):
            return np.ones((len(texts), 3), dtype=np.float32)

    with pytest.raises(EmbeddingDimMismatch):
        Broken().embed(["a"])


# -- registry ----------------------------------------------------------------------------------


def test_unknown_name_lists_the_known_ones():
    with pytest.raises(ConfigError) as err:
        load_text_embedder("word2vec")
    msg = str(err.value)
    assert "word2vec" in msg and "usem" in msg and "openai" in msg


def test_unknown_option_is_a_config_error():
    with pytest.raises(ConfigError, match="colour"):
        load_text_embedder("hash", colour="red")


def test_hash_embedder_is_deterministic_and_normalised():
    emb = load_text_embedder("hash", dim=64)
    a = emb.embed(["same text", "same text", "completely different words"])
    assert a.shape == (3, 64)
    assert np.allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-5)
    assert a[0] @ a[1] == pytest.approx(1.0, abs=1e-5)
    assert a[0] @ a[2] < 0.9
    assert np.array_equal(a, load_text_embedder("hash", dim=64).embed(["same text", "same text", "completely different words"]))


# -- the real USE multilingual model -----------------------------------------------------------


def test_usem_shape_dtype_norm(usem):
    assert usem.name == "usem" and usem.dim == 512
    v = usem.embed(["한국어 문장", "An English sentence", ""])
    assert v.shape == (3, 512) and v.dtype == np.float32
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    assert usem.embed([]).shape == (0, 512)


def test_usem_same_story_in_korean_and_english_is_closer_than_other_stories(usem):
    ko = usem.embed([k for k, _ in PAIRS])
    en = usem.embed([e for _, e in PAIRS])
    sims = ko @ en.T
    for i in range(len(PAIRS)):
        others = np.delete(sims[i], i)
        assert sims[i, i] > others.max() + 0.1, (PAIRS[i], sims[i])
    assert sims.diagonal().min() > 0.5


def test_usem_is_deterministic_across_batch_sizes(usem):
    texts = [k for k, _ in PAIRS] + [e for _, e in PAIRS]
    one_by_one = np.vstack([usem.embed_batch([t]) for t in texts])
    assert np.allclose(one_by_one, usem.embed(texts), atol=1e-5)


# -- the OpenAI-compatible client through an in-memory transport (the real server test is in
#    tests/integration/test_embed_http.py) -----------------------------------------------------


def _mock(handler, **options):
    return OpenAIEmbedder(base_url="http://embed.test/v1", transport=httpx.MockTransport(handler),
                          backoff_s=0, **options)


def test_openai_rows_follow_index_not_position_and_base64_is_read():
    def handler(request: httpx.Request) -> httpx.Response:
        texts = json.loads(request.content)["input"]
        data = []
        for i, t in reversed(list(enumerate(texts))):
            vec = np.array([len(t), i + 1, 0], dtype="<f4")
            emb = base64.b64encode(vec.tobytes()).decode() if i % 2 else vec.tolist()
            data.append({"object": "embedding", "index": i, "embedding": emb})
        return httpx.Response(200, json={"data": data})

    emb = _mock(handler)
    v = emb.embed(["a", "bbb", "cc"])
    assert emb.dim == 3
    expected = np.array([[1, 1, 0], [3, 2, 0], [2, 3, 0]], dtype=np.float32)
    assert np.allclose(v, expected / np.linalg.norm(expected, axis=1, keepdims=True))


def test_openai_sends_model_prefix_and_key_header():
    seen = {}

    def handler(request):
        seen["body"] = json.loads(request.content)
        seen["auth"] = request.headers.get("authorization")
        return httpx.Response(200, json={"data": [{"index": 0, "embedding": [1.0, 0.0]}]})

    _mock(handler, model="e5", api_key="sk-secret", prefix="query: ", dim=2).embed(["x"])
    assert seen == {"body": {"input": ["query: x"], "model": "e5"}, "auth": "Bearer sk-secret"}


def test_openai_key_from_environment(monkeypatch):
    monkeypatch.setenv("TRENDREEL_EMBED_API_KEY", "sk-env")
    seen = {}

    def handler(request):
        seen["auth"] = request.headers.get("authorization")
        return httpx.Response(200, json={"data": [{"index": 0, "embedding": [1.0]}]})

    _mock(handler).embed(["x"])
    assert seen["auth"] == "Bearer sk-env"


@pytest.mark.parametrize(
    "body",
    [
        {"data": [{"index": 0, "embedding": [1.0]}]},  # one vector for two texts
        {"data": [{"index": 0, "embedding": [1.0]}, {"index": 0, "embedding": [1.0]}]},  # repeated index
        {"data": [{"index": 0, "embedding": [1.0]}, {"index": 5, "embedding": [1.0]}]},  # out of range
        {"data": [{"index": 0, "embedding": [1.0]}, {"index": 1, "embedding": [1.0, 2.0]}]},  # ragged
        {"result": []},  # not the OpenAI shape
    ],
)
def test_openai_malformed_answers_are_server_errors(body):
    emb = _mock(lambda request: httpx.Response(200, json=body))
    with pytest.raises(EmbeddingServerError):
        emb.embed(["a", "b"])


def test_openai_error_messages_never_contain_the_key():
    key = "sk-very-secret-123"

    def handler(request):
        return httpx.Response(400, json={"error": {"message": f"bad input for key {key}"}})

    with pytest.raises(TrendreelError) as err:
        _mock(handler, api_key=key).embed(["a"])
    assert key not in str(err.value) and "***" in str(err.value)
    assert key not in repr(_mock(handler, api_key=key))


def test_openai_base_url_must_be_http():
    with pytest.raises(EmbeddingServerError, match="base_url"):
        OpenAIEmbedder(base_url="127.0.0.1:8000")


# -- chunking ----------------------------------------------------------------------------------


def test_short_text_is_one_chunk_and_blank_is_none():
    assert chunk_text("A short article.") == ["A short article."]
    assert chunk_text("") == [] and chunk_text(" \n\n ") == []


def test_paragraphs_are_packed_and_never_exceed_the_limit():
    paras = [f"Paragraph {i} says something about the economy and the markets today." for i in range(20)]
    text = "\n\n".join(paras)
    chunks = chunk_text(text, max_chars=200, overlap_chars=0)
    assert all(len(c) <= 200 for c in chunks)
    # no overlap: the paragraphs come back exactly, each whole, in order
    assert [p for c in chunks for p in c.split("\n")] == paras


def test_long_paragraph_splits_at_korean_and_english_sentence_ends():
    ko = "정부가 오늘 새 부동산 대책을 발표했다. 대출 규제가 강화된다! 시장은 어떻게 반응할까? "
    en = "Markets fell sharply. Mr. Kim said the U.S. economy would recover. "
    text = (ko + en) * 6
    chunks = chunk_text(text, max_chars=120, overlap_chars=0)
    assert all(len(c) <= 120 for c in chunks)
    for c in chunks:
        assert c.endswith((".", "!", "?")), c
        assert not c.startswith(("S. economy", "Kim said")), c


def test_overlap_repeats_whole_words_from_the_previous_chunk():
    words = [f"w{i:03d}" for i in range(300)]
    text = " ".join(words)
    chunks = chunk_text(text, max_chars=100, overlap_chars=30)
    assert len(chunks) > 5
    for prev, cur in itertools.pairwise(chunks):
        assert len(cur) <= 100
        first = cur.split()[0]
        assert first in prev.split(), (prev, cur)  # starts with words carried over
        assert len(prev) - prev.index(first) <= 30
    # every word appears, none is cut
    assert set(" ".join(chunks).split()) == set(words)


def test_words_are_cut_only_when_longer_than_the_limit():
    url = "https://example.com/" + "a" * 150
    chunks = chunk_text(f"see {url} now", max_chars=60, overlap_chars=10)
    assert all(len(c) <= 60 for c in chunks)
    assert not any(url in c for c in chunks)  # the long word was cut...
    assert "".join(chunks).replace(" ", "") == f"see{url}now"  # ...and nothing was lost
    assert chunks[0].startswith("see https://") and chunks[-1].endswith(" now")
    # a word of exactly max_chars is kept whole
    word = "b" * 60
    assert chunk_text(f"x {word} y", max_chars=60, overlap_chars=10) == ["x", word, "y"]


def test_korean_quotation_stays_one_sentence():
    s = split_sentences("그는 “대책을 내놓겠다.” 라고 밝혔다. 다음 문장이다.")
    assert s == ["그는 “대책을 내놓겠다.” 라고 밝혔다.", "다음 문장이다."]


def test_bad_limits_are_refused():
    with pytest.raises(ValueError):
        chunk_text("x", max_chars=0)
    with pytest.raises(ValueError):
        chunk_text("x", max_chars=10, overlap_chars=10)


@pytest.mark.parametrize("seed", range(5))
def test_random_texts_keep_every_word_within_the_limit(seed):
    rng = np.random.default_rng(seed)
    vocab = ["서울", "경제", "Seoul", "market", "rose.", "떨어졌다.", "why?", "“인용.”", "a", "정부는", "x" * 30]
    paras = []
    for _ in range(rng.integers(1, 8)):
        paras.append(" ".join(rng.choice(vocab, size=rng.integers(1, 80))))
    text = "\n\n".join(paras)
    max_chars = int(rng.integers(40, 300))
    overlap = int(rng.integers(0, max_chars // 2))
    chunks = chunk_text(text, max_chars=max_chars, overlap_chars=overlap)
    assert chunks and all(0 < len(c) <= max_chars for c in chunks)
    assert set(" ".join(chunks).split()) == set(text.split())
    if overlap == 0:
        assert " ".join(chunks).split() == text.split()
