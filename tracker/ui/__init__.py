"""What a person looks at: the terminal dashboard (and, beside it, any other view of the live facts)."""

#: Where the live page is served unless asked otherwise (docs/web.md): this machine only.
WEB_HOST = "127.0.0.1"
WEB_PORT = 8080
