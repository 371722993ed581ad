"""The player client's wire format: VarInts, strings, UUIDs, frames, compression caps, text components."""

from __future__ import annotations

import struct
import uuid
import zlib

import pytest

from mcproof.minecraft.player import codec
from mcproof.minecraft.player.codec import CodecError, FrameDecoder, Reader


@pytest.mark.parametrize(
    ("value", "wire"),
    [
        (0, "00"),
        (1, "01"),
        (127, "7f"),
        (128, "8001"),
        (255, "ff01"),
        (25565, "ddc701"),
        (2097151, "ffff7f"),
        (2147483647, "ffffffff07"),
        (-1, "ffffffff0f"),
        (-2147483648, "8080808008"),
    ],
)
def test_varint_matches_the_protocol_table(value: int, wire: str) -> None:
    assert codec.pack_varint(value).hex() == wire
    assert codec.read_varint(bytes.fromhex(wire), 0) == (value, len(wire) // 2)


def test_varlong_round_trips_extremes() -> None:
    for value in (0, 1, -1, 2**63 - 1, -(2**63)):
        r = Reader(codec.pack_varlong(value))
        assert r.varlong() == value


def test_overlong_varint_is_a_codec_error_and_a_short_one_waits() -> None:
    with pytest.raises(CodecError):
        codec.read_varint(b"\xff" * 6, 0)
    with pytest.raises(IndexError):
        codec.read_varint(b"\xff\xff", 0)
    with pytest.raises(ValueError, match="does not fit"):
        codec.pack_varint(2**31)


def test_offline_uuid_is_vanillas_name_uuid_from_bytes() -> None:
    # Known offline-mode UUIDs (what an offline server shows for these names).
    assert codec.offline_uuid("Notch") == uuid.UUID("b50ad385-829d-3141-a216-7e7d7539ba7f")
    assert codec.offline_uuid("Notch").version == 3
    assert codec.offline_uuid("jeb_") != codec.offline_uuid("Jeb_")


def test_reader_fields_in_order() -> None:
    data = (
        codec.pack_string("héllo")
        + codec.pack_u16(25565)
        + codec.pack_i32(-5)
        + codec.pack_i64(2**40)
        + codec.pack_f32(1.5)
        + struct.pack(">d", 2.25)
        + codec.pack_bool(True)
        + codec.pack_uuid(codec.offline_uuid("a"))
    )
    r = Reader(data)
    assert (r.string(), r.u16(), r.i32(), r.i64(), r.f32(), r.f64(), r.bool(), r.uuid()) == (
        "héllo",
        25565,
        -5,
        2**40,
        1.5,
        2.25,
        True,
        codec.offline_uuid("a"),
    )
    with pytest.raises(CodecError, match="truncated"):
        r.i32()


def test_string_limits() -> None:
    with pytest.raises(CodecError, match="exceeds"):
        Reader(codec.pack_string("x" * 17)).string(16)
    with pytest.raises(CodecError, match="UTF-8"):
        Reader(b"\x02\xff\xfe").string()
    with pytest.raises(CodecError, match="truncated"):
        Reader(b"\x05ab").string()


def test_frames_without_compression_split_and_join() -> None:
    stream = codec.encode_frame(b"\x01abc") + codec.encode_frame(b"\x02" + b"z" * 300)
    decoder = FrameDecoder()
    for i in range(len(stream)):  # one byte at a time: nothing is lost or invented
        decoder.feed(stream[i : i + 1])
    assert decoder.packets() == [b"\x01abc", b"\x02" + b"z" * 300]
    assert decoder.buffered == 0


def test_frames_with_compression_both_ways() -> None:
    small, big = b"\x03hi", b"\x04" + bytes(range(256)) * 4
    decoder = FrameDecoder()
    decoder.set_compression(256)
    decoder.feed(codec.encode_frame(small, 256) + codec.encode_frame(big, 256))
    assert decoder.packets() == [small, big]
    assert codec.encode_frame(small, 256)[1] == 0  # below the threshold: data length 0, not deflated


def test_oversized_frame_is_refused_before_it_is_buffered() -> None:
    decoder = FrameDecoder()
    decoder.feed(b"\xff\xff\xff\x01")  # a 4-byte length: more than vanilla's 2 MiB frame limit
    with pytest.raises(CodecError, match="frame length"):
        decoder.next_packet()
    decoder = FrameDecoder(max_frame=1000)
    decoder.feed(codec.pack_varint(1001))
    with pytest.raises(CodecError, match="outside"):
        decoder.next_packet()
    decoder = FrameDecoder()
    decoder.feed(b"\x00")
    with pytest.raises(CodecError):
        decoder.next_packet()


def _compressed_frame(declared: int, payload: bytes) -> bytes:
    body = codec.pack_varint(declared) + payload
    return codec.pack_varint(len(body)) + body


def test_zip_bomb_declared_over_the_cap_is_refused_without_inflating() -> None:
    decoder = FrameDecoder()
    decoder.set_compression(256)
    decoder.feed(_compressed_frame(codec.MAX_DECOMPRESSED_BYTES + 1, zlib.compress(b"\x00" * 1000)))
    with pytest.raises(CodecError, match="over the cap"):
        decoder.next_packet()


def test_zip_bomb_that_lies_about_its_size_stops_at_the_declared_size() -> None:
    bomb = zlib.compress(b"\x00" * (64 << 20), 9)  # 64 MiB of zeros in ~64 KiB
    decoder = FrameDecoder()
    decoder.set_compression(256)
    decoder.feed(_compressed_frame(1024, bomb))
    with pytest.raises(CodecError, match=r"not the declared|more"):
        decoder.next_packet()


def test_bad_compression_and_below_threshold() -> None:
    decoder = FrameDecoder()
    decoder.set_compression(256)
    decoder.feed(_compressed_frame(300, b"not zlib at all"))
    with pytest.raises(CodecError, match="bad compressed"):
        decoder.next_packet()
    decoder = FrameDecoder()
    decoder.set_compression(256)
    decoder.feed(_compressed_frame(10, zlib.compress(b"x" * 10)))
    with pytest.raises(CodecError, match="below the threshold"):
        decoder.next_packet()
    decoder = FrameDecoder()
    decoder.set_compression(256)
    decoder.feed(_compressed_frame(20, zlib.compress(b"x" * 10)))
    decoder.set_compression(0)
    with pytest.raises(CodecError, match="not the declared"):
        decoder.next_packet()


def test_text_from_json_components() -> None:
    assert codec.text_from_json('"plain"') == "plain"
    assert codec.text_from_json('{"translate":"multiplayer.disconnect.outdated_client","with":["1.21.4"]}') == (
        "multiplayer.disconnect.outdated_client (1.21.4)"
    )
    assert codec.text_from_json('[{"text":"a"},"b",{"text":"c","extra":[{"text":"d"}]}]') == "abcd"
    assert codec.text_from_json("not json\nat all") == "not json at all"
    assert len(codec.text_from_json('"' + "x" * 10000 + '"')) == codec.MAX_TEXT_CHARS


def _nbt_string(name: str, value: str) -> bytes:
    return b"\x08" + struct.pack(">H", len(name)) + name.encode() + struct.pack(">H", len(value)) + value.encode()


def test_text_from_nbt_components() -> None:
    assert codec.text_from_nbt(b"\x08" + struct.pack(">H", 11) + b"Server shut") == "Server shut"
    extra = (
        b"\x09"
        + struct.pack(">H", 5)
        + b"extra"
        + b"\x0a"
        + struct.pack(">i", 1)
        + _nbt_string("text", " down")
        + b"\x00"
    )
    compound = b"\x0a" + _nbt_string("text", "Server") + extra + b"\x01" + struct.pack(">H", 4) + b"bold\x01" + b"\x00"
    assert codec.text_from_nbt(compound) == "Server down"
    translate = b"\x0a" + _nbt_string("translate", "disconnect.timeout") + b"\x00"
    assert codec.text_from_nbt(translate) == "disconnect.timeout"


def test_hostile_nbt_is_bounded() -> None:
    deep = b"\x09\x00\x00" + b"\x09\x00\x00\x00\x01" * 100  # lists of lists, 100 deep
    with pytest.raises(CodecError, match="deeper"):
        codec.text_from_nbt(b"\x0a" + deep + b"\x00")
    many = b"\x09" + b"\x01" + struct.pack(">i", 10_000_000)  # 10 million bytes declared, none sent
    with pytest.raises(CodecError):
        codec.text_from_nbt(many)
    with pytest.raises(CodecError, match="truncated"):
        codec.text_from_nbt(b"\x0a\x08\x00\x04te")
    with pytest.raises(CodecError, match="unknown NBT"):
        codec.text_from_nbt(b"\x63")


def test_deeply_nested_json_is_a_codec_error_not_a_recursion_error() -> None:
    for deep in ("[" * 100_000, "[" * 5000 + "]" * 5000, '{"extra":' * 50 + '"x"' + "}" * 50):
        with pytest.raises(CodecError, match="nested deeper than 32"):
            codec.text_from_json(deep)
    assert codec.text_from_json('{"text":"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\\"{{{"}') == "[" * 44 + '"{{{'
    assert codec.text_from_json("[" * 30 + '"ok"' + "]" * 30) == "ok"


def test_extra_that_is_not_a_list_is_skipped() -> None:
    assert codec.text_from_json('{"text":"Bye","extra":5}') == "Bye"
    assert codec.text_from_json('{"text":"Bye","extra":{"text":"x"}}') == "Bye"
    assert codec.text_from_json('{"translate":7,"with":3,"fallback":[1]}') == ""
    assert codec.text_from_json("[true, 1.5]") == "1.5"
    compound = b"\x0a" + _nbt_string("text", "Bye") + b"\x03" + struct.pack(">H", 5) + b"extra" + struct.pack(">i", 5)
    assert codec.text_from_nbt(compound + b"\x00") == "Bye"


def test_a_huge_component_is_capped_at_max_text_chars() -> None:
    many = "[" + ",".join(['"xy"'] * 200_000) + "]"  # every part counted once, as it is added
    assert len(codec.text_from_json(many)) == codec.MAX_TEXT_CHARS
    assert codec.plain_text(["a" * 10_000, "b"]) == "a" * (codec.MAX_TEXT_CHARS - 1) + "…"
