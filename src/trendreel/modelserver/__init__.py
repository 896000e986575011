"""The model server: a small HTTP server for long jobs (submit -> poll -> fetch) on a GPU machine.

A server runs one job at a time (one GPU) for the kinds it was started with (`render:compositor`,
`render:ltx2`, ...), keeps each job's state and files on disk under its work folder, and answers only
requests that carry the internal credential. Job ids are hashes of the job's content, so submitting
the same job again (after a client or server crash) finds the job already queued, running or done.
Its client, errors and content ids are the adapter trendreel.adapters.modelserver. See docs/modelserver.md.
"""
