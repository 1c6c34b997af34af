"""RFC 2047 encoded words that keep every space and fit the limits, for any text."""

from __future__ import annotations

from email.header import decode_header, make_header

from hypothesis import given, settings
from hypothesis import strategies as st

from sen.messaging.providers.headers import MAX_LINE, MAX_WORD, encoded_words, fold_raw

VIETNAMESE = "aăâbcdđeêghiklmnoôơpqrstuưvxyàảãáạằẳẵắặầẩẫấậèẻẽéẹềểễếệìỉĩíịòỏõóọồổỗốộờởỡớợ" \
    "ùủũúụừửữứựỳỷỹýỵĐĂÂÊÔƠƯ0123456789 ,.:%!?-"


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=VIETNAMESE, min_size=1, max_size=300), st.integers(20, 70))
def test_encoded_words_decode_to_the_text_and_keep_to_the_limits(text: str, room: int) -> None:
    words = encoded_words(text, room)
    assert all(len(w) <= MAX_WORD for w in words)
    assert len(words[0]) <= room
    folded = "\r\n ".join(words)
    assert all(len(line) <= MAX_LINE for line in folded.split("\r\n"))
    assert str(make_header(decode_header(folded.replace("\r\n", "")))) == text


def test_a_word_longer_than_an_encoded_word_is_cut_between_characters() -> None:
    word = "Nguyễn" * 30
    words = encoded_words(word, 60)
    assert len(words) > 2 and all(len(w) <= MAX_WORD for w in words)
    assert str(make_header(decode_header(" ".join(words)))) == word


def test_raw_headers_fold_only_after_commas() -> None:
    assert fold_raw("List-Unsubscribe", "<https://a/" + "x" * 200 + ">,<mailto:u@a>", "\r\n") \
        == "List-Unsubscribe: <https://a/" + "x" * 200 + ">,\r\n <mailto:u@a>\r\n"
