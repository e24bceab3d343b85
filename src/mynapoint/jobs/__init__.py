"""Background work (docs/JOBS.md): the upload runner (uploads.py), which the server runs
in-process on SQLite, and the job queue's tasks and worker on PostgreSQL (tasks.py,
worker.py: `mynapoint worker`). The queue library stays in this package; the jobs call the
same services the web and the command line do."""
