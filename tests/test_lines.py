from harness.judging.lines import MAX_LINE, LineSplitter


def split_all(chunks):
    s = LineSplitter()
    out = []
    for c in chunks:
        out += s.feed(c)
    return out + s.flush()


def test_crlf_lf_and_lone_cr_each_end_one_line():
    assert split_all([b"a\r\nb\nc\rd"]) == ["a", "b", "c", "d"]


def test_crlf_split_across_chunks_is_one_terminator():
    data = b"I: one\r\nI: two\r\n"
    assert split_all([bytes([b]) for b in data]) == ["I: one", "I: two"]


def test_ansi_escapes_and_nuls_are_removed():
    assert split_all([b"\x1bc\x1b[?7l\x1b[2J\x1b[0mSeaBIOS\x00 ok\r\n"]) == ["SeaBIOS ok"]


def test_invalid_utf8_is_replaced_not_fatal():
    assert split_all([b"bad \xff\xfe byte\n"]) == ["bad \ufffd\ufffd byte"]


def test_partial_last_line_is_kept_on_flush():
    s = LineSplitter()
    assert s.feed(b"done\npartial") == ["done"]
    assert s.flush() == ["partial"]
    assert s.flush() == []


def test_a_1mb_line_is_cut_into_bounded_pieces():
    lines = split_all([b"x" * 1_000_000 + b"\nnext\n"])
    assert all(len(line) <= MAX_LINE for line in lines)
    assert "".join(lines[:-1]) == "x" * 1_000_000
    assert lines[-1] == "next"
