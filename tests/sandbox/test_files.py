"""sendDocument / sendPhoto: multipart uploads at Telegram's limits, the bytes kept for tests."""

from __future__ import annotations

import struct
import zlib

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest, TelegramEntityTooLarge
from aiogram.types import BufferedInputFile

from sandbox import TelegramSandbox
from sandbox.methods_files import MAX_DOCUMENT, MAX_PHOTO

from .conftest import ANN, GROUP


def png(width: int, height: int) -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    raw = b"".join(b"\x00" + b"\xff" * width * 3 for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


async def test_document_upload_is_kept_with_its_name(sb: TelegramSandbox, bot: Bot) -> None:
    body = "id,name\n1,张三\n".encode("utf-8-sig")
    sent = await bot.send_document(
        GROUP, BufferedInputFile(body, "members.csv"), caption="<b>3</b> rows", parse_mode="HTML"
    )
    assert sent.document is not None
    assert sent.document.file_name == "members.csv"
    assert sent.document.mime_type == "text/csv"
    assert sent.document.file_size == len(body)
    assert sent.caption == "3 rows"
    [file] = sb.sent_files(GROUP)
    assert (file.kind, file.filename, file.data, file.message_id) == (
        "document",
        "members.csv",
        body,
        sent.message_id,
    )
    assert sb.calls[-1].params["document"] == {"upload": "members.csv", "size": len(body)}
    # the same file again by its id: nothing uploaded, the id echoed
    again = await bot.send_document(GROUP, sent.document.file_id)
    assert again.document is not None and again.document.file_id == sent.document.file_id
    assert sb.sent_files(GROUP)[-1].data is None


async def test_photo_upload_reports_its_dimensions(sb: TelegramSandbox, bot: Bot) -> None:
    sb.user_sends(ANN, "/start")
    image = png(120, 60)
    sent = await bot.send_photo(ANN, BufferedInputFile(image, "chart.png"))
    assert sent.photo is not None
    assert (sent.photo[-1].width, sent.photo[-1].height) == (120, 60)
    assert sent.photo[0].width <= 90
    [file] = sb.sent_files(ANN)
    assert (file.kind, file.data) == ("photo", image)


async def test_a_photo_must_be_an_image(sb: TelegramSandbox, bot: Bot) -> None:
    with pytest.raises(TelegramBadRequest, match="IMAGE_PROCESS_FAILED"):
        await bot.send_photo(GROUP, BufferedInputFile(b"not an image at all", "x.png"))
    assert sb.sent_files() == [] and sb.sent_messages() == []


async def test_empty_file_is_refused(sb: TelegramSandbox, bot: Bot) -> None:
    with pytest.raises(TelegramBadRequest, match="file must be non-empty"):
        await bot.send_document(GROUP, BufferedInputFile(b"", "empty.csv"))


async def test_photo_over_ten_megabytes_is_refused(sb: TelegramSandbox, bot: Bot) -> None:
    big = png(1, 1) + b"\x00" * (MAX_PHOTO)
    with pytest.raises(TelegramBadRequest, match="PHOTO_SAVE_FILE_INVALID"):
        await bot.send_photo(GROUP, BufferedInputFile(big, "big.png"))
    assert sb.sent_files() == []


async def test_document_limit_is_fifty_megabytes(sb: TelegramSandbox, bot: Bot) -> None:
    exact = b"x" * MAX_DOCUMENT
    sent = await bot.send_document(GROUP, BufferedInputFile(exact, "exact.bin"))
    assert sent.document is not None and sent.document.file_size == MAX_DOCUMENT
    with pytest.raises(TelegramEntityTooLarge):
        await bot.send_document(GROUP, BufferedInputFile(exact + b"x", "over.bin"))
    with pytest.raises(TelegramEntityTooLarge):  # beyond what the server reads at all
        await bot.send_document(GROUP, BufferedInputFile(exact * 2, "far-over.bin"))
    assert [f.filename for f in sb.sent_files()] == ["exact.bin"]
    assert sb.count_errors(413) == 2


async def test_no_file_is_a_bad_request(sb: TelegramSandbox, bot: Bot) -> None:
    with pytest.raises(TelegramBadRequest, match="there is no document in the request"):
        await bot.send_document(GROUP, "")
