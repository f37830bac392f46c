"""The shared tokenizer: hand-worked outputs (the world's click log depends on them)."""

from trustir.text import STOPWORDS, words


def test_words_lowercases_splits_on_non_alphanumerics_and_drops_stopwords():
    text = "What is the Capital of Foo-Land? It's 12km from the sea, e.g. Bar's."
    assert words(text) == ["capital", "foo", "land", "s", "12km", "sea", "e", "g", "bar", "s"]


def test_words_of_none_or_empty_text_is_empty():
    assert words(None) == []
    assert words("") == []
    assert words("The of AND") == []


def test_accented_letters_split_words():
    # only ASCII letters and digits are word characters: "café" -> "caf"
    assert words("Café au lait") == ["caf", "au", "lait"]


def test_stopword_list_is_the_one_the_world_was_generated_with():
    assert len(STOPWORDS) == 33
    assert {"a", "whose", "with", "what"} <= STOPWORDS
    assert "not" not in STOPWORDS
