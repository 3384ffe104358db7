"""Slack's external file upload, as the stand-in answers it: `files.getUploadURLExternal` hands
out a file ID and an upload URL on the stand-in's own server, the file's bytes are POSTed there,
and `files.completeUploadExternal` shares the file in a conversation (a message with the file,
and the initial comment as its text). Uploaded files are kept, so tests can read what was sent.

Described from Slack's reference (docs.slack.dev/reference/methods/files.getUploadURLExternal and
files.completeUploadExternal): the errors are Slack's documented codes, each with a message
saying which case it is."""

from __future__ import annotations

import copy
import json
import secrets
from collections.abc import Mapping
from email.parser import BytesParser
from email.policy import HTTP as HTTP_POLICY
from typing import Any

from bot.standin.methods import ApiError, Handler
from bot.standin.server import Answer
from bot.standin.workspace import Workspace

__all__ = ["HANDLERS", "UPLOAD_PATH", "receive_upload"]

UPLOAD_PATH = "/upload/v1/"
# Slack's own limit for one file (slack_sdk checks it too).
MAX_FILE_BYTES = 1024 * 1024 * 1024


def _error(code: str, message: str) -> ApiError:
    return ApiError(code, response_metadata={"messages": [f"[ERROR] {message}"]})


def get_upload_url_external(workspace: Workspace, args: dict[str, Any]) -> dict[str, Any]:
    filename = str(args.get("filename") or "")
    if not filename:
        raise _error("invalid_arguments", "missing required field: filename")
    try:
        length = int(str(args.get("length", "")))
    except ValueError:
        raise _error("invalid_arguments", "length must be an integer") from None
    if length <= 0:
        raise _error("missing_argument", "length must be more than 0")
    if length > MAX_FILE_BYTES:
        raise _error("file_upload_size_restricted", f"{length} bytes is more than a file may have")
    file_id = workspace.new_file_id()
    key = secrets.token_urlsafe(12)
    workspace.uploads[file_id] = {
        "id": file_id,
        "name": filename,
        "length": length,
        "key": key,
        "content": None,  # bytes, once POSTed to the upload URL
        "shared": False,
    }
    workspace.upload_keys[key] = file_id
    return {"upload_url": f"{workspace.base_url}{UPLOAD_PATH}{key}", "file_id": file_id}


def _files_arg(args: Mapping[str, Any]) -> list[dict[str, Any]]:
    raw = args.get("files")
    try:
        files = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError:
        raise _error("invalid_arguments", "files must be a JSON array of {id, title}") from None
    if not isinstance(files, list) or not files or not all(isinstance(f, dict) and f.get("id") for f in files):
        raise _error("invalid_arguments", "files must be a JSON array of {id, title}")
    return files


def complete_upload_external(workspace: Workspace, args: dict[str, Any]) -> dict[str, Any]:
    files = _files_arg(args)
    channel = args.get("channel_id")
    if channel is not None and str(channel)[:1] not in ("C", "G", "D"):
        # Slack shares in a conversation, not to a user: a DM's ID comes from conversations.open.
        raise _error("channel_not_found", f"channel_id {channel!r} is not a conversation ID (C…, G… or D…)")
    uploads = []
    for wanted in files:
        upload = workspace.uploads.get(str(wanted["id"]))
        if upload is None or upload["shared"]:
            raise _error("file_not_found", f"no upload is waiting for file {wanted['id']!r}")
        if upload["content"] is None:
            raise _error("file_not_found", f"nothing was uploaded to the upload URL of {upload['id']}")
        if len(upload["content"]) != upload["length"]:
            raise _error(
                "file_update_failed",
                f"{upload['id']}: {len(upload['content'])} bytes were uploaded, "
                f"files.getUploadURLExternal was told {upload['length']}",
            )
        uploads.append((upload, wanted))
    shown = []
    for upload, wanted in uploads:
        upload["shared"] = True
        upload["title"] = str(wanted.get("title") or upload["name"])
        upload["channel"] = str(channel) if channel else None
        upload["initial_comment"] = args.get("initial_comment")
        workspace.shared_files.append(upload["id"])
        shown.append(_file_object(upload))
    if channel:
        workspace.store_message(str(channel), {"text": args.get("initial_comment") or "", "files": shown})
    return {"files": copy.deepcopy(shown)}


def _file_object(upload: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "id": upload["id"],
        "name": upload["name"],
        "title": upload["title"],
        "size": upload["length"],
        "channels": [upload["channel"]] if upload.get("channel") else [],
    }


def receive_upload(workspace: Workspace, key: str, headers: Mapping[str, str], raw: bytes) -> Answer:
    """A POST to an upload URL: the file's bytes, raw or as a multipart form's file part."""
    file_id = workspace.upload_keys.get(key)
    upload = workspace.uploads.get(file_id or "")
    if upload is None or upload["shared"]:
        return Answer(404, {"ok": False, "error": "not_found"})
    content = raw
    if headers.get("content-type", "").lower().startswith("multipart/form-data"):
        envelope = f"Content-Type: {headers['content-type']}\r\n\r\n".encode() + raw
        parts = [p for p in BytesParser(policy=HTTP_POLICY).parsebytes(envelope).iter_parts() if p.get_filename()]
        payload = parts[0].get_payload(decode=True) if parts else None
        content = payload if isinstance(payload, bytes) else b""
    upload["content"] = content
    return Answer(200, {}, text=f"OK - {len(content)}")


HANDLERS: Mapping[str, Handler] = {
    "files.completeUploadExternal": complete_upload_external,
    "files.getUploadURLExternal": get_upload_url_external,
}
