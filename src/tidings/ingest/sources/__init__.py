"""Sources: where inbound messages come from, each acknowledged only after the commit.

In: a source's configuration (``config``: ``[[sources]]`` in ``tidings.toml``)
and the message type it decodes with (format, schema, XSD or layout, and the
``extract`` pointers). Out: events committed through ``ingest.pipeline`` (and
``Ingestor.accept``), dead letters for every record that failed, a result
file per input file, and a status row per source. Never sends anything, and
never acknowledges (AMQP ack, SQS delete, file move) before the commit.

| module        | what                                                             |
|---------------|------------------------------------------------------------------|
| `config`      | one typed model per kind of source                               |
| `decoding`    | a message type's decoder, and replay envelopes                    |
| `files`       | the file lifecycle: complete files, hash keys, result, move       |
| `directory`   | a local folder                                                   |
| `sftp_server` | Tidings' own SFTP server, a folder per partner, key-only          |
| `sftp_poll`   | a partner's SFTP server, visited on a schedule                    |
| `s3`          | a bucket prefix, objects moved or tagged when done                |
| `rabbitmq`    | a durable quorum queue, ack after commit, poison after N deliveries |
| `sqs`         | long polling, visibility extended, delete after commit           |
| `schedule`    | when a polled source runs next (interval or cron in a time zone)  |
| `status`      | the status rows behind ``tidings sources`` and ``GET /v1/sources`` |
| `runner`      | every source in one asyncio loop, started by ``runtime.Background`` |
| `errors`      | ``SourceError``: foreign errors translated at each boundary       |
"""
