"""Local servers that speak vendors' documented protocols, for integration tests.

Each binds 127.0.0.1 on a free port, records what it received and answers as
the vendor documents, with scripted answers for the error rows of the
providers' outcome tables: Twilio's Messages API (``twilio``), a generic HTTP
SMS vendor (``http_sms``), a Web Push service (``webpush``), a Lob-style
print-and-mail API (``lob``), SES v2 error answers (``ses``) beside moto's
server mode (``moto``), and an SFTP drop folder (``sftp``).
"""
