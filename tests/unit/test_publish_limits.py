"""Per-platform limits: captions for one-caption platforms (TikTok counts UTF-16 code units, Instagram
characters and hashtags), TikTok's chunk rules and its privacy levels."""

from __future__ import annotations

import re

import pytest

from trendreel.publish.errors import PublishError
from trendreel.publish.metadata import caption_for, caption_length
from trendreel.publish.tiktok import chunk_plan, choose_privacy

MIB = 1024 * 1024


def metadata(description: str, tags: list[str], title: str = "Harbour bridge reopens") -> dict:
    return {"title": title, "description": description + "\n\nref: p0123", "tags": tags}


def test_a_short_caption_keeps_everything_and_adds_missing_hashtags():
    m = metadata("The bridge is open again.\n\n#bridge", ["bridge", "city news"])
    assert caption_for("tiktok", m) == "Harbour bridge reopens\n\nThe bridge is open again.\n\n#bridge\n\n#citynews\n\nref: p0123"


def test_tiktok_counts_utf16_code_units():
    emoji = "🚢 ferry " * 400  # 400 × 8 code points, 400 × 9 UTF-16 units
    caption = caption_for("tiktok", metadata(emoji, ["ferries"]))
    assert caption_length(caption, "utf16") <= 2200 < len(caption.encode("utf-16-le"))
    assert len(caption) < 2200  # counted in code points it would look shorter than it is
    assert caption.startswith("Harbour bridge reopens\n\n🚢") and caption.endswith("#ferries\n\nref: p0123")
    assert "…" in caption
    caption.encode("utf-16-le")  # no half of a surrogate pair left behind


def test_instagram_counts_characters_and_at_most_30_hashtags():
    body = "word " * 600
    caption = caption_for("instagram", metadata(body, [f"tag{i}" for i in range(40)]))
    assert len(caption) <= 2200 and len(re.findall(r"#\w+", caption)) == 30
    assert caption.endswith("#tag29\n\nref: p0123")
    # A description that itself has more than 30 hashtags loses their '#' (the tags still fit in).
    crowded = caption_for("instagram", metadata(" ".join(f"#h{i}" for i in range(35)), ["news"]))
    assert len(re.findall(r"#\w+", crowded)) == 1 and "h34" in crowded


def test_a_title_longer_than_the_limit_is_cut_and_the_ref_kept():
    caption = caption_for("tiktok", metadata("text", [], title="long " * 600))
    assert caption_length(caption, "utf16") <= 2200 and caption.endswith("ref: p0123")


@pytest.mark.parametrize("size, chunk, expected", [
    (3 * MIB, 10 * MIB, (3 * MIB, 1)),  # under 5 MB: one piece of the whole size
    (9 * MIB, 10 * MIB, (9 * MIB, 1)),  # fits one chunk
    (50_000_123, 10_000_000, (10_000_000, 5)),  # TikTok's own example: the trailing 123 bytes join the last
    (12 * MIB, 1 * MIB, (5 * MIB, 2)),  # a chunk is at least 5 MB
    (300 * MIB, 100 * MIB, (64_000_000, 4)),  # and at most 64 MB
    (8_000 * MIB, 5 * MIB, (8_388_608, 1000)),  # at most 1000 chunks
])
def test_chunk_plan_follows_tiktoks_rules(size, chunk, expected):
    got = chunk_plan(size, chunk)
    assert got == expected
    chunk_size, count = got
    assert count == size // chunk_size and size - chunk_size * (count - 1) <= 128 * MIB


def test_privacy_is_never_wider_than_asked():
    public = ["PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "SELF_ONLY"]
    private_account = ["FOLLOWER_OF_CREATOR", "MUTUAL_FOLLOW_FRIENDS", "SELF_ONLY"]
    assert choose_privacy("public", public, account="a") == "PUBLIC_TO_EVERYONE"
    assert choose_privacy("public", private_account, account="a") == "FOLLOWER_OF_CREATOR"
    assert choose_privacy("unlisted", private_account, account="a") == "MUTUAL_FOLLOW_FRIENDS"
    assert choose_privacy("private", public, account="a") == "SELF_ONLY"
    with pytest.raises(PublishError, match="only privately.*not audited"):
        choose_privacy("public", ["SELF_ONLY"], account="a")
    with pytest.raises(PublishError, match="none matches"):
        choose_privacy("unlisted", ["PUBLIC_TO_EVERYONE", "SELF_ONLY"], account="a")
