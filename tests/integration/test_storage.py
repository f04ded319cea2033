"""The local S3 store checks presigned URLs like a real one, and stops cleanly."""

from __future__ import annotations

import socket
import time
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import boto3
import httpx
import pytest
from botocore.config import Config

from direct_access_emulator import seaweedfs
from direct_access_emulator.seaweedfs import S3Settings, local_s3

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


def s3_client(settings: S3Settings) -> S3Client:
    return boto3.client(
        "s3",
        endpoint_url=settings.endpoint,
        region_name=settings.region,
        aws_access_key_id=settings.access_key_id,
        aws_secret_access_key=settings.secret_access_key,
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
    )


def test_presigned_get_and_put_work(s3: S3Settings) -> None:
    """A presigned GET reads an uploaded object and a presigned PUT writes one."""
    client = s3_client(s3)
    client.put_object(Bucket=s3.bucket, Key="t/input.json", Body=b'{"pubs": []}')
    get_url = client.generate_presigned_url(
        "get_object", Params={"Bucket": s3.bucket, "Key": "t/input.json"}, ExpiresIn=60
    )
    put_url = client.generate_presigned_url(
        "put_object", Params={"Bucket": s3.bucket, "Key": "t/results.json"}, ExpiresIn=60
    )
    assert httpx.get(get_url).content == b'{"pubs": []}'
    assert httpx.put(put_url, content=b"done").status_code == 200
    assert client.get_object(Bucket=s3.bucket, Key="t/results.json")["Body"].read() == b"done"


def test_tampered_and_expired_urls_are_refused(s3: S3Settings) -> None:
    """Signatures are checked: another key with the same signature, or an expired URL, get 403."""
    client = s3_client(s3)
    client.put_object(Bucket=s3.bucket, Key="t/a", Body=b"a")
    client.put_object(Bucket=s3.bucket, Key="t/b", Body=b"b")
    url = client.generate_presigned_url(
        "get_object", Params={"Bucket": s3.bucket, "Key": "t/a"}, ExpiresIn=60
    )
    assert httpx.get(url.replace("/t/a?", "/t/b?")).status_code == 403
    assert httpx.get(f"{s3.endpoint}/{s3.bucket}/t/a").status_code == 403
    expiring = client.generate_presigned_url(
        "get_object", Params={"Bucket": s3.bucket, "Key": "t/a"}, ExpiresIn=1
    )
    deadline = time.monotonic() + 10
    status = httpx.get(expiring).status_code
    while status == 200 and time.monotonic() < deadline:
        time.sleep(0.2)
        status = httpx.get(expiring).status_code
    assert status == 403


def test_listens_on_loopback_only_and_stops() -> None:
    """The store binds 127.0.0.1, hides its secret, and its port is free again after the block."""
    with local_s3() as settings:
        port = urlsplit(settings.endpoint).port
        assert urlsplit(settings.endpoint).hostname == "127.0.0.1"
        assert settings.secret_access_key not in repr(settings)
    assert port is not None
    with socket.socket() as probe:
        # SO_REUSEADDR: connections the server closed may linger in TIME_WAIT; a listener would not.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind(("127.0.0.1", port))


def test_a_relative_data_dir_works(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A data dir given relative to the working directory (make emulator's `.emulator`) starts."""
    monkeypatch.chdir(tmp_path)
    with local_s3(Path("state")) as settings:
        s3_client(settings).put_object(Bucket=settings.bucket, Key="k", Body=b"v")
    assert (tmp_path / "state" / "s3-identities.json").is_file()
    assert not (tmp_path / "state" / "state").exists()


def test_a_start_that_loses_a_port_is_tried_again_on_new_ports(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A port probed free but taken before weed binds it (stores started side by side): weed
    exits, and the start is tried again on new ports."""
    chosen: list[dict[str, int]] = []
    real_ports = seaweedfs._ports
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()

        def ports() -> dict[str, int]:
            picked = real_ports()
            if not chosen:  # the first start: another process holds its master port
                picked["master.port"] = taken.getsockname()[1]
            chosen.append(picked)
            return picked

        monkeypatch.setattr(seaweedfs, "_ports", ports)
        with local_s3() as settings:
            assert len(chosen) == 2
            assert settings.endpoint == f"http://127.0.0.1:{chosen[1]['s3.port']}"
            s3 = s3_client(settings)
            s3.put_object(Bucket=settings.bucket, Key="k", Body=b"v")
            assert s3.get_object(Bucket=settings.bucket, Key="k")["Body"].read() == b"v"
