"""The download worker: one attempt of one VideoDownload, run as the worker Pod's command.

``python -m videodl.worker`` reads its work from the environment the operator sets on the
Pod (:mod:`videodl.workerapi.environment`), downloads with yt-dlp's Python API, reports
progress to the object's ``status.progress`` and ends with a JSON termination message
(:mod:`videodl.workerapi.termination`) and an exit code per failure class
(:mod:`videodl.workerapi.exitcodes`).

``options`` (the spec as yt-dlp's parameters) and ``egress`` (which addresses the worker
may connect to) are pure. Without I/O of their own, but not pure: ``classify`` (needs
yt-dlp's exception types), ``inputs`` (spec values refused before anything runs, with
yt-dlp's parsers) and ``progress`` (throttling, with injectable clocks that default to the
real ones). Modules doing I/O: ``paths`` (resolves symlinks), ``guard`` (the audit hook that
checks every write, connection and program while yt-dlp runs), ``guarded`` (yt-dlp's
``YoutubeDL`` with the guard built in), ``result`` (hashes files), ``archive`` (the download
archive file), ``kube`` (status patches through :mod:`videodl.kube.client`), ``signals``
(signal handlers), ``download`` (runs yt-dlp) and ``__main__`` (exit).

``python -m videodl.worker.indexer`` is the same image's other program: a VideoPlaylist's
enumeration (yt-dlp's flat extraction under the same guard), handed back in the index
chunks of :mod:`videodl.workerapi.index`.
"""
