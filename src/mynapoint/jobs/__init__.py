"""Background work on the job queue (docs/JOBS.md): procrastinate's worker running the
platform's jobs on PostgreSQL (`mynapoint worker`). The queue library stays in this package;
the jobs call the same services the web and the command line do."""
