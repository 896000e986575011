"""The embedded default platform: a folder (a mounted share, a sync folder, a review inbox).

Each publication becomes `<path>/<publication id>/` with video.mp4, thumb.jpg, subtitles.srt and
metadata.json, written to a temporary folder beside it and renamed into place, so a reader never sees a
half-written publication and a crash leaves nothing under the final name. The external id is the
publication id, the URL the folder's file:// URI.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

from trendreel.db.tables import utcnow
from trendreel.publish.accounts import check_folder_path
from trendreel.publish.base import PublishJob, PublishResult
from trendreel.publish.errors import PublishError


class FolderPublisher:
    name = "folder"

    def __init__(self, app=None):
        self.app = app

    def publish(self, job: PublishJob) -> PublishResult:
        root = Path(job.account["options"].get("path") or "")
        if not str(root) or not root.is_absolute():
            raise PublishError(f"folder account {job.account['name']} has no absolute path; add it again with one",
                               hint=f"`trendreel accounts add folder {job.account['name']} --path DIR`")
        if self.app is not None:  # an account made before the roots, or a root since taken away: refused
            root = check_folder_path(self.app, root)
        try:
            root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise PublishError(f"cannot create the folder {root} of account {job.account['name']}: {exc}") from exc
        final = root / job.publication_id
        meta = final / "metadata.json"
        if meta.is_file():  # published before the row said so (a crash between the two): the same one
            return PublishResult(job.publication_id, final.as_uri(), {"path": str(final), "resumed": True})
        tmp = Path(tempfile.mkdtemp(prefix=f".{job.publication_id}.", dir=root))
        try:
            files = {"video": "video.mp4"}
            _copy(job.video, tmp / "video.mp4", job)
            if job.thumbnail is not None:
                shutil.copyfile(job.thumbnail, tmp / "thumb.jpg")
                files["thumbnail"] = "thumb.jpg"
            if job.subtitles is not None:
                shutil.copyfile(job.subtitles, tmp / "subtitles.srt")
                files["subtitles"] = "subtitles.srt"
            doc = {**job.metadata, "publication_id": job.publication_id, "video_id": job.video_id,
                   "account": job.account["name"], "privacy": job.privacy, "files": files,
                   "published_at": utcnow().isoformat()}
            (tmp / "metadata.json").write_text(json.dumps(doc, ensure_ascii=False, indent=2), encoding="utf-8")
            os.chmod(tmp, 0o755)
            if final.exists():  # a folder without metadata.json: an older, broken attempt by hand
                shutil.rmtree(final)
            os.rename(tmp, final)
        except OSError as exc:
            raise PublishError(f"cannot write the publication into {root}: {exc}") from exc
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
        return PublishResult(job.publication_id, final.as_uri(), {"path": str(final), "files": files})


def _copy(src: Path, dst: Path, job: PublishJob) -> None:
    total = src.stat().st_size
    done = 0
    with open(src, "rb") as fi, open(dst, "wb") as fo:
        for block in iter(lambda: fi.read(4 << 20), b""):
            fo.write(block)
            done += len(block)
            if job.on_progress:
                job.on_progress(done, total)
        fo.flush()
        os.fsync(fo.fileno())
